# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Filters for the gateway's certificates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError


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


# The private and local ranges a lab's gateways are reached on (RFC 1918, loopback,
# shared address space as VPNs like Tailscale use it, IPv6 unique local and loopback):
# the stack's CA may sign for any of them, so a gateway added later needs no new CA.
PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "100.64.0.0/10",
    "fc00::/7",
    "::1/128",
)


# Top-level names that are never public (RFC 6761, RFC 8375, common private use): below
# them a gateway's parent domain is the lab's own. Anything else may be a public suffix
# (co.uk), so a public name stands only for itself.
_PRIVATE_TOP = ("lan", "local", "internal", "home.arpa", "test", "localdomain", "corp", "home",
                "intranet", "private")  # fmt: skip


def _dns_subtree(name):
    """The subtree a gateway's name stands for: its parent domain for a name with a host and
    a domain under a private top-level name (gw.school.lan: school.lan, so gw2.school.lan is
    covered too), else the name itself (chat.school.co.uk: a CA for co.uk would sign for
    every British site)."""
    labels = name.lower().strip(".").split(".")
    for top in _PRIVATE_TOP:
        size = len(top.split("."))
        # A host, a domain, then the top: the domain (never the top name alone).
        if len(labels) >= size + 2 and ".".join(labels[-size:]) == top:
            return ".".join(labels[1:])
    return ".".join(labels)


def ca_permitted_names(sans):
    """The gateways' certificate entries (subject_alt_names' form) -> the name constraints
    of a CA that can sign for them and nothing else: their DNS subtrees, the private
    ranges, and each address outside those (a public one, as a /32 or /128)."""
    dns, ips = [], ["IP:%s" % r for r in PRIVATE_RANGES]
    private = [ipaddress.ip_network(r) for r in PRIVATE_RANGES]
    for san in sans or []:
        kind, _, value = str(san).partition(":")
        if kind == "DNS" and value:
            entry = "DNS:%s" % _dns_subtree(value)
            if entry not in dns:
                dns.append(entry)
        elif kind == "IP":
            ip = _address(value)
            if ip is not None and not any(ip.version == n.version and ip in n for n in private):
                entry = "IP:%s" % ipaddress.ip_network(ip).compressed
                if entry not in ips:
                    ips.append(entry)
    return dns + ips


def _covered(san, permitted):
    kind, _, value = str(san).partition(":")
    for constraint in permitted:
        c_kind, _, c_value = str(constraint).partition(":")
        if c_kind != kind:
            continue
        if kind == "DNS":
            base = c_value.lower().lstrip(".")
            if value.lower() == base or value.lower().endswith("." + base):
                return True
        elif kind == "IP":
            ip = _address(value)
            try:
                network = ipaddress.ip_network(c_value, strict=False)
            except ValueError:
                continue
            if ip is not None and ip.version == network.version and ip in network:
                return True
    return False


def sans_within(sans, permitted):
    """The entries a CA with these permitted subtrees can sign (all of them when it has
    none, as an older unconstrained CA). A certificate with one entry outside is refused
    by clients as a whole, so the others are left out."""
    if not permitted:
        return list(sans or [])
    kinds = set(str(c).partition(":")[0] for c in permitted)
    # RFC 5280: a kind without a constraint is not constrained.
    return [
        s for s in sans or [] if str(s).partition(":")[0] not in kinds or _covered(s, permitted)
    ]


def ca_name_constraints(pem):
    """A CA certificate (PEM) -> its permitted subtrees, in the form above ([] when it has
    no name constraints: a CA made before them)."""
    try:
        from cryptography import x509
    except ImportError as exc:  # community.crypto, which makes the CA, needs it too
        raise AnsibleFilterError("ca_name_constraints needs Python's cryptography package") from exc
    cert = x509.load_pem_x509_certificate(str(pem).encode("ascii"))
    try:
        constraints = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return []
    out = []
    for name in constraints.permitted_subtrees or []:
        if isinstance(name, x509.DNSName):
            out.append("DNS:%s" % name.value)
        elif isinstance(name, x509.IPAddress):
            out.append("IP:%s" % name.value.compressed)
    return out


def _san_strings(cert):
    from cryptography import x509

    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = []
    for name in names:
        if isinstance(name, x509.DNSName):
            out.append("DNS:%s" % name.value.lower())
        elif isinstance(name, x509.IPAddress):
            out.append("IP:%s" % name.value.compressed)
        else:
            out.append("OTHER:%s" % name.value)
    return out


def _private_key(path):
    """The key at path when only its owner may read it (as the stack writes it), else None."""
    import os

    from cryptography.hazmat.primitives import serialization

    if not os.path.isfile(path) or os.stat(path).st_mode & 0o7777 != 0o600:
        return None
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def own_ca_cert_current(ca_dir, host_dir, common_name, sans, renew_days):
    """Whether the certificate the stack's CA issued this gateway needs nothing: the CA's key
    and certificate and the gateway's key and certificate are on the controller (keys 0600,
    on the curves the role makes them with), the certificate is the CA's (its issuer, its
    signature; the CA a CA), for the gateway's key, for exactly these names (common name and
    entries) and for server authentication, both valid now, and the certificate not within
    renew_days of its end. Then the tasks that
    would make, check and sign each of them in turn (a module run each, about six seconds
    on a re-run) are skipped; anything else (a file missing or changed by hand, new names,
    renewal due) runs them, and they decide what to make."""
    import datetime
    import os

    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    try:
        ca_key = _private_key(os.path.join(ca_dir, "ca.key"))
        key = _private_key(os.path.join(host_dir, "server.key"))
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey) or ca_key.curve.name != "secp384r1":
            return False
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            return False
        with open(os.path.join(ca_dir, "ca.crt"), "rb") as handle:
            ca = x509.load_pem_x509_certificate(handle.read())
        with open(os.path.join(host_dir, "server.crt"), "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        if ca.public_key() != ca_key.public_key() or cert.public_key() != key.public_key():
            return False
        cert.verify_directly_issued_by(ca)
        # The CA is one (basic constraints), and both are valid now: a certificate issued
        # while a clock ran ahead, or a CA that expired, is for the tasks to deal with.
        if not ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
        now = datetime.datetime.now(datetime.timezone.utc)
        for valid in (ca, cert):
            if not valid.not_valid_before_utc <= now < valid.not_valid_after_utc:
                return False
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [n.value for n in names] != [str(common_name)]:
            return False
        wanted = ["DNS:" + s[4:].lower() if s.startswith("DNS:") else s for s in map(str, sans)]
        if sorted(_san_strings(cert)) != sorted(wanted):
            return False
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.SERVER_AUTH not in usage:
            return False
        return cert.not_valid_after_utc > now + datetime.timedelta(days=int(renew_days))
    # AttributeError: a cryptography older than 42 (Debian 12's 38) lacks the calls above; the
    # tasks then decide, as they do on every run there.
    # OverflowError: a renewal window past the calendar's end (renew_days of a million).
    except (OSError, ValueError, TypeError, AttributeError, OverflowError,
            x509.ExtensionNotFound, InvalidSignature, UnsupportedAlgorithm):  # fmt: skip
        return False


class FilterModule(object):
    def filters(self):
        return {
            "subject_alt_names": subject_alt_names,
            "ca_permitted_names": ca_permitted_names,
            "sans_within": sans_within,
            "ca_name_constraints": ca_name_constraints,
            "own_ca_cert_current": own_ca_cert_current,
        }
