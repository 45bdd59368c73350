# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Filters behind the firewall role: the allow rules of a host, decided from the
inventory (see module_utils/firewall_rules)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.local_llm.stack.plugins.module_utils import firewall_rules as _f


def _wrap(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _f.FirewallError as exc:
            raise AnsibleFilterError(str(exc)) from None

    call.__doc__ = func.__doc__
    return call


def firewall_rules(
    services,
    host,
    groups,
    hostvars,
    ssh_port=22,
    ssh_sources=(),
    extra_rules=(),
    address_overrides=None,
    container_interfaces=_f.DEFAULT_CONTAINER_INTERFACES,
):
    """llm_host_services | local_llm.stack.firewall_rules(inventory_hostname, groups, hostvars,
    ssh_port=..., ssh_sources=[...], extra_rules=[...], address_overrides={...},
    container_interfaces=[...])"""
    return _f.firewall_rules(
        services,
        host,
        groups,
        hostvars,
        ssh_port=ssh_port,
        ssh_sources=list(ssh_sources or []),
        extra_rules=list(extra_rules or []),
        address_overrides=dict(address_overrides or {}),
        container_interfaces=list(container_interfaces or []),
    )


def firewall_allows(rules, port, address, proto="tcp"):
    """rules | local_llm.stack.firewall_allows(22, '10.0.0.1'): a connection would pass."""
    return _f.allows(rules, port, address, proto)


def ssh_client(ssh_connection):
    """SSH_CONNECTION | local_llm.stack.ssh_client -> {address, port} or {}."""
    return _f.ssh_client(ssh_connection)


def firewalld_rich_rules(rules):
    """rules | local_llm.stack.firewalld_rich_rules -> firewalld's rich rule strings."""
    return _f.rich_rules(rules)


class FilterModule(object):
    def filters(self):
        return {
            "firewall_rules": _wrap(firewall_rules),
            "firewall_allows": _wrap(firewall_allows),
            "ssh_client": ssh_client,
            "firewalld_rich_rules": _wrap(firewalld_rich_rules),
        }
