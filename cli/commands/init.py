"""`llm init`: create the stack directory, or fill in what it lacks."""

from __future__ import annotations

from pathlib import Path

import click

from cli import secretstore
from cli.options import stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.command()
@stack_dir_option
def init(stack_dir: Path | None) -> int:
    """Create the stack directory: config, inventory and secrets.

    Safe to run again: existing files and secrets are never changed; only
    what is missing is added.
    """
    stack = StackDir(resolve_dir(stack_dir))
    created = stack.init()
    generated = secretstore.ensure(stack.secrets)

    click.echo(f"stack directory: {stack.root}")
    for path in created:
        click.echo(f"  created {path.name}")
    if generated:
        click.echo(f"  generated {len(generated)} secrets in {stack.secrets.name} (mode 0600)")
    else:
        click.echo(f"  kept the existing secrets in {stack.secrets.name}")
    click.echo("next: 'llm install' (add '--check' to only look)")
    if "librechat_admin_password" in generated:
        click.echo(
            "  then log in to LibreChat as the administrator (librechat_admin_email in "
            "config.yml); its first password: 'llm secrets list --show librechat_admin_password'"
        )
    return 0
