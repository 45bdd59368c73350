"""`llm keys add|list|revoke NAME`: API keys for the Ollama API through the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli import config_file, inventory, keystore, pending, prompts, registry, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import (
    AnsibleOptions,
    ansible_options,
    collect_ansible_options,
    refuse_check,
    stack_dir_option,
)
from cli.stack import StackDir, resolve_dir


@click.group()
def keys() -> None:
    """API keys for the Ollama API through the gateway (security module)."""


def _prepare(stack: StackDir, opts: AnsibleOptions) -> Path | None:
    """Everything that could refuse the run, checked before api-keys.yml changes: the
    inventory to send the list to (None: the module is off, nothing to send yet)."""
    if "security" not in registry.enabled(config_file.load(stack.config).get("llm_modules")):
        return None
    runner.check_settings(stack)
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    if not inventory.group_hosts(inventory_path, opts.limit, "llm_gateway"):
        where = f" matching --limit {opts.limit!r}" if opts.limit else ""
        raise LlmError(
            f"no gateway (group llm_gateway){where} in {inventory_path}",
            "the keys go to the gateways: name one, or leave out --limit",
        )
    return inventory_path


def _apply(stack: StackDir, opts: AnsibleOptions, inventory_path: Path | None, change: str) -> int:
    """Send the list of hashes to the gateways, when the gateway is deployed. A gateway
    it does not reach stays recorded as lacking the change (cli.pending)."""
    if inventory_path is None:
        click.echo(
            "The security module is not enabled: the key takes effect after "
            "'llm modules enable security' and 'llm install'."
        )
        return EXIT_OK
    from cli.display import RunDisplay

    click.echo("sending the list of keys to the gateways")
    targets = inventory.group_hosts(inventory_path, opts.limit, "llm_gateway")
    job = runner.PlaybookRun.from_options(
        "keys", inventory_path, opts, change=change, targets=targets
    )
    code = runner.run(stack, job, RunDisplay(verbose=opts.verbosity > 0))
    if code == EXIT_OK:
        click.echo(f"{change}: every gateway reached has it")
    return code


@keys.command(name="add")
@click.argument("name")
@stack_dir_option
@ansible_options(check=False)
def add(name: str, stack_dir: Path | None, **ansible_args: Any) -> int:
    """Make a key for NAME (a person or a script), shown once, and let it in."""
    opts = collect_ansible_options(**ansible_args)
    refuse_check(opts, "keys add", "a key is made and recorded before the gateways learn it")
    stack = StackDir(resolve_dir(stack_dir)).require()
    keystore.check_name(name)
    inventory_path = _prepare(stack, opts)
    key = keystore.add(stack.api_keys, name)
    click.echo(f"API key for {name} (shown once; only its hash is kept):\n\n  {key}\n")
    click.echo("Use it as 'Authorization: Bearer <key>' with https://<gateway>/ollama/v1 "
               "(OpenAI-compatible) or https://<gateway>/ollama/api/... (native).")  # fmt: skip
    return _apply(stack, opts, inventory_path, f"{name}'s key added")


@keys.command(name="sync")
@stack_dir_option
@ansible_options(check=False)
def sync(stack_dir: Path | None, **ansible_args: Any) -> int:
    """Send the list of keys to every gateway again (finishes an add or revoke that
    did not reach them all)."""
    opts = collect_ansible_options(**ansible_args)
    refuse_check(opts, "keys sync", "it only sends the list the gateways already should have")
    stack = StackDir(resolve_dir(stack_dir)).require()
    return _apply(stack, opts, _prepare(stack, opts), "the list of keys sent again")


@keys.command(name="list")
@stack_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print {name: sha256} as JSON.")
def list_keys(stack_dir: Path | None, as_json: bool) -> int:
    """Show the keys' names and fingerprints (never the keys)."""
    stack = StackDir(resolve_dir(stack_dir)).require()
    known = keystore.load(stack.api_keys)
    if as_json:
        click.echo(json.dumps(known, indent=2, sort_keys=True))
    elif not known:
        click.echo("No API keys yet: llm keys add NAME")
    else:
        for name, digest in sorted(known.items()):
            click.echo(f"{name:<24} sha256:{digest[:16]}")
    for change, lacking in sorted(pending.lacking(stack.runs, "keys").items()):
        click.echo(
            f"not yet on {', '.join(lacking)}, which go by an older list: {change} "
            f"({pending.FINISH['keys']})",
            err=True,
        )
    return EXIT_OK


@keys.command(name="revoke")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@stack_dir_option
@ansible_options(check=False)
def revoke(name: str, yes: bool, stack_dir: Path | None, **ansible_args: Any) -> int:
    """Refuse NAME's key from now on, on every gateway."""
    opts = collect_ansible_options(**ansible_args)
    refuse_check(opts, "keys revoke", "the key is struck from the list the gateways then get")
    stack = StackDir(resolve_dir(stack_dir)).require()
    change = f"{name}'s key revoked"
    if name not in keystore.load(stack.api_keys):
        lacking = pending.lacking(stack.runs, "keys").get(change)
        if lacking:
            # The earlier revoke reached only some gateways: this one finishes it.
            click.echo(f"{name}'s key is revoked here; {', '.join(lacking)} still let it in")
            return _apply(stack, opts, _prepare(stack, opts), change)
        keystore.revoke(stack.api_keys, name)  # raises, naming the keys there are
    inventory_path = _prepare(stack, opts)
    prompts.confirm(f"Revoke the API key {name}?", f"revoking {name}'s API key", yes)
    keystore.revoke(stack.api_keys, name)
    click.echo(f"Revoked {name}'s key in {stack.api_keys}.")
    return _apply(stack, opts, inventory_path, change)
