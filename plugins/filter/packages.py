# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Which of a task's packages the host lacks, from the package facts the run read once
(playbooks/tasks/facts.yml): a package task then runs only where one is missing, since
each apt or dnf check costs a round trip and seconds of the package manager's time.
Likewise whether a service's unit runs, from preflight's probe: the task that starts it
then runs only where it does not."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fnmatch import fnmatchcase

from ansible.errors import AnsibleFilterError


def missing_packages(names, facts):
    """names | missing_packages(ansible_facts) -> the names not installed.

    A name may carry a version as apt writes it (name=version, with * as a wildcard):
    installed only in that version. Without package facts (a role run on its own, or
    facts read before this run installed something), every name counts as missing, so
    the package task itself decides."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("missing_packages expects a list of package names")
    installed = (facts or {}).get("packages")
    if not isinstance(installed, dict):
        return list(names)
    missing = []
    for spec in names:
        name, _, version = str(spec).partition("=")
        versions = [entry.get("version", "") for entry in installed.get(name) or []]
        if not versions or (version and not any(fnmatchcase(v, version) for v in versions)):
            missing.append(spec)
    return missing


def unit_running(unit, facts):
    """unit | unit_running(ansible_facts) -> whether preflight's probe found the systemd unit
    active and enabled at the start of this run (ansible_facts.llm_units, for the units
    install.yml asks it about). False for any other state, a unit it was not asked about, or
    no probe (a day-2 playbook, `--skip-tags preflight`): the task that starts it decides."""
    units = (facts or {}).get("llm_units")
    if not isinstance(units, dict):
        return False
    return units.get(str(unit)) == {"active": "active", "enabled": "enabled"}


class FilterModule(object):
    def filters(self):
        return {"missing_packages": missing_packages, "unit_running": unit_running}
