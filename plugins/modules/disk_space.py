#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: disk_space
short_description: Free and total space of the filesystem that holds (or will hold) a path
description:
  - The path need not exist yet; the nearest existing parent directory is measured,
    which is the filesystem a later C(mkdir) would put it on.
  - Changes nothing.
options:
  path:
    description: The path to measure.
    type: path
    required: true
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Measure the space for the models
  local_llm.stack.disk_space:
    path: /opt/llm-stack
  register: __space
"""

RETURN = r"""
measured:
  description: The existing directory that was measured.
  type: str
  returned: always
free_bytes:
  description: Bytes available to unprivileged users.
  type: int
  returned: always
total_bytes:
  description: Size of the filesystem in bytes.
  type: int
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule


def nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True)),
        supports_check_mode=True,
    )
    measured = nearest_existing(module.params["path"])
    try:
        st = os.statvfs(measured)
    except OSError as exc:
        module.fail_json(msg="cannot measure %s: %s" % (measured, exc))
    module.exit_json(
        changed=False,
        measured=measured,
        free_bytes=st.f_bavail * st.f_frsize,
        total_bytes=st.f_blocks * st.f_frsize,
    )


if __name__ == "__main__":
    main()
