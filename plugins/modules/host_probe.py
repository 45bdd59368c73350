#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_probe
short_description: What preflight reads from a host, in one module run
description:
  - The free space where the stack's data will live, the TCP ports in LISTEN state, the GPUs
    (as M(local_llm.stack.gpu_facts) finds them) and the memory, read in one round trip to
    the host instead of one each (and without Ansible's hardware facts, which cost more
    than the rest together).
  - Free space is measured on the nearest existing parent of O(data_path), so it works
    before the directory exists.
  - Ports are read from C(/proc/net/tcp) and C(tcp6), needing neither C(ss) nor C(netstat),
    and listing every listening port even when the owning process is invisible (another
    user's, or another PID namespace's), where M(community.general.listen_ports_facts)
    drops the port. The owning process is named when /proc lets us see it (as root, always).
  - On Debian and Ubuntu (C(/etc/debian_version)) also the installed packages
    (C(ansible_facts.packages), as M(local_llm.stack.dpkg_packages) reads them), and the
    CPU's flags
    (C(ansible_facts.llm_cpu_flags), from C(cpuinfo)), so the install's later plays and
    the roles' checks need no round trip of their own for them.
  - The state of the systemd units named in O(units) (C(ansible_facts.llm_units)), with one
    C(systemctl show) for all of them.
  - Where Ansible's SSH session comes from (C(ansible_facts.llm_ssh_connection), the session's
    C(SSH_CONNECTION)), for the firewall, which keeps SSH open to that address; set only where
    the variable is there (not on a docker or local connection without a session, nor through
    a become that drops it), and otherwise the firewall asks for itself, without become.
  - Changes nothing.
options:
  data_path:
    description: Where the stack's data will live.
    type: path
    required: true
  sysfs_root:
    description: Root of the sysfs tree the GPUs are read from; tests point it at a
      recorded tree.
    type: path
    default: /sys
  gpu_vendor:
    description: The GPU vendor to use (auto picks one), as the O(vendor) of
      M(local_llm.stack.gpu_facts).
    type: str
    default: auto
    choices: [auto, nvidia, amd, none]
  proc_root:
    description: Root of the proc filesystem; tests point it at a recorded tree.
    type: path
    default: /proc
  dpkg_status:
    description: dpkg's status file (none on a host without dpkg, and then no C(packages)).
    type: path
    default: /var/lib/dpkg/status
  units:
    description: systemd units whose state the install's later plays need (for example
      Docker's, which the container runtime role starts only where it is not running and
      enabled). Nothing is read where C(systemctl) is missing.
    type: list
    elements: str
    default: []
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Read the host's disk, ports, GPUs and memory
  local_llm.stack.host_probe:
    data_path: /opt/llm-stack
  register: __probe
"""

RETURN = r"""
disk:
  description: C(measured) (the path measured), C(free_bytes) (available to unprivileged
    users) and C(total_bytes) (the filesystem's size).
  type: dict
  returned: always
ports:
  description: One entry per listening socket, sorted by port; C(port), C(address) and
    C(process) (empty when not visible).
  type: list
  elements: dict
  returned: always
ansible_facts:
  description: C(llm_gpu), as M(local_llm.stack.gpu_facts) sets it, C(memtotal_mb) as
    Ansible's hardware facts give it, C(llm_cpu_flags) (where cpuinfo is readable), and
    C(packages) and C(llm_python_apt) (where dpkg's status file is), as
    M(local_llm.stack.dpkg_packages) sets them, and C(llm_units) (unit -> C(active), its
    ActiveState, and C(enabled), its UnitFileState, empty for a unit systemd does not know),
    where O(units) names any and systemd answered, and C(llm_ssh_connection) (where there is
    one).
  type: dict
  returned: always
"""

import contextlib
import os
import socket
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils import dpkg
from ansible_collections.local_llm.stack.plugins.module_utils.gpu import VENDOR_CHOICES, detect

LISTEN = "0A"


def _address(hex_addr):
    raw = bytes(bytearray.fromhex(hex_addr))
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    # /proc stores IPv6 as four host-order 32-bit words.
    words = struct.unpack(">4I", raw)
    return socket.inet_ntop(socket.AF_INET6, struct.pack("<4I", *words))


def listening_sockets(proc_root):
    found = []
    for name in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc_root, "net", name)) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            addr, port = fields[1].split(":")
            found.append({"address": _address(addr), "port": int(port, 16), "inode": fields[9]})
    return found


def socket_owners(proc_root):
    """socket inode -> process name, for the processes /proc lets us inspect."""
    owners = {}
    for pid in os.listdir(proc_root):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc_root, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
            with open(os.path.join(proc_root, pid, "comm")) as handle:
                comm = handle.read().strip()
        except (IOError, OSError):
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                owners[target[8:-1]] = comm
    return owners


def listening_ports(proc_root):
    sockets = listening_sockets(proc_root)
    owners = socket_owners(proc_root) if sockets else {}
    return sorted(
        (
            {"port": s["port"], "address": s["address"], "process": owners.get(s["inode"], "")}
            for s in sockets
        ),
        key=lambda entry: (entry["port"], entry["address"]),
    )


def nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def memtotal_mb(proc_root):
    """MemTotal in MiB, as Ansible's memtotal_mb; 0 when /proc/meminfo says nothing."""
    try:
        with open(os.path.join(proc_root, "meminfo")) as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (IOError, OSError, ValueError, IndexError):
        pass
    return 0


def cpu_flags(proc_root):
    """The first CPU's flags (x86: "flags", ARM: "Features"), or None when unreadable."""
    try:
        with open(os.path.join(proc_root, "cpuinfo")) as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return value.split()
    except (IOError, OSError):
        return None
    return []


def unit_states(module, units):
    """unit -> {active, enabled} from one `systemctl show`; None where systemd cannot say."""
    systemctl = module.get_bin_path("systemctl")
    if not units or not systemctl:
        return None
    rc, out, _ = module.run_command(
        [systemctl, "show", "--property=Id,ActiveState,UnitFileState", "--", *units]
    )
    if rc != 0:
        return None
    # One block per unit, in the order asked, each ending with a blank line.
    blocks = [
        dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        for block in out.strip().split("\n\n")
    ]
    # systemctl answers in the order asked; a block for another unit means it did not.
    if [block.get("Id") for block in blocks] != list(units):
        return None
    return dict(
        (
            block["Id"],
            dict(active=block.get("ActiveState", ""), enabled=block.get("UnitFileState", "")),
        )
        for block in blocks
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            data_path=dict(type="path", required=True),
            sysfs_root=dict(type="path", default="/sys"),
            gpu_vendor=dict(type="str", default="auto", choices=list(VENDOR_CHOICES)),
            proc_root=dict(type="path", default="/proc"),
            dpkg_status=dict(type="path", default=dpkg.STATUS_FILE),
            units=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    measured = nearest_existing(params["data_path"])
    try:
        st = os.statvfs(measured)
    except OSError as exc:
        module.fail_json(msg="cannot measure %s: %s" % (measured, exc))
    gpu = detect(module, params["sysfs_root"], params["gpu_vendor"], proc_root=params["proc_root"])
    facts = dict(llm_gpu=gpu, memtotal_mb=memtotal_mb(params["proc_root"]))
    flags = cpu_flags(params["proc_root"])
    if flags is not None:
        facts["llm_cpu_flags"] = flags
    # Debian and Ubuntu only: dpkg on another system (EPEL's, a leftover) is not its
    # package manager. Unreadable: the later plays read them again, and say why not.
    if os.path.exists("/etc/debian_version") and os.path.exists(params["dpkg_status"]):
        with contextlib.suppress(IOError, OSError):
            facts.update(dpkg.facts(params["dpkg_status"]))
    units = unit_states(module, params["units"])
    if units is not None:
        facts["llm_units"] = units
    # Only where there is one: become (sudo, su -l, doas, run0) drops the variable without
    # always saying so, and an empty one would tell the firewall there is no SSH session to
    # keep open; it then asks itself, without become.
    if os.environ.get("SSH_CONNECTION"):
        facts["llm_ssh_connection"] = os.environ["SSH_CONNECTION"]
    module.exit_json(
        changed=False,
        disk=dict(
            measured=measured,
            free_bytes=st.f_bavail * st.f_frsize,
            total_bytes=st.f_blocks * st.f_frsize,
        ),
        ports=listening_ports(params["proc_root"]),
        ansible_facts=facts,
    )


if __name__ == "__main__":
    main()
