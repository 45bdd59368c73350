#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ollama_blobs_verify
short_description: Check the blobs of Ollama models against their sha256 digests
description:
  - For each model named that has a manifest in I(models_dir), checks that every blob
    (layers and config) is there, has the size the manifest says and hashes to its digest.
  - A corrupt blob is deleted, so the next pull or copy fetches it again; the model is then
    reported incomplete.
  - Blobs already verified are recorded with their size and modification time in a stamp
    file (C(<models_dir>/.llm-verified.json)); a blob whose size and time are unchanged is
    not hashed again, so a run that changes nothing reads no model data.
  - With I(url), also asks that Ollama which models it lists; a model complete on disk and
    listed is I(ready), nothing to pull or copy (the run then makes no other round trip for
    it). An Ollama that does not answer makes no model ready; the pull that follows says why.
  - Supports check mode (reports, deletes nothing, writes no stamp).
options:
  models_dir:
    description: Ollama's models directory on this host (manifests/ and blobs/).
    type: path
    required: true
  models:
    description: Model names to check, e.g. C(llama3.2) or C(qwen2.5:7b). Others are not read.
    type: list
    elements: str
    required: true
  url:
    description: Ollama's API on this host, to learn which of the complete models it lists.
    type: str
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Check the configured models' blobs
  local_llm.stack.ollama_blobs_verify:
    models_dir: /opt/llm-stack/ollama/models
    models: [llama3.2, qwen2.5:7b]
  register: verified
"""

RETURN = r"""
models:
  description: Per model (canonical name), whether its manifest is here and every blob good.
  type: dict
  returned: always
  sample: {"llama3.2:latest": {"present": true, "complete": true}}
complete:
  description: The models (canonical names) whose manifest and every blob are here and good.
  type: list
  elements: str
  returned: always
corrupt:
  description: Blobs whose size or hash was wrong (deleted unless in check mode), with their model.
  type: list
  elements: dict
  returned: always
missing:
  description: Blobs a manifest names that are not here, with their model.
  type: list
  elements: dict
  returned: always
hashed:
  description: Bytes read to hash blobs not verified before.
  type: int
  returned: always
ready:
  description: >-
    The models complete here and listed by Ollama (with I(url)), each as the progress a pull
    reports when it finds its model present (model, completed and total bytes, status, done).
  type: list
  elements: dict
  returned: always
  sample: [{"model": "llama3.2:latest", "completed": 2019393189, "total": 2019393189,
            "status": "already present", "done": true}]
"""

import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import URLError
from ansible_collections.local_llm.stack.plugins.module_utils import ollama, ollama_copy


def main():
    module = AnsibleModule(
        argument_spec=dict(
            models_dir=dict(type="path", required=True),
            models=dict(type="list", elements="str", required=True),
            url=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    models_dir = module.params["models_dir"]
    bad = [n for n in module.params["models"] if not ollama.valid_model_name(n)]
    if bad:
        module.fail_json(msg="not valid Ollama model names: %s" % ", ".join(bad))
    if not os.path.isdir(models_dir):
        module.fail_json(msg="%s is not a directory: is Ollama installed here?" % models_dir)
    names = [ollama.canonical(n) for n in module.params["models"]]
    try:
        report = ollama_copy.verify(models_dir, names, delete_corrupt=not module.check_mode)
    except (IOError, OSError) as exc:
        module.fail_json(msg="checking the blobs in %s failed: %s" % (models_dir, exc))
    complete = [n for n in names if report["models"][n]["complete"]]
    listed = {}
    if module.params["url"] and complete:
        try:
            listed = ollama.installed(module.params["url"], timeout=10)
        except (URLError, socket.error, ValueError):
            listed = {}  # not ready then: the pull that follows reports the error
    ready = [
        dict(model=n, completed=listed[n], total=listed[n], status="already present", done=True)
        for n in complete
        if n in listed
    ]
    module.exit_json(
        # Deleting a corrupt blob is the change; the stamp file is bookkeeping.
        changed=bool(report["corrupt"]),
        models=report["models"],
        complete=complete,
        corrupt=report["corrupt"],
        missing=report["missing"],
        hashed=report["hashed"],
        ready=ready,
    )


if __name__ == "__main__":
    main()
