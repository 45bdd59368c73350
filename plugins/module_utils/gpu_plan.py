# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""What to install for a GPU on each supported distribution, and whether to reboot.

Pure decisions from facts and settings, so they are unit-tested for every
distribution without the distribution at hand. The roles turn a plan into
tasks; `error` set means this host cannot be served and says why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

APT_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
# NVIDIA's CUDA repositories call 64-bit Arm servers "sbsa".
CUDA_ARCH = {"x86_64": "x86_64", "aarch64": "sbsa"}
# Open kernel modules need Turing (device ids from 0x1e00) or newer.
FIRST_TURING_DEVICE_ID = 0x1E00
RHEL_LIKE = ("RedHat", "Rocky", "AlmaLinux", "CentOS")


def _os(facts):
    distribution = facts.get("distribution", "")
    major = str(facts.get("distribution_major_version", ""))
    return distribution, major, facts.get("architecture", "")


def open_modules_for(device_ids, requested="auto", branch="580"):
    """Whether to install NVIDIA's open kernel modules (required from Blackwell,
    impossible before Turing); `requested` true/false overrides `auto`."""
    if requested in (True, False):
        return requested
    if int(branch) < 515:
        return False
    ids = [int(d, 16) for d in device_ids if d]
    return all(i >= FIRST_TURING_DEVICE_ID for i in ids)


def nvidia_plan(facts, settings, device_ids=()):
    """Repositories and packages for the NVIDIA driver and container toolkit.

    settings: branch, open_modules (auto/true/false), cuda_repo_url,
    cuda_key_url (empty: the key file in the repository), cuda_key_fingerprint,
    toolkit_repo_url, toolkit_key_url, toolkit_key_fingerprint, toolkit_version,
    kernel (running kernel release).
    """
    distribution, major, arch = _os(facts)
    branch = str(settings["branch"])
    use_open = open_modules_for(device_ids, settings.get("open_modules", "auto"), branch)
    kernel = settings.get("kernel") or facts.get("kernel", "")
    plan = {
        "error": None,
        "family": "dnf" if distribution in RHEL_LIKE else "apt",
        "open_modules": use_open,
        "repositories": [],
        "pinning_packages": [],
        "driver_packages": [],
        "kernel_packages": [],
        "dnf_module": None,
        "toolkit_packages": [],
        "kernel_module": "nvidia",
        "blacklist_nouveau": True,
    }
    if arch not in CUDA_ARCH:
        plan["error"] = "NVIDIA drivers: %s is not supported (x86_64 or aarch64)" % arch
        return plan
    toolkit = settings["toolkit_version"]

    if distribution == "Ubuntu" and major in ("22", "24"):
        # Ubuntu's own server drivers: the branch in the package name.
        flavour = "-open" if use_open else ""
        plan["source"] = "ubuntu"
        plan["driver_packages"] = [
            "nvidia-headless-%s-server%s" % (branch, flavour),
            "nvidia-utils-%s-server" % branch,
        ]
    elif (distribution == "Debian" and major in ("12", "13")) or (
        distribution in RHEL_LIKE and major == "9"
    ):
        plan["source"] = "cuda"
        if distribution == "Debian" and arch != "x86_64":
            plan["error"] = "NVIDIA's CUDA repository for Debian is x86_64 only"
            return plan
        # NVIDIA's convention from the 580 branch: a pinning package selects the
        # branch, then the unversioned meta package.
        meta = "nvidia-open" if use_open else "cuda-drivers"
        if plan["family"] == "apt":
            plan["pinning_packages"] = ["nvidia-driver-pinning-%s" % branch]
        else:
            plan["dnf_module"] = "nvidia-driver:%s-%s" % (branch, "open" if use_open else "dkms")
        plan["driver_packages"] = [meta]
    else:
        plan["error"] = (
            "NVIDIA drivers: %s %s is not supported (Ubuntu 22.04/24.04, Debian 12/13, RHEL 9)"
            % (distribution, facts.get("distribution_version", major))
        )
        return plan

    cuda_distro = {"Ubuntu": "ubuntu%s04" % major, "Debian": "debian%s" % major}.get(
        distribution, "rhel9"
    )
    cuda_url = "%s/%s/%s" % (settings["cuda_repo_url"].rstrip("/"), cuda_distro, CUDA_ARCH[arch])
    toolkit_url = settings["toolkit_repo_url"].rstrip("/")
    if plan["family"] == "apt":
        if plan["source"] == "cuda":
            plan["repositories"].append(
                {
                    "name": "nvidia-cuda",
                    "uris": cuda_url,
                    "suites": "/",
                    "components": "",
                    "key_url": settings.get("cuda_key_url") or cuda_url + "/3bf863cc.pub",
                    "fingerprint": settings["cuda_key_fingerprint"],
                }
            )
        plan["repositories"].append(
            {
                "name": "nvidia-container-toolkit",
                "uris": "%s/deb/%s" % (toolkit_url, APT_ARCH[arch]),
                "suites": "/",
                "components": "",
                "key_url": settings["toolkit_key_url"],
                "fingerprint": settings["toolkit_key_fingerprint"],
            }
        )
        plan["kernel_packages"] = ["linux-headers-%s" % kernel, "dkms"]
        version = "=%s-1" % toolkit
    else:
        plan["repositories"] = [
            {
                "name": "nvidia-cuda",
                "baseurl": cuda_url,
                "gpgkey": settings.get("cuda_key_url") or cuda_url + "/D42D0685.pub",
            },
            {
                "name": "nvidia-container-toolkit",
                "baseurl": toolkit_url + "/rpm/$basearch",
                "gpgkey": settings["toolkit_key_url"],
            },
        ]
        plan["kernel_packages"] = ["kernel-devel-%s" % kernel, "kernel-headers", "dkms"]
        version = "-%s-1" % toolkit
    plan["toolkit_packages"] = [
        package + version
        for package in (
            "nvidia-container-toolkit",
            "nvidia-container-toolkit-base",
            "libnvidia-container-tools",
            "libnvidia-container1",
        )
    ]
    return plan


def rocm_plan(facts, settings):
    """Packages (and AMD's repositories where needed) for ROCm on the host.

    settings: source (""/distribution/amd), rocm_version, amdgpu_version,
    repo_url, key_fingerprint, firmware_packages, kernel.
    """
    distribution, major, arch = _os(facts)
    kernel = settings.get("kernel") or facts.get("kernel", "")
    plan = {
        "error": None,
        "family": "dnf" if distribution in RHEL_LIKE else "apt",
        "repositories": [],
        "driver_packages": [],
        "kernel_packages": [],
        "tool_packages": [],
        "kernel_module": "amdgpu",
        "blacklist_nouveau": False,
    }
    if arch != "x86_64":
        plan["error"] = "ROCm: %s is not supported (x86_64 only)" % arch
        return plan
    default = "distribution" if distribution == "Debian" else "amd"
    source = settings.get("source") or default
    plan["source"] = source
    supported = (
        (distribution == "Debian" and major in ("12", "13") and source == "distribution")
        or (distribution == "Ubuntu" and major in ("22", "24") and source == "amd")
        or (distribution in RHEL_LIKE and major == "9" and source == "amd")
    )
    if not supported:
        plan["error"] = (
            "ROCm from %s packages is not supported on %s %s (Debian 12/13: distribution;"
            " Ubuntu 22.04/24.04 and RHEL 9: amd)"
            % (source, distribution, facts.get("distribution_version", major))
        )
        return plan
    if source == "distribution":
        # Debian's kernels carry amdgpu; the firmware is in non-free-firmware.
        plan["driver_packages"] = list(settings.get("firmware_packages", []))
        plan["tool_packages"] = ["rocminfo", "rocm-smi"]
        return plan

    url = settings["repo_url"].rstrip("/")
    rocm, amdgpu = settings["rocm_version"], settings["amdgpu_version"]
    if plan["family"] == "apt":
        codename = facts.get("distribution_release", "")
        key = {"key_url": url + "/rocm/rocm.gpg.key", "fingerprint": settings["key_fingerprint"]}
        plan["repositories"] = [
            dict(key, name=name, uris=uris, suites=codename, components="main")
            for name, uris in (
                ("amdgpu", "%s/amdgpu/%s/ubuntu" % (url, amdgpu)),
                ("rocm", "%s/rocm/apt/%s" % (url, rocm)),
            )
        ]
        plan["kernel_packages"] = ["linux-headers-%s" % kernel, "linux-modules-extra-%s" % kernel]
    else:
        release = facts.get("distribution_version", "9")
        plan["repositories"] = [
            {"name": name, "baseurl": baseurl, "gpgkey": url + "/rocm/rocm.gpg.key"}
            for name, baseurl in (
                ("amdgpu", "%s/amdgpu/%s/rhel/%s/main/x86_64" % (url, amdgpu, release)),
                ("rocm", "%s/rocm/rhel9/%s/main" % (url, rocm)),
            )
        ]
        plan["kernel_packages"] = ["kernel-devel-%s" % kernel, "kernel-headers"]
    plan["driver_packages"] = ["amdgpu-dkms"]
    plan["tool_packages"] = ["rocminfo", "rocm-smi-lib"]
    return plan


def reboot_decision(gpu, installed_version, allowed, local, load_error=None):
    """What to do so the installed driver is the one running.

    gpu: the llm_gpu facts (read after the packages are installed);
    installed_version: `modinfo -F version <module>` for the running kernel
    ("" when the module has no version or none is built); allowed: the user
    allowed reboots; local: Ansible runs on this machine; load_error: what
    loading the module said when it was tried and the GPU is still not bound.

    Returns {"action": none|load|reboot|pending|refuse, "reason": words}.
    """
    vendor = gpu.get("vendor", "none")
    if vendor == "none" or not gpu.get("found"):
        return {"action": "none", "reason": "no GPU to drive"}
    loaded = gpu.get("driver_version")
    if vendor == "nvidia" and gpu.get("nouveau_loaded"):
        why = "nouveau holds the GPU until a reboot (it is blacklisted now)"
    elif installed_version and loaded and loaded != installed_version:
        why = "driver %s is running but %s is installed" % (loaded, installed_version)
    elif installed_version and not loaded and gpu.get("driver_loaded") and vendor == "amd":
        why = "the kernel's own amdgpu is running, amdgpu-dkms %s is installed" % installed_version
    elif not gpu.get("driver_loaded") and load_error is not None:
        why = "the driver did not load (%s)" % (load_error or "no error given")
    elif not gpu.get("driver_loaded"):
        return {"action": "load", "reason": "driver installed but not loaded: loading it"}
    else:
        return {"action": "none", "reason": "driver %s running" % (loaded or "in-tree")}
    if not allowed:
        return {"action": "pending", "reason": "reboot pending: " + why}
    if local:
        return {
            "action": "refuse",
            "reason": "a reboot is needed (%s) but Ansible runs on this machine, which it never"
            " reboots: reboot it yourself, then run the install again" % why,
        }
    return {"action": "reboot", "reason": "rebooting: " + why}
