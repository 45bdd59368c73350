"""Check an inventory and a --limit before Ansible runs, so mistakes cost nothing."""

from __future__ import annotations

import os
from pathlib import Path

from cli.errors import LlmError

STACK_GROUPS = ("llm_ollama", "llm_chat", "llm_gateway", "llm_monitoring")


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


def stack_hosts(path: Path, limit: str | None) -> list[str]:
    """Hosts of the stack's groups that the run will touch; errors when there are none."""
    # Fail on an inventory Ansible cannot parse instead of treating it as a host list.
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_FAILED", "True")
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    try:
        manager = InventoryManager(loader=DataLoader(), sources=[str(path)])
    except AnsibleError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise LlmError(
            f"inventory {path} cannot be read: {first_line}",
            "fix the file (INI or YAML inventory format)",
        ) from exc

    pattern = ":".join(STACK_GROUPS)
    in_stack = {h.name for h in manager.get_hosts(pattern)}
    if not in_stack:
        raise LlmError(
            f"inventory {path} puts no host in any of the groups {', '.join(STACK_GROUPS)}",
            "add hosts to those groups (see inventories/ for examples)",
        )
    if limit:
        manager.subset(limit)
        selected = [h.name for h in manager.get_hosts(pattern)]
        if not selected:
            raise LlmError(
                f"--limit {limit!r} matches no host of the stack in {path}",
                f"hosts there: {', '.join(sorted(in_stack))}",
            )
        return selected
    return sorted(in_stack)
