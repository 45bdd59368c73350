"""After the GPU roles: repositories trusted through pinned keys, packages in
place, and nothing from the check-mode kernel run left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

MIRROR = os.environ.get("LLM_TEST_APT_MIRROR", "http://172.17.0.1:8081")
ROLE = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "roles" / "gpu_nvidia"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def is_nvidia(host) -> bool:
    return host.backend.get_hostname().startswith("nvidia")


def test_nvidia_repositories_are_deb822_with_their_own_keys(host):
    if not is_nvidia(host):
        pytest.skip("NVIDIA hosts only")
    release = host.system_info.release.split(".")[0]
    cuda = host.file("/etc/apt/sources.list.d/nvidia-cuda.sources")
    assert f"URIs: {MIRROR}/cuda/debian{release}/x86_64" in cuda.content_string
    assert "Signed-By: /etc/apt/keyrings/nvidia-cuda.asc" in cuda.content_string
    toolkit = host.file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources")
    assert f"URIs: {MIRROR}/libnvidia-container/stable/deb/amd64" in toolkit.content_string
    key = host.file("/etc/apt/keyrings/nvidia-cuda.asc")
    assert key.mode == 0o644 and key.user == "root"
    assert key.content_string.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_apt_trusts_the_signed_repositories(host):
    if not is_nvidia(host):
        pytest.skip("NVIDIA hosts only")
    update = host.run("apt-get update")
    assert update.rc == 0, update.stderr
    for complaint in ("NO_PUBKEY", "not signed", "NOSPLIT", "Failed to fetch"):
        assert complaint not in update.stdout + update.stderr


def test_nvidia_packages_installed_at_the_pinned_versions(host):
    if not is_nvidia(host):
        pytest.skip("NVIDIA hosts only")
    branch = DEFAULTS["gpu_nvidia_driver_branch"]
    assert host.package(f"nvidia-driver-pinning-{branch}").is_installed
    assert host.package("nvidia-open").is_installed  # open modules: an RTX-class GPU or none
    assert not host.package("cuda-drivers").is_installed
    toolkit = DEFAULTS["gpu_nvidia_container_toolkit_version"]
    assert host.package("nvidia-container-toolkit").version == f"{toolkit}-1"
    kernel = host.run("uname -r").stdout.strip()
    assert host.package(f"linux-headers-{kernel}").is_installed


def test_check_mode_kernel_run_changed_nothing(host):
    if not is_nvidia(host):
        pytest.skip("NVIDIA hosts only")
    assert not host.file("/etc/modprobe.d/llm-stack-blacklist-nouveau.conf").exists


def test_rocm_tools_from_debian(host):
    if is_nvidia(host):
        pytest.skip("ROCm hosts only")
    for package in ("rocminfo", "rocm-smi"):
        assert host.package(package).is_installed
    assert not host.file("/etc/apt/sources.list.d/rocm.sources").exists  # Debian: no AMD repo


def test_lab_user_may_use_the_gpu(host):
    if is_nvidia(host):
        pytest.skip("ROCm hosts only")
    assert {"render", "video"} <= set(host.user("lab").groups)
