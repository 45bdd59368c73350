#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: listening_ports
short_description: TCP ports in LISTEN state, read from /proc/net/tcp and tcp6
description:
  - Needs neither C(ss) nor C(netstat), and lists every listening port even when
    the owning process is invisible (another user's, or another PID namespace's),
    where M(community.general.listen_ports_facts) drops the port.
  - Names the owning process when /proc lets us see it (as root, always).
  - Changes nothing.
options:
  proc_root:
    description: Root of the proc filesystem; tests point it at a recorded tree.
    type: path
    default: /proc
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: List listening ports
  local_llm.stack.listening_ports:
  register: __ports
"""

RETURN = r"""
ports:
  description: One entry per listening socket, sorted by port.
  type: list
  elements: dict
  returned: always
  sample: [{"port": 22, "address": "0.0.0.0", "process": "sshd"}]
"""

import os
import socket
import struct

from ansible.module_utils.basic import AnsibleModule

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


def main():
    module = AnsibleModule(
        argument_spec=dict(proc_root=dict(type="path", default="/proc")),
        supports_check_mode=True,
    )
    proc_root = module.params["proc_root"]
    sockets = listening_sockets(proc_root)
    owners = socket_owners(proc_root) if sockets else {}
    ports = sorted(
        (
            {"port": s["port"], "address": s["address"], "process": owners.get(s["inode"], "")}
            for s in sockets
        ),
        key=lambda entry: (entry["port"], entry["address"]),
    )
    module.exit_json(changed=False, ports=ports)


if __name__ == "__main__":
    main()
