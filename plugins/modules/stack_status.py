#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: stack_status
short_description: Report the stack's services, models and GPU on a host, in one pass
description:
  - Lists the stack's containers (one C(docker ps)), asks Ollama for its models when it runs
    here, and reads the GPU's name and memory from C(nvidia-smi) when there is one.
  - Changes nothing; meant for C(llm status), which must be fast, so it needs no fact gathering.
options:
  services:
    description:
      - The services to report, as the stack's roles declare them (C(llm_host_services) values) -
        C(name), C(container), C(fact) (the local fact holding its C(url)) and C(lists_models)
        (ask this service's URL for Ollama's models).
    type: list
    elements: dict
    default: []
  expected:
    description:
      - The services the enabled modules put on this host; returned as C(expected), so the
        caller can tell a missing service from one that was never meant to run here.
    type: list
    elements: str
    default: []
  facts_dir:
    description: Where the stack's roles record what runs here (URLs).
    type: path
    default: /etc/ansible/facts.d
  timeout:
    description: Seconds to wait for Docker, Ollama and the GPU tool, each.
    type: int
    default: 5
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Report the stack
  local_llm.stack.stack_status:
    services: "{{ llm_host_services.values() | list }}"
  register: status
"""

RETURN = r"""
llm_report:
  description: >-
    C(services) (per service - state, health, status, url), C(expected) (as given),
    C(models) (name, size in bytes) when Ollama runs here, C(gpus) (name, memory_used_mib,
    memory_total_mib) and C(errors) (what could not be read, in words).
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.local_llm.stack.plugins.module_utils.gpu import probe_tools
from ansible_collections.local_llm.stack.plugins.module_utils.stack_status import (
    parse_docker_ps,
    parse_models,
    parse_systemctl_show,
)


def _fact(facts_dir, name):
    try:
        with open(os.path.join(facts_dir, name + ".fact")) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", default=[]),
            expected=dict(type="list", elements="str", default=[]),
            facts_dir=dict(type="path", default="/etc/ansible/facts.d"),
            timeout=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    timeout = str(module.params["timeout"])
    report = {"services": {}, "expected": module.params["expected"], "models": None,
              "gpus": [], "errors": []}  # fmt: skip
    declared = {s["name"]: s for s in module.params["services"]}
    containers = dict((name, s["container"]) for name, s in declared.items() if s.get("container"))
    units = dict((name, s["unit"]) for name, s in declared.items() if s.get("unit"))

    docker = module.get_bin_path("docker")
    if docker is None and containers:
        report["errors"].append("docker is not installed")
    elif containers:
        argv = [docker, "ps", "-a", "--format", "{{json .}}"]
        rc, out, err = module.run_command(["timeout", timeout, *argv])
        if rc == 0:
            report["services"] = parse_docker_ps(out, containers)
        else:
            report["errors"].append("docker ps failed: %s" % (err or out).strip())

    systemctl = module.get_bin_path("systemctl") if units else None
    for name, unit in sorted(units.items()):
        rc, out, err = module.run_command(
            [
                "timeout",
                timeout,
                systemctl or "systemctl",
                "show",
                "--property=ActiveState,SubState,LoadState,UnitFileState",
                unit,
            ]
        )
        if rc != 0:
            report["errors"].append("systemctl show %s failed: %s" % (unit, (err or out).strip()))
            continue
        state = parse_systemctl_show(out)
        if state:
            report["services"][name] = state

    for name, entry in report["services"].items():
        fact = declared[name].get("fact")
        recorded = _fact(module.params["facts_dir"], fact) if fact else None
        if recorded and recorded.get("url"):
            entry["url"] = recorded["url"]

    for name, entry in report["services"].items():
        running = entry.get("state") == "running" and entry.get("url")
        if not declared[name].get("lists_models") or not running:
            continue
        try:
            response = open_url(entry["url"] + "/api/tags", timeout=module.params["timeout"])
            report["models"] = parse_models(json.loads(response.read()))
        except Exception as exc:  # any failure is a line in the report, not a failed task
            report["errors"].append("%s did not list its models: %s" % (name, exc))

    smi = probe_tools(
        "nvidia",
        module.get_bin_path,
        lambda argv: module.run_command(["timeout", timeout, *argv]),
    )["nvidia-smi"]
    if smi["works"]:
        report["gpus"] = smi["gpus"]
    elif smi["found"]:
        report["errors"].append("nvidia-smi failed: %s" % smi["error"])

    module.exit_json(changed=False, llm_report=report)


if __name__ == "__main__":
    main()
