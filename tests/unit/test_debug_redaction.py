"""The diagnostics bundle's redaction: known secrets and credential shapes."""

from __future__ import annotations

import importlib
import tarfile

import pytest

from cli.commands.debug import _add, leaked


@pytest.fixture(scope="module")
def collect(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.modules.debug_collect"
    )


def test_known_secrets_and_credential_shapes_are_removed(collect):
    secret = "Zx81-not-a-shape-just-a-value"
    text = "\n".join(
        [
            f"some log line mentioning {secret} in passing",
            "CREDS_KEY=0123456789abcdef",
            "JWT_SECRET=abc",
            "  MEILI_MASTER_KEY: whatever",
            "MONGO_URI=mongodb://librechat:pa55word@mongodb:27017/LibreChat",
            "Authorization: Bearer eyJhbGciOi",
            "HOST=0.0.0.0",
        ]
    )
    out = collect.redact(text, [secret, ""])
    for value in (
        secret,
        "0123456789abcdef",
        "JWT_SECRET=abc",
        "whatever",
        "pa55word",
        "eyJhbGciOi",
    ):
        assert value not in out
    assert "mongodb://librechat:<redacted>@mongodb:27017/LibreChat" in out
    assert "HOST=0.0.0.0" in out  # not a credential: kept
    assert out.count("<redacted>") == 6


def test_archive_check_finds_a_leak(tmp_path):
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, "x/host/ok.txt", "nothing here\n")
        _add(archive, "x/host/bad.txt", "password is hunter2-long-secret\n")
    assert leaked(path, ["hunter2-long-secret"]) == ["x/host/bad.txt"]
    assert leaked(path, ["absent-value"]) == []
