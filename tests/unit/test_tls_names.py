"""The names and addresses a gateway certificate carries (the subject_alt_names filter)."""

from __future__ import annotations

import importlib
import ipaddress
import subprocess

import pytest


@pytest.fixture(scope="module")
def subject_alt_names(collections_dir):
    module = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.tls")
    return module.subject_alt_names


def test_names_are_dns_and_addresses_are_ip_entries(subject_alt_names):
    sans = subject_alt_names(
        ["chat.school.example", "GW", "10.0.0.5", "gw"],  # a user's extra name may be an address
        ["10.0.0.5", "127.0.0.1", "2001:db8::5", "fe80::1", "2001:DB8:0::5", ""],
    )
    assert sans == ["DNS:chat.school.example", "DNS:gw", "IP:10.0.0.5", "IP:127.0.0.1",
                    "IP:2001:db8::5"]  # fmt: skip


def test_openssl_takes_them(subject_alt_names, tmp_path):
    """The entries are what a certificate request accepts (OpenSSL parses every one)."""
    sans = subject_alt_names(["gw.lab"], ["192.0.2.7", "[2001:db8::7]"])
    key = tmp_path / "key.pem"
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-subj", "/CN=gw.lab", "-days", "1",
         "-addext", "subjectAltName=" + ",".join(sans), "-text"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "DNS:gw.lab, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:7" in done.stdout
    assert all(ipaddress.ip_address(s[3:]) for s in sans if s.startswith("IP:"))
