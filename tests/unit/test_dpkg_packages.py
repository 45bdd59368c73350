"""local_llm.stack.dpkg_packages reads dpkg's status file as package_facts reports it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_collection_module

STATUS = """\
Package: docker.io
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 26.1.5+dfsg1-9+deb13u1+b1
Description: Linux container runtime
 Docker complements kernel namespacing with a high-level API.
 .
 Package: not-a-package (a description line)

Package: nginx
Status: deinstall ok config-files
Architecture: amd64
Version: 1.26.3-3

Package: half
Status: install reinstreq half-installed
Version: 1.0

Package: unpacked-only
Status: install ok unpacked
Version: 2.0

Package: docker-ce
Status: hold ok installed
Architecture: amd64
Version: 5:27.3.1-1~debian.12~bookworm
"""


def test_only_installed_packages_with_their_versions(collections_dir, tmp_path: Path):
    status = tmp_path / "status"
    status.write_text(STATUS)
    rc, result = run_collection_module(collections_dir, "dpkg_packages", status_file=str(status))
    assert rc == 0 and result["changed"] is False, result
    packages = result["ansible_facts"]["packages"]
    # Installed, held or unpacked count (as package_facts counts them); removed ones with
    # their configuration kept, and broken half-installs, do not.
    assert sorted(packages) == ["docker-ce", "docker.io", "unpacked-only"]
    assert packages["docker.io"] == [
        {"name": "docker.io", "version": "26.1.5+dfsg1-9+deb13u1+b1", "arch": "amd64",
         "source": "apt"}
    ]  # fmt: skip
    assert packages["docker-ce"][0]["version"] == "5:27.3.1-1~debian.12~bookworm"
    assert isinstance(result["python_apt"], bool)


def test_an_unreadable_status_file_is_named(collections_dir, tmp_path: Path):
    rc, result = run_collection_module(
        collections_dir, "dpkg_packages", status_file=str(tmp_path / "none")
    )
    assert rc != 0 and f"cannot read {tmp_path / 'none'}" in result["msg"]
