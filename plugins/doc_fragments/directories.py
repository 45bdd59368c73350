# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The directories a module makes before its files, in the same round trip
    # (plugins/module_utils/directories.py).
    DOCUMENTATION = r"""
options:
  directories:
    description:
      - Directories to make first, in this order, as M(local_llm.stack.directories) with
        C(state=present) does (missing parents as C(mkdir -p), the stack's marker in each one
        it makes for an O(directories[].owned) entry, system directories refused), so a
        concern's directories and files cost one round trip to the host.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      mode:
        description: Its mode (octal string); left as it is when not given.
        type: raw
      owner:
        description: Its owner; left as it is when not given.
        type: str
      group:
        description: Its group; left as it is when not given.
        type: str
      owned:
        description: The stack owns it (C(llm uninstall --purge) may delete it); false for
          shared places such as C(/etc/ansible/facts.d).
        type: bool
        default: true
"""
