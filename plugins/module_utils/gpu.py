# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Find GPUs and the state of their drivers by reading sysfs and procfs.

Everything here works before any driver or vendor tool is installed, and every
path is relative to a root the caller passes, so tests feed recorded trees.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import os
import re

PCI_VENDORS = {
    "0x10de": "nvidia",
    "0x1002": "amd",
    "0x8086": "intel",
    "0x1af4": "virtio",
    "0x1234": "qemu",
    "0x15ad": "vmware",
    "0x1b36": "redhat",
    "0x1a03": "aspeed",
    "0x102b": "matrox",
}
# Vendors whose GPUs the stack can use for inference, in the order `auto` prefers
# them: a discrete NVIDIA card beats an AMD one.
COMPUTE_VENDORS = ("nvidia", "amd")
KERNEL_DRIVERS = {"nvidia": "nvidia", "amd": "amdgpu"}
VENDOR_CHOICES = ("auto", "nvidia", "amd", "none")

# AMD APU graphics (integrated, sharing system memory). ROCm does not support
# them officially, so `auto` does not pick them; `vendor: amd` still can.
AMD_INTEGRATED_DEVICE_IDS = frozenset(
    [
        "0x15d8",  # Picasso
        "0x15dd",  # Raven Ridge
        "0x15e7",  # Barcelo
        "0x1636",  # Renoir
        "0x1638",  # Cezanne
        "0x163f",  # Van Gogh
        "0x164c",  # Lucienne
        "0x164e",  # Raphael
        "0x1506",  # Mendocino
        "0x1681",  # Rembrandt
        "0x15bf",  # Phoenix
        "0x15c8",  # Phoenix 2
        "0x150e",  # Strix Point
        "0x1586",  # Strix Halo
        "0x13c0",  # Granite Ridge
    ]
)

# EFI variables (name-GUID) that say whether Secure Boot is on, and whether
# shim was told to stop validating (mokutil --disable-validation).
EFI_SECURE_BOOT = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
EFI_MOK_SB_STATE = "MokSBStateRT-605dab50-e046-4300-abb6-3dd810dd8b23"

PCI_IDS_PATHS = ("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids")

NVIDIA_SMI_QUERY = "index,name,memory.used,memory.total,driver_version"


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def pci_names(pci_ids_path, wanted):
    """Names from a pci.ids database for the (vendor_id, device_id) pairs wanted.

    Ids are "0x10de"-style strings; only the vendors asked about are read.
    """
    vendors = set(v[2:] for v, _ in wanted)
    names = {}
    if not pci_ids_path:
        return names
    try:
        with open(pci_ids_path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except (IOError, OSError):
        return names
    vendor = None
    for line in lines:
        if line.startswith("C "):  # the device-class section ends the vendor list
            break
        if not line.strip() or line.startswith("#") or line.startswith("\t\t"):
            continue
        if not line.startswith("\t"):
            vendor = line[:4].lower() if line[:4].lower() in vendors else None
            continue
        if vendor is None:
            continue
        device, _, name = line.strip().partition("  ")
        key = ("0x" + vendor, "0x" + device.lower())
        if key in wanted:
            names[key] = name.strip()
    return names


def find_pci_ids(candidates=PCI_IDS_PATHS):
    for path in candidates:
        if os.path.isfile(path):
            return path
    return None


def _nvidia_proc_model(proc_root, address):
    info = _read(os.path.join(proc_root, "driver", "nvidia", "gpus", address, "information"))
    for line in (info or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model":
            return value.strip()
    return None


def pci_display_devices(sysfs_root="/sys", proc_root="/proc", pci_ids_path=None):
    """Every PCI device of class 0x03xx (display controller) under sysfs_root.

    Bridges, NVSwitches, audio functions and the like share the vendor id but
    not the class, so they are not counted as GPUs.
    """
    base = os.path.join(sysfs_root, "bus", "pci", "devices")
    try:
        addresses = sorted(os.listdir(base))
    except (IOError, OSError):
        return []
    devices = []
    for address in addresses:
        path = os.path.join(base, address)
        pci_class = _read(os.path.join(path, "class")) or "0x000000"
        try:
            if (int(pci_class, 16) >> 16) != 0x03:
                continue
        except ValueError:
            continue
        vendor_id = (_read(os.path.join(path, "vendor")) or "").lower()
        device_id = (_read(os.path.join(path, "device")) or "").lower()
        vendor = PCI_VENDORS.get(vendor_id, "other")
        driver_link = os.path.join(path, "driver")
        driver = os.path.basename(os.readlink(driver_link)) if os.path.islink(driver_link) else None
        devices.append(
            {
                "address": address,
                "vendor_id": vendor_id,
                "vendor": vendor,
                "device_id": device_id,
                "class": pci_class,
                "driver": driver,
                "boot_vga": _read(os.path.join(path, "boot_vga")) == "1",
                "integrated": vendor == "intel"
                or (vendor == "amd" and device_id in AMD_INTEGRATED_DEVICE_IDS),
                # amdgpu publishes a marketing name once it is bound; NVIDIA's
                # driver in procfs; pci.ids covers the rest.
                "name": _read(os.path.join(path, "product_name"))
                or (_nvidia_proc_model(proc_root, address) if vendor == "nvidia" else None),
            }
        )
    missing = set((d["vendor_id"], d["device_id"]) for d in devices if not d["name"])
    if missing:
        names = pci_names(pci_ids_path, missing)
        for device in devices:
            if not device["name"]:
                device["name"] = names.get((device["vendor_id"], device["device_id"]))
    return devices


def _usable(device):
    return device["vendor"] in COMPUTE_VENDORS and not device["integrated"]


def choose_vendor(devices, requested="auto"):
    """Pick the GPU vendor the stack uses; returns (vendor, reason).

    vendor is "nvidia", "amd" or "none". `auto` takes discrete GPUs only;
    an explicit vendor takes that vendor's GPUs, integrated ones included.
    An explicit request for a vendor whose GPU is absent returns that vendor
    anyway with a reason saying so; the caller decides whether that is an error.
    """
    if requested == "none":
        return "none", "GPU use switched off: CPU inference"
    if requested in COMPUTE_VENDORS:
        mine = [d for d in devices if d["vendor"] == requested]
        if not mine:
            return requested, "%s GPU requested but none found" % requested
        if all(d["integrated"] for d in mine):
            return requested, "integrated %s GPU chosen explicitly" % requested
        return requested, "%s GPU chosen explicitly" % requested
    present = [v for v in COMPUTE_VENDORS if any(_usable(d) and d["vendor"] == v for d in devices)]
    integrated = [d for d in devices if d["vendor"] == "amd" and d["integrated"]]
    if not present:
        if integrated:
            return "none", (
                "no discrete GPU found: CPU inference (integrated AMD GPU present:"
                " set the GPU vendor to amd to try it)"
            )
        return "none", "no GPU found: CPU inference"
    chosen = present[0]
    count = sum(1 for d in devices if d["vendor"] == chosen and _usable(d))
    others = present[1:] + (["integrated amd"] if integrated else [])
    if others:
        return chosen, "%d %s GPU(s) chosen over %s (set the GPU vendor to change)" % (
            count,
            chosen,
            ", ".join(others),
        )
    return chosen, "%d %s GPU(s) found" % (count, chosen)


def secure_boot_state(sysfs_root="/sys"):
    """'enabled', 'disabled', 'not_efi' (legacy BIOS boot) or 'unknown'.

    'enabled' means the firmware enforces it and shim has not been told to stop
    validating, so an unsigned kernel module will not load.
    """
    efi = os.path.join(sysfs_root, "firmware", "efi")
    if not os.path.isdir(efi):
        return "not_efi"
    value = _read_bytes(os.path.join(efi, "efivars", EFI_SECURE_BOOT))
    # efivarfs: 4 bytes of attributes, then the value.
    if value is None or len(value) < 5:
        return "unknown"
    if value[4:5] != b"\x01":
        return "disabled"
    mok = _read_bytes(os.path.join(efi, "efivars", EFI_MOK_SB_STATE))
    if mok is not None and len(mok) >= 5 and mok[4:5] == b"\x01":
        return "disabled"
    return "enabled"


def kernel_state(sysfs_root="/sys", proc_root="/proc", modules_root="/lib/modules"):
    """The running kernel, whether its headers are installed, and which GPU
    kernel modules are loaded (with their versions where the module says)."""
    release = _read(os.path.join(proc_root, "sys", "kernel", "osrelease"))
    modules = {}
    for name in ("nvidia", "amdgpu", "nouveau"):
        path = os.path.join(sysfs_root, "module", name)
        if os.path.isdir(path):
            modules[name] = _read(os.path.join(path, "version"))
    if "nvidia" in modules and not modules["nvidia"]:
        # "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  ..." or
        # "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build"
        banner = _read(os.path.join(proc_root, "driver", "nvidia", "version")) or ""
        found = re.search(r"\s(\d+\.\d+(?:\.\d+)?)\s", banner)
        modules["nvidia"] = found.group(1) if found else None
    return {
        "kernel": release,
        # `build` links to the headers; a dangling link means they were removed.
        "headers_installed": bool(release)
        and os.path.exists(os.path.join(modules_root, release, "build")),
        "loaded_modules": modules,
    }


def gpu_facts(
    sysfs_root="/sys",
    requested="auto",
    proc_root="/proc",
    modules_root="/lib/modules",
    pci_ids_path=None,
):
    devices = pci_display_devices(sysfs_root, proc_root, pci_ids_path)
    vendor, reason = choose_vendor(devices, requested)
    kernel = kernel_state(sysfs_root, proc_root, modules_root)
    mine = [d for d in devices if d["vendor"] == vendor]
    if vendor != "none" and requested == "auto":
        mine = [d for d in mine if _usable(d)]
    module = KERNEL_DRIVERS.get(vendor)
    return dict(
        kernel,
        devices=devices,
        vendors=sorted(set(d["vendor"] for d in devices if d["vendor"] in COMPUTE_VENDORS)),
        vendor=vendor,
        reason=reason,
        count=len(mine),
        names=sorted(set(d["name"] or "%s %s" % (d["vendor_id"], d["device_id"]) for d in mine)),
        found=bool(mine),
        # Bound to every chosen GPU: nouveau or vfio-pci holding one is not "loaded".
        driver_loaded=bool(mine) and all(d["driver"] == module for d in mine),
        driver_version=kernel["loaded_modules"].get(module),
        nouveau_loaded="nouveau" in kernel["loaded_modules"],
        secure_boot=secure_boot_state(sysfs_root),
    )


def parse_nvidia_smi(text):
    """Rows of `nvidia-smi --query-gpu=NVIDIA_SMI_QUERY --format=csv,noheader,nounits`."""
    gpus = []
    for row in csv.reader(line for line in text.splitlines() if line.strip()):
        if len(row) != 5:
            continue
        index, name, used, total, driver = [cell.strip() for cell in row]
        try:
            gpus.append(
                {
                    "index": int(index),
                    "name": name,
                    "memory_used_mib": int(used),
                    "memory_total_mib": int(total),
                    "driver_version": driver,
                }
            )
        except ValueError:
            continue
    return gpus


VENDOR_TOOLS = {
    "nvidia": (
        ("nvidia-smi", ["--query-gpu=" + NVIDIA_SMI_QUERY, "--format=csv,noheader,nounits"]),
    ),
    "amd": (("rocm-smi", ["--showproductname"]), ("rocminfo", [])),
}


def probe_tools(vendor, find_bin, run):
    """Whether the vendor's tools are installed and work.

    find_bin(name) returns a path or None; run(argv) returns (rc, stdout, stderr).
    A tool that is missing is not an error before the driver role has run.
    """
    results = {}
    for name, args in VENDOR_TOOLS.get(vendor, ()):
        path = find_bin(name)
        entry = {"found": bool(path), "works": False, "error": None}
        if path:
            rc, out, err = run([path, *args])
            entry["works"] = rc == 0
            if rc != 0:
                lines = (err or out or "").strip().splitlines()
                entry["error"] = lines[-1] if lines else "exit status %d" % rc
            elif name == "nvidia-smi":
                entry["gpus"] = parse_nvidia_smi(out)
        results[name] = entry
    return results


def detect(module, sysfs_root="/sys", requested="auto", proc_root="/proc",
           modules_root="/lib/modules", pci_ids_path=None, tools=True):  # fmt: skip
    """llm_gpu as the gpu_facts and host_probe modules set it: the GPUs found and, where
    there are some and `tools`, whether the vendor's tools work (run through `module`)."""
    facts = gpu_facts(
        sysfs_root,
        requested,
        proc_root=proc_root,
        modules_root=modules_root,
        pci_ids_path=pci_ids_path or find_pci_ids(),
    )
    facts["tools"] = {}
    if tools and facts["found"]:
        facts["tools"] = probe_tools(
            facts["vendor"],
            lambda name: module.get_bin_path(name, opt_dirs=["/opt/rocm/bin"]),
            # A wedged GPU can hang the tools: never wait more than 20 s.
            lambda argv: module.run_command(["timeout", "20", *argv]),
        )
    return facts
