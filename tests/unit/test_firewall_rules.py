"""The firewall's allow rules, decided from the inventory: who reaches which port."""

from __future__ import annotations

import importlib

import pytest

GROUPS = {
    "llm_ollama": ["gpu1", "gpu2"],
    "llm_chat": ["chat"],
    "llm_gateway": ["gw"],
}


def iface(v4, v6=(), secondaries=()):
    out = {"ipv4": {"address": v4}} if v4 else {}
    if secondaries:
        out["ipv4_secondaries"] = [{"address": a} for a in secondaries]
    if v6:
        out["ipv6"] = [{"address": a, "scope": "global"} for a in v6]
    return out


def facts(**interfaces):
    """Gathered facts of a host with these interfaces (names as Ansible keys them)."""
    out = {"interfaces": [name.replace("_", "-") for name in interfaces]}
    out.update(interfaces)
    return {"ansible_facts": out}


HOSTVARS = {
    "gpu1": facts(lo=iface("127.0.0.1"), eth0=iface("10.0.0.11"), docker0=iface("172.17.0.1")),
    "gpu2": facts(eth0=iface("10.0.0.12")),
    # Two addresses (a secondary one) and IPv6: link-local is left out, global kept.
    "chat": facts(
        eth0=iface("10.0.0.20", v6=("fe80::1", "2001:db8::20"), secondaries=("10.0.1.20",)),
        br_3f2a=iface("172.18.0.1"),
        docker0=iface("172.17.0.1"),
        veth12ab=iface(None, v6=("fe80::2",)),
    ),
    "gw": facts(ens3=iface("192.168.5.2")),
}
SERVICES = {
    "ollama": {"name": "ollama", "ports": [11434], "clients": ["llm_chat", "llm_gateway"]},
    "librechat": {"name": "librechat", "ports": [3080], "clients": ["llm_gateway"]},
    "mongodb": {"name": "mongodb", "ports": [27017], "clients": []},
    "gateway": {"name": "gateway", "ports": [80, 443], "clients": ["all"]},
}


@pytest.fixture(scope="module")
def fw(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.firewall_rules"
    )


@pytest.fixture(scope="module")
def filters(collections_dir):
    module = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.firewall")
    return module.FilterModule().filters()


def by_port(rules):
    return {(r["port"], r["proto"]): r for r in rules}


def test_ollama_is_open_to_chat_and_gateway_hosts_only(fw):
    rules = fw.firewall_rules({"ollama": SERVICES["ollama"]}, "gpu1", GROUPS, HOSTVARS)
    (rule,) = rules
    assert rule["port"] == 11434 and rule["proto"] == "tcp" and rule["services"] == ["ollama"]
    # Docker bridge and link-local addresses are not where a host's traffic comes from.
    assert rule["ipv4"] == ["10.0.0.20", "10.0.1.20", "192.168.5.2"]
    assert rule["ipv6"] == ["2001:db8::20"]
    assert rule["sources"] == rule["ipv4"] + rule["ipv6"]
    # The other Ollama host is no client.
    assert not fw.allows(rules, 11434, "10.0.0.12")
    assert fw.allows(rules, 11434, "10.0.0.20")
    assert not fw.allows(rules, 11435, "10.0.0.20")


def test_all_in_one_host_opens_only_ssh_and_the_gateway(fw):
    groups = {"llm_ollama": ["box"], "llm_chat": ["box"], "llm_gateway": ["box"]}
    hostvars = {"box": facts(eth0=iface("10.1.1.1"))}
    rules = fw.firewall_rules(SERVICES, "box", groups, hostvars, admin_networks=["10.9.9.9"])
    # Its own services reach each other over loopback and the container bridges.
    assert [(r["port"], r["kind"], r["sources"]) for r in rules] == [
        (22, "ssh", ["10.9.9.9"]),
        (80, "service", "any"),
        (443, "service", "any"),
    ]


def test_loopback_only_service_gets_no_rule(fw):
    rules = fw.firewall_rules({"mongodb": SERVICES["mongodb"]}, "chat", GROUPS, HOSTVARS)
    assert rules == []


def test_service_without_clients_is_an_error_that_names_the_fix(fw):
    with pytest.raises(fw.FirewallError, match="service ollama declares no clients"):
        fw.firewall_rules({"ollama": {"ports": [11434]}}, "gpu1", GROUPS, HOSTVARS)


def test_service_without_ports_needs_no_clients(fw):
    assert fw.firewall_rules({"mongodb": {"ports": []}}, "chat", GROUPS, HOSTVARS) == []


def test_ssh_sources_merge_and_overlaps_collapse(fw):
    rules = fw.firewall_rules(
        {},
        "gpu1",
        GROUPS,
        HOSTVARS,
        ssh_port="2222",
        admin_networks=[
            "10.0.0.5",
            "10.0.0.0/8",
            "10.1.2.3/16",
            "2001:db8::1",
            "::ffff:192.168.1.4",
        ],
    )
    (ssh,) = rules
    assert ssh["port"] == 2222 and ssh["kind"] == "ssh"
    # nftables refuses overlapping elements in one set: 10.0.0.5 lies inside 10.0.0.0/8.
    assert ssh["ipv4"] == ["10.0.0.0/8", "192.168.1.4"]
    assert ssh["ipv6"] == ["2001:db8::1"]
    assert fw.allows(rules, 2222, "10.200.1.1")
    assert not fw.allows(rules, 22, "10.200.1.1")


def test_no_ssh_sources_means_no_ssh_rule(fw):
    assert fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, admin_networks=[]) == []


def test_over_ssh_without_an_admin_network_the_rules_are_refused_with_a_network_to_name(fw):
    """Issue 18: SSH let in only from the address of the last run's controller locked the
    admin out after a new DHCP lease, a VPN or an IPv4/IPv6 switch."""
    client = {"address": "10.0.3.17", "port": 22}
    with pytest.raises(fw.FirewallError, match="firewall_admin_networks is empty") as refused:
        fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, ssh_client=client)
    assert "only from 10.0.3.17" in str(refused.value)
    assert """firewall_admin_networks '["10.0.3.0/24"]'""" in str(refused.value)
    six = {"address": "2001:db8:5:6::9", "port": 22}
    with pytest.raises(fw.FirewallError, match=r'\["2001:db8:5:6::/64"\]'):
        fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, ssh_client=six)
    # Named: the session and the networks, merged.
    rules = fw.firewall_rules(
        {}, "gpu1", GROUPS, HOSTVARS, ssh_client=client, admin_networks=["192.168.7.0/24"]
    )
    assert rules[0]["sources"] == ["10.0.3.17", "192.168.7.0/24"]


def test_ansible_reaching_sshd_on_another_port_is_refused(fw):
    client = {"address": "10.0.3.17", "port": 2222}
    with pytest.raises(fw.FirewallError, match="set firewall_ssh_port to 2222"):
        fw.firewall_rules(
            {}, "gpu1", GROUPS, HOSTVARS, ssh_client=client, admin_networks=["10.0.3.0/24"]
        )


@pytest.mark.parametrize("client_port", [22, 2222])
@pytest.mark.parametrize("ssh_port", [22, "2222"])
@pytest.mark.parametrize(
    "admin", [[], ["10.0.3.17"], ["10.0.0.0/8"], ["2001:db8::/32"], ["10.0.3.0/24", "10.0.3.17"]]
)
@pytest.mark.parametrize("address", ["10.0.3.17", "2001:db8::5", "::ffff:10.0.3.17"])
def test_no_rules_come_out_that_shut_out_the_session_or_leave_it_the_only_way_in(
    fw, address, admin, ssh_port, client_port
):
    """A lockout is impossible by the generator: whatever it is given, either it refuses,
    or the rules let Ansible's own session in and name an admin network besides it."""
    client = {"address": address, "port": client_port}
    try:
        rules = fw.firewall_rules(
            SERVICES, "gw", GROUPS, HOSTVARS, ssh_port=ssh_port, ssh_client=client,
            admin_networks=admin,
        )  # fmt: skip
    except fw.FirewallError as refused:
        assert not admin or client_port != int(ssh_port), refused
        return
    assert fw.allows(rules, client_port, address)
    (ssh,) = [rule for rule in rules if rule["kind"] == "ssh"]
    assert admin and all(fw.allows(rules, client_port, a.split("/")[0]) for a in admin)
    assert ssh["port"] == client_port


def test_bad_admin_network_is_an_error(fw):
    with pytest.raises(fw.FirewallError, match=r"'10\.0\.0\.0/33' is not an IP address"):
        fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, admin_networks=["10.0.0.0/33"])


def test_any_source_wins_when_two_services_share_a_port(fw):
    services = {
        "a": {"ports": [8080], "clients": ["llm_chat"]},
        "b": {"ports": [8080], "clients": ["all"]},
    }
    (rule,) = fw.firewall_rules(services, "gpu1", GROUPS, HOSTVARS)
    assert rule["sources"] == "any" and rule["services"] == ["a", "b"]
    assert rule["ipv4"] == [] and rule["ipv6"] == []


def test_client_addresses_fall_back_to_flat_facts_then_ansible_host(fw):
    hostvars = {
        "chat": {"ansible_facts": {"all_ipv4_addresses": ["10.0.0.20"], "all_ipv6_addresses": []}},
        "gw": {"ansible_host": "192.168.5.2"},
    }
    (rule,) = fw.firewall_rules({"ollama": SERVICES["ollama"]}, "gpu1", GROUPS, hostvars)
    assert rule["sources"] == ["10.0.0.20", "192.168.5.2"]


def test_inventory_name_that_is_an_address_is_enough(fw):
    groups = {"llm_ollama": ["gpu1"], "llm_chat": ["10.0.0.20"]}
    (rule,) = fw.firewall_rules({"ollama": SERVICES["ollama"]}, "gpu1", groups, {"10.0.0.20": {}})
    assert rule["sources"] == ["10.0.0.20"]


def test_unknown_client_addresses_fail_with_every_host_and_the_fix(fw):
    hostvars = {"chat": {"ansible_host": "chat.lab.example"}, "gw": {}}
    with pytest.raises(fw.FirewallError) as err:
        fw.firewall_rules({"ollama": SERVICES["ollama"]}, "gpu1", GROUPS, hostvars)
    message = str(err.value)
    assert "chat, a client of ollama (llm_chat)" in message
    assert "gw, a client of ollama (llm_gateway)" in message
    assert "firewall_host_addresses" in message


def test_address_overrides_win_over_facts(fw):
    overrides = {"chat": ["10.5.0.0/24"], "gw": "192.168.5.9"}
    (rule,) = fw.firewall_rules(
        {"ollama": SERVICES["ollama"]}, "gpu1", GROUPS, HOSTVARS, address_overrides=overrides
    )
    assert rule["sources"] == ["10.5.0.0/24", "192.168.5.9"]


def test_extra_rules(fw):
    extra = [
        {"port": 9100, "sources": ["10.0.0.0/24"], "comment": "node exporter"},
        {"port": "51820/udp", "sources": "any"},
        {"port": 53, "proto": "udp", "sources": "10.0.0.1"},
    ]
    rules = by_port(fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, extra_rules=extra))
    assert rules[(9100, "tcp")]["services"] == ["node exporter"]
    assert rules[(9100, "tcp")]["kind"] == "extra"
    assert rules[(51820, "udp")]["sources"] == "any"
    assert rules[(53, "udp")]["sources"] == ["10.0.0.1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"port": 70000}, "is not a port"),
        ({"port": "22/icmp"}, "is not a port"),
        ({"port": 22, "proto": "sctp"}, "proto must be tcp or udp"),
        ({"port": 22, "sources": []}, "sources is empty"),
        ({"sources": "any"}, "at least a port"),
        ({"port": 22, "sources": ["not-an-address"]}, "is not an IP address"),
    ],
)
def test_bad_extra_rules_name_the_entry(fw, extra, message):
    with pytest.raises(fw.FirewallError, match=r"firewall_extra_rules\[0\]"):
        fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, extra_rules=[extra])
    with pytest.raises(fw.FirewallError, match=message):
        fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, extra_rules=[extra])


def test_bad_service_port(fw):
    with pytest.raises(fw.FirewallError, match="service x: 'http' is not a port"):
        fw.firewall_rules({"x": {"ports": ["http"], "clients": []}}, "gpu1", GROUPS, HOSTVARS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1 51234 10.0.0.11 22", {"address": "10.0.0.1", "port": 22}),
        ("2001:db8::1 40000 2001:db8::11 2222", {"address": "2001:db8::1", "port": 2222}),
        ("::ffff:10.0.0.1 51234 ::ffff:10.0.0.11 22", {"address": "10.0.0.1", "port": 22}),
        ("", {}),
        (None, {}),
        ("garbage", {}),
    ],
)
def test_ssh_client(fw, value, expected):
    assert fw.ssh_client(value) == expected


def test_rich_rules_spelled_as_firewalld_lists_them(fw):
    rules = fw.firewall_rules(
        {"ollama": SERVICES["ollama"], "gateway": SERVICES["gateway"]},
        "gpu1",
        GROUPS,
        HOSTVARS,
        admin_networks=["10.9.0.0/16"],
    )
    assert fw.rich_rules(rules) == [
        'rule family="ipv4" source address="10.9.0.0/16" port port="22" protocol="tcp" accept',
        'rule port port="80" protocol="tcp" accept',
        'rule port port="443" protocol="tcp" accept',
        'rule family="ipv4" source address="10.0.0.20" port port="11434" protocol="tcp" accept',
        'rule family="ipv4" source address="10.0.1.20" port port="11434" protocol="tcp" accept',
        'rule family="ipv4" source address="192.168.5.2" port port="11434" protocol="tcp" accept',
        'rule family="ipv6" source address="2001:db8::20" port port="11434" protocol="tcp" accept',
    ]


def test_filters_turn_errors_into_filter_errors(filters):
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="declares no clients"):
        filters["firewall_rules"]({"x": {"ports": [1]}}, "gpu1", GROUPS, HOSTVARS)
    rules = filters["firewall_rules"](
        SERVICES, "gw", GROUPS, HOSTVARS, ssh_port=22, admin_networks=["10.0.0.1"]
    )
    assert filters["firewall_allows"](rules, 22, "10.0.0.1")
    assert not filters["firewall_allows"](rules, 22, "10.0.0.2")
    assert filters["firewall_allows"](rules, 443, "203.0.113.9")
    assert filters["ssh_client"]("10.0.0.1 1 10.0.0.2 22") == {"address": "10.0.0.1", "port": 22}


def test_comments_carry_no_quotes_for_nft(fw):
    extra = [{"port": 9100, "sources": "any", "comment": 'node "exporter"; drop'}]
    (rule,) = fw.firewall_rules({}, "gpu1", GROUPS, HOSTVARS, extra_rules=extra)
    assert rule["comment"] == "node exporter drop"
