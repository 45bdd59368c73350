# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Read the stack's state on one host: containers, Ollama's models, the GPU.

Pure parsing here (unit-tested); the stack_status module does the I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def parse_docker_ps(text, containers):
    """`docker ps -a --format '{{json .}}'` lines -> {service: {state, health, status}}
    for the services named in containers (service -> container name)."""
    by_container = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        by_container[row.get("Names", "")] = row
    services = {}
    for service, container in containers.items():
        row = by_container.get(container)
        if row is None:
            continue
        status = row.get("Status", "")
        match = _HEALTH.search(status)
        health = match.group(1) if match else ("none" if row.get("State") == "running" else "-")
        services[service] = {
            "state": row.get("State", "unknown"),
            "health": "starting" if health == "health: starting" else health,
            "status": status,
        }
    return services


def parse_systemctl_show(text):
    """`systemctl show --property=ActiveState,SubState,LoadState,UnitFileState UNIT` -> the
    same {state, health, status} as a container, or None for a unit that is not installed or
    not deployed (disabled and stopped: how a module's removal leaves a distribution's unit)."""
    props = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if props.get("LoadState") in (None, "not-found"):
        return None
    if props.get("UnitFileState") != "enabled" and props.get("ActiveState") != "active":
        return None
    active = props.get("ActiveState", "unknown")
    return {
        "state": "running" if active == "active" else "exited",
        # A unit has no health check of its own: active is as healthy as it says.
        "health": "none" if active == "active" else "-",
        "status": "%s (%s)" % (active, props.get("SubState", "?")),
    }


def parse_models(payload):
    """Ollama's GET /api/tags -> [{name, size}] sorted by name."""
    models = []
    for model in (payload or {}).get("models") or []:
        name = model.get("name") or model.get("model")
        if name:
            models.append({"name": name, "size": int(model.get("size") or 0)})
    return sorted(models, key=lambda m: m["name"])
