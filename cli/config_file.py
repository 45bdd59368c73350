"""Read and update config.yml while keeping its comments and layout.

An update replaces only the lines of the one top-level key it changes (or
appends it), then re-reads the file to prove the result says what was meant.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from cli.errors import LlmError, utf8


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(utf8(path.read_bytes(), path)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise LlmError(
            f"{path}{where} is not valid YAML", "fix it with 'llm config edit'"
        ) from None
    if not isinstance(data, dict):
        raise LlmError(f"{path} must be a mapping of settings (key: value)")
    problem = name_problem(data)
    if problem:
        raise LlmError(f"{path}: {problem}", "fix it with 'llm config edit'")
    return data


def name_problem(data: dict[Any, Any]) -> str | None:
    """A key that is not text (1: x, true: y) cannot be a setting's name."""
    odd = [key for key in data if not isinstance(key, str)]
    return f"{odd[0]!r} is not a setting name (names are words, e.g. ollama_port)" if odd else None


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) of the lines holding key's value, or None."""
    head = re.compile(rf"^{re.escape(key)}\s*:")
    for start, line in enumerate(lines):
        if head.match(line):
            end = start + 1
            while end < len(lines) and (
                lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()
            ):
                end += 1
            # Blank lines at the end belong to the layout, not the value.
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1
            return start, end
    return None


def render(text: str, key: str, value: Any) -> str:
    lines = text.splitlines(keepends=True)
    new = yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False)
    span = _block(lines, key)
    if span is None:
        tail = "" if not lines or lines[-1].endswith("\n") else "\n"
        return text + tail + "\n" + new
    start, end = span
    return "".join(lines[:start]) + new + "".join(lines[end:])


def write_text(path: Path, text: str) -> None:
    """Atomically, keeping the file's mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    Path(tmp).chmod(mode)
    Path(tmp).replace(path)


def set_value(path: Path, key: str, value: Any) -> None:
    text = utf8(path.read_bytes(), path)
    updated = render(text, key, value)
    check = yaml.safe_load(updated) or {}
    before = yaml.safe_load(text) or {}
    if check.get(key) != value or {k: v for k, v in check.items() if k != key} != {
        k: v for k, v in before.items() if k != key
    }:
        raise LlmError(f"could not update {key} in {path} safely: edit it with 'llm config edit'")
    write_text(path, updated)
