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
    devices (PCI class 0x03xx) by vendor id (10de NVIDIA, 1002 AMD), with their
    names, whether the kernel driver is bound, its version, Secure Boot state,
    whether headers for the running kernel are installed, and whether the
    vendor tools (C(nvidia-smi), C(rocm-smi), C(rocminfo)) work.
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
  proc_root:
    description: Root of the procfs tree (kernel release, NVIDIA driver information).
    type: path
    default: /proc
  modules_root:
    description: Where kernel modules and the C(build) link to their headers live.
    type: path
    default: /lib/modules
  pci_ids:
    description:
      - A pci.ids database for device names; by default the first of
        C(/usr/share/misc/pci.ids), C(/usr/share/hwdata/pci.ids) that exists.
    type: path
  probe_tools:
    description: Run the chosen vendor's tools to see whether they work.
    type: bool
    default: true
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
        C(vendor) chosen (nvidia, amd or none), C(reason) in words, C(count) and
        C(names) of that vendor's GPUs, C(found), C(driver_loaded),
        C(driver_version), C(nouveau_loaded), C(secure_boot) (enabled, disabled,
        not_efi, unknown), C(kernel), C(headers_installed), C(loaded_modules),
        C(tools) (per tool - found, works, error; nvidia-smi adds gpus with
        memory), C(vendors) present and C(devices) (address, vendor, vendor_id,
        device_id, name, class, driver, boot_vga, integrated).
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils.gpu import VENDOR_CHOICES, detect


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysfs_root=dict(type="path", default="/sys"),
            vendor=dict(type="str", default="auto", choices=list(VENDOR_CHOICES)),
            proc_root=dict(type="path", default="/proc"),
            modules_root=dict(type="path", default="/lib/modules"),
            pci_ids=dict(type="path"),
            probe_tools=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    facts = detect(
        module,
        params["sysfs_root"],
        params["vendor"],
        proc_root=params["proc_root"],
        modules_root=params["modules_root"],
        pci_ids_path=params["pci_ids"],
        tools=params["probe_tools"],
    )
    module.exit_json(changed=False, ansible_facts={"llm_gpu": facts})


if __name__ == "__main__":
    main()
