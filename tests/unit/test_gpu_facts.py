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
    # Recorded on a cloud VM with one H200 passed through (virtio everything else).
    "h200_vm_recorded": [
        ("0000:00:00.0", "0x8086", "0x0d57", "0x060000", None, False),
        ("0000:00:01.0", "0x1af4", "0x1042", "0x018000", "virtio-pci", False),
        ("0000:00:02.0", "0x1af4", "0x1042", "0x018000", "virtio-pci", False),
        ("0000:00:03.0", "0x1af4", "0x1041", "0x020000", "virtio-pci", False),
        ("0000:00:04.0", "0x1af4", "0x1053", "0xffff00", "virtio-pci", False),
        ("0000:00:05.0", "0x1af4", "0x1044", "0xffff00", "virtio-pci", False),
        ("0000:00:06.0", "0x10de", "0x2335", "0x030200", "nvidia", False),
    ],
    "vm_virtual_display": [
        ("0000:00:00.0", "0x8086", "0x1237", "0x060000", None, False),
        ("0000:00:02.0", "0x1234", "0x1111", "0x030000", "bochs-drm", True),  # QEMU std VGA
        ("0000:00:03.0", "0x1af4", "0x1050", "0x030000", "virtio-pci", False),  # virtio-gpu
    ],
}


# A few lines in pci.ids' own format (tab-indented devices, two-space separators).
PCI_IDS = """# excerpt
10de  NVIDIA Corporation
\t2330  GH100 [H100 SXM5 80GB]
\t2684  AD102 [GeForce RTX 4090]
\t\t1043 889c  not a device: a subsystem line
\t28a0  AD107M [GeForce RTX 4060 Max-Q / Mobile]
1002  Advanced Micro Devices, Inc. [AMD/ATI]
\t15bf  Phoenix1
\t74a1  Aqua Vanjaram [Instinct MI300X]
C 03  Display controller
\t00  VGA compatible controller
"""


def build_sysfs(root: Path, devices) -> Path:
    base = root / "bus" / "pci" / "devices"
    drivers = root / "bus" / "pci" / "drivers"
    base.mkdir(parents=True, exist_ok=True)
    for address, vendor, device, pci_class, driver, boot_vga in devices:
        node = base / address
        node.mkdir(exist_ok=True)
        (node / "vendor").write_text(vendor + "\n")
        (node / "device").write_text(device + "\n")
        (node / "class").write_text(pci_class + "\n")
        if pci_class.startswith("0x03"):
            (node / "boot_vga").write_text("1\n" if boot_vga else "0\n")
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            if not (node / "driver").is_symlink():
                (node / "driver").symlink_to(drivers / driver)
    return root


@pytest.fixture
def gpu(collections_dir):
    return importlib.import_module("ansible_collections.local_llm.stack.plugins.module_utils.gpu")


@pytest.fixture
def pci_ids(tmp_path) -> str:
    path = tmp_path / "pci.ids"
    path.write_text(PCI_IDS)
    return str(path)


@pytest.fixture
def facts(gpu, tmp_path, pci_ids):
    def detect(layout: str, requested: str = "auto") -> dict:
        root = build_sysfs(tmp_path / layout / "sys", LAYOUTS[layout]).parent
        return gpu.gpu_facts(
            str(root / "sys"), requested, str(root / "proc"), str(root / "modules"), pci_ids
        )

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
    other = [d for d in result["devices"] if d["vendor"] != "nvidia"]
    assert [d["vendor"] for d in other] == ["aspeed"]  # the BMC's display: not compute
    assert result["vendors"] == ["nvidia"]


def test_amd_instinct_server(facts):
    result = facts("amd_instinct")
    assert (result["vendor"], result["count"], result["driver_loaded"]) == ("amd", 8, True)
    assert all(d["class"] == "0x038000" for d in result["devices"] if d["vendor"] == "amd")


def test_laptop_apu_plus_nvidia_reports_both_and_says_which(facts):
    auto = facts("laptop_apu_and_nvidia")
    assert auto["vendors"] == ["amd", "nvidia"]
    assert auto["vendor"] == "nvidia" and auto["count"] == 1
    assert auto["reason"] == (
        "1 nvidia GPU(s) chosen over integrated amd (set the GPU vendor to change)"
    )
    assert auto["driver_loaded"] is False  # the NVIDIA driver is not installed yet
    apu = next(d for d in auto["devices"] if d["vendor"] == "amd")
    assert apu["integrated"] is True and apu["name"] == "Phoenix1"
    assert auto["names"] == ["AD107M [GeForce RTX 4060 Max-Q / Mobile]"]


def test_laptop_with_amd_chosen_explicitly(gpu, tmp_path):
    root = build_sysfs(tmp_path / "laptop", LAYOUTS["laptop_apu_and_nvidia"])
    result = gpu.gpu_facts(str(root), "amd")
    assert (result["vendor"], result["count"], result["found"]) == ("amd", 1, True)
    assert result["reason"] == "integrated amd GPU chosen explicitly"


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


def plant(root: Path, relative: str, content: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def machine(gpu, tmp_path, layout: str, requested: str = "auto", **extra) -> dict:
    """Build a layout plus procfs/module/EFI state given as {relative path: content}."""
    root = tmp_path / layout
    build_sysfs(root / "sys", LAYOUTS[layout])
    plant(root, "proc/sys/kernel/osrelease", "6.12.48+deb13-amd64\n")
    for relative, content in extra.items():
        plant(root, relative.replace("__", "/"), content)
    return gpu.gpu_facts(
        str(root / "sys"), requested, str(root / "proc"), str(root / "modules"), None
    )


def nvidia_from_procfs(
    gpu, tmp_path, layout: str, version: str, address: str, information: str
) -> dict:
    """A layout whose loaded nvidia module has no version in sysfs, so the driver's procfs
    files tell: its version line, and the information file of the GPU at address."""
    (tmp_path / layout / "sys" / "module" / "nvidia").mkdir(parents=True)
    files = {
        "proc__driver__nvidia__version": version,
        f"proc__driver__nvidia__gpus__{address}__information": information,
    }
    return machine(gpu, tmp_path, layout, **files)


def test_names_come_from_pci_ids(facts):
    result = facts("nvidia_8gpu_nvswitch")
    assert result["names"] == ["GH100 [H100 SXM5 80GB]"]
    bmc = next(d for d in result["devices"] if d["vendor"] == "aspeed")
    assert bmc["name"] is None  # not in the excerpt: no guess


def test_names_without_pci_ids_fall_back_to_ids(gpu, tmp_path):
    result = machine(gpu, tmp_path, "amd_instinct")
    assert result["names"] == ["0x1002 0x74a1"]


def test_amdgpu_product_name_wins(gpu, tmp_path):
    result = machine(
        gpu,
        tmp_path,
        "amd_instinct",
        **{"sys__bus__pci__devices__0000:10:00.0__product_name": "AMD Instinct MI300X\n"},
    )
    assert "AMD Instinct MI300X" in result["names"]


def test_loaded_nvidia_driver_version_from_sysfs(gpu, tmp_path):
    result = machine(
        gpu, tmp_path, "consumer_nvidia", **{"sys__module__nvidia__version": "580.95.05\n"}
    )
    assert (result["driver_loaded"], result["driver_version"]) == (True, "580.95.05")
    assert result["kernel"] == "6.12.48+deb13-amd64"


def test_nvidia_driver_version_from_procfs_when_sysfs_has_none(gpu, tmp_path):
    result = nvidia_from_procfs(
        gpu,
        tmp_path,
        "consumer_nvidia",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n",
        "0000:01:00.0",
        "Model: \t\t NVIDIA GeForce RTX 4090\n",
    )
    assert result["driver_version"] == "550.54.15"
    assert result["names"] == ["NVIDIA GeForce RTX 4090"]


def test_nouveau_bound_means_nvidia_driver_not_loaded(gpu, tmp_path):
    layout = "nouveau_card"
    LAYOUTS[layout] = [("0000:01:00.0", "0x10de", "0x2684", "0x030000", "nouveau", True)]
    try:
        result = machine(gpu, tmp_path, layout, **{"sys__module__nouveau__refcnt": "1\n"})
    finally:
        del LAYOUTS[layout]
    assert (result["vendor"], result["driver_loaded"], result["nouveau_loaded"]) == (
        "nvidia",
        False,
        True,
    )
    assert result["driver_version"] is None


EFIVARS = "sys__firmware__efi__efivars__"
SECURE_BOOT = EFIVARS + "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
MOK_STATE = EFIVARS + "MokSBStateRT-605dab50-e046-4300-abb6-3dd810dd8b23"
ON, OFF = b"\x06\x00\x00\x00\x01", b"\x06\x00\x00\x00\x00"  # attributes, then the value


@pytest.mark.parametrize(
    ("efivars", "expected"),
    [
        ({}, "not_efi"),
        ({EFIVARS + ".keep": ""}, "unknown"),
        ({SECURE_BOOT: ON}, "enabled"),
        ({SECURE_BOOT: OFF}, "disabled"),
        ({SECURE_BOOT: ON, MOK_STATE: ON}, "disabled"),
    ],
    ids=["bios", "efi-no-variable", "enabled", "disabled", "shim-validation-off"],
)
def test_secure_boot_state(gpu, tmp_path, efivars, expected):
    assert machine(gpu, tmp_path, "consumer_nvidia", **efivars)["secure_boot"] == expected


def test_headers_for_running_kernel(gpu, tmp_path):
    headers = tmp_path / "headers"
    headers.mkdir()
    build = tmp_path / "consumer_nvidia" / "modules" / "6.12.48+deb13-amd64" / "build"
    build.parent.mkdir(parents=True)
    build.symlink_to(headers)
    assert machine(gpu, tmp_path, "consumer_nvidia")["headers_installed"] is True
    headers.rmdir()  # headers package removed after a kernel update: the link dangles
    assert machine(gpu, tmp_path, "consumer_nvidia")["headers_installed"] is False


def test_integrated_amd_alone_is_not_picked_automatically(gpu, tmp_path):
    layout = "apu_only"
    LAYOUTS[layout] = [("0000:65:00.0", "0x1002", "0x15bf", "0x030000", "amdgpu", True)]
    try:
        auto = machine(gpu, tmp_path, layout)
        chosen = machine(gpu, tmp_path / "again", layout, "amd")
    finally:
        del LAYOUTS[layout]
    assert auto["vendor"] == "none" and auto["found"] is False
    assert auto["reason"].startswith("no discrete GPU found: CPU inference")
    assert (chosen["vendor"], chosen["count"], chosen["driver_loaded"]) == ("amd", 1, True)


def test_parse_nvidia_smi(gpu):
    text = "0, NVIDIA H200, 0, 143771, 580.95.05\n1, NVIDIA H200, 1024, 143771, 580.95.05\n\n"
    rows = gpu.parse_nvidia_smi(text)
    assert [r["index"] for r in rows] == [0, 1]
    assert rows[1] == {
        "index": 1,
        "name": "NVIDIA H200",
        "memory_used_mib": 1024,
        "memory_total_mib": 143771,
        "driver_version": "580.95.05",
    }
    assert gpu.parse_nvidia_smi("[N/A], x, y, z, w\n") == []


def test_probe_tools_missing_failing_and_working(gpu):
    calls = []

    def run(argv):
        calls.append(argv)
        if argv[0].endswith("nvidia-smi"):
            return (
                9,
                "",
                "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
            )
        return 0, "GPU[0] : Card Series: Instinct MI300X\n", ""

    missing = gpu.probe_tools("nvidia", lambda name: None, run)
    assert missing == {"nvidia-smi": {"found": False, "works": False, "error": None}}
    assert calls == []
    failing = gpu.probe_tools("nvidia", lambda name: "/usr/bin/" + name, run)
    assert failing["nvidia-smi"]["works"] is False
    assert "couldn't communicate with the NVIDIA driver" in failing["nvidia-smi"]["error"]
    amd = gpu.probe_tools("amd", lambda name: "/opt/rocm/bin/" + name, run)
    assert amd == {
        "rocm-smi": {"found": True, "works": True, "error": None},
        "rocminfo": {"found": True, "works": True, "error": None},
    }


def test_recorded_h200_vm(gpu, tmp_path):
    """The tree and procfs files as read on a real H200 machine (open kernel module)."""
    result = nvidia_from_procfs(
        gpu,
        tmp_path,
        "h200_vm_recorded",
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build"
        "  (nixbld@)  \nGCC version:  gcc version 15.3.0\n",
        "0000:00:06.0",
        "Model: \t\t NVIDIA H200\nIRQ:   \t\t 41\nBus Location: \t 0000:00:06.0\n",
    )
    assert (result["vendor"], result["count"], result["names"]) == ("nvidia", 1, ["NVIDIA H200"])
    assert (result["driver_loaded"], result["driver_version"]) == (True, "580.159.04")
    assert (result["secure_boot"], result["headers_installed"]) == ("not_efi", False)
    assert [d["address"] for d in result["devices"]] == ["0000:00:06.0"]
