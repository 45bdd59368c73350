#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: files
short_description: Write several files of one concern in one module run
description:
  - What a series of M(ansible.builtin.copy) tasks with C(content) does, in one round trip
    to the host instead of two per file (a copy or template task that changes nothing still
    runs a stat and then the file module). Render a template on the controller with the
    C(ansible.builtin.template) lookup and pass it as O(files[].content).
  - Each file is written atomically (a temporary file in the same directory, moved into
    place), after O(files[].validate) accepts the temporary file; a file that fails it is
    not written and the run stops, naming it, with the files written before it listed.
  - Supports check mode (nothing is written, what would change is reported; a file whose
    directory is missing counts as to be written, the directory being an earlier task's)
    and diff mode (for the files whose O(files[].diff) is true).
  - Files holding secrets need C(no_log) on the task (the contents are module arguments)
    and O(files[].diff=false).
options:
  files:
    description: The files, written in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The file. Its directory must exist unless O(make_parents) is set.
        type: path
        required: true
      content:
        description: What it holds.
        type: str
        required: true
      mode:
        description: Its mode (octal string).
        type: str
        default: "0644"
      owner:
        description: Its owner.
        type: str
        default: root
      group:
        description: Its group.
        type: str
        default: root
      validate:
        description: A command run on the temporary file (C(%s) is its path) before it
          replaces the file; a non-zero exit leaves the file as it was.
        type: str
      diff:
        description: Show its change in diff mode (false for a file with secrets).
        type: bool
        default: true
      force:
        description: >-
          False to write the file only where there is none, and leave one that is there as it
          is, content and attributes (as M(ansible.builtin.copy) with C(force=false)), for a
          file that something else fills in later.
        type: bool
        default: true
  make_parents:
    description: Create a missing directory of a file (mode 0755, root), as C(mkdir -p).
    type: bool
    default: false
extends_documentation_fragment: [local_llm.stack.directories]
author: local-llm-stack developers
"""

EXAMPLES = r"""
- name: Write librechat.yaml and its CA
  local_llm.stack.files:
    files:
      - path: /opt/llm-stack/librechat/librechat.yaml
        content: "{{ lookup('ansible.builtin.template', 'librechat.yaml.j2') }}"
      - path: /opt/llm-stack/librechat/gateway-ca.pem
        content: "{{ lookup('ansible.builtin.file', ca_file) }}\n"
  register: librechat_files
  notify: Restart librechat
"""

RETURN = r"""
directories:
  description: The directories of O(directories) that were (or would be) created or changed.
  returned: always
  type: list
  elements: str
written:
  description: The files whose content or attributes changed (or would, in check mode).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils.directories import (
    OPTIONS,
    ensure_all,
)
from ansible_collections.local_llm.stack.plugins.module_utils.files import diff, place, validator


def make_parents(module, path):
    directory = os.path.dirname(path)
    if os.path.isdir(directory):
        return False
    # A file where a directory should be: say which, not Python's "File exists".
    parent = directory
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        module.fail_json(msg="%s: %s is not a directory" % (path, parent))
    if not module.check_mode:
        os.makedirs(directory, 0o755)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    path=dict(type="path", required=True),
                    content=dict(type="str", required=True),
                    mode=dict(type="str", default="0644"),
                    owner=dict(type="str", default="root"),
                    group=dict(type="str", default="root"),
                    validate=dict(type="str"),
                    diff=dict(type="bool", default=True),
                    force=dict(type="bool", default=True),
                ),
            ),
            make_parents=dict(type="bool", default=False),
            directories=dict(type="list", elements="dict", options=OPTIONS, default=[]),
        ),
        supports_check_mode=True,
    )
    made = ensure_all(module, module.params["directories"])
    written = []
    diffs = []
    for item in module.params["files"]:
        path = item["path"]
        if os.path.isdir(path):
            module.fail_json(msg="%s is a directory, not a file" % path, written=written)
        if not item["force"] and os.path.lexists(path):
            continue
        new_parent = module.params["make_parents"] and make_parents(module, path)
        # In check mode a directory of O(directories) may be only planned.
        planned = (
            module.check_mode
            and not os.path.isdir(os.path.dirname(path))
            and os.path.normpath(os.path.dirname(path)) in [os.path.normpath(d) for d in made]
        )
        missing = not os.path.isdir(os.path.dirname(path))
        # In check mode an earlier task that would make the directory did not run either (the
        # role's own directory, say): it would be written, as the copy module reports it.
        if missing and not new_parent and not planned and not module.check_mode:
            module.fail_json(msg="%s: its directory does not exist" % path, written=written)
        check = validator(module, path, item["validate"], written) if item["validate"] else None
        if (new_parent or planned or missing) and module.check_mode:
            changed, previous = True, None  # nothing to compare with yet
        else:
            changed, previous, _ = place(
                module, path, item["content"], item["mode"], item["owner"], item["group"], check
            )
        if not changed:
            continue
        written.append(path)
        after = item["content"]
        if module._diff and item["diff"] and (previous or b"") != after.encode("utf-8"):
            diffs.append(diff(path, previous, after))
    result = dict(changed=bool(written or made), written=written, directories=made)
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
