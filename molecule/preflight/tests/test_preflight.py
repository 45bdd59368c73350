"""What a user would notice after preflight: nothing changed on the host."""

from __future__ import annotations


def test_data_path_was_not_created(host):
    assert not host.file("/opt/llm-stack").exists


def test_no_packages_were_installed(host):
    for package in ("docker.io", "docker-ce", "chrony"):
        assert not host.package(package).is_installed


def test_the_service_on_the_taken_port_still_runs(host):
    assert host.service("busy-port").is_running
    assert host.socket("tcp://0.0.0.0:18080").is_listening


def test_host_is_a_supported_debian(host):
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] in ("12", "13")
