# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Filters over the stack's module registry and the services roles declare."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.local_llm.stack.plugins.module_utils import stack_services as _s


def _wrap(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _s.RegistryError as exc:
            raise AnsibleFilterError(str(exc)) from None

    call.__doc__ = func.__doc__
    return call


def _service_roles(registry, modules):
    return _s.service_roles(registry, list(modules))


def port_owner(port, service_ports):
    """11434 -> '11434 (ollama)' when a service of the stack publishes it."""
    owners = dict((int(k), v) for k, v in (service_ports or {}).items())
    names = owners.get(int(port))
    if isinstance(names, list):
        names = ", ".join(names)
    return "%s (%s)" % (port, names) if names else str(port)


class FilterModule(object):
    def filters(self):
        return {
            "enabled_modules": _wrap(_s.enabled_modules),
            "service_roles": _wrap(_service_roles),
            "host_services": _wrap(_s.host_services),
            "merge_services": _wrap(_s.merge_services),
            "ordered_services": _wrap(_s.ordered_services),
            "service_ports": _wrap(_s.service_ports),
            "service_units": _wrap(_s.service_units),
            "port_owner": port_owner,
            "port_clashes": _wrap(_s.port_clashes),
            "chat_ollama_hosts": _wrap(_s.chat_ollama_hosts),
            # hostvars | host_address('gpu-01', 'ollama_advertise_address')
            "host_address": _wrap(_s.host_address),
            # groups['llm_ollama'] | lab_setting(hostvars, 'ollama_port', 'ollama')
            "lab_setting": _wrap(_s.lab_setting),
            "role_checks": _wrap(_s.role_checks),
            "host_roles": _wrap(_s.host_roles),
            "stage_roles": _wrap(_s.stage_roles),
            "host_stages": _wrap(_s.host_stages),
            "role_hosts": _wrap(_s.role_hosts),
            "stack_groups": _wrap(_s.stack_groups),
            "roles_with": _wrap(_s.roles_with),
            "role_modules": _wrap(_s.role_modules),
            "module_settings": _wrap(_s.module_settings),
            "container_groups": _wrap(_s.container_groups),
        }
