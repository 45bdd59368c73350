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


class FilterModule(object):
    def filters(self):
        return {
            # llm_host_services | firewall_rules(inventory_hostname, groups, hostvars, ...)
            "firewall_rules": _wrap(_f.firewall_rules),
            # rules | firewall_allows(port, address): a connection would pass
            "firewall_allows": _wrap(_f.allows),
            # SSH_CONNECTION | ssh_client -> {address, port} or {}
            "ssh_client": _f.ssh_client,
            # rules | firewalld_rich_rules -> firewalld's rich rule strings
            "firewalld_rich_rules": _wrap(_f.rich_rules),
        }
