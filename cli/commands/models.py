"""`llm models list|add|remove|sync`: the models on every Ollama host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli import inventory, model_names, prompts, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import AnsibleOptions, ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.group()
def models() -> None:
    """List, add, remove or sync the models on every Ollama host."""


def _prepare(
    stack_dir: Path | None, ansible_args: dict[str, Any]
) -> tuple[StackDir, Path, AnsibleOptions]:
    opts = collect_ansible_options(**ansible_args)
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    if not inventory.group_hosts(inventory_path, opts.limit, "llm_ollama"):
        where = f" matching --limit {opts.limit!r}" if opts.limit else ""
        raise LlmError(f"no Ollama host (group llm_ollama){where} in {inventory_path}")
    return stack, inventory_path, opts


def _run(stack: StackDir, inventory_path: Path, opts: AnsibleOptions, playbook: str,
         extra: dict[str, Any], display: Any, change: str | None = None) -> int:  # fmt: skip
    targets = inventory.group_hosts(inventory_path, opts.limit, "llm_ollama") if change else None
    job = runner.PlaybookRun.from_options(
        playbook, inventory_path, opts, extra_vars=extra, change=change, targets=targets
    )
    return runner.run(stack, job, display)


@models.command(name="list")
@stack_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print {host: {model: bytes}} as JSON.")
@ansible_options
def list_models(stack_dir: Path | None, as_json: bool, **ansible_args: Any) -> int:
    """Show which host has which model, with sizes."""
    stack, inventory_path, opts = _prepare(stack_dir, ansible_args)
    from cli.display import RunDisplay
    from cli.pull_view import matrix, models_by_host

    display = RunDisplay(verbose=opts.verbosity > 0, quiet=True)
    code = _run(stack, inventory_path, opts, "status", {}, display)
    by_host = models_by_host(display.state)
    if as_json:
        # A host that did not answer is named too: null (its reason is on stderr).
        failed = {h.name: None for h in display.state.hosts.values() if h.status != "ok"}
        click.echo(json.dumps({**failed, **by_host}, indent=2, sort_keys=True))
    else:
        display.console.print(matrix(by_host))
    return code


def _change(stack_dir: Path | None, action: str, names: list[str], extra: dict[str, Any],
            ansible_args: dict[str, Any]) -> int:  # fmt: skip
    stack, inventory_path, opts = _prepare(stack_dir, ansible_args)
    from cli.pull_view import ModelsDisplay, matrix, models_by_host

    display = ModelsDisplay(verbose=opts.verbosity > 0)
    code = _run(
        stack,
        inventory_path,
        opts,
        "models",
        {"llm_models_action": action, "llm_models": names, **extra},
        display,
        change=f"models {action} {' '.join(sorted(names))}".rstrip(),
    )
    by_host = models_by_host(display.state)
    if by_host:
        display.console.print(matrix(by_host))
    return code


@models.command()
@stack_dir_option
@click.argument("names", nargs=-1, required=True, metavar="MODEL...")
@ansible_options
def add(stack_dir: Path | None, names: tuple[str, ...], **ansible_args: Any) -> int:
    """Pull models onto every Ollama host (or --limit), with progress per host."""
    return _change(stack_dir, "add", model_names.check(names), {}, ansible_args)


@models.command()
@stack_dir_option
@click.argument("names", nargs=-1, required=True, metavar="MODEL...")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@ansible_options
def remove(stack_dir: Path | None, names: tuple[str, ...], yes: bool, **ansible_args: Any) -> int:
    """Delete models from every Ollama host (or --limit)."""
    checked = model_names.check(names)
    what = f"delete {', '.join(checked)} from the Ollama hosts"
    if not ansible_args.get("check"):  # --check deletes nothing: nothing to confirm
        prompts.confirm(f"{what[0].upper()}{what[1:]}?", f"this would {what}", yes)
    return _change(stack_dir, "remove", checked, {}, ansible_args)


@models.command()
@stack_dir_option
@click.option("--prune", is_flag=True, help="Also delete models not in the configured list.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before pruning.")
@ansible_options
def sync(stack_dir: Path | None, prune: bool, yes: bool, **ansible_args: Any) -> int:
    """Make every Ollama host serve the configured models (ollama_models)."""
    if prune and not ansible_args.get("check"):
        prompts.confirm(
            "Delete every model that is not in ollama_models?",
            "--prune would delete every model that is not in ollama_models",
            yes,
        )
    code = _change(stack_dir, "sync", [], {"llm_models_prune": prune}, ansible_args)
    return code if code else EXIT_OK
