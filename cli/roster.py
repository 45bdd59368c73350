"""The class roster: a CSV of student accounts, checked as LibreChat would check them.

Header row required; columns (any case, surrounding spaces ignored):

- ``email``, ``name``, ``username``: required;
- ``password``: optional, generated when empty;
- ``tokens``: optional token allowance, a whole number in digits only (``1000``, not ``1,000``);
- ``host``: optional chat host (inventory name) the account lives on; empty = every chat host;
- ``role``: ``student`` (default) or ``teacher`` (at most one teacher in a roster).

UTF-8 with or without a BOM, quoted fields, CRLF or LF line ends; blank rows are
skipped; spaces around every value are ignored (a password cannot begin or end
with a space). Every row is checked before anything happens and every problem is
reported at once, each with the line of the file where its row starts.

The account rules are LibreChat's own registration schema (``registerSchema`` in
danny-avila/LibreChat ``api/strategies/validators.js``, which ``registerUser`` in
``api/server/services/AuthService.js`` applies to accounts that ``npm run
create-user`` makes), and its user model (``packages/data-schemas/src/schema/user.ts``:
``username`` and ``email`` are stored lowercase):

- name: ``z.string().min(3).max(80)``;
- username: ``.min(2).max(80)``, every character in ``a-zA-Z0-9_.@#$%&*()`` or the
  Latin, Common, Cyrillic, Devanagari, Han, Arabic, Hiragana, Katakana or Hangul
  scripts, and none of ``' -- $ne $gt $lt $or { } * ; < > / =`` (its injection check);
- email: ``z.string().email()`` (zod 3's email pattern, below);
- password: ``.min(MIN_PASSWORD_LENGTH).max(128)``, not only spaces, where
  ``MIN_PASSWORD_LENGTH = parseInt(process.env.MIN_PASSWORD_LENGTH, 10) || 8``.

Lengths are JavaScript string lengths (UTF-16 code units), as zod measures them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cli import collection
from cli.errors import EXIT_USAGE, LlmError

# LibreChat api/strategies/validators.js: parseInt(process.env.MIN_PASSWORD_LENGTH, 10) || 8
DEFAULT_MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128  # validators.js: password .max(128)
NAME_LENGTH = (3, 80)  # validators.js registerSchema: name z.string().min(3).max(80)
USERNAME_LENGTH = (2, 80)  # validators.js usernameSchema: .min(2).max(80)

# validators.js injectionPatternsRegex, verbatim (flags: i).
_INJECTION = re.compile(r"('|--|\$ne|\$gt|\$lt|\$or|\{|\}|\*|;|<|>|/|=)", re.IGNORECASE)
# validators.js allowedCharactersRegex lists \p{Script=...} classes, which Python's re
# lacks. Every ASCII character is Script=Latin or Script=Common, so ASCII is exact; other
# characters are judged by their Unicode name (the scripts below) or, for Common, by
# being punctuation, a symbol or a separator: close, not exact, for rare characters.
_SCRIPT_NAMES = (
    "LATIN ",
    "FULLWIDTH LATIN ",
    "CYRILLIC ",
    "DEVANAGARI ",
    "CJK UNIFIED IDEOGRAPH",
    "CJK COMPATIBILITY IDEOGRAPH",
    "ARABIC ",
    "HIRAGANA ",
    "KATAKANA ",
    "HALFWIDTH KATAKANA ",
    "HANGUL ",
    "HALFWIDTH HANGUL ",
)
# JavaScript's Number.MAX_SAFE_INTEGER: LibreChat keeps balances as Numbers.
_MAX_TOKENS = 2**53 - 1

REQUIRED = ("email", "name", "username")
OPTIONAL = ("password", "tokens", "host", "role")
COLUMNS = REQUIRED + OPTIONAL
STUDENT, TEACHER = "student", "teacher"
ROLES = (STUDENT, TEACHER)
_FORMAT_HINT = (
    "a roster is a CSV file with a header row: email,name,username "
    "and optionally password,tokens,host,role"
)


class RosterError(LlmError):
    """The roster has problems; `problems` lists them, one line each, in file order."""

    exit_code = EXIT_USAGE

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{source}: {count} problem{'s' if count != 1 else ''}, nothing was changed"
        super().__init__(
            heading + "\n" + "\n".join(self.problems),
            "fix the roster and run the import again",
        )


@dataclass(frozen=True)
class Account:
    """One checked roster row. `username` is lowercase, as LibreChat stores it."""

    line: int
    email: str
    name: str
    username: str
    password: str | None = field(repr=False)
    tokens: int | None
    host: str | None
    role: str = STUDENT

    @property
    def email_key(self) -> str:
        return self.email.lower()

    @property
    def is_teacher(self) -> bool:
        return self.role == TEACHER


def js_length(text: str) -> int:
    """String length as JavaScript (and so zod) counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _username_char_allowed(char: str) -> bool:
    if char.isascii():
        return True
    if unicodedata.name(char, "").startswith(_SCRIPT_NAMES):
        return True
    return unicodedata.category(char)[0] in "PSZ"


def username_problem(username: str) -> str | None:
    """Why LibreChat's registration would refuse this username, or None."""
    low, high = USERNAME_LENGTH
    if not low <= js_length(username) <= high:
        return f"username {username!r} must be {low} to {high} characters long"
    bad = sorted({c for c in username if not _username_char_allowed(c)})
    if bad:
        return (
            f"username {username!r} has characters LibreChat refuses: {' '.join(bad)} "
            "(use letters, digits and _ . @ # $ % & ( ))"
        )
    found = _INJECTION.search(username)
    if found:
        return (
            f"username {username!r} contains {found.group(0)!r}, which LibreChat refuses "
            "(none of ' -- $ne $gt $lt $or { } * ; < > / = may appear)"
        )
    return None


def name_problem(name: str) -> str | None:
    low, high = NAME_LENGTH
    if not low <= js_length(name) <= high:
        return f"name {name!r} must be {low} to {high} characters long (LibreChat's rule)"
    return None


def email_problem(email: str) -> str | None:
    if not collection.module_utils("settings").EMAIL.fullmatch(email):
        return f"email {email!r} is not a valid address (like alice@school.example)"
    return None


def password_problem(password: str, min_length: int = DEFAULT_MIN_PASSWORD_LENGTH) -> str | None:
    """Why LibreChat would refuse this password; never shows the password itself."""
    length = js_length(password)
    if length < min_length:
        return f"password is too short: {length} characters, LibreChat needs at least {min_length}"
    if length > MAX_PASSWORD_LENGTH:
        return f"password is too long: {length} characters, LibreChat allows {MAX_PASSWORD_LENGTH}"
    if not password.strip():
        return "password cannot be only spaces"
    return None


def _tokens(value: str) -> tuple[int | None, str | None]:
    if not value:
        return None, None
    if not re.fullmatch(r"[0-9]+", value):
        return None, (
            f"tokens {value!r} must be a whole number written with digits only, "
            "no separators or units (e.g. 50000)"
        )
    number = int(value)
    if number > _MAX_TOKENS:
        return None, f"tokens {value!r} is too large (at most {_MAX_TOKENS})"
    return number, None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LlmError(f"roster {path} not found", f"check the path; {_FORMAT_HINT}") from None
    except IsADirectoryError:
        raise LlmError(
            f"roster {path} is a directory", f"give the CSV file; {_FORMAT_HINT}"
        ) from None
    except OSError as exc:
        raise LlmError(
            f"cannot read roster {path}: {exc.strerror}", "check the file's permissions"
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterError(
            path.name,
            [
                f"{path.name} line {line}: the file is not UTF-8 text "
                f"(byte 0x{data[exc.start]:02x}); save it as 'CSV UTF-8' "
                "(a spreadsheet's own format such as .xlsx is not CSV)"
            ],
        ) from None


def read_roster(
    path: Path,
    chat_hosts: Sequence[str],
    *,
    min_password_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
) -> list[Account]:
    """Read and check the whole roster; raise RosterError listing every problem."""
    text = _read_text(path)
    where = path.name
    problems: list[tuple[int, str]] = []

    def problem(line: int, message: str) -> None:
        problems.append((line, f"{where} line {line}: {message}"))

    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    consumed = 0  # physical lines read so far: the next row starts on consumed + 1
    try:
        for row in reader:
            start, consumed = consumed + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise RosterError(
            where,
            [f"{where} line {reader.line_num}: not readable as CSV ({exc}); {_FORMAT_HINT}"],
        ) from None

    if not rows:
        raise RosterError(where, [f"{where}: the file is empty; {_FORMAT_HINT}"])

    header_line, header = rows[0]
    columns = [cell.strip().lower() for cell in header]
    positions: dict[str, int] = {}
    for index, column in enumerate(columns):
        if column in positions:
            problem(header_line, f"column {column!r} appears twice in the header")
        elif column in COLUMNS:
            positions[column] = index
        elif column:
            problem(
                header_line,
                f"unknown column {header[index].strip()!r} (columns: {', '.join(COLUMNS)})",
            )
        else:
            problem(header_line, f"column {index + 1} of the header has no name")
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        problem(
            header_line,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the first row must be the header ({_FORMAT_HINT})",
        )
        raise RosterError(where, [m for _, m in problems])
    if len(rows) == 1:
        problem(header_line, "the roster has a header but no accounts")

    hosts = set(chat_hosts)
    accounts: list[Account] = []
    emails: dict[str, int] = {}
    usernames: dict[str, int] = {}
    teachers: list[int] = []
    for line, row in rows[1:]:
        if len(row) > len(columns):
            problem(
                line,
                f"{len(row)} fields but the header has {len(columns)} columns "
                "(quote a value that contains a comma)",
            )
            continue

        def get(column: str, row: list[str] = row) -> str:
            index = positions.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        values = {column: get(column) for column in COLUMNS}
        ok = True
        for column in REQUIRED:
            if not values[column]:
                problem(line, f"{column} is empty")
                ok = False
        email, name, username = values["email"], values["name"], values["username"]
        checks = [
            email_problem(email) if email else None,
            name_problem(name) if name else None,
            username_problem(username) if username else None,
            password_problem(values["password"], min_password_length)
            if values["password"]
            else None,
        ]
        tokens, tokens_problem = _tokens(values["tokens"])
        checks.append(tokens_problem)
        host = values["host"] or None
        if host is not None and host not in hosts:
            known = ", ".join(sorted(hosts)) or "none"
            checks.append(
                f"host {host!r} is not a chat host in the inventory (chat hosts: {known})"
            )
        role = values["role"].lower() or STUDENT
        if role not in ROLES:
            checks.append(f"role {values['role']!r} must be {STUDENT} or {TEACHER}")
        for message in checks:
            if message:
                problem(line, message)
                ok = False

        if email:
            first = emails.setdefault(email.lower(), line)
            if first != line:
                problem(line, f"email {email!r} is also on line {first}")
                ok = False
        if username:
            first = usernames.setdefault(username.lower(), line)
            if first != line:
                problem(
                    line,
                    f"username {username!r} is also on line {first} "
                    "(LibreChat stores usernames lowercase)",
                )
                ok = False
        if role == TEACHER:
            teachers.append(line)
        if ok:
            accounts.append(
                Account(
                    line=line,
                    email=email,
                    name=name,
                    username=username.lower(),
                    password=values["password"] or None,
                    tokens=tokens,
                    host=host,
                    role=role,
                )
            )
    if len(teachers) > 1:
        lines = ", ".join(str(n) for n in teachers)
        problem(
            teachers[1],
            f"more than one teacher (lines {lines}): a roster has at most one teacher, "
            "the account LibreChat makes its administrator",
        )
    if problems:
        problems.sort(key=lambda item: item[0])
        raise RosterError(where, [message for _, message in problems])
    return accounts
