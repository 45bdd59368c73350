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


@pytest.fixture(scope="module")
def tls_filters(collections_dir):
    return importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.tls")


def test_the_cas_permitted_names_are_the_gateways_domains_and_private_ranges(tls_filters):
    permitted = tls_filters.ca_permitted_names(
        ["DNS:gw", "DNS:gw.school.lan", "DNS:lab.example", "DNS:chat.school.co.uk",
         "DNS:gw.home.arpa", "IP:172.18.0.5", "IP:127.0.0.1", "IP:203.0.113.9", "IP:2001:db8::9",
         "IP:fd00::5"]
    )  # fmt: skip
    # gw.school.lan stands for school.lan (a second gateway there is covered); a public name
    # only for itself (its parent may be a public suffix: co.uk), as a short name does.
    assert permitted[:5] == ["DNS:gw", "DNS:school.lan", "DNS:lab.example",
                             "DNS:chat.school.co.uk", "DNS:gw.home.arpa"]  # fmt: skip
    assert "IP:10.0.0.0/8" in permitted and "IP:fc00::/7" in permitted
    # A public address is the gateway's own, /32 or /128; a private one is in its range.
    assert permitted[-2:] == ["IP:203.0.113.9/32", "IP:2001:db8::9/128"]
    assert not any(p.startswith("IP:172.18.") or p == "DNS:example" for p in permitted)


def test_entries_outside_the_cas_names_are_left_out_of_a_certificate(tls_filters):
    permitted = ["DNS:school.lan", "IP:10.0.0.0/8"]
    sans = ["DNS:gw.school.lan", "DNS:SCHOOL.LAN", "DNS:evilschool.lan", "DNS:gw",
            "IP:10.1.2.3", "IP:192.0.2.1", "IP:2001:db8::1"]  # fmt: skip
    assert tls_filters.sans_within(sans, permitted) == ["DNS:gw.school.lan", "DNS:SCHOOL.LAN",
                                                        "IP:10.1.2.3"]  # fmt: skip
    assert tls_filters.sans_within(sans, []) == sans  # an older CA without constraints


def test_openssl_refuses_a_site_outside_the_cas_names(tls_filters, tmp_path):
    """The constraints in OpenSSL's own verification: the gateway's certificate verifies,
    one for any other site signed by the same CA key does not."""
    permitted = tls_filters.ca_permitted_names(["DNS:gw.school.lan", "IP:192.168.1.5"])

    def openssl(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["openssl", *argv], capture_output=True, text=True, check=False)

    def openssl_form(constraint: str) -> str:  # OpenSSL's config wants address/netmask
        kind, _, value = constraint.partition(":")
        if kind != "IP":
            return constraint
        network = ipaddress.ip_network(value)
        return f"IP:{network.network_address}/{network.netmask}"

    ca_key, ca = tmp_path / "ca.key", tmp_path / "ca.crt"
    made = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-subj", "/CN=test CA",
                   "-days", "1", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                   "-addext", "nameConstraints=critical," + ",".join(
                       f"permitted;{openssl_form(p)}" for p in permitted))  # fmt: skip
    assert made.returncode == 0, made.stderr
    # What a later run reads back from the CA, to know what its certificates may carry.
    assert tls_filters.ca_name_constraints(ca.read_text()) == permitted

    def leaf(name: str, sans: list[str]) -> subprocess.CompletedProcess:
        key, csr, crt = (tmp_path / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
        ext = tmp_path / f"{name}.ext"
        ext.write_text("subjectAltName=" + ",".join(sans) + "\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")  # fmt: skip
        openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-days",
                "1", "-CAcreateserial", "-extfile", str(ext), "-out", str(crt))  # fmt: skip
        return openssl("verify", "-CAfile", str(ca), str(crt))

    assert leaf("gw", ["DNS:gw.school.lan", "DNS:gw2.school.lan", "IP:192.168.1.5"]).returncode == 0
    refused = leaf("bank", ["DNS:www.bank.example"])
    assert refused.returncode != 0 and "subtree" in refused.stdout + refused.stderr


def test_a_ca_from_before_the_constraints_has_none(tls_filters, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(tmp_path / "c"), "-subj", "/CN=old CA", "-days", "1"],
                   capture_output=True, check=True)  # fmt: skip
    assert tls_filters.ca_name_constraints((tmp_path / "c").read_text()) == []


def test_a_bad_permitted_name_is_named(collections_dir):
    settings = importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.settings"
    )

    def problems(entries: list[str]) -> list[str]:
        return [p for p in map(settings.name_constraint_problem, entries) if p]

    good = ["DNS:school.lan", "DNS:lab.example", "IP:10.0.0.0/8", "IP:fd00::/8"]
    assert problems(good) == []
    bad = problems(
        ["school.lan", "IP:10.0.0.5", "IP:10.0.0.1/8", "DNS:bad name", "URI:x", "DNS:.school.lan"]
    )
    assert len(bad) == 6 and "'school.lan' is not DNS:<domain>" in bad[0]


def _key_pem(key):
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(
    tmp_path, *, sans=("gw", "10.0.0.5"), days=397, ca_curve="secp384r1", signer=None, ahead=0
):
    """A CA and a gateway certificate laid out as the gateway role keeps them on the
    controller (ca.crt, ca.key, HOST/server.crt, HOST/server.key; keys 0600)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(getattr(ec, ca_curve.upper())())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stack CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address(s)) if s[0].isdigit() else x509.DNSName(s)
             for s in sans]  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gw")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now + datetime.timedelta(days=ahead))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer or ca_key, hashes.SHA256())
    )  # fmt: skip
    host = tmp_path / "gw"
    host.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.crt").write_bytes(ca.public_bytes(pem))
    (tmp_path / "ca.key").write_bytes(_key_pem(ca_key))
    (host / "server.crt").write_bytes(cert.public_bytes(pem))
    (host / "server.key").write_bytes(_key_pem(key))
    for path in (tmp_path / "ca.key", host / "server.key"):
        path.chmod(0o600)
    return host


def test_a_current_certificate_needs_nothing_and_anything_else_runs_the_tasks(
    tls_filters, tmp_path
):
    """own_ca_cert_current lets a re-run skip the module runs that would check the CA, the
    keys and the certificate one by one: only when all of them are as the role made them."""
    current = tls_filters.own_ca_cert_current
    wanted = ["DNS:gw", "IP:10.0.0.5"]
    host = _issue(tmp_path)
    assert current(str(tmp_path), str(host), "gw", wanted, 30) is True
    assert current(str(tmp_path), str(host), "gw", ["DNS:GW", "IP:10.0.0.5"], 30) is True
    # New names, another common name, renewal due: the tasks decide.
    assert current(str(tmp_path), str(host), "gw", [*wanted, "IP:10.0.0.6"], 30) is False
    assert current(str(tmp_path), str(host), "gw", ["DNS:gw"], 30) is False
    assert current(str(tmp_path), str(host), "gw.lan", wanted, 30) is False
    assert current(str(tmp_path), str(host), "gw", wanted, 400) is False
    # A renewal window past the calendar's end: not current, and no exception for the play.
    assert current(str(tmp_path), str(host), "gw", wanted, 10**9) is False
    # A key others may read, or one missing.
    (host / "server.key").chmod(0o644)
    assert current(str(tmp_path), str(host), "gw", wanted, 30) is False
    (host / "server.key").unlink()
    assert current(str(tmp_path), str(host), "gw", wanted, 30) is False


def test_a_certificate_the_ca_did_not_sign_or_a_ca_of_another_kind_is_not_current(
    tls_filters, tmp_path
):
    from cryptography.hazmat.primitives.asymmetric import ec

    current = tls_filters.own_ca_cert_current
    host = _issue(tmp_path / "other", signer=ec.generate_private_key(ec.SECP384R1()))
    assert current(str(tmp_path / "other"), str(host), "gw", ["DNS:gw", "IP:10.0.0.5"], 30) is False
    host = _issue(tmp_path / "curve", ca_curve="secp256r1")  # not the role's CA key
    assert current(str(tmp_path / "curve"), str(host), "gw", ["DNS:gw", "IP:10.0.0.5"], 30) is False
    assert current(str(tmp_path / "none"), str(tmp_path / "none"), "gw", [], 30) is False
    # Issued while a clock ran ahead: not valid yet, so not current (the tasks issue it again).
    host = _issue(tmp_path / "ahead", ahead=100, days=497)
    assert current(str(tmp_path / "ahead"), str(host), "gw", ["DNS:gw", "IP:10.0.0.5"], 30) is False
