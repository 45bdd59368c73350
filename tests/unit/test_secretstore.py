from __future__ import annotations

import os
import re
import stat

import pytest

from cli import secretstore
from cli.errors import LlmError

FORMATS = {
    "librechat_creds_key": r"[0-9a-f]{64}",
    "librechat_creds_iv": r"[0-9a-f]{32}",
    "librechat_jwt_secret": r"[0-9a-f]{64}",
    "librechat_jwt_refresh_secret": r"[0-9a-f]{64}",
    "meilisearch_master_key": r"[A-Za-z0-9_-]{43}",
    "mongodb_root_password": r"[A-Za-z0-9_-]{32}",
    "mongodb_app_password": r"[A-Za-z0-9_-]{32}",
    # The gateway knows an API key by its prefix (LibreChat's own tokens are JWTs).
    "gateway_librechat_api_key": r"llmk_[A-Za-z0-9_-]{43}",
    "gateway_stats_password": r"[A-Za-z0-9_-]{32}",
    # Typed at LibreChat's log-in: four groups of four (LibreChat wants 8 or more).
    "librechat_admin_password": r"[a-z0-9]{4}(-[a-z0-9]{4}){3}",
}


def test_every_secret_has_librechats_format(tmp_path):
    path = tmp_path / "secrets.yml"
    assert sorted(secretstore.ensure(path)) == sorted(FORMATS)
    data = secretstore.load(path)
    for name, pattern in FORMATS.items():
        assert re.fullmatch(pattern, data[name]), name
    assert len(set(data.values())) == len(data)


def test_file_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "secrets.yml"
        secretstore.ensure(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_too_open_file_is_narrowed(tmp_path):
    path = tmp_path / "secrets.yml"
    secretstore.ensure(path)
    path.chmod(0o644)
    assert secretstore.ensure(path) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_secrets_are_never_overwritten(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text("librechat_jwt_secret: keep-me\n")
    generated = secretstore.ensure(path)
    assert "librechat_jwt_secret" not in generated
    first = secretstore.load(path)
    assert first["librechat_jwt_secret"] == "keep-me"
    assert secretstore.ensure(path) == []
    assert secretstore.load(path) == first


def test_randomness_comes_from_the_secrets_module(tmp_path, monkeypatch):
    calls: list[int] = []

    def fake_token_bytes(n: int) -> bytes:
        calls.append(n)
        return bytes([0xAB]) * n

    monkeypatch.setattr(secretstore, "token_bytes", fake_token_bytes)
    path = tmp_path / "secrets.yml"
    secretstore.ensure(path)
    data = secretstore.load(path)
    assert data["librechat_creds_key"] == "ab" * 32
    assert data["librechat_creds_iv"] == "ab" * 16
    # Each secret but the administrator's (secrets.choice, one symbol at a time) draws once.
    assert len(calls) == len(secretstore.SPECS) - 1


def test_a_broken_file_is_a_clear_error_not_a_traceback(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text("key: [unclosed\n")
    with pytest.raises(LlmError, match="not valid YAML"):
        secretstore.ensure(path)
    assert path.read_text() == "key: [unclosed\n"  # nothing lost


def test_the_administrators_first_password_is_not_rotated(tmp_path):
    """LibreChat keeps the account's own password: a new value here would change nothing
    there, so a rotation is refused with the way to change it."""
    path = tmp_path / "secrets.yml"
    secretstore.ensure(path)
    assert "librechat_admin_password" not in secretstore.ROTATION
    assert set(secretstore.NOT_ROTATED) | set(secretstore.ROTATION) == {
        s.name for s in secretstore.SPECS
    }
