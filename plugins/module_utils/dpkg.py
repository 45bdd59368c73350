# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The installed Debian packages, read from dpkg's status file, as
ansible.builtin.package_facts reports them (local_llm.stack.dpkg_packages, and
local_llm.stack.host_probe, which reads them in preflight's one round trip)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob

STATUS_FILE = "/var/lib/dpkg/status"

# dpkg's package states that python-apt (so package_facts) counts as installed: not
# "not-installed", "config-files" (removed, its configuration kept) or "half-installed".
PRESENT = ("installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending")


def installed(text):
    """name -> [{name, version, arch, source}] for each package dpkg says is installed."""
    packages = {}
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue  # a continuation line (descriptions, conffiles)
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if fields.get("Package") and fields.get("Status", "").rpartition(" ")[2] in PRESENT:
            name = fields["Package"]
            packages.setdefault(name, []).append(
                dict(
                    name=name,
                    version=fields.get("Version", ""),
                    arch=fields.get("Architecture", ""),
                    source="apt",
                )
            )
    return packages


def facts(status_file=STATUS_FILE):
    """The facts to set (packages, and llm_python_apt: whether the apt module's library is
    there for the system Python); raises IOError/OSError when the file cannot be read."""
    with open(status_file, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    return dict(
        packages=installed(text),
        llm_python_apt=bool(glob.glob("/usr/lib/python3/dist-packages/apt_pkg*.so")),
    )
