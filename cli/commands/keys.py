"""`llm keys add|list|revoke NAME`: API keys for the Ollama API through the gateway."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli import config_file, inventory, keystore, pending, prompts, registry, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import stack_dir_option
from cli.playbook_command import Target, playbook_command
from cli.stack import StackDir, resolve_dir

# The module these commands belong to (playbooks/vars/modules.yml).
MODULE = "security"


@click.group()
def keys() -> None:
    """API keys for the Ollama API through the gateway (security module)."""


def _prepare(target: Target) -> list[str] | None:
    """Everything that could refuse the run, checked before api-keys.yml changes: the
    gateways to send the list to (None: the module is off, nothing to send yet)."""
    stack, limit = target.stack, target.opts.limit
    if MODULE not in registry.enabled(config_file.load(stack.config).get("llm_modules")):
        target.check_given()
        return None
    runner.check_settings(stack)
    gateways = inventory.group_hosts(target.inventory, limit, "llm_gateway")
    if not gateways:
        where = f" matching --limit {limit!r}" if limit else ""
        raise LlmError(
            f"no gateway (group llm_gateway){where} in {target.inventory}",
            "the keys go to the gateways: name one, or leave out --limit"
            if limit
            else "add the gateway to the group llm_gateway in the inventory",
        )
    return gateways


def _apply(target: Target, gateways: list[str] | None, change: str) -> int:
    """Send the list of hashes to the gateways, when the gateway is deployed. A gateway
    it does not reach stays recorded as lacking the change (cli.pending)."""
    if gateways is None:
        click.echo(
            f"The {MODULE} module is not enabled: the gateways get the list of keys after "
            f"'llm modules enable {MODULE}' and 'llm install'."
        )
        return EXIT_OK
    click.echo("sending the list of keys to the gateways")
    code = target.run("keys", change=change, targets=gateways)
    if code == EXIT_OK:
        click.echo(f"{change}: every gateway reached has it")
    return code


@keys.command(name="add")
@click.argument("name")
@playbook_command(no_check="a key is made and recorded before the gateways learn it")
def add(target: Target, name: str) -> int:
    """Make a key for NAME (a person or a script), shown once, and let it in."""
    keystore.check_name(name)
    gateways = _prepare(target)
    key = keystore.add(target.stack.api_keys, name)
    click.echo(f"API key for {name} (shown once; only its hash is kept):\n\n  {key}\n")
    click.echo("Use it as 'Authorization: Bearer <key>' with https://<gateway>/ollama/v1 "
               "(OpenAI-compatible) or https://<gateway>/ollama/api/... (native).")  # fmt: skip
    return _apply(target, gateways, f"{name}'s key added")


@keys.command(name="sync")
@playbook_command(no_check="it only sends the list the gateways already should have")
def sync(target: Target) -> int:
    """Send the list of keys to every gateway again (finishes an add or revoke that
    did not reach them all)."""
    return _apply(target, _prepare(target), "the list of keys sent again")


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
@playbook_command(no_check="the key is struck from the list the gateways then get")
def revoke(target: Target, name: str, yes: bool) -> int:
    """Refuse NAME's key from now on, on every gateway."""
    stack = target.stack
    change = f"{name}'s key revoked"
    if name not in keystore.load(stack.api_keys):
        lacking = pending.lacking(stack.runs, "keys").get(change)
        if lacking:
            # The earlier revoke reached only some gateways: this one finishes it.
            click.echo(f"{name}'s key is revoked here; {', '.join(lacking)} still let it in")
            return _apply(target, _prepare(target), change)
        keystore.revoke(stack.api_keys, name)  # raises, naming the keys there are
    gateways = _prepare(target)
    prompts.confirm(f"Revoke the API key {name}?", f"revoking {name}'s API key", yes)
    keystore.revoke(stack.api_keys, name)
    click.echo(f"Revoked {name}'s key in {stack.api_keys}.")
    return _apply(target, gateways, change)
