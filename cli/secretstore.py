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
from functools import cache
from pathlib import Path
from secrets import token_bytes

import yaml

from cli import vault
from cli.errors import LlmError, utf8
from cli.passwords import easy_password

FILE_MODE = 0o600
# The gateway tells an API key from LibreChat's own session tokens by this prefix.
API_KEY_PREFIX = "llmk_"


def _hex(nbytes: int) -> Callable[[], str]:
    return lambda: token_bytes(nbytes).hex()


def _urlsafe(nbytes: int) -> Callable[[], str]:
    # URL-safe alphabet without padding: safe inside a MongoDB URI and a .env file.
    return lambda: base64.urlsafe_b64encode(token_bytes(nbytes)).decode("ascii").rstrip("=")


# How each format is made, by name (a role's meta/secret_specs.yml names one).
FORMATS: dict[str, Callable[[], str]] = {
    "hex16": _hex(16),
    "hex32": _hex(32),
    "urlsafe24": _urlsafe(24),
    "urlsafe32": _urlsafe(32),
    # The gateway tells an API key by its prefix (LibreChat's own tokens are JWTs).
    "api_key": lambda: API_KEY_PREFIX + _urlsafe(32)(),
    # Typed by a person: easy to read (no look-alike characters).
    "easy16": lambda: easy_password(16),
}


@dataclass(frozen=True)
class SecretSpec:
    name: str
    describe: str
    generate: Callable[[], str]
    # What `llm secrets rotate` tells users it does; None: it cannot be rotated here,
    # and not_rotated says why and what to do instead.
    rotation: str | None = None
    not_rotated: tuple[str, str] | None = None
    # The groups whose hosts use it: its role's, and any its entry adds (also_on).
    groups: tuple[str, ...] = ()


def _text_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _role_secrets(role: str, groups: list[str], path: Path) -> list[SecretSpec]:
    """The role's declared secrets; a declaration of the wrong shape is one line naming
    the file and the secret (a developer's mistake, but never a traceback)."""
    from cli.yaml_file import load_mapping

    declared = load_mapping(path, "the collection's")

    def wrong(name: object, what: str) -> LlmError:
        return LlmError(
            f"{path}: secret {name}: {what}",
            "each secret is a mapping: describe, format, rotation or not_rotated "
            "{why, instead}, also_on [groups] (docs/modules.md)",
        )

    out = []
    for name, entry in declared.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            raise wrong(name, "must be a mapping of its settings")
        made = FORMATS.get(entry.get("format")) if isinstance(entry.get("format"), str) else None
        if made is None:
            raise LlmError(
                f"secret {name} of the role {role} has an unknown format {entry.get('format')!r}",
                f"formats: {', '.join(FORMATS)} (in {path})",
            )
        refused = entry.get("not_rotated")
        if refused is not None and not (
            isinstance(refused, dict)
            and all(isinstance(refused.get(k), str) for k in ("why", "instead"))
        ):
            raise wrong(name, "not_rotated must say why and instead (two texts)")
        also_on = entry.get("also_on", [])
        if not _text_list(also_on):
            raise wrong(name, "also_on must be a list of group names")
        if not refused and not isinstance(entry.get("rotation"), str):
            raise wrong(
                name, "say what a rotation does (rotation), or why there is none (not_rotated)"
            )
        out.append(
            SecretSpec(
                name=name,
                describe=str(entry.get("describe", name)),
                generate=made,
                rotation=entry.get("rotation"),
                not_rotated=(refused["why"], refused["instead"]) if refused else None,
                groups=tuple(dict.fromkeys([*groups, *also_on])),
            )
        )
    return out


@cache
def specs() -> tuple[SecretSpec, ...]:
    """Every secret of the stack: those each role of the registry declares in its
    meta/secret_specs.yml, in the registry's order (a module's secrets come with its roles)."""
    from cli import collection, registry

    logic = registry.logic()
    out: dict[str, SecretSpec] = {}
    done: set[str] = set()  # a role in two modules declares its secrets once
    for module in registry.raw_registry().values():
        for role in module.get("roles", []):
            path = collection.roles() / role / "meta" / "secret_specs.yml"
            if role in done or not path.is_file():
                continue
            done.add(role)
            groups = logic.role_groups(module, role)
            if logic.EVERY_STACK_HOST in groups:
                groups = registry.stack_groups()
            for spec in _role_secrets(role, groups, path):
                if spec.name in out:
                    raise LlmError(
                        f"the secret {spec.name} is declared twice (again by the role {role})",
                        f"keep it in one role's meta/secret_specs.yml ({path})",
                    )
                out[spec.name] = spec
    return tuple(out.values())


def read_text(path: Path) -> str:
    """A private file's text, decrypted when it is vault-encrypted (secrets.yml, accounts.yml)."""
    raw = path.read_bytes()
    if vault.is_encrypted(path):
        return vault.decrypt(raw, vault.password_file(), path)
    return utf8(raw, path)


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
    missing = [spec for spec in specs() if not current.get(spec.name)]
    if missing:
        updated = dict(current)
        for spec in missing:
            updated[spec.name] = spec.generate()
        _write(path, updated)
    elif stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        path.chmod(FILE_MODE)
    return [spec.name for spec in missing]


def spec(name: str) -> SecretSpec:
    """The secret called name; an unknown name is an error that lists them."""
    found = next((s for s in specs() if s.name == name), None)
    if found is None:
        known = ", ".join(s.name for s in specs())
        raise LlmError(f"unknown secret {name!r}", f"secrets: {known}")
    return found


def rotate(path: Path, name: str) -> None:
    """Replace one secret with a new value (the file stays 0600)."""
    spec_ = spec(name)
    current = load(path)
    _write(path, {**current, name: spec_.generate()})
