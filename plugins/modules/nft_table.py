#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nft_table
short_description: Put an nftables table's file, its boot unit and helpers in place, in one run
description:
  - What a directory task, a few M(ansible.builtin.copy) and M(ansible.builtin.template)
    tasks, an C(nft list table) and an M(ansible.builtin.systemd_service) enable do, in one
    module run (one round trip to the host instead of six), most of what those tasks cost when
    nothing has to change (the firewall role's re-run).
  - The ruleset is checked with C(nft -c -f) before it replaces the file; a ruleset that does
    not check is refused and the file left as it was. The previous file is kept as a backup
    (RV(backup_file)) for the caller's rollback.
  - It does not load the table; RV(load) says whether the caller should (the ruleset changed,
    or the table is not loaded), so the caller can arm a rollback first.
  - Every file is owned by root. Supports check mode and diff mode (the ruleset's diff).
options:
  directory:
    description: A directory made first (mode 0750), for the files that live in it.
    type: path
  ruleset:
    description: The ruleset file.
    type: dict
    required: true
    suboptions:
      path:
        description: Where it goes.
        type: path
        required: true
      content:
        description: What it holds.
        type: str
        required: true
      mode:
        description: Its mode.
        type: str
        default: "0640"
  files:
    description: Other files written as they are (the unit, a helper script, a local fact), a
      missing directory of theirs made first (mode 0755).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where it goes.
        type: path
        required: true
      content:
        description: What it holds.
        type: str
        required: true
      mode:
        description: Its mode.
        type: str
        default: "0644"
  table:
    description: The table the ruleset defines, as C(nft list table) names it (C(inet llm_stack)).
    type: str
    required: true
  unit:
    description: The systemd unit that loads the ruleset at boot, enabled here (after a
      C(daemon-reload) when one of O(files) under C(/etc/systemd/system) changed).
    type: str
    required: true
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Put the stack's table in place (loaded by the caller when RV(load))
  local_llm.stack.nft_table:
    directory: /etc/llm-firewall
    ruleset:
      path: /etc/llm-firewall/ruleset.nft
      content: "{{ lookup('ansible.builtin.template', 'ruleset.nft.j2') }}"
    files:
      - path: /etc/systemd/system/llm-firewall.service
        content: "{{ lookup('ansible.builtin.template', 'llm-firewall.service.j2') }}"
    table: inet llm_stack
    unit: llm-firewall.service
  register: table
"""

RETURN = r"""
load:
  description: Whether the table should be loaded now (the ruleset changed, or the table is
    not loaded). Never true in check mode.
  returned: success
  type: bool
written:
  description: The paths that changed (or would, in check mode).
  returned: success
  type: list
  elements: str
backup_file:
  description: The previous ruleset, kept when it was replaced.
  returned: when the ruleset replaced one
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils.files import diff, place

UNIT_DIR = "/etc/systemd/system/"


def main():
    file_spec = dict(
        path=dict(type="path", required=True),
        content=dict(type="str", required=True, no_log=False),
        mode=dict(type="str", default="0644"),
    )
    ruleset_spec = dict(file_spec, mode=dict(type="str", default="0640"))
    module = AnsibleModule(
        argument_spec=dict(
            directory=dict(type="path"),
            ruleset=dict(type="dict", required=True, options=ruleset_spec),
            files=dict(type="list", elements="dict", default=[], options=file_spec),
            table=dict(type="str", required=True),
            unit=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    nft = module.get_bin_path("nft", required=True)
    systemctl = module.get_bin_path("systemctl", required=True)
    written = []

    directory = params["directory"]
    if directory:
        if not os.path.isdir(directory):
            if not module.check_mode:
                os.makedirs(directory, 0o750)
            written.append(directory)
        if os.path.isdir(directory):
            args = module.load_file_common_arguments(
                dict(path=directory, mode="0750", owner="root", group="root")
            )
            if module.set_fs_attributes_if_different(args, False, expand=False):
                written.append(directory)

    unit_changed = False
    for item in params["files"]:
        # A file's missing directory (the local facts' /etc/ansible/facts.d) is made, 0755.
        parent = os.path.dirname(item["path"])
        if not os.path.isdir(parent) and not module.check_mode:
            os.makedirs(parent, 0o755)
            written.append(parent)
        changed, _, _ = place(module, item["path"], item["content"], item["mode"])
        if changed:
            written.append(item["path"])
            unit_changed = unit_changed or item["path"].startswith(UNIT_DIR)

    def nft_check(path):
        rc, _, err = module.run_command([nft, "-c", "-f", path])
        if rc != 0:
            module.fail_json(
                msg="the ruleset for %s does not pass `nft -c` (nothing was changed): %s"
                % (params["ruleset"]["path"], err.strip()),
                written=written,
            )

    ruleset = params["ruleset"]
    path = ruleset["path"]
    ruleset_changed, previous, backup_file = place(
        module, path, ruleset["content"], ruleset["mode"], check=nft_check, backup=True
    )
    if ruleset_changed:
        written.append(path)

    loaded = module.run_command([nft, "list", "table", *params["table"].split()])[0] == 0

    unit = params["unit"]
    enabled = module.run_command([systemctl, "is-enabled", unit])[1].strip() == "enabled"
    if not module.check_mode:
        if unit_changed:
            module.run_command([systemctl, "daemon-reload"], check_rc=True)
        if not enabled:
            module.run_command([systemctl, "enable", unit], check_rc=True)
    if not enabled:
        written.append("%s (enabled)" % unit)

    result = dict(
        changed=bool(written),
        written=written,
        load=(ruleset_changed or not loaded) and not module.check_mode,
    )
    if backup_file:
        result["backup_file"] = backup_file
    if module._diff and ruleset_changed:
        result["diff"] = diff(path, previous, ruleset["content"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
