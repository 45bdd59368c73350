# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Fingerprints of OpenPGP public keys, in pure Python (no gpg on the host).

Enough of RFC 4880 to read the primary keys of a key file as apt and dnf use
it (ASCII-armored or binary) and compute their version 4 fingerprints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

PUBLIC_KEY_PACKET = 6


class KeyFormatError(ValueError):
    pass


def dearmor(data):
    """Binary packets from an ASCII-armored block, or data unchanged if binary."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in text:
        if isinstance(data, bytes):
            return data
        raise KeyFormatError("not an OpenPGP public key block")
    body = text.split("-----BEGIN PGP PUBLIC KEY BLOCK-----", 1)[1]
    body = body.split("-----END PGP PUBLIC KEY BLOCK-----", 1)[0]
    # Armor headers ("Version: ...") hold a colon, base64 never does; the
    # line starting with "=" is the CRC.
    payload = "".join(
        line.strip()
        for line in body.splitlines()
        if ":" not in line and not line.strip().startswith("=")
    )
    try:
        return base64.b64decode(payload)
    except (binascii.Error, ValueError):
        raise KeyFormatError("the armored key is not valid base64") from None


def packets(blob):
    """(tag, body) for each packet, old and new header formats."""
    pos = 0
    while pos < len(blob):
        header = blob[pos]
        if not header & 0x80:
            raise KeyFormatError("byte %d is not an OpenPGP packet header" % pos)
        if header & 0x40:  # new format
            tag = header & 0x3F
            first = blob[pos + 1]
            if first < 192:
                length, pos = first, pos + 2
            elif first < 224:
                length, pos = ((first - 192) << 8) + blob[pos + 2] + 192, pos + 3
            elif first == 255:
                length, pos = int.from_bytes(blob[pos + 2 : pos + 6], "big"), pos + 6
            else:
                raise KeyFormatError("partial-length packets do not occur in key files")
        else:  # old format
            tag = (header >> 2) & 0x0F
            size = {0: 1, 1: 2, 2: 4}.get(header & 0x03)
            if size is None:
                raise KeyFormatError("indeterminate-length packets do not occur in key files")
            length = int.from_bytes(blob[pos + 1 : pos + 1 + size], "big")
            pos += 1 + size
        if pos + length > len(blob):
            raise KeyFormatError("truncated key file")
        yield tag, blob[pos : pos + length]
        pos += length


def fingerprints(data):
    """Upper-case hex v4 fingerprints of the primary public keys in data."""
    found = []
    for tag, body in packets(dearmor(data)):
        if tag != PUBLIC_KEY_PACKET:
            continue
        if not body or body[0] != 4:
            raise KeyFormatError("only version 4 keys are supported (found %d)" % body[0])
        digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()
        found.append(digest.upper())
    if not found:
        raise KeyFormatError("no public key in the file")
    return found


def normalise(fingerprint):
    return "".join(fingerprint.split()).upper()
