#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_facts
short_description: Detect GPUs from sysfs PCI devices
description:
  - Reads C(bus/pci/devices) under a sysfs root and reports display-class
    devices (PCI class 0x03xx) by vendor id (10de NVIDIA, 1002 AMD).
  - Works before any GPU driver or tool is installed; changes nothing.
  - Sets the fact C(llm_gpu).
options:
  sysfs_root:
    description: Root of the sysfs tree to read; tests point it at a recorded tree.
    type: path
    default: /sys
  vendor:
    description:
      - Which vendor the stack uses. C(auto) picks NVIDIA when present, else AMD, else none.
    type: str
    choices: [auto, nvidia, amd, none]
    default: auto
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Detect GPUs
  local_llm.stack.gpu_facts:

- name: Use the AMD GPU even though an NVIDIA one is present
  local_llm.stack.gpu_facts:
    vendor: amd
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    llm_gpu:
      description: >-
        C(vendor) chosen (nvidia, amd or none), C(reason) in words, C(count) of
        that vendor's GPUs, C(found), C(driver_loaded), C(vendors) present and
        C(devices) (address, vendor, vendor_id, device_id, class, driver, boot_vga).
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils.gpu import VENDOR_CHOICES, gpu_facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysfs_root=dict(type="path", default="/sys"),
            vendor=dict(type="str", default="auto", choices=list(VENDOR_CHOICES)),
        ),
        supports_check_mode=True,
    )
    facts = gpu_facts(module.params["sysfs_root"], module.params["vendor"])
    module.exit_json(changed=False, ansible_facts={"llm_gpu": facts})


if __name__ == "__main__":
    main()
