#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ollama_pull_progress
short_description: Read the progress of a model pull running in the background
description:
  - Reads the progress file M(local_llm.stack.ollama_model) keeps while it pulls
    asynchronously. Meant for an C(until) loop, whose retries carry the bytes to
    the controller (C(llm models add) draws them as progress bars).
  - Changes nothing.
options:
  path:
    description: The progress file given to M(local_llm.stack.ollama_model) as I(progress_file).
    type: path
    required: true
  jid:
    description:
      - The background job's id; when the job has ended the pull counts as done even if
        the module could not write its progress (it died, or the name was refused).
    type: str
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Watch the pull
  local_llm.stack.ollama_pull_progress:
    path: /run/llm-stack/pull-llama3.2.json
  register: progress
  until: progress.done
  retries: 3600
  delay: 1
"""

RETURN = r"""
model:
  description: The model being pulled.
  type: str
  returned: always
completed:
  description: Bytes downloaded so far.
  type: int
  returned: always
total:
  description: Bytes of the layers seen so far.
  type: int
  returned: always
status:
  description: Ollama's last status line.
  type: str
  returned: always
done:
  description: Whether the pull ended (successfully or not).
  type: bool
  returned: always
failed_pull:
  description: Whether the pull ended in failure.
  type: bool
  returned: always
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def _job_finished(jid):
    """Whether Ansible's async wrapper has written the job's final result."""
    path = os.path.join(os.path.expanduser("~/.ansible_async"), jid)
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return False
    return not (data.get("started") and not data.get("finished"))


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), jid=dict(type="str")),
        supports_check_mode=True,
    )
    state = {"model": "", "completed": 0, "total": 0, "status": "starting", "done": False}
    try:
        with open(module.params["path"]) as handle:
            state.update(json.load(handle))
    except (IOError, OSError, ValueError):
        pass  # not written yet: the pull is starting
    jid = module.params["jid"]
    module.exit_json(
        changed=False,
        model=state["model"],
        completed=int(state["completed"]),
        total=int(state["total"]),
        status=state["status"],
        done=bool(state["done"]) or bool(jid and _job_finished(jid)),
        failed_pull=bool(state.get("failed")),
    )


if __name__ == "__main__":
    main()
