"""Check an inventory and a --limit before Ansible runs, so mistakes cost nothing."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cli import registry
from cli.errors import LlmError


def resolve(path: str | os.PathLike[str] | None, default: Path) -> Path:
    """The inventory file to use: --inventory if given, else the stack's own."""
    chosen = Path(path).expanduser() if path else default
    if not chosen.exists():
        where = f" (looked in {chosen.resolve().parent})" if path else ""
        raise LlmError(
            f"inventory file {chosen} not found{where}",
            "check the path, or run 'llm init' for the default localhost inventory",
        )
    return chosen.resolve()


@contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Keep Ansible's parser warnings off the terminal; hand them to the caller."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().splitlines())


def _parse_reason(path: Path, warnings: list[str], exc: Exception) -> str:
    """The parser's own words for why the file is not an inventory."""
    plugin = "yaml" if path.suffix in (".yml", ".yaml") else "ini"
    pattern = re.compile(r"Failed to parse inventory with '(\w+)' plugin: (.*)")
    found = [m for m in map(pattern.search, warnings) if m]
    for match in found:
        if match.group(1) == plugin:
            return match.group(2)
    if found:
        return found[0].group(2)
    return str(exc).strip().splitlines()[0]


def stack_hosts(path: Path, limit: str | None) -> list[str]:
    """Hosts of the stack's groups that the run will touch; errors when there are none."""
    return _inspect(path, limit)[1]


def group_hosts(path: Path, limit: str | None, group: str) -> list[str]:
    """The hosts of one stack group that the run will touch (may be none)."""
    members, selected = _inspect(path, limit)
    return sorted(set(selected) & set(members.get(group, [])))


def empty_groups(path: Path, groups: Iterable[str]) -> list[str]:
    """Those of the stack groups given that have no host in the inventory at all (whatever
    a --limit): a module cannot deploy on them."""
    members, _ = _inspect(path, None)
    return [group for group in groups if not members.get(group)]


def any_group_hosts(path: Path, limit: str | None, group: str) -> list[str]:
    """The hosts of any inventory group (the classroom PCs of `llm tls ca --install-on`,
    which need not run the stack), within --limit."""
    manager = _load(path)
    if group not in manager.groups:
        return []
    members = {h.name for h in manager.groups[group].get_hosts()}
    if limit:
        with _captured_stderr():
            manager.subset(limit)
            members &= {h.name for h in manager.get_hosts("all")}
    return sorted(members)


def members(path: Path) -> dict[str, list[str]]:
    """Group -> its hosts, in the inventory's order, read as Ansible reads it, without the
    stack's checks (an inventory of classroom PCs only is fine here)."""
    manager = _load(path)
    # Plain str: Ansible's names are tagged str subclasses that YAML cannot write.
    return {
        str(name): [str(h.name) for h in group.get_hosts()]
        for name, group in manager.groups.items()
    }


def _load(path: Path) -> Any:
    """Ansible's own view of the inventory, or one line saying why it cannot be read."""
    # Fail on an inventory Ansible cannot parse instead of treating it as a host list.
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_FAILED", "True")
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    with _captured_stderr() as warnings:
        try:
            manager = InventoryManager(loader=DataLoader(), sources=[str(path)])
            error = None
        except AnsibleError as exc:
            error = exc
    if error is not None:
        raise LlmError(
            f"inventory {path} cannot be read: {_parse_reason(path, warnings, error)}",
            "fix the file (INI or YAML inventory format)",
        )
    return manager


def _inspect(path: Path, limit: str | None) -> tuple[dict[str, list[str]], list[str]]:
    """(stack group -> hosts, hosts the run will touch), with the checks above."""
    manager = _load(path)
    stack_groups = registry.stack_groups()
    members = {
        group: [h.name for h in manager.groups[group].get_hosts()]
        if group in manager.groups
        else []
        for group in stack_groups
    }
    in_stack = {host for hosts in members.values() for host in hosts}
    if not in_stack:
        raise LlmError(
            f"inventory {path} puts no host in any of the groups {', '.join(stack_groups)}",
            "add hosts to those groups (see inventories/ for examples)",
        )
    if members["llm_chat"] and not members["llm_ollama"]:
        raise LlmError(
            f"inventory {path} has chat hosts but no host in llm_ollama for LibreChat to use",
            "add at least one Ollama host to the llm_ollama group",
        )
    if limit:
        from ansible.errors import AnsibleError

        try:
            with _captured_stderr():
                manager.subset(limit)
                selected = {h.name for h in manager.get_hosts("all")} & in_stack
        except AnsibleError as exc:
            raise LlmError(
                f"--limit {limit!r} cannot be used with {path}: {exc.message}",
                "give host or group names, patterns such as 'gpu-*', or @FILE of host names",
            ) from None
        if not selected:
            raise LlmError(
                f"--limit {limit!r} matches no host of the stack in {path}",
                f"hosts there: {', '.join(sorted(in_stack))}",
            )
        return members, sorted(selected)
    return members, sorted(in_stack)
