"""`llm modules list|enable|disable NAME`: the stack's optional parts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli import config_file, config_schema, inventory, registry, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import stack_dir_option
from cli.stack import StackDir, resolve_dir


def _chosen(stack: StackDir) -> list[str] | None:
    """llm_modules as config.yml has it (registry.enabled checks its shape)."""
    return config_file.load(stack.config).get("llm_modules")


def _state(module: registry.Module, enabled: list[str]) -> str:
    if not module.available:
        return "planned"
    if not module.optional:
        return "always on"
    return "enabled" if module.name in enabled else "disabled"


def _installed(stack: StackDir, inventory_path: Path) -> dict[str, list[str]] | None:
    """Service -> hosts it is deployed on, from one read-only status pass (None: no answer)."""
    from cli import status_view
    from cli.display import RunDisplay

    display = RunDisplay(quiet=True)
    job = runner.PlaybookRun(playbook="status", inventory=inventory_path)
    runner.run(stack, job, display)
    report = status_view.as_dict(display.state)
    if not any(entry.get("reachable") and "error" not in entry for entry in report.values()):
        return None
    found: dict[str, list[str]] = {}
    for host, entry in report.items():
        for service in entry.get("services") or {}:
            found.setdefault(service, []).append(host)
    return found


@click.group()
def modules() -> None:
    """List the stack's modules; enable or disable the optional ones."""


@modules.command(name="list")
@stack_dir_option
@click.option("-i", "--inventory", "inventory_file", type=click.Path(path_type=Path),
              help="Inventory file (default: the stack's own).")  # fmt: skip
@click.option("--no-probe", is_flag=True, help="Do not ask the hosts what is installed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
def list_modules(stack_dir: Path | None, inventory_file: Path | None, no_probe: bool,
                 as_json: bool) -> int:  # fmt: skip
    """Every module: what it deploys on which group, enabled or not, installed where."""
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(inventory_file, stack.inventory)
    enabled = registry.enabled(_chosen(stack))
    installed = None if no_probe else _installed(stack, inventory_path)
    rows: list[dict[str, Any]] = []
    for module in registry.modules().values():
        services = [s.name for s in module.services]
        hosts = sorted({h for s in services for h in (installed or {}).get(s, [])})
        members = {g: inventory.group_hosts(inventory_path, None, g) for g in module.groups}
        rows.append(
            {
                "module": module.name,
                "state": _state(module, enabled),
                "deploys": services or list(module.roles),
                "groups": {g: len(h) for g, h in members.items()},
                "installed_on": None if installed is None or not services else hosts,
                "description": module.description,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return EXIT_OK

    from rich.console import Console
    from rich.table import Table

    table = Table(title="Modules", title_justify="left")
    for column in ("module", "state", "deploys", "on group (hosts)", "installed on"):
        table.add_column(column)
    for row in rows:
        where = ", ".join(f"{g} ({n})" for g, n in row["groups"].items())
        if row["installed_on"] is None:
            on = "?" if installed is None and not no_probe else "-"
        else:
            on = ", ".join(row["installed_on"]) or "nowhere"
        table.add_row(row["module"], row["state"], ", ".join(row["deploys"]), where, on)
    console = Console()
    console.print(table)
    if installed is None and not no_probe:
        console.print("installed on: ? (no host answered: 'llm status' says why)")
    for row in rows:
        console.print(f"{row['module']}: {row['description']}", soft_wrap=True)
    return EXIT_OK


def _switch(stack_dir: Path | None, name: str, on: bool, inventory_file: Path | None) -> int:
    module = registry.module(name)
    if not module.optional:
        raise LlmError(f"module {name} is always on: it is the stack itself")
    stack = StackDir(resolve_dir(stack_dir)).require()
    if on and not module.available:
        raise LlmError(
            f"module {name} is planned but not in this version: "
            f"its role(s) {', '.join(registry.missing_roles(module))} are not in the collection",
            "'llm modules list' shows what can be enabled",
        )
    if on:
        inventory_path = inventory.resolve(inventory_file, stack.inventory)
        empty = inventory.empty_groups(inventory_path, module.groups)
        if empty:
            raise LlmError(
                f"module {name} deploys on the group {empty[0]}, which has no host in "
                f"{inventory_path}",
                f"add a host under [{empty[0]}] in the inventory (the chat host will do), "
                "then enable it again",
            )
    # Not checked for requires: enable and disable are how a value that breaks them is fixed.
    current = registry.enabled(_chosen(stack), requires=False)
    wanted = [
        m for m in registry.optional_modules() if (m == name and on) or (m != name and m in current)
    ]
    always = [m.name for m in registry.modules().values() if not m.optional]
    if on:
        missing = [m for m in module.requires if m not in wanted + always]
        if missing:
            raise LlmError(
                f"module {name} requires {', '.join(missing)}, which is not enabled",
                f"'llm modules enable {missing[0]}' first, then enable {name} again",
            )
    else:
        needing = [m for m in wanted if name in registry.module(m).requires]
        if needing:
            raise LlmError(
                f"module {', '.join(needing)} requires {name}",
                f"'llm modules disable {needing[0]}' first, then disable {name} again",
            )
    if (name in current) == on:
        click.echo(f"{name} is already {'enabled' if on else 'disabled'} in {stack.config}")
        return EXIT_OK
    problems = config_schema.validate({"llm_modules": wanted})
    if problems:
        raise LlmError(problems[0])
    config_file.set_value(stack.config, "llm_modules", wanted)
    click.echo(f"{name} {'enabled' if on else 'disabled'} in {stack.config} "
               f"(llm_modules: {', '.join(wanted) or 'none'})")  # fmt: skip
    if on:
        click.echo("next: 'llm install' deploys it ('llm install --check' to only look)")
    else:
        click.echo("next: 'llm install' removes its services (data, and drivers, stay)")
    return EXIT_OK


@modules.command()
@stack_dir_option
@click.option("-i", "--inventory", "inventory_file", type=click.Path(path_type=Path),
              help="Inventory whose groups must have hosts (default: the stack's).")  # fmt: skip
@click.argument("name")
def enable(stack_dir: Path | None, inventory_file: Path | None, name: str) -> int:
    """Deploy module NAME from the next 'llm install' on (recorded in config.yml)."""
    return _switch(stack_dir, name, True, inventory_file)


@modules.command()
@stack_dir_option
@click.argument("name")
def disable(stack_dir: Path | None, name: str) -> int:
    """Stop deploying module NAME; the next 'llm install' removes its services, keeps data."""
    return _switch(stack_dir, name, False, None)
