"""The stack's secrets file: generated from the OS's cryptographic RNG, mode 0600.

Secrets are named after the role variables that consume them, so a playbook
loads the file with ``include_vars`` (``no_log``) and nothing secret ever
passes through ansible-runner's extravars, env files or command line.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from secrets import token_bytes

import yaml

from cli import vault
from cli.errors import LlmError
from cli.passwords import easy_password

FILE_MODE = 0o600
# The gateway tells an API key from LibreChat's own session tokens by this prefix.
API_KEY_PREFIX = "llmk_"


def _hex(nbytes: int) -> Callable[[], str]:
    return lambda: token_bytes(nbytes).hex()


def _urlsafe(nbytes: int) -> Callable[[], str]:
    # URL-safe alphabet without padding: safe inside a MongoDB URI and a .env file.
    return lambda: base64.urlsafe_b64encode(token_bytes(nbytes)).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class SecretSpec:
    name: str
    describe: str
    generate: Callable[[], str]


# Formats are LibreChat's own requirements (see docs/security.md).
SPECS: tuple[SecretSpec, ...] = (
    SecretSpec("librechat_creds_key", "LibreChat CREDS_KEY, 64 hex chars", _hex(32)),
    SecretSpec("librechat_creds_iv", "LibreChat CREDS_IV, 32 hex chars", _hex(16)),
    SecretSpec("librechat_jwt_secret", "LibreChat JWT_SECRET, 64 hex chars", _hex(32)),
    SecretSpec(
        "librechat_jwt_refresh_secret", "LibreChat JWT_REFRESH_SECRET, 64 hex chars", _hex(32)
    ),
    SecretSpec("meilisearch_master_key", "Meilisearch MEILI_MASTER_KEY", _urlsafe(32)),
    SecretSpec("mongodb_root_password", "MongoDB admin user password", _urlsafe(24)),
    SecretSpec("mongodb_app_password", "MongoDB LibreChat user password", _urlsafe(24)),
    SecretSpec(
        "gateway_librechat_api_key",
        "LibreChat's API key through the gateway (security module)",
        lambda: API_KEY_PREFIX + _urlsafe(32)(),
    ),
    SecretSpec("gateway_stats_password", "the gateway's statistics page password", _urlsafe(24)),
    # Typed by a person at the log-in: easy to read (no look-alike characters).
    SecretSpec(
        "librechat_admin_password",
        "LibreChat administrator's first password (librechat_admin_email)",
        lambda: easy_password(16),
    ),
)


def read_text(path: Path) -> str:
    """A private file's text, decrypted when it is vault-encrypted (secrets.yml, accounts.yml)."""
    raw = path.read_bytes()
    if vault.is_encrypted(path):
        return vault.decrypt(raw, vault.password_file(), path)
    return raw.decode("utf-8")


def write_private(path: Path, payload: bytes) -> None:
    """Write atomically; the file never exists with a mode wider than 0600, whatever the umask.
    Every private file of the stack directory is written this way."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a umask can only narrow it; this makes it exactly 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def load(path: Path) -> dict[str, str]:
    """Read the secrets file (decrypting a vault-encrypted one); absent means none."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise LlmError(
            f"secrets file {path} is not valid YAML",
            "fix it by hand, or move it away and run 'llm init' to generate a new one",
        ) from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise LlmError(
            f"secrets file {path} must map names to strings",
            "fix it by hand, or move it away and run 'llm init' to generate a new one",
        )
    return data


def _write(path: Path, data: dict[str, str], encrypted: bool | None = None) -> None:
    """Write atomically; the file never exists with a mode wider than 0600.

    An encrypted file stays encrypted unless encrypted=False says otherwise.
    """
    if encrypted is None:
        encrypted = vault.is_encrypted(path)
    text = "# local-llm-stack secrets: keep private, never commit.\n" + yaml.safe_dump(
        data, default_flow_style=False, sort_keys=True
    )
    payload = vault.encrypt(text, vault.password_file()) if encrypted else text.encode("utf-8")
    write_private(path, payload)


def set_encrypted(path: Path, encrypted: bool) -> bool:
    """Encrypt or decrypt the file in place; False when it already was so."""
    if vault.is_encrypted(path) == encrypted:
        return False
    _write(path, load(path), encrypted=encrypted)
    return True


def ensure(path: Path) -> list[str]:
    """Generate every missing secret; never change one that exists.

    Returns the names generated. Also narrows a too-open file back to 0600.
    """
    current = load(path)
    missing = [spec for spec in SPECS if not current.get(spec.name)]
    if missing:
        updated = dict(current)
        for spec in missing:
            updated[spec.name] = spec.generate()
        _write(path, updated)
    elif stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        path.chmod(FILE_MODE)
    return [spec.name for spec in missing]


# What rotating each secret means for users, and whether a redeploy is enough.
ROTATION = {
    "librechat_jwt_secret": "everyone is signed out of LibreChat",
    "librechat_jwt_refresh_secret": "everyone is signed out of LibreChat",
    "librechat_creds_key": "API keys users stored in LibreChat can no longer be decrypted",
    "librechat_creds_iv": "API keys users stored in LibreChat can no longer be decrypted",
    "meilisearch_master_key": "conversation search restarts with the new key",
    "mongodb_app_password": "LibreChat reconnects to MongoDB with the new password",
    "mongodb_root_password": "MongoDB's administrator password changes",
    "gateway_librechat_api_key": "LibreChat reaches Ollama through the gateway with a new key",
    "gateway_stats_password": "the gateway's statistics page takes the new password",
}


# Secrets a rotation cannot change where they are used: (what is wrong, what to do).
NOT_ROTATED = {
    "librechat_admin_password": (
        "librechat_admin_password is only the administrator's first password: LibreChat "
        "keeps the account's own, which a new value here would not change",
        "change it in LibreChat (Settings, Account), or give the account a new one with "
        "LibreChat's reset-password script",
    ),
}


def spec(name: str) -> SecretSpec:
    """The secret called name; an unknown name is an error that lists them."""
    found = next((s for s in SPECS if s.name == name), None)
    if found is None:
        raise LlmError(f"unknown secret {name!r}", f"secrets: {', '.join(s.name for s in SPECS)}")
    return found


def rotate(path: Path, name: str) -> None:
    """Replace one secret with a new value (the file stays 0600)."""
    spec_ = spec(name)
    current = load(path)
    _write(path, {**current, name: spec_.generate()})
