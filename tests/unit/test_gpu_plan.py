"""Which vendor, which packages, reboot or not: for every supported distribution."""

from __future__ import annotations

import importlib

import pytest


def os_facts(distribution: str, version: str, release: str) -> dict:
    """Ansible's distribution facts; the major version is the version's first part."""
    return {
        "distribution": distribution,
        "distribution_major_version": version.split(".")[0],
        "distribution_version": version,
        "distribution_release": release,
    }


OS = {
    "debian12": os_facts("Debian", "12.12", "bookworm"),
    "debian13": os_facts("Debian", "13.2", "trixie"),
    "ubuntu2204": os_facts("Ubuntu", "22.04", "jammy"),
    "ubuntu2404": os_facts("Ubuntu", "24.04", "noble"),
    "rhel9": os_facts("RedHat", "9.6", "Plow"),
    "rocky9": os_facts("Rocky", "9.6", "Blue Onyx"),
}
KERNEL = "6.12.48+deb13-amd64"
NVIDIA = {
    "branch": "580",
    "open_modules": "auto",
    "cuda_repo_url": "https://developer.download.nvidia.com/compute/cuda/repos",
    "cuda_key_url": "",
    "cuda_key_fingerprint": "EB693B3035CD5710E231E123A4B469963BF863CC",
    "toolkit_repo_url": "https://nvidia.github.io/libnvidia-container/stable",
    "toolkit_key_url": "https://nvidia.github.io/libnvidia-container/gpgkey",
    "toolkit_key_fingerprint": "C95B321B61E88C1809C4F759DDCAE044F796ECB0",
    "toolkit_version": "1.18.0",
    "kernel": KERNEL,
}
ROCM = {
    "source": "",
    "rocm_version": "6.4.3",
    "amdgpu_version": "6.4.3",
    "repo_url": "https://repo.radeon.com",
    "key_fingerprint": "CA8BB4727A47B4D09B4EE8969386B48A1A693C5C",
    "firmware_packages": ["firmware-amd-graphics"],
    "kernel": KERNEL,
}
RTX_4090, H100, TESLA_P100 = "0x2684", "0x2330", "0x15f8"


@pytest.fixture(scope="module")
def plans(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.gpu_plan"
    )


def facts(name: str, arch: str = "x86_64") -> dict:
    return dict(OS[name], architecture=arch)


@pytest.mark.parametrize("name", ["debian12", "debian13"])
def test_nvidia_debian_uses_cuda_repository_with_branch_pinning(plans, name):
    plan = plans.nvidia_plan(facts(name), NVIDIA, [RTX_4090])
    assert plan["error"] is None and plan["source"] == "cuda"
    assert plan["pinning_packages"] == ["nvidia-driver-pinning-580"]
    assert plan["driver_packages"] == ["nvidia-open"]
    assert plan["kernel_packages"] == [f"linux-headers-{KERNEL}", "dkms"]
    cuda, toolkit = plan["repositories"]
    assert cuda["uris"] == f"{NVIDIA['cuda_repo_url']}/{name}/x86_64"
    assert cuda["key_url"] == cuda["uris"] + "/3bf863cc.pub"
    assert cuda["fingerprint"] == NVIDIA["cuda_key_fingerprint"]
    assert toolkit["uris"] == "https://nvidia.github.io/libnvidia-container/stable/deb/amd64"
    assert "nvidia-container-toolkit=1.18.0-1" in plan["toolkit_packages"]
    assert plan["blacklist_nouveau"] is True


@pytest.mark.parametrize(("name", "series"), [("ubuntu2204", "22"), ("ubuntu2404", "24")])
def test_nvidia_ubuntu_uses_distribution_server_drivers(plans, name, series):
    plan = plans.nvidia_plan(facts(name), NVIDIA, [H100] * 8)
    assert plan["source"] == "ubuntu" and plan["pinning_packages"] == []
    assert plan["driver_packages"] == ["nvidia-headless-580-server-open", "nvidia-utils-580-server"]
    # Only the toolkit comes from NVIDIA: Ubuntu's archive has the driver.
    assert [r["name"] for r in plan["repositories"]] == ["nvidia-container-toolkit"]


def test_nvidia_ubuntu_arm_server(plans):
    plan = plans.nvidia_plan(facts("ubuntu2404", "aarch64"), NVIDIA, [H100])
    assert plan["error"] is None
    assert plan["repositories"][0]["uris"].endswith("/deb/arm64")


def test_pre_turing_gpu_gets_proprietary_modules(plans):
    debian = plans.nvidia_plan(facts("debian12"), NVIDIA, [TESLA_P100])
    ubuntu = plans.nvidia_plan(facts("ubuntu2204"), NVIDIA, [TESLA_P100])
    assert debian["open_modules"] is False and debian["driver_packages"] == ["cuda-drivers"]
    assert ubuntu["driver_packages"][0] == "nvidia-headless-580-server"
    # One pre-Turing card among newer ones decides for the whole host.
    assert (
        plans.nvidia_plan(facts("debian13"), NVIDIA, [RTX_4090, TESLA_P100])["open_modules"]
        is False
    )


def test_open_modules_forced(plans):
    plan = plans.nvidia_plan(facts("debian13"), dict(NVIDIA, open_modules=False), [RTX_4090])
    assert plan["driver_packages"] == ["cuda-drivers"]


@pytest.mark.parametrize("name", ["rhel9", "rocky9"])
def test_nvidia_rhel_family_uses_dnf_module_stream(plans, name):
    plan = plans.nvidia_plan(facts(name), NVIDIA, [H100])
    assert plan["family"] == "dnf" and plan["error"] is None
    assert plan["dnf_module"] == "nvidia-driver:580-open"
    assert plan["driver_packages"] == ["nvidia-open"]
    assert plan["kernel_packages"][0] == f"kernel-devel-{KERNEL}"
    cuda, toolkit = plan["repositories"]
    assert cuda["baseurl"].endswith("/rhel9/x86_64")
    assert toolkit["baseurl"].endswith("/rpm/$basearch")
    assert "nvidia-container-toolkit-1.18.0-1" in plan["toolkit_packages"]


@pytest.mark.parametrize(
    ("os_facts", "message"),
    [
        ({"distribution": "Debian", "distribution_major_version": "11",
          "distribution_version": "11.9", "architecture": "x86_64"}, "11.9 is not supported"),
        (dict(OS["debian13"], architecture="aarch64"), "x86_64 only"),
        (dict(OS["debian13"], architecture="ppc64le"), "ppc64le is not supported"),
    ],
)  # fmt: skip
def test_nvidia_unsupported_hosts_say_why(plans, os_facts, message):
    assert message in plans.nvidia_plan(os_facts, NVIDIA, [RTX_4090])["error"]


@pytest.mark.parametrize("name", ["debian12", "debian13"])
def test_rocm_debian_uses_distribution_packages(plans, name):
    plan = plans.rocm_plan(facts(name), ROCM)
    assert plan["error"] is None and plan["source"] == "distribution"
    assert plan["repositories"] == [] and plan["kernel_packages"] == []
    assert plan["tool_packages"] == ["rocminfo", "rocm-smi"]
    assert plan["driver_packages"] == ["firmware-amd-graphics"]


@pytest.mark.parametrize(("name", "codename"), [("ubuntu2204", "jammy"), ("ubuntu2404", "noble")])
def test_rocm_ubuntu_uses_amd_repositories(plans, name, codename):
    plan = plans.rocm_plan(facts(name), ROCM)
    assert plan["source"] == "amd" and plan["driver_packages"] == ["amdgpu-dkms"]
    amdgpu, rocm = plan["repositories"]
    assert (amdgpu["uris"], amdgpu["suites"]) == (
        "https://repo.radeon.com/amdgpu/6.4.3/ubuntu",
        codename,
    )
    assert (rocm["uris"], rocm["suites"]) == ("https://repo.radeon.com/rocm/apt/6.4.3", codename)
    assert rocm["fingerprint"] == ROCM["key_fingerprint"]
    assert f"linux-modules-extra-{KERNEL}" in plan["kernel_packages"]


def test_rocm_rhel9(plans):
    plan = plans.rocm_plan(facts("rhel9"), ROCM)
    assert plan["family"] == "dnf" and plan["error"] is None
    assert (
        plan["repositories"][0]["baseurl"]
        == "https://repo.radeon.com/amdgpu/6.4.3/rhel/9.6/main/x86_64"
    )


def test_rocm_refuses_what_does_not_exist(plans):
    assert (
        "not supported on Debian"
        in plans.rocm_plan(facts("debian13"), dict(ROCM, source="amd"))["error"]
    )
    assert "x86_64 only" in plans.rocm_plan(facts("ubuntu2404", "aarch64"), ROCM)["error"]


def gpu(vendor="nvidia", **state) -> dict:
    base = {"vendor": vendor, "found": True, "driver_loaded": True, "driver_version": "580.95.05",
            "nouveau_loaded": False}  # fmt: skip
    return dict(base, **state)


@pytest.mark.parametrize(
    ("state", "installed", "expected"),
    [
        (gpu(), "580.95.05", "none"),  # installed and running
        (gpu(driver_loaded=False, driver_version=None), "580.95.05", "load"),  # fresh install
        (gpu(driver_version="570.172.08"), "580.95.05", "reboot"),  # upgraded under a running one
        (gpu(driver_loaded=False, driver_version=None, nouveau_loaded=True), "580.95.05", "reboot"),
        (gpu("amd", driver_version=None), "", "none"),  # Debian: the kernel's own amdgpu
        (gpu("amd", driver_version=None), "6.12.12", "reboot"),  # Ubuntu: new amdgpu-dkms
        (gpu("none", found=False), "", "none"),
    ],
    ids=["running", "fresh", "upgraded", "nouveau", "amd-in-tree", "amd-dkms", "no-gpu"],
)  # fmt: skip
def test_reboot_decision_when_allowed_on_a_remote_host(plans, state, installed, expected):
    assert plans.reboot_decision(state, installed, True, False)["action"] == expected


def test_reboot_not_allowed_is_pending_with_the_reason(plans):
    decision = plans.reboot_decision(gpu(driver_version="570.172.08"), "580.95.05", False, False)
    assert decision == {
        "action": "pending",
        "reason": "reboot pending: driver 570.172.08 is running but 580.95.05 is installed",
    }


def test_a_module_that_will_not_load_needs_a_reboot(plans):
    state = gpu(driver_loaded=False, driver_version=None)
    decision = plans.reboot_decision(state, "580.95.05", False, False, "modprobe: ERROR: ...")
    assert decision["action"] == "pending"
    assert "the driver did not load (modprobe: ERROR: ...)" in decision["reason"]
    assert plans.reboot_decision(state, "580.95.05", True, False, "")["action"] == "reboot"


def test_never_reboots_the_machine_ansible_runs_on(plans):
    decision = plans.reboot_decision(gpu(nouveau_loaded=True), "580.95.05", True, True)
    assert decision["action"] == "refuse"
    assert "never reboots" in decision["reason"] and "reboot it yourself" in decision["reason"]
    # Not allowed anyway: just pending, the local case needs no special words.
    assert (
        plans.reboot_decision(gpu(nouveau_loaded=True), "580.95.05", False, True)["action"]
        == "pending"
    )


def test_filters_are_registered(collections_dir):
    filters = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.gpu")
    registered = filters.FilterModule().filters()
    assert set(registered) == {"nvidia_driver_plan", "rocm_driver_plan", "gpu_reboot_decision"}
    assert registered["gpu_reboot_decision"](gpu(), None, "yes", 0)["action"] == "none"
