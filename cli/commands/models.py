"""`llm models list|add|remove|sync`: the models on every Ollama host."""

from __future__ import annotations

import json
from typing import Any

import click

from cli import inventory, model_names, prompts
from cli.errors import EXIT_OK, LlmError
from cli.playbook_command import Target, playbook_command


@click.group()
def models() -> None:
    """List, add, remove or sync the models on every Ollama host."""


def _ollama_hosts(target: Target) -> list[str]:
    """The Ollama hosts within --limit; none is an error."""
    hosts = inventory.group_hosts(target.inventory, target.opts.limit, "llm_ollama")
    if not hosts:
        limit = target.opts.limit
        where = f" matching --limit {limit!r}" if limit else ""
        raise LlmError(f"no Ollama host (group llm_ollama){where} in {target.inventory}")
    return hosts


@models.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print {host: {model: bytes}} as JSON.")
@playbook_command()
def list_models(target: Target, as_json: bool) -> int:
    """Show which host has which model, with sizes."""
    _ollama_hosts(target)
    from cli.display import RunDisplay
    from cli.pull_view import matrix, models_by_host

    display = RunDisplay(verbose=target.opts.verbosity > 0, quiet=True)
    code = target.run("status", display)
    by_host = models_by_host(display.state)
    if as_json:
        # A host that did not answer is named too: null (its reason is on stderr).
        failed = {h.name: None for h in display.state.hosts.values() if h.status != "ok"}
        click.echo(json.dumps({**failed, **by_host}, indent=2, sort_keys=True))
    else:
        display.console.print(matrix(by_host))
    return code


def _change(target: Target, action: str, names: list[str], extra: dict[str, Any]) -> int:
    hosts = _ollama_hosts(target)
    from cli.pull_view import ModelsDisplay, matrix, models_by_host

    display = ModelsDisplay(verbose=target.opts.verbosity > 0)
    code = target.run(
        "models",
        display,
        extra_vars={"llm_models_action": action, "llm_models": names, **extra},
        change=f"models {action} {' '.join(sorted(names))}".rstrip(),
        targets=hosts,
    )
    by_host = models_by_host(display.state)
    if by_host:
        display.console.print(matrix(by_host))
    return code


@models.command()
@click.argument("names", nargs=-1, required=True, metavar="MODEL...")
@playbook_command()
def add(target: Target, names: tuple[str, ...]) -> int:
    """Pull models onto every Ollama host (or --limit), with progress per host."""
    return _change(target, "add", model_names.check(names), {})


@models.command()
@click.argument("names", nargs=-1, required=True, metavar="MODEL...")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@playbook_command()
def remove(target: Target, names: tuple[str, ...], yes: bool) -> int:
    """Delete models from every Ollama host (or --limit)."""
    checked = model_names.check(names)
    what = f"delete {', '.join(checked)} from the Ollama hosts"
    if not target.opts.check:  # --check deletes nothing: nothing to confirm
        prompts.confirm(f"{what[0].upper()}{what[1:]}?", f"this would {what}", yes)
    return _change(target, "remove", checked, {})


@models.command()
@click.option("--prune", is_flag=True, help="Also delete models not in the configured list.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before pruning.")
@playbook_command()
def sync(target: Target, prune: bool, yes: bool) -> int:
    """Make every Ollama host serve the configured models (ollama_models)."""
    if prune and not target.opts.check:
        prompts.confirm(
            "Delete every model that is not in ollama_models?",
            "--prune would delete every model that is not in ollama_models",
            yes,
        )
    code = _change(target, "sync", [], {"llm_models_prune": prune})
    return code if code else EXIT_OK
