"""The host_probe module: preflight's disk, ports, GPUs and memory in one run; it reads
/proc/net/tcp{,6} itself."""

# ruff: noqa: E501  (the /proc tables below are verbatim kernel output)

from __future__ import annotations

import importlib

import pytest

from tests.conftest import run_collection_module

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1
   1: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1
   2: 0100007F:E2A4 0100007F:2CAA 01 00000000:00000000 00:00000000 00000000     0        0 1003 1
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1
"""


@pytest.fixture
def module(collections_dir):
    name = "ansible_collections.local_llm.stack.plugins.modules.host_probe"
    return importlib.import_module(name)


@pytest.fixture
def proc(tmp_path):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    fd = tmp_path / "4242" / "fd"
    fd.mkdir(parents=True)
    (tmp_path / "4242" / "comm").write_text("ollama\n")
    (fd / "3").symlink_to("socket:[1002]")
    (tmp_path / "meminfo").write_text("MemTotal:       24576000 kB\nMemFree:         1000 kB\n")
    return tmp_path


def test_only_listening_sockets_with_decoded_addresses(module, proc):
    found = {(s["address"], s["port"]) for s in module.listening_sockets(str(proc))}
    assert found == {("0.0.0.0", 3000), ("127.0.0.1", 11434), ("::1", 80)}


def test_owner_named_when_visible(module, proc):
    assert module.socket_owners(str(proc)) == {"1002": "ollama"}


def test_one_run_gives_the_disk_the_ports_the_gpus_and_the_memory(collections_dir, proc, tmp_path):
    sysfs = tmp_path / "sys"
    (sysfs / "bus" / "pci" / "devices").mkdir(parents=True)
    rc, result = run_collection_module(
        collections_dir, "host_probe", data_path=str(tmp_path / "not" / "yet"),
        sysfs_root=str(sysfs), proc_root=str(proc),
    )  # fmt: skip
    assert rc == 0 and result["changed"] is False, result
    # Measured where the path would be made (its nearest existing parent).
    assert result["disk"]["measured"] == str(tmp_path)
    assert 0 < result["disk"]["free_bytes"] <= result["disk"]["total_bytes"]
    assert {"port": 11434, "address": "127.0.0.1", "process": "ollama"} in result["ports"]
    assert [p["port"] for p in result["ports"]] == [80, 3000, 11434]
    assert result["ansible_facts"]["memtotal_mb"] == 24000
    assert result["ansible_facts"]["llm_gpu"]["vendor"] == "none"


def test_the_probe_reads_the_cpu_flags_and_the_packages_in_the_same_run(
    collections_dir, proc, tmp_path
):
    """What the install's later plays and MongoDB's CPU check would each have asked for in a
    round trip of their own (issue 19)."""
    (proc / "cpuinfo").write_text(
        "processor\t: 0\nflags\t\t: fpu sse2 avx avx2\n\nprocessor\t: 1\nflags\t\t: fpu\n"
    )
    status = tmp_path / "status"
    status.write_text("Package: docker.io\nStatus: install ok installed\nVersion: 26.1.5\n")
    sysfs = tmp_path / "sys"
    (sysfs / "bus" / "pci" / "devices").mkdir(parents=True)
    rc, result = run_collection_module(
        collections_dir, "host_probe", data_path=str(tmp_path), sysfs_root=str(sysfs),
        proc_root=str(proc), dpkg_status=str(status),
    )  # fmt: skip
    assert rc == 0, result
    facts = result["ansible_facts"]
    assert facts["llm_cpu_flags"] == ["fpu", "sse2", "avx", "avx2"]  # the first CPU's
    assert facts["packages"]["docker.io"][0]["version"] == "26.1.5"
    assert isinstance(facts["llm_python_apt"], bool)
    # No dpkg (a RHEL host): no packages, so the later plays ask the package manager.
    rc, result = run_collection_module(
        collections_dir, "host_probe", data_path=str(tmp_path), sysfs_root=str(sysfs),
        proc_root=str(proc), dpkg_status=str(tmp_path / "none"),
    )  # fmt: skip
    assert rc == 0 and "packages" not in result["ansible_facts"], result


class FakeSystemd:
    """What unit_states asks of the module: where systemctl is, and its answer."""

    def __init__(self, rc=0, out="", systemctl="/usr/bin/systemctl"):
        self.answer, self.systemctl, self.asked = (rc, out, ""), systemctl, []

    def get_bin_path(self, name):
        return self.systemctl

    def run_command(self, argv):
        self.asked.append(argv)
        return self.answer


SHOW = """\
Id=docker.service
ActiveState=active
UnitFileState=enabled

Id=nosuch.service
ActiveState=inactive
UnitFileState=
"""


def test_the_units_state_in_one_systemctl_call(module):
    """Docker's unit, which the container runtime play would otherwise ask for itself."""
    fake = FakeSystemd(out=SHOW)
    states = module.unit_states(fake, ["docker.service", "nosuch.service"])
    assert states == {
        "docker.service": {"active": "active", "enabled": "enabled"},
        "nosuch.service": {"active": "inactive", "enabled": ""},
    }
    assert len(fake.asked) == 1 and fake.asked[0][-2:] == ["docker.service", "nosuch.service"]


@pytest.mark.parametrize(
    "fake",
    [
        FakeSystemd(rc=1, out="System has not been booted with systemd"),  # a container's
        FakeSystemd(systemctl=None),  # no systemd at all
        FakeSystemd(out=SHOW.split("\n\n")[0]),  # fewer blocks than units asked
        FakeSystemd(out="\n\n".join(reversed(SHOW.strip().split("\n\n")))),  # another order
    ],
)
def test_no_unit_state_where_systemd_cannot_say(module, fake):
    """Then no llm_units fact, and the container runtime play asks systemd itself."""
    assert module.unit_states(fake, ["docker.service", "nosuch.service"]) is None


def test_no_call_without_units(module):
    fake = FakeSystemd(out=SHOW)
    assert module.unit_states(fake, []) is None and fake.asked == []


def test_the_probe_says_where_the_ssh_session_comes_from_where_there_is_one(
    collections_dir, proc, tmp_path, monkeypatch
):
    """The firewall keeps SSH open to that address (its printenv look is then left out);
    without the variable (no session, or a become that dropped it: su -l sets no SUDO_USER)
    the probe says nothing, and the firewall asks itself."""
    sysfs = tmp_path / "sys"
    (sysfs / "bus" / "pci" / "devices").mkdir(parents=True)
    args = {"data_path": str(tmp_path), "sysfs_root": str(sysfs), "proc_root": str(proc)}

    def probed() -> dict:
        rc, result = run_collection_module(collections_dir, "host_probe", **args)
        assert rc == 0, result
        return result["ansible_facts"]

    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.9 51000 10.0.0.5 22")
    assert probed()["llm_ssh_connection"] == "192.0.2.9 51000 10.0.0.5 22"
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.delenv("SUDO_USER", raising=False)
    assert "llm_ssh_connection" not in probed()
