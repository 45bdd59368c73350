#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: signing_key
short_description: Install a repository signing key after checking its pinned fingerprint
description:
  - Downloads an OpenPGP public key (or reads one already on the host), checks
    that it holds the key with the pinned fingerprint, and only then writes it
    where apt's C(Signed-By) or dnf's C(gpgkey) can use it.
  - A key whose fingerprint does not match is refused and nothing is written
    (a tampered download, a wrong mirror or a stale pin).
  - Needs no gpg on the host.
options:
  url:
    description: Where to download the key (http, https, file). One of I(url) or I(src).
    type: str
  src:
    description: A key file already on the host (offline labs). One of I(url) or I(src).
    type: path
  dest:
    description: Where to write the key, for example C(/etc/apt/keyrings/cuda.asc).
    type: path
    required: true
  fingerprint:
    description: The expected v4 fingerprint (40 hex digits, spaces allowed).
    type: str
    required: true
  mode:
    description: File mode of I(dest).
    type: str
    default: "0644"
  timeout:
    description: Download timeout in seconds.
    type: int
    default: 30
  validate_certs:
    description: Check the server certificate on https downloads.
    type: bool
    default: true
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Add NVIDIA's CUDA repository key
  local_llm.stack.signing_key:
    url: https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/3bf863cc.pub
    fingerprint: EB693B3035CD5710E231E123A4B469963BF863CC
    dest: /etc/apt/keyrings/nvidia-cuda.asc
"""

RETURN = r"""
fingerprints:
  description: Fingerprints of every primary key in the file.
  returned: success
  type: list
  elements: str
dest:
  description: Where the key is.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url
from ansible_collections.local_llm.stack.plugins.module_utils.openpgp import (
    KeyFormatError,
    fingerprints,
    normalise,
)


def _download(module, url):
    response, info = fetch_url(module, url, timeout=module.params["timeout"])
    if response is None or info.get("status") not in (200, None):
        module.fail_json(
            msg="cannot download the signing key from %s (%s): check the host reaches it,"
            " or point the repository URL at a local mirror" % (url, info.get("msg", "no answer")),
            dest=module.params["dest"],
        )
    return response.read()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str"),
            src=dict(type="path"),
            dest=dict(type="path", required=True),
            fingerprint=dict(type="str", required=True),
            mode=dict(type="str", default="0644"),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        required_one_of=[("url", "src")],
        mutually_exclusive=[("url", "src")],
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]
    origin = params["url"] or params["src"]
    if params["url"]:
        data = _download(module, params["url"])
    else:
        try:
            with open(params["src"], "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            module.fail_json(
                msg="cannot read the signing key %s: %s" % (params["src"], exc), dest=dest
            )

    expected = normalise(params["fingerprint"])
    try:
        found = fingerprints(data)
    except KeyFormatError as exc:
        module.fail_json(msg="%s is not a usable OpenPGP key: %s" % (origin, exc), dest=dest)
    if expected not in found:
        module.fail_json(
            msg="the key from %s has fingerprint %s, not the pinned %s: refusing it (a tampered"
            " download, the wrong mirror, or a pin to update)"
            % (origin, ", ".join(found), expected),
            dest=dest,
            fingerprints=found,
        )

    current = None
    if os.path.exists(dest):
        with open(dest, "rb") as handle:
            current = handle.read()
    changed = current != data
    if changed and not module.check_mode:
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        tmp = "%s.tmp-%d" % (dest, os.getpid())
        with open(tmp, "wb") as handle:
            handle.write(data)
        module.atomic_move(tmp, dest)
    file_args = module.load_file_common_arguments(dict(path=dest, mode=params["mode"]))
    if not module.check_mode or not changed:
        changed = module.set_fs_attributes_if_different(file_args, changed)
    module.exit_json(changed=changed, dest=dest, fingerprints=found)


if __name__ == "__main__":
    main()
