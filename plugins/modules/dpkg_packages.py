#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dpkg_packages
short_description: The installed Debian packages, read from dpkg's status file
description:
  - Sets C(ansible_facts.packages) as M(ansible.builtin.package_facts) does on Debian and
    Ubuntu (name to a list of C(name), C(version), C(arch), C(source)), read straight from
    dpkg's status file instead of through python3-apt's cache (a few milliseconds instead of
    about a second), and on a host that has no python3-apt yet.
  - A package of a foreign architecture is listed under its bare name, where package_facts
    writes C(name:arch); the stack asks for none.
  - Also says whether python3-apt, which the apt module needs, is there (RV(python_apt)).
  - Reads only; supports check mode.
options:
  status_file:
    description: dpkg's status file.
    type: path
    default: /var/lib/dpkg/status
author: local-llm-stack developers
"""

EXAMPLES = r"""
- name: Read which packages are installed
  local_llm.stack.dpkg_packages:
"""

RETURN = r"""
python_apt:
  description: Whether python3-apt's library is installed for the system Python.
  returned: always
  type: bool
ansible_facts:
  description: C(packages), as M(ansible.builtin.package_facts) sets it.
  returned: always
  type: dict
"""

import glob

from ansible.module_utils.basic import AnsibleModule

# dpkg's package states that python-apt (so package_facts) counts as installed: not
# "not-installed", "config-files" (removed, its configuration kept) or "half-installed".
PRESENT = ("installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending")


def installed(text):
    """name -> [{name, version, arch, source}] for each package dpkg says is installed."""
    packages = {}
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue  # a continuation line (descriptions, conffiles)
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if fields.get("Package") and fields.get("Status", "").rpartition(" ")[2] in PRESENT:
            name = fields["Package"]
            packages.setdefault(name, []).append(
                dict(
                    name=name,
                    version=fields.get("Version", ""),
                    arch=fields.get("Architecture", ""),
                    source="apt",
                )
            )
    return packages


def main():
    module = AnsibleModule(
        argument_spec=dict(status_file=dict(type="path", default="/var/lib/dpkg/status")),
        supports_check_mode=True,
    )
    try:
        with open(module.params["status_file"], "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot read %s: %s" % (module.params["status_file"], error))
    module.exit_json(
        changed=False,
        python_apt=bool(glob.glob("/usr/lib/python3/dist-packages/apt_pkg*.so")),
        ansible_facts=dict(packages=installed(text)),
    )


if __name__ == "__main__":
    main()
