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
    assert len(calls) == len(secretstore.specs()) - 1


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
    admin = secretstore.spec("librechat_admin_password")
    assert admin.rotation is None and "reset-password" in admin.not_rotated[1]
    # Every other secret says what rotating it does.
    assert all(s.rotation for s in secretstore.specs() if s is not admin)


def test_each_secret_is_declared_by_the_role_that_reads_it_with_its_hosts():
    """meta/secret_specs.yml of each role of the registry: the secrets follow the modules."""
    by_name = {s.name: s for s in secretstore.specs()}
    assert set(by_name) == set(FORMATS)
    assert by_name["mongodb_app_password"].groups == ("llm_chat",)
    assert by_name["gateway_stats_password"].groups == ("llm_gateway",)
    # LibreChat holds the gateway's key for it: both are redeployed on a rotation.
    assert by_name["gateway_librechat_api_key"].groups == ("llm_gateway", "llm_chat")


def test_a_secret_of_an_unknown_format_is_one_line(tmp_path):
    declared = tmp_path / "secrets.yml"
    declared.write_text("example_token:\n  describe: x\n  format: hex7\n")
    with pytest.raises(LlmError, match="unknown format 'hex7'") as caught:
        secretstore._role_secrets("example", ["g"], declared)
    assert "hex32" in str(caught.value.hint)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example_token: hex16\n", "must be a mapping of its settings"),
        ("example_token:\n", "must be a mapping of its settings"),
        ("example_token: {format: [hex16]}\n", "unknown format"),
        ("example_token: {format: hex16, not_rotated: yes}\n", "not_rotated must say why"),
        ("example_token: {format: hex16, not_rotated: {why: x}}\n", "not_rotated must say why"),
        ("example_token: {format: hex16, rotation: x, also_on: g}\n", "also_on must be a list"),
        ("example_token: {format: hex16}\n", "say what a rotation does"),
        (
            "a: {format: hex16, rotation: x}\na: {format: hex32, rotation: y}\n",
            "'a' is given twice",
        ),
        ("a: [unclosed\n", "is not valid YAML at line"),
        ("- a\n", "must hold a mapping, not a list"),
    ],
)
def test_a_secret_declaration_of_the_wrong_shape_is_one_line(tmp_path, text, message):
    declared = tmp_path / "secret_specs.yml"
    declared.write_text(text)
    with pytest.raises(LlmError, match=message) as caught:
        secretstore._role_secrets("example", ["g"], declared)
    assert "\n" not in caught.value.message  # one line
