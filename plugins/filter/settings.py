# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""setting_problems: a host's variables held to the stack's settings rules.

The same rules (module_utils/settings.py) and the same argument specs
(roles/*/meta/argument_specs.yml) the CLI checks config.yml and -e with;
here for what the inventory sets per host and group. INI group variables are
always text, so text standing for a number or a boolean counts as one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import yaml
from ansible_collections.local_llm.stack.plugins.module_utils import ollama as _ollama
from ansible_collections.local_llm.stack.plugins.module_utils import settings as _settings

_ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")
_SPECS = {}


def _specs():
    """Every setting's spec: the stack-wide ones and each role's own (role-prefixed)."""
    if not _SPECS:
        _SPECS.update(_settings.STACK_WIDE)
        for path in sorted(glob.glob(os.path.join(_ROLES, "*", "meta", "argument_specs.yml"))):
            role = os.path.basename(os.path.dirname(os.path.dirname(path)))
            with open(path) as handle:
                specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
            options = (specs.get("main") or {}).get("options") or {}
            for name, spec in options.items():
                if name.startswith(role + "_") and name not in _SPECS:
                    _SPECS[name] = spec
    return _SPECS


def _plain(value):
    """Only what YAML or INI can hold: anything else is a value Ansible could not resolve."""
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return value is None or isinstance(value, (str, int, float, bool))


def setting_problems(host_vars):
    """One line per setting of this host that the stack refuses (secrets are not looked at)."""
    problems = []
    for name, spec in sorted(_specs().items()):
        if spec.get("no_log") or name not in host_vars:
            continue
        # A template naming a role's default ("{{ ollama_dir }}/models") cannot be
        # resolved outside the role (an error, or an undefined marker): the role
        # resolves and checks it.
        try:
            value = host_vars[name]
            if not _plain(value):
                continue
        except Exception:
            continue
        found = _settings.check(
            name,
            value,
            spec,
            text_scalars=True,
            model_name_ok=_ollama.valid_model_name,
        )
        if found:
            problems.append(found)
    return problems


class FilterModule(object):
    def filters(self):
        return {"setting_problems": setting_problems}
