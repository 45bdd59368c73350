#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: directories
short_description: Make sure several directories exist, with their owner, group and mode
description:
  - What a loop of M(ansible.builtin.file) with C(state=directory) does, in one module
    run, so one round trip to the host instead of one per directory (most of what such
    a loop costs when nothing has to change).
  - Missing parents are created as C(mkdir -p) does; only the listed directories get
    the attributes given. An attribute left out is left as it is.
  - Supports check mode.
options:
  directories:
    description: The directories, in the order to create them.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      mode:
        description: Its mode (octal string, as for M(ansible.builtin.file)).
        type: raw
      owner:
        description: Its owner.
        type: str
      group:
        description: Its group.
        type: str
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Create the LibreChat directories
  local_llm.stack.directories:
    directories:
      - {path: /opt/llm-stack/librechat, mode: "0750", owner: root, group: root}
      - {path: /opt/llm-stack/librechat/uploads, mode: "0750", owner: root, group: root}
"""

RETURN = r"""
changed_paths:
  description: The directories that were (or in check mode would be) created or changed.
  type: list
  elements: str
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule


def ensure(module, entry):
    """Make one directory as described; True when something changed."""
    path = entry["path"]
    changed = False
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg="%s exists and is not a directory" % path, path=path)
    if not os.path.isdir(path):
        changed = True
        if not module.check_mode:
            try:
                os.makedirs(path)
            except OSError as exc:
                module.fail_json(msg="cannot create %s: %s" % (path, exc.strerror), path=path)
    if module.check_mode and changed:
        return True
    file_args = {
        "path": path,
        "mode": entry.get("mode"),
        "owner": entry.get("owner"),
        "group": entry.get("group"),
        "secontext": None,
        "attributes": None,
    }
    return module.set_fs_attributes_if_different(file_args, changed, expand=False)


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "mode": {"type": "raw"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    changed_paths = [
        entry["path"] for entry in module.params["directories"] if ensure(module, entry)
    ]
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths)


if __name__ == "__main__":
    main()
