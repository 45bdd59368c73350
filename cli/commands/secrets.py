"""`llm secrets list|generate|rotate`: the stack's secrets, shown only on request."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cli import prompts, runner, secretstore, vault
from cli.errors import EXIT_OK, LlmError
from cli.options import stack_dir_option
from cli.playbook_command import Target, playbook_command
from cli.stack import StackDir, resolve_dir


@click.group()
def secrets() -> None:
    """List, fill in or rotate the stack's secrets (secrets.yml, mode 0600)."""


@secrets.command(name="list")
@stack_dir_option
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--show", is_flag=True, help="Also print the values (careful: your terminal).")
def list_secrets(stack_dir: Path | None, names: tuple[str, ...], show: bool) -> int:
    """Name, purpose and whether each secret is set (or only NAME...); values only with --show."""
    stack = StackDir(resolve_dir(stack_dir)).require()
    specs = [secretstore.spec(name) for name in names] if names else list(secretstore.specs())
    current = secretstore.load(stack.secrets)
    for spec in specs:
        value = current.get(spec.name)
        shown = value if (show and value) else ("set" if value else "MISSING")
        click.echo(f"{spec.name:30} {shown:10}  {spec.describe}")
    return EXIT_OK


@secrets.command()
@stack_dir_option
def generate(stack_dir: Path | None) -> int:
    """Generate every missing secret; existing ones are never changed."""
    stack = StackDir(resolve_dir(stack_dir)).require()
    made = secretstore.ensure(stack.secrets)
    click.echo(f"generated {', '.join(made)}" if made else "every secret is already set")
    return EXIT_OK


@secrets.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("-y", "--yes", is_flag=True, help="Do not ask first.")
@playbook_command(
    no_check="a rotation writes the new secret before it redeploys; "
    "'llm install --check --diff' shows what a redeploy would change"
)
def rotate(target: Target, names: tuple[str, ...], yes: bool) -> int:
    """Give each secret NAME a new value, then redeploy (once) the hosts that use them."""
    opts, stack = target.opts, target.stack
    unique = list(dict.fromkeys(names))
    chosen = [secretstore.spec(name) for name in unique]  # an unknown name: raises
    for spec in chosen:
        if spec.not_rotated or not spec.rotation:
            raise LlmError(*(spec.not_rotated or (f"{spec.name} cannot be rotated here",)))
    # Where each is used: its role's hosts, and those its entry adds (LibreChat holds
    # the gateway's key for it).
    limit = opts.limit or ":".join(dict.fromkeys(g for spec in chosen for g in spec.groups))
    targets = target.hosts(limit)
    runner.check_settings(stack)  # a refused run must not follow a rotated secrets.yml
    effects = "; ".join(dict.fromkeys(str(spec.rotation) for spec in chosen))
    what = ", ".join(unique)
    prompts.confirm(
        f"Rotate {what}? {effects[0].upper() + effects[1:]}.", f"rotating {what}: {effects}", yes
    )
    # After the answer (a refused rotation writes nothing): as install does, a stack
    # from before gets the newer secrets it lacks.
    secretstore.ensure(stack.secrets)
    for name in unique:
        secretstore.rotate(stack.secrets, name)
    click.echo(f"{what} rotated in {stack.secrets}; redeploying {limit}")
    return target.run("install", limit=limit, change=f"{what} rotated", targets=targets)


def _vault_command(name: str, encrypted: bool, words: str) -> click.Command:
    @click.command(name=name, help=f"{words} secrets.yml with ansible-vault.")
    @stack_dir_option
    @click.option(
        "--vault-password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"File holding the vault password (default: ${vault.ENV_VAR}).",
    )
    def command(stack_dir: Path | None, vault_password_file: Path | None) -> int:
        stack = StackDir(resolve_dir(stack_dir)).require()
        password = vault.password_file(vault_password_file)
        # Later commands read the same file through the environment variable.
        os.environ[vault.ENV_VAR] = str(password)
        changed = secretstore.set_encrypted(stack.secrets, encrypted)
        state = "encrypted" if encrypted else "plain text (mode 0600)"
        click.echo(f"{stack.secrets} {'is now' if changed else 'was already'} {state}")
        if encrypted:
            click.echo(f"every llm command now needs {vault.ENV_VAR}={password}")
        return EXIT_OK

    return command


encrypt = _vault_command("encrypt", True, "Encrypt")
decrypt = _vault_command("decrypt", False, "Decrypt")
secrets.add_command(encrypt)
secrets.add_command(decrypt)
