"""The controller's record of the accounts `llm users import` made (accounts.yml, mode 0600).

It holds each account's initial password (the roster's or a generated one), so a
second import of the same roster generates nothing new and can tell what
changed. Keyed by username (lowercase, as LibreChat stores it):

    accounts:
      alice:
        email: alice@school.example
        name: Alice Martin
        role: student
        host: null        # null: on every chat host
        tokens: 50000     # null: LibreChat's default allowance
        password: kmtr-7fqa-hx4p
        generated: true

The file is written atomically and never exists with a mode wider than 0600; if
it is vault-encrypted (like secrets.yml can be) it stays encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from cli import vault
from cli.errors import LlmError
from cli.passwords import DEFAULT_LENGTH, easy_password
from cli.roster import DEFAULT_MIN_PASSWORD_LENGTH, STUDENT, TEACHER, Account
from cli.secretstore import read_text, write_private

VARIABLE = "accounts"
# The fields an update can name, in the order they are reported.
FIELDS = ("email", "name", "role", "host", "tokens", "password")
_HINT = (
    "fix it by hand; the accounts it records keep their passwords on the chat hosts, so to "
    "start over remove them first ('llm users remove') or give each a new one "
    "('llm users reset-password')"
)


@dataclass(frozen=True)
class StoredAccount:
    """One account as made; repr and str never show the password."""

    username: str
    email: str
    name: str
    role: str
    host: str | None
    tokens: int | None
    password: str = field(repr=False)
    generated: bool

    def to_yaml(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "host": self.host,
            "tokens": self.tokens,
            "password": self.password,
            "generated": self.generated,
        }


def _parse(path: Path, username: object, entry: object) -> StoredAccount:
    def bad(what: str) -> LlmError:
        return LlmError(f"{path}: account {username!r}: {what}", _HINT)

    if not isinstance(username, str) or not isinstance(entry, dict):
        raise bad("must be a username mapping to its fields")
    for key in ("email", "name", "password"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise bad(f"{key} must be a non-empty string")
    role = entry.get("role", STUDENT)
    if role not in (STUDENT, TEACHER):
        raise bad(f"role must be {STUDENT} or {TEACHER}")
    host, tokens = entry.get("host"), entry.get("tokens")
    if host is not None and not isinstance(host, str):
        raise bad("host must be a string or null")
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool)):
        raise bad("tokens must be a whole number or null")
    return StoredAccount(
        username=username,
        email=entry["email"],
        name=entry["name"],
        role=role,
        host=host,
        tokens=tokens,
        password=entry["password"],
        generated=bool(entry.get("generated", False)),
    )


def load(path: Path) -> dict[str, StoredAccount]:
    """username -> StoredAccount; an absent file means no accounts yet."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise LlmError(f"{path} is not valid YAML", _HINT) from exc
    entries = data.get(VARIABLE) if isinstance(data, dict) else None
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise LlmError(f"{path}: {VARIABLE} must map usernames to accounts", _HINT)
    return {name: _parse(path, name, entry) for name, entry in entries.items()}


def save(path: Path, accounts: Mapping[str, StoredAccount], encrypted: bool | None = None) -> None:
    """Write the record (0600, atomic); an encrypted file stays encrypted unless told otherwise."""
    if encrypted is None:
        encrypted = vault.is_encrypted(path)
    text = (
        "# local-llm-stack: accounts made by 'llm users import' and their initial passwords.\n"
        "# Keep private (mode 0600), never commit.\n"
        + yaml.safe_dump(
            {VARIABLE: {name: accounts[name].to_yaml() for name in sorted(accounts)}},
            default_flow_style=False,
            sort_keys=False,
            allow_unicode=True,
        )
    )
    payload = vault.encrypt(text, vault.password_file()) if encrypted else text.encode("utf-8")
    write_private(path, payload)


@dataclass(frozen=True)
class PlannedAccount:
    """An account to create or update: its new state, and for an update what changed."""

    account: StoredAccount
    line: int
    changed: tuple[str, ...] = ()
    previous: StoredAccount | None = None

    @property
    def username(self) -> str:
        return self.account.username


@dataclass(frozen=True)
class ImportPlan:
    """What an import does. `remove` is only acted on when `prune` is set."""

    create: tuple[PlannedAccount, ...]  # the teacher first
    update: tuple[PlannedAccount, ...]
    unchanged: tuple[str, ...]
    remove: tuple[StoredAccount, ...]
    prune: bool

    @property
    def changes(self) -> int:
        """Accounts this import creates, updates or removes."""
        return len(self.create) + len(self.update) + (len(self.remove) if self.prune else 0)


def plan(
    roster: Sequence[Account],
    stored: Mapping[str, StoredAccount],
    *,
    prune: bool,
    min_password_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
) -> ImportPlan:
    """Compare a checked roster with the record of what exists.

    A row without a password keeps the stored one (never regenerated); a new
    account without one gets a generated password. Raises LlmError when a row's
    email belongs to another stored account or differs from its own account's
    (LibreChat's emails are unique, and its scripts can rename neither a username
    nor an email).
    """
    length = max(DEFAULT_LENGTH, min_password_length)
    in_roster = {row.username for row in roster}
    conflicts = []
    owners = {acc.email.lower(): acc.username for acc in stored.values()}
    for row in roster:
        owner = owners.get(row.email_key)
        if owner is not None and owner != row.username:
            conflicts.append(
                f"line {row.line}: email {row.email!r} belongs to the existing account {owner!r}"
                + ("" if owner in in_roster else " (no longer in the roster)")
            )
        old = stored.get(row.username)
        # The hosts find an account by its email: a new one would be a second account
        # for a username LibreChat already has, refused on every chat host.
        if old is not None and _differs("email", old.email, row.email):
            conflicts.append(
                f"line {row.line}: account {row.username!r} has the email {old.email!r}; "
                f"LibreChat's scripts cannot change it to {row.email!r}"
            )
    if conflicts:
        raise LlmError(
            "the roster changes what LibreChat's scripts cannot change:\n" + "\n".join(conflicts),
            "an account's username and email cannot be renamed: keep the old ones in the "
            "roster, or remove the account first with 'llm users remove USERNAME' (its "
            "conversations go with it) and import it again",
        )

    create: list[PlannedAccount] = []
    update: list[PlannedAccount] = []
    unchanged: list[str] = []
    for row in roster:
        old = stored.get(row.username)
        if old is None:
            password, generated = (
                (row.password, False) if row.password else (easy_password(length), True)
            )
            new = StoredAccount(
                username=row.username,
                email=row.email,
                name=row.name,
                role=row.role,
                host=row.host,
                tokens=row.tokens,
                password=password,
                generated=generated,
            )
            create.append(PlannedAccount(new, row.line))
            continue
        new = replace(
            old,
            email=row.email,
            name=row.name,
            role=row.role,
            host=row.host,
            tokens=row.tokens,
        )
        if row.password is not None and row.password != old.password:
            new = replace(new, password=row.password, generated=False)
        changed = tuple(f for f in FIELDS if _differs(f, getattr(old, f), getattr(new, f)))
        if changed:
            update.append(PlannedAccount(new, row.line, changed, old))
        else:
            unchanged.append(row.username)
    create.sort(key=lambda p: p.account.role != TEACHER)  # stable: roster order otherwise
    remove = tuple(stored[name] for name in sorted(stored) if name not in in_roster)
    return ImportPlan(tuple(create), tuple(update), tuple(unchanged), remove, prune)


def _differs(name: str, old: object, new: object) -> bool:
    if name == "email" and isinstance(old, str) and isinstance(new, str):
        return old.lower() != new.lower()  # LibreChat stores emails lowercase
    return old != new


def apply(
    plan: ImportPlan,
    stored: Mapping[str, StoredAccount],
) -> dict[str, StoredAccount]:
    """The record after the plan ran: created and updated accounts in, pruned ones out."""
    result = dict(stored)
    for planned in (*plan.create, *plan.update):
        result[planned.username] = planned.account
    if plan.prune:
        for gone in plan.remove:
            result.pop(gone.username, None)
    return result
