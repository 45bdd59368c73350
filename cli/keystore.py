"""API keys for the Ollama API through the gateway: made here, shown once.

Only each key's sha256 is kept (api-keys.yml in the stack directory, mode
0600) and sent to the gateways, where HAProxy hashes what a client presents
and looks it up. A lost key cannot be recovered: revoke it and add another.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

import yaml

from cli.errors import LlmError, utf8
from cli.secretstore import API_KEY_PREFIX, write_private

# A name is a word a log line can show: letters, digits, . _ - @ (no spaces).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
RESERVED = {"librechat"}  # LibreChat's own key (secrets.yml) has this name on the gateway
VARIABLE = "gateway_api_keys"


def new_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load(path: Path) -> dict[str, str]:
    """name -> sha256; absent file means no keys."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(utf8(path.read_bytes(), path)) or {}
    except yaml.YAMLError as exc:
        raise LlmError(f"{path} is not valid YAML", "fix it by hand or move it away") from exc
    keys = data.get(VARIABLE) if isinstance(data, dict) else None
    if keys is None:
        return {}
    if not isinstance(keys, dict) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in keys.values()
    ):
        raise LlmError(f"{path}: {VARIABLE} must map names to sha256 hex digests",
                       "fix it by hand or move it away")  # fmt: skip
    return dict(keys)


def save(path: Path, keys: dict[str, str]) -> None:
    """Write atomically, never wider than 0600."""
    text = (
        "# local-llm-stack API keys: names and sha256 hashes only (each key was shown once).\n"
        + yaml.safe_dump({VARIABLE: dict(sorted(keys.items()))}, default_flow_style=False)
    )
    write_private(path, text.encode("utf-8"))


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise LlmError(
            f"{name!r} is not a usable key name",
            "use letters, digits and . _ - @ (up to 64, no spaces), e.g. alice or ci-bot",
        )
    if name in RESERVED:
        raise LlmError(f"{name!r} is LibreChat's own key", "choose another name")


def add(path: Path, name: str) -> str:
    """Record a new key's hash under name; return the key (to show once)."""
    check_name(name)
    keys = load(path)
    if name in keys:
        raise LlmError(f"a key named {name!r} exists", f"revoke it first: llm keys revoke {name}")
    key = new_key()
    save(path, {**keys, name: digest(key)})
    return key


def revoke(path: Path, name: str) -> None:
    keys = load(path)
    if name not in keys:
        known = ", ".join(sorted(keys)) or "none"
        raise LlmError(f"no key named {name!r}", f"keys: {known}")
    save(path, {k: v for k, v in keys.items() if k != name})
