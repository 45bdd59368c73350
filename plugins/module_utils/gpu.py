# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Find GPUs by reading sysfs PCI devices: works before any driver is installed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

PCI_VENDORS = {
    "0x10de": "nvidia",
    "0x1002": "amd",
    "0x8086": "intel",
    "0x1af4": "virtio",
    "0x1234": "qemu",
    "0x15ad": "vmware",
    "0x1b36": "redhat",
}
# Vendors whose GPUs the stack can use for inference, in the order `auto` prefers
# them: a discrete NVIDIA card beats an integrated AMD GPU beside it.
COMPUTE_VENDORS = ("nvidia", "amd")
KERNEL_DRIVERS = {"nvidia": ("nvidia",), "amd": ("amdgpu",)}
VENDOR_CHOICES = ("auto", "nvidia", "amd", "none")


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def pci_display_devices(sysfs_root="/sys"):
    """Every PCI device of class 0x03xx (display controller) under sysfs_root.

    Bridges, NVSwitches, audio functions and the like share the vendor id but
    not the class, so they are not counted as GPUs.
    """
    base = os.path.join(sysfs_root, "bus", "pci", "devices")
    try:
        names = sorted(os.listdir(base))
    except (IOError, OSError):
        return []
    devices = []
    for address in names:
        path = os.path.join(base, address)
        pci_class = _read(os.path.join(path, "class")) or "0x000000"
        try:
            if (int(pci_class, 16) >> 16) != 0x03:
                continue
        except ValueError:
            continue
        vendor_id = (_read(os.path.join(path, "vendor")) or "").lower()
        driver_link = os.path.join(path, "driver")
        driver = os.path.basename(os.readlink(driver_link)) if os.path.islink(driver_link) else None
        devices.append(
            {
                "address": address,
                "vendor_id": vendor_id,
                "vendor": PCI_VENDORS.get(vendor_id, "other"),
                "device_id": (_read(os.path.join(path, "device")) or "").lower(),
                "class": pci_class,
                "driver": driver,
                "boot_vga": _read(os.path.join(path, "boot_vga")) == "1",
            }
        )
    return devices


def choose_vendor(devices, requested="auto"):
    """Pick the GPU vendor the stack uses; returns (vendor, reason).

    vendor is "nvidia", "amd" or "none". An explicit request for a vendor
    whose GPU is absent returns that vendor anyway with a reason saying so;
    the caller decides whether that is an error.
    """
    present = [v for v in COMPUTE_VENDORS if any(d["vendor"] == v for d in devices)]
    if requested == "none":
        return "none", "GPU use switched off: CPU inference"
    if requested in COMPUTE_VENDORS:
        if requested in present:
            return requested, "%s GPU chosen explicitly" % requested
        return requested, "%s GPU requested but none found" % requested
    if not present:
        return "none", "no GPU found: CPU inference"
    chosen = present[0]
    count = sum(1 for d in devices if d["vendor"] == chosen)
    if len(present) > 1:
        return chosen, "%s chosen over %s (set the vendor explicitly to change)" % (
            chosen,
            ", ".join(present[1:]),
        )
    return chosen, "%d %s GPU(s) found" % (count, chosen)


def gpu_facts(sysfs_root="/sys", requested="auto"):
    devices = pci_display_devices(sysfs_root)
    vendor, reason = choose_vendor(devices, requested)
    compute = [d for d in devices if d["vendor"] in COMPUTE_VENDORS]
    return {
        "devices": devices,
        "vendors": sorted(set(d["vendor"] for d in compute)),
        "count": sum(1 for d in devices if d["vendor"] == vendor),
        "vendor": vendor,
        "reason": reason,
        "found": vendor != "none" and any(d["vendor"] == vendor for d in devices),
        "driver_loaded": vendor != "none"
        and any(d["vendor"] == vendor and d["driver"] in KERNEL_DRIVERS[vendor] for d in devices),
    }
