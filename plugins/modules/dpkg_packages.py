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
  description: C(packages), as M(ansible.builtin.package_facts) sets it, and
    C(llm_python_apt), as RV(python_apt).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils import dpkg


def main():
    module = AnsibleModule(
        argument_spec=dict(status_file=dict(type="path", default=dpkg.STATUS_FILE)),
        supports_check_mode=True,
    )
    try:
        found = dpkg.facts(module.params["status_file"])
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot read %s: %s" % (module.params["status_file"], error))
    module.exit_json(changed=False, python_apt=found["llm_python_apt"], ansible_facts=found)


if __name__ == "__main__":
    main()
