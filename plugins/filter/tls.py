# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Filters for the gateway's certificates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def _address(text):
    try:
        return ipaddress.ip_address(str(text).strip().strip("[]"))
    except ValueError:
        return None


def subject_alt_names(names, addresses=()):
    """Names and addresses -> ['DNS:gw', 'IP:10.0.0.5', 'IP:2001:db8::5', ...] for a
    certificate: an entry that is an address (IPv4 or IPv6, also among the names a
    user gave) is an IP entry, as browsers match addresses only against those;
    link-local IPv6 addresses are left out (they need a zone, no URL can name one).
    Order kept, duplicates dropped."""
    out = []
    for entry in list(names or []) + list(addresses or []):
        entry = str(entry).strip()
        if not entry:
            continue
        ip = _address(entry)
        if ip is not None and ip.version == 6 and ip.is_link_local:
            continue
        san = "IP:%s" % ip.compressed if ip is not None else "DNS:%s" % entry.lower()
        if san not in out:
            out.append(san)
    return out


class FilterModule(object):
    def filters(self):
        return {"subject_alt_names": subject_alt_names}
