#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_project
short_description: Write a Compose project's compose.yml and bring it up, healthy, in one module run
description:
  - Writes O(content) to C(compose.yml) in O(project_dir) (atomically, after C(docker compose
    config) accepts it) and brings the project up with C(docker compose up --detach --wait),
    which waits until every service with a healthcheck is healthy.
  - The C(up) is left out, and nothing runs but one question to the Docker socket, when all of
    these hold. C(compose.yml) is the content the last successful C(up) ran with (a hash of
    it is kept beside it, so a failed or interrupted C(up) is tried again); every one of
    O(services) has a container of this project (by Compose's labels) that is running and
    healthy (or has no healthcheck); and none of a service's O(inputs) (the env files it
    reads) changed since its containers were created. Otherwise Compose decides what to
    recreate, as a C(docker compose up) by hand would. This is what a no-op re-run saves,
    C(docker compose) itself started two or three times per project by
    M(community.docker.docker_compose_v2).
  - RV(changed) is true when C(compose.yml) changed or a container was created, recreated or
    started.
  - Supports check mode (nothing is written or started; what would change is reported) and
    diff mode for C(compose.yml).
options:
  project_dir:
    description: The project's directory (it must exist); Compose's project directory.
    type: path
    required: true
  content:
    description: The compose.yml it runs.
    type: str
    required: true
  mode:
    description: The mode of compose.yml.
    type: str
    default: "0640"
  services:
    description: The services that O(content) declares (each must end up running).
    type: list
    elements: str
    required: true
  inputs:
    description: Per service, the files it reads at creation (its C(env_file)s, relative to
      O(project_dir) unless absolute); one changed since that service's containers were
      created makes Compose look again.
    type: dict
    default: {}
  wait_timeout:
    description: Seconds to wait for the services to be healthy.
    type: int
    default: 300
  docker_socket:
    description: The Docker Engine's socket.
    type: path
    default: /var/run/docker.sock
extends_documentation_fragment: [local_llm.stack.directories]
author: local-llm-stack developers
"""

EXAMPLES = r"""
- name: Run Ollama and wait until it is healthy
  local_llm.stack.compose_project:
    project_dir: /opt/llm-stack/ollama
    content: "{{ lookup('ansible.builtin.template', 'compose.yml.j2') }}"
    services: [ollama]
    directories:
      - {path: /opt/llm-stack/ollama, mode: "0750", owner: root, group: root}
"""

RETURN = r"""
up:
  description: Whether C(docker compose up) ran (or would, in check mode), and why not when not.
  returned: always
  type: bool
started:
  description: The containers (by name) that C(up) created, re-created or started, so
    they read their configuration just now.
  returned: always
  type: list
  elements: str
directories:
  description: The directories of O(directories) that were (or would be) created or changed.
  returned: always
  type: list
  elements: str
reasons:
  description: Why it ran (the file changed, a service not running or not healthy, an input
    newer than its containers).
  returned: always
  type: list
  elements: str
"""

import hashlib
import json
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible_collections.local_llm.stack.plugins.module_utils.directories import (
    OPTIONS,
    ensure_all,
)
from ansible_collections.local_llm.stack.plugins.module_utils.files import (
    diff,
    place,
    read,
    validator,
)


class _UnixConnection(http_client.HTTPConnection):
    """HTTP over the Docker Engine's unix socket."""

    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


def project_containers(socket_path, project_dir):
    """The containers Compose made for the project in project_dir (not `compose run` ones),
    as the Engine lists them; None when the Engine cannot be asked."""
    filters = json.dumps(
        {
            "label": [
                "com.docker.compose.project.working_dir=%s" % project_dir,
                "com.docker.compose.oneoff=False",
            ]
        }
    )
    connection = _UnixConnection(socket_path, 10)
    try:
        connection.request("GET", "/containers/json?all=1&filters=%s" % quote(filters))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return None
        return json.loads(body.decode("utf-8"))
    except (OSError, IOError, ValueError, http_client.HTTPException):
        return None
    finally:
        connection.close()


def fine(container):
    """Running, and healthy when it has a healthcheck: "Up 2 hours (healthy)", not
    "(health: starting)" or "(unhealthy)"."""
    status = container.get("Status", "")
    return container.get("State") == "running" and ("health" not in status or "(healthy)" in status)


def reasons_to_look(containers, services, inputs, project_dir):
    """Why Compose must look at the project (an empty list: it is as compose.yml says)."""
    if containers is None:
        return ["the Docker Engine could not be asked"]
    reasons = []
    by_service = {}
    for container in containers:
        service = container.get("Labels", {}).get("com.docker.compose.service")
        by_service.setdefault(service, []).append(container)
    for service in services:
        found = by_service.get(service, [])
        if not found:
            reasons.append("%s has no container" % service)
        elif not all(fine(c) for c in found):
            reasons.append("%s is not running and healthy" % service)
    for service, paths in sorted(inputs.items()):
        created = min([c.get("Created", 0) for c in by_service.get(service, [])] or [0])
        for path in paths or []:
            path = os.path.join(project_dir, path)  # an absolute path stays as it is
            try:
                # Whole seconds, as the Engine gives Created.
                if int(os.stat(path).st_mtime) > created:
                    reasons.append("%s changed since %s was created" % (path, service))
            except OSError:
                reasons.append("%s is missing" % path)
    return reasons


def applied_hash(content):
    return hashlib.sha256(content.encode("utf-8")).hexdigest() + "\n"


def state(containers):
    return sorted((c.get("Id"), c.get("State"), c.get("Created")) for c in containers or [])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True),
            content=dict(type="str", required=True),
            mode=dict(type="str", default="0640"),
            services=dict(type="list", elements="str", required=True),
            inputs=dict(type="dict", default={}),
            wait_timeout=dict(type="int", default=300),
            docker_socket=dict(type="path", default="/var/run/docker.sock"),
            directories=dict(type="list", elements="dict", options=OPTIONS, default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # As Compose records it in its working_dir label (an absolute, clean path).
    project_dir = os.path.abspath(p["project_dir"])
    path = os.path.join(project_dir, "compose.yml")
    # The content the last successful up ran with.
    applied = os.path.join(project_dir, ".compose.yml.applied")
    made = ensure_all(module, p["directories"])  # the project's directory among them
    if not os.path.isdir(project_dir):
        if module.check_mode:  # a first install's check: the directory comes with it
            module.exit_json(changed=True, up=True, reasons=["not deployed yet"], directories=made)
        module.fail_json(msg="%s: the project's directory does not exist" % project_dir)
    check = validator(module, path, "docker compose -f %s config --quiet", [])
    written, previous, _ = place(module, path, p["content"], p["mode"], check=check)
    result = dict(changed=written or bool(made), up=False, reasons=[], started=[],
                  directories=made)  # fmt: skip
    if module._diff and written:
        result["diff"] = diff(path, previous, p["content"])

    before = project_containers(p["docker_socket"], project_dir)
    reasons = []
    if written:
        reasons.append("compose.yml changed")
    elif read(applied) != applied_hash(p["content"]).encode("ascii"):
        reasons.append("compose.yml was not brought up yet (a first run, or one that failed)")
    reasons += reasons_to_look(before, p["services"], p["inputs"], project_dir)
    result["reasons"] = reasons
    if not reasons:
        module.exit_json(**result)
    result["up"] = True
    if module.check_mode:
        result["changed"] = True
        module.exit_json(**result)
    argv = ["docker", "compose", "--project-directory", project_dir, "-f", path, "up",
            "--detach", "--wait", "--wait-timeout", str(p["wait_timeout"])]  # fmt: skip
    rc, out, err = module.run_command(argv, cwd=project_dir)
    if rc != 0:
        module.fail_json(
            msg="`docker compose up` of %s failed (%s): %s"
            % (project_dir, "; ".join(reasons), (err or out).strip()[-2000:]),
            **result,
        )
    place(module, applied, applied_hash(p["content"]), "0600")
    after = project_containers(p["docker_socket"], project_dir)
    if before is not None:  # unknown before: none counts as started (a restart is not missed)
        was_running = set(c.get("Id") for c in before if c.get("State") == "running")
        result["started"] = sorted(
            name.lstrip("/")
            for c in after or []
            if c.get("Id") not in was_running and c.get("State") == "running"
            for name in c.get("Names", [])
        )
    result["changed"] = result["changed"] or after is None or state(after) != state(before)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
