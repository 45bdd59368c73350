"""`llm uninstall [--purge]`: remove the stack; keep its data unless asked."""

from __future__ import annotations

import click

from cli import prompts
from cli.playbook_command import Target, playbook_command


@click.command()
@click.option("--purge", is_flag=True, help="Also delete the data: models, database, uploads.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --purge.")
@playbook_command()
def uninstall(target: Target, purge: bool, yes: bool) -> int:
    """Remove the stack's containers and configuration from every host.

    Models, the database and uploads stay on the hosts (a later install finds
    them) unless --purge, which asks first (or takes --yes). Docker and GPU
    drivers are left installed.
    """
    hosts = target.hosts()
    if purge and not target.opts.check:
        names = ", ".join(sorted(hosts))
        prompts.confirm(
            f"Delete all models and conversations on {names}?",
            f"--purge would delete all models and conversations on {names}",
            yes,
        )
    return target.run("uninstall", extra_vars={"llm_uninstall_purge": purge})
