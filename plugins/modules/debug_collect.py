#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: debug_collect
short_description: Gather a host's diagnostics with every secret redacted on the host
description:
  - Runs read-only commands (versions, containers, disk, memory, GPU tools, container logs)
    and reads the stack's configuration files, then removes every secret value given in
    I(secrets) and anything shaped like a credential before returning the text, so no secret
    reaches Ansible's output, the runner's artifacts or the bundle.
  - Changes nothing.
options:
  secrets:
    description: Values to redact wherever they appear (the stack's secrets).
    type: list
    elements: str
    default: []
  files:
    description: Files to include (missing ones are noted, not an error).
    type: list
    elements: path
    default: []
  commands:
    description: Commands to run, each an argv list; missing programs are noted.
    type: list
    elements: list
    default: []
  timeout:
    description: Seconds each command may take.
    type: int
    default: 30
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Collect diagnostics
  local_llm.stack.debug_collect:
    secrets: "{{ [mongodb_root_password, mongodb_app_password] }}"
    files: [/opt/llm-stack/librechat/.env]
    commands: [[docker, ps, -a]]
"""

RETURN = r"""
llm_report:
  description: C(files) - a mapping of entry name to redacted text.
  returned: always
  type: dict
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

REDACTED = "<redacted>"
# Credentials by shape, for secrets the stack does not know (a user's own keys).
PATTERNS = (
    # KEY=value and key: value where the key names a secret
    re.compile(
        r"(?im)^(\s*[\w.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|_KEY|KEY_|APIKEY|CREDS)[\w.-]*\s*[=:]\s*)(\S.*)$"
    ),
    # scheme://user:password@host
    re.compile(r"(://[^/\s:@]+:)([^@\s]+)(@)"),
    # Authorization headers
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic)\s+)(\S+)"),
)


def redact(text, secrets):
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in PATTERNS:
        text = pattern.sub(_keep_frame, text)
    return text


def _keep_frame(match):
    """Keep what surrounds the credential (group 1, and group 3 when there is one)."""
    after = match.group(3) if match.re.groups >= 3 else ""
    return match.group(1) + REDACTED + after


def entry_name(argv):
    return "cmd/" + re.sub(r"[^A-Za-z0-9_.-]+", "_", " ".join(argv)).strip("_")[:80]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            files=dict(type="list", elements="path", default=[]),
            commands=dict(type="list", elements="list", default=[]),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    secrets = module.params["secrets"]
    collected = {}
    for argv in module.params["commands"]:
        argv = [str(part) for part in argv]
        name = entry_name(argv)
        if module.get_bin_path(argv[0]) is None:
            collected[name] = "(%s is not installed)\n" % argv[0]
            continue
        rc, out, err = module.run_command(["timeout", str(module.params["timeout"]), *argv])
        collected[name] = "$ %s\n(exit %d)\n%s%s" % (" ".join(argv), rc, out, err)
    for path in module.params["files"]:
        name = "file" + path
        if not os.path.isfile(path):
            collected[name] = "(missing)\n"
            continue
        try:
            with open(path, errors="replace") as handle:
                collected[name] = handle.read()
        except (IOError, OSError) as exc:
            collected[name] = "(unreadable: %s)\n" % exc
    module.exit_json(
        changed=False,
        llm_report={"files": dict((k, redact(v, secrets)) for k, v in collected.items())},
    )


if __name__ == "__main__":
    main()
