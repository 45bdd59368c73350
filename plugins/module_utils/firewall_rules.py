# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The stack's firewall, decided from the inventory: pure logic behind the
firewall role's filters (plugins/filter/firewall.py).

For one host, the allow rules are: SSH from the controller and the admin
networks (never from the controller's address alone: see ssh_sources); each
port of each service the host runs, from the hosts of the groups the service
names as `clients` (`all` for anyone, none for loopback only); and the user's
extra rules. Everything else inbound is dropped by the role's ruleset. A rule is

    {"port": 11434, "proto": "tcp", "kind": "ssh" | "service" | "extra",
     "services": ["ollama"], "comment": "ollama",
     "sources": "any" | ["10.0.0.7", "2001:db8::/64", ...],
     "ipv4": [...], "ipv6": [...]}

with the sources normalised, merged and split by family (nftables and
firewalld name the family in every address match).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import ipaddress
import re

ANY = "any"
PROTOCOLS = ("tcp", "udp")
# Interfaces whose addresses say nothing about where a host's traffic comes from:
# loopback and the container bridges (every Docker host has 172.17.0.1).
DEFAULT_CONTAINER_INTERFACES = ("docker0", "br-*", "veth*")


class FirewallError(ValueError):
    pass


def _network(value, what):
    """An address or network as ipaddress's network (host bits cleared)."""
    text = str(value).strip()
    if text.startswith("::ffff:") and "." in text:
        text = text[len("::ffff:") :]  # an IPv4 client as a dual-stack socket shows it
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise FirewallError(
            "%s: %r is not an IP address or network (CIDR)" % (what, value)
        ) from None


def _text(network):
    """10.0.0.7 for a single address, 10.0.0.0/8 for a network."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def split_sources(values, what="sources"):
    """(ipv4, ipv6): the addresses and networks, normalised, overlaps merged, sorted.
    nftables refuses overlapping intervals in one set, so merging is not cosmetic."""
    nets = [_network(v, what) for v in values]
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return [_text(n) for n in v4], [_text(n) for n in v6]


def _usable(address):
    """An address other hosts can see this host's traffic come from."""
    try:
        ip = ipaddress.ip_address(str(address).split("%")[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def host_addresses(
    hostvars, host, overrides=None, container_interfaces=DEFAULT_CONTAINER_INTERFACES
):
    """The addresses a host's traffic comes from: an override (firewall_host_addresses),
    else its gathered facts (the addresses of every interface but loopback and the
    container bridges), else ansible_host or the inventory name when it is an IP address."""
    if overrides and host in overrides:
        given = overrides[host]
        return [given] if isinstance(given, str) else list(given)
    hv = hostvars.get(host) if hasattr(hostvars, "get") else hostvars[host]
    hv = hv or {}
    facts = hv.get("ansible_facts") or {}
    found = []
    interfaces = facts.get("interfaces")
    if interfaces:
        for name in interfaces:
            if name == "lo" or any(fnmatch.fnmatch(name, p) for p in container_interfaces):
                continue
            info = facts.get(name.replace("-", "_")) or facts.get(name) or {}
            ipv4 = info.get("ipv4") or {}
            candidates = [ipv4.get("address")] if isinstance(ipv4, dict) else []
            candidates += [s.get("address") for s in info.get("ipv4_secondaries") or []]
            candidates += [s.get("address") for s in info.get("ipv6") or []]
            found += [a for a in candidates if a and _usable(a)]
    if not found:
        # Facts without the per-interface details: the flat lists (these may hold a
        # Docker bridge address too, which is harmless: it is not routed from outside).
        found = [
            a
            for a in list(facts.get("all_ipv4_addresses") or [])
            + list(facts.get("all_ipv6_addresses") or [])
            if _usable(a)
        ]
    if not found:
        for candidate in (hv.get("ansible_host"), host):
            if candidate and _usable(candidate):
                found = [str(candidate)]
                break
    out = []
    for address in found:
        if address not in out:
            out.append(address)
    return out


def _port(value, what):
    """(port, proto) from 11434, "11434" or "443/udp"."""
    text = str(value).strip().lower()
    proto = "tcp"
    if "/" in text:
        text, proto = text.split("/", 1)
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535 or proto not in PROTOCOLS:
        raise FirewallError(
            "%s: %r is not a port (1-65535, optionally /tcp or /udp)" % (what, value)
        )
    return port, proto


class _Rules(object):
    """Rules keyed by (port, proto, kind), sources merged; 'any' wins."""

    def __init__(self):
        self.by_key = {}

    def add(self, port, proto, kind, label, sources):
        rule = self.by_key.setdefault(
            (port, proto, kind),
            {"port": port, "proto": proto, "kind": kind, "services": [], "sources": []},
        )
        if label not in rule["services"]:
            rule["services"].append(label)
        if sources == ANY or rule["sources"] == ANY:
            rule["sources"] = ANY
        else:
            rule["sources"] = rule["sources"] + [s for s in sources if s not in rule["sources"]]

    def result(self):
        out = []
        order = {"ssh": 0, "service": 1, "extra": 2}
        for key in sorted(self.by_key, key=lambda k: (order[k[2]], k[0], k[1])):
            rule = dict(self.by_key[key])
            # A comment nft and firewalld take as it is: no quotes, 100 characters at most.
            rule["comment"] = re.sub(r"[^\w .,:/+@()-]", "", ", ".join(rule["services"]))[:100]
            if rule["sources"] == ANY:
                rule["ipv4"], rule["ipv6"] = [], []
            else:
                rule["ipv4"], rule["ipv6"] = split_sources(
                    rule["sources"], "rule for port %s" % rule["port"]
                )
                rule["sources"] = rule["ipv4"] + rule["ipv6"]
                if not rule["sources"]:
                    continue  # nobody but the host itself: loopback covers it
            out.append(rule)
        return out


def ssh_sources(host, ssh_client=None, admin_networks=(), ssh_port=22):
    """Where SSH is let in from: the address Ansible's SSH session comes from and the admin
    networks. Refused where the rules would lock the admins out: over SSH without an admin
    network (the next run from a new address, a DHCP lease, a VPN or IPv6 instead of IPv4,
    would find SSH closed), or with Ansible reaching sshd on another port than the rules open.
    """
    admin = list(admin_networks or [])
    if admin:
        split_sources(admin, "firewall_admin_networks")
    if not ssh_client:
        return admin  # no SSH session to keep: SSH only from the admin networks, if any
    port = _port(ssh_port, "firewall_ssh_port")[0]
    if int(ssh_client["port"]) != port:
        raise FirewallError(
            "Ansible reaches %s over SSH from %s on port %s, which these firewall rules would "
            "close (SSH is allowed on port %s): set firewall_ssh_port to %s"
            % (host, ssh_client["address"], ssh_client["port"], port, ssh_client["port"])
        )
    if not admin:
        seen = ipaddress.ip_address(ssh_client["address"])
        suggestion = ipaddress.ip_network(
            "%s/%d" % (seen, 24 if seen.version == 4 else 64), strict=False
        )
        raise FirewallError(
            "firewall_admin_networks is empty, so SSH to %s would be let in only from %s, the "
            "address this run comes from: from a new address (another DHCP lease, a VPN, IPv6 "
            "instead of IPv4) you would be locked out until someone goes to the console. Name "
            "the networks you administer from, e.g. llm config set firewall_admin_networks "
            "'[\"%s\"]' (the network around %s), and run again"
            % (host, ssh_client["address"], suggestion, ssh_client["address"])
        )
    return [ssh_client["address"], *admin]


def firewall_rules(
    services,
    host,
    groups,
    hostvars,
    ssh_port=22,
    ssh_client=None,
    admin_networks=(),
    extra_rules=(),
    address_overrides=None,
    container_interfaces=DEFAULT_CONTAINER_INTERFACES,
):
    """The allow rules of one host (see the module's docstring).

    services: that host's llm_host_services; groups: the inventory's groups;
    hostvars: every host's variables (facts), for the clients' addresses;
    ssh_client: {address, port} of Ansible's SSH session ({} or None without one);
    admin_networks: firewall_admin_networks (see ssh_sources: the rules always let the
    SSH session in, and never the SSH session alone);
    extra_rules: [{port, proto?, sources: 'any' | [...], comment?}] (firewall_extra_rules).
    A client host whose addresses cannot be told is an error naming the fix: a
    missing source would close a port the stack needs.
    """
    rules = _Rules()
    container_interfaces = tuple(container_interfaces or ())
    sources = ssh_sources(host, ssh_client, admin_networks, ssh_port)
    if sources:
        port, proto = _port(ssh_port, "firewall_ssh_port")
        rules.add(port, proto, "ssh", "ssh", sources)

    unresolved = {}
    for name, service in sorted((services or {}).items()):
        clients = service.get("clients")
        if not service.get("ports"):
            continue  # nothing published (MongoDB: only LibreChat's network reaches it)
        if clients is None:
            raise FirewallError(
                "service %s declares no clients: its role must say which groups reach it "
                "([] for loopback only, [all] for anyone)" % name
            )
        if isinstance(clients, str):
            clients = [clients]
        if ANY in clients or "all" in clients:
            sources = ANY
        else:
            sources = []
            for group in clients:
                for client in groups.get(group) or []:
                    if client == host:
                        continue  # its own traffic arrives on loopback or a container bridge
                    found = host_addresses(
                        hostvars, client, address_overrides, container_interfaces
                    )
                    if not found:
                        unresolved.setdefault(client, []).append("%s (%s)" % (name, group))
                    sources += [a for a in found if a not in sources]
        for value in service.get("ports") or []:
            port, proto = _port(value, "service %s" % name)
            rules.add(port, proto, "service", name, sources)
    if unresolved:
        raise FirewallError(
            "the firewall of %s cannot tell the addresses of %s: include those hosts in the run "
            "(their facts give the addresses), give them an IP address as ansible_host, or set "
            "firewall_host_addresses"
            % (
                host,
                "; ".join(
                    "%s, a client of %s" % (h, ", ".join(s)) for h, s in sorted(unresolved.items())
                ),
            )
        )

    for index, extra in enumerate(extra_rules or []):
        what = "firewall_extra_rules[%d]" % index
        if not isinstance(extra, dict) or "port" not in extra:
            raise FirewallError("%s must be a mapping with at least a port" % what)
        port, proto = _port(extra["port"], what)
        proto = str(extra.get("proto") or proto).lower()
        if proto not in PROTOCOLS:
            raise FirewallError("%s: proto must be tcp or udp, not %r" % (what, extra.get("proto")))
        sources = extra.get("sources", ANY)
        if sources in (ANY, "all"):
            sources = ANY
        elif isinstance(sources, str):
            sources = [sources]
        if sources != ANY:
            split_sources(sources, what)
            if not sources:
                raise FirewallError("%s: sources is empty (use 'any' to allow everyone)" % what)
        rules.add(port, proto, "extra", str(extra.get("comment") or "extra"), sources)
    return rules.result()


def allows(rules, port, address, proto="tcp"):
    """Whether the rules accept a new connection from address to port."""
    try:
        ip = ipaddress.ip_address(_text(_network(address, "address")))
    except FirewallError:
        return False
    for rule in rules or []:
        if int(rule["port"]) != int(port) or rule["proto"] != proto:
            continue
        if rule["sources"] == ANY:
            return True
        if any(ip in ipaddress.ip_network(s, strict=False) for s in rule["sources"]):
            return True
    return False


def ssh_client(ssh_connection):
    """{'address', 'port'} of the SSH client and the server port it reached, from
    SSH_CONNECTION ('client_ip client_port server_ip server_port'); {} when there is no
    SSH session (local or docker connection)."""
    words = str(ssh_connection or "").split()
    if len(words) < 4:
        return {}
    try:
        address = _text(_network(words[0], "SSH_CONNECTION"))
        port = int(words[3])
    except (FirewallError, ValueError):
        return {}
    return {"address": address, "port": port}


def rich_rules(rules):
    """firewalld rich rules for the rules, in firewalld's own spelling (the form
    `firewall-cmd --list-rich-rules` prints, so the sets compare as strings)."""
    out = []
    for rule in rules or []:
        port = 'port port="%s" protocol="%s" accept' % (rule["port"], rule["proto"])
        if rule["sources"] == ANY:
            out.append("rule " + port)
            continue
        for family, addresses in (("ipv4", rule["ipv4"]), ("ipv6", rule["ipv6"])):
            for address in addresses:
                out.append('rule family="%s" source address="%s" %s' % (family, address, port))
    return out
