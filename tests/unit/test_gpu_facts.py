"""GPU detection from sysfs, on the layouts met in the field.

Each layout is a small sysfs tree (bus/pci/devices/<address>/{vendor,device,
class,boot_vga,driver}) built the way the kernel lays it out.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

INTEL_BRIDGE = ("0000:00:00.0", "0x8086", "0x4660", "0x060000", None, False)
INTEL_NIC = ("0000:00:1f.6", "0x8086", "0x15fa", "0x020000", "e1000e", False)
ASPEED_BMC_VGA = ("0000:03:00.0", "0x1a03", "0x2000", "0x030000", "ast", True)

LAYOUTS = {
    "no_gpu": [INTEL_BRIDGE, INTEL_NIC],
    "consumer_nvidia": [
        INTEL_BRIDGE,
        ("0000:01:00.0", "0x10de", "0x2684", "0x030000", "nvidia", True),  # RTX 4090
        ("0000:01:00.1", "0x10de", "0x22ba", "0x040300", "snd_hda_intel", False),  # its audio
    ],
    "nvidia_8gpu_nvswitch": [
        INTEL_BRIDGE,
        ASPEED_BMC_VGA,
        *[
            (f"0000:{0x18 + i:02x}:00.0", "0x10de", "0x2330", "0x030200", "nvidia", False)
            for i in range(8)
        ],  # H100 SXM, 3D controller
        *[
            (f"0000:{0xA0 + i:02x}:00.0", "0x10de", "0x22a3", "0x068000", None, False)
            for i in range(4)
        ],  # NVSwitch: a bridge, not a GPU
    ],
    "amd_instinct": [
        INTEL_BRIDGE,
        ASPEED_BMC_VGA,
        *[
            (f"0000:{0x10 + i:02x}:00.0", "0x1002", "0x74a1", "0x038000", "amdgpu", False)
            for i in range(8)
        ],  # MI300X, display controller
        ("0000:0f:00.0", "0x1002", "0x14a0", "0x060400", "pcieport", False),  # AMD PCIe switch
    ],
    "laptop_apu_and_nvidia": [
        ("0000:00:00.0", "0x1022", "0x14e8", "0x060000", None, False),
        ("0000:65:00.0", "0x1002", "0x15bf", "0x030000", "amdgpu", True),  # Phoenix iGPU
        ("0000:01:00.0", "0x10de", "0x28a0", "0x030200", None, False),  # RTX 4060 mobile
    ],
    "vm_virtual_display": [
        ("0000:00:00.0", "0x8086", "0x1237", "0x060000", None, False),
        ("0000:00:02.0", "0x1234", "0x1111", "0x030000", "bochs-drm", True),  # QEMU std VGA
        ("0000:00:03.0", "0x1af4", "0x1050", "0x030000", "virtio-pci", False),  # virtio-gpu
    ],
}


def build_sysfs(root: Path, devices) -> Path:
    base = root / "bus" / "pci" / "devices"
    drivers = root / "bus" / "pci" / "drivers"
    base.mkdir(parents=True)
    for address, vendor, device, pci_class, driver, boot_vga in devices:
        node = base / address
        node.mkdir()
        (node / "vendor").write_text(vendor + "\n")
        (node / "device").write_text(device + "\n")
        (node / "class").write_text(pci_class + "\n")
        if pci_class.startswith("0x03"):
            (node / "boot_vga").write_text("1\n" if boot_vga else "0\n")
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            (node / "driver").symlink_to(drivers / driver)
    return root


@pytest.fixture
def gpu(collections_dir):
    return importlib.import_module("ansible_collections.local_llm.stack.plugins.module_utils.gpu")


@pytest.fixture
def facts(gpu, tmp_path):
    def detect(layout: str, requested: str = "auto") -> dict:
        root = build_sysfs(tmp_path / layout, LAYOUTS[layout])
        return gpu.gpu_facts(str(root), requested)

    return detect


def test_no_gpu_means_cpu_inference(facts):
    result = facts("no_gpu")
    assert (result["vendor"], result["count"], result["found"]) == ("none", 0, False)
    assert result["reason"] == "no GPU found: CPU inference"
    assert result["devices"] == []  # the bridge and the NIC are not display devices


def test_consumer_nvidia_card_not_its_audio_function(facts):
    result = facts("consumer_nvidia")
    assert (result["vendor"], result["count"], result["driver_loaded"]) == ("nvidia", 1, True)
    assert [d["address"] for d in result["devices"]] == ["0000:01:00.0"]
    assert result["devices"][0]["boot_vga"] is True


def test_eight_gpu_server_ignores_nvswitches_and_the_bmc(facts):
    result = facts("nvidia_8gpu_nvswitch")
    assert result["vendor"] == "nvidia" and result["count"] == 8
    nvidia = [d for d in result["devices"] if d["vendor"] == "nvidia"]
    assert {d["class"] for d in nvidia} == {"0x030200"}
    other = [d for d in result["devices"] if d["vendor"] == "other"]
    assert [d["vendor_id"] for d in other] == ["0x1a03"]  # ASPEED BMC: display, not compute
    assert result["vendors"] == ["nvidia"]


def test_amd_instinct_server(facts):
    result = facts("amd_instinct")
    assert (result["vendor"], result["count"], result["driver_loaded"]) == ("amd", 8, True)
    assert all(d["class"] == "0x038000" for d in result["devices"] if d["vendor"] == "amd")


def test_laptop_apu_plus_nvidia_reports_both_and_says_which(facts):
    auto = facts("laptop_apu_and_nvidia")
    assert auto["vendors"] == ["amd", "nvidia"]
    assert auto["vendor"] == "nvidia" and auto["count"] == 1
    assert "nvidia chosen over amd" in auto["reason"]
    assert auto["driver_loaded"] is False  # the NVIDIA driver is not installed yet


def test_laptop_with_amd_chosen_explicitly(gpu, tmp_path):
    root = build_sysfs(tmp_path / "laptop", LAYOUTS["laptop_apu_and_nvidia"])
    result = gpu.gpu_facts(str(root), "amd")
    assert (result["vendor"], result["count"], result["found"]) == ("amd", 1, True)
    assert result["reason"] == "amd GPU chosen explicitly"


def test_vm_virtual_display_is_not_a_gpu(facts):
    result = facts("vm_virtual_display")
    assert result["vendor"] == "none"
    assert {d["vendor"] for d in result["devices"]} == {"qemu", "virtio"}


def test_requested_vendor_that_is_absent(facts):
    result = facts("consumer_nvidia", "amd")
    assert (result["vendor"], result["found"]) == ("amd", False)
    assert result["reason"] == "amd GPU requested but none found"


def test_gpu_switched_off(facts):
    assert facts("consumer_nvidia", "none")["vendor"] == "none"


def test_missing_sysfs_is_no_gpu(gpu, tmp_path):
    assert gpu.gpu_facts(str(tmp_path / "absent"))["vendor"] == "none"
