"""`llm uninstall [--purge]`: remove the stack; keep its data unless asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli import inventory, prompts, runner
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.command()
@stack_dir_option
@click.option("--purge", is_flag=True, help="Also delete the data: models, database, uploads.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --purge.")
@ansible_options
def uninstall(stack_dir: Path | None, purge: bool, yes: bool, **ansible_args: Any) -> int:
    """Remove the stack's containers and configuration from every host.

    Models, the database and uploads stay on the hosts (a later install finds
    them) unless --purge, which asks first (or takes --yes). Docker and GPU
    drivers are left installed.
    """
    opts = collect_ansible_options(**ansible_args)
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    hosts = inventory.stack_hosts(inventory_path, opts.limit)
    if purge and not opts.check:
        names = ", ".join(sorted(hosts))
        prompts.confirm(
            f"Delete all models and conversations on {names}?",
            f"--purge would delete all models and conversations on {names}",
            yes,
        )

    from cli.display import RunDisplay

    job = runner.PlaybookRun.from_options(
        "uninstall", inventory_path, opts, extra_vars={"llm_uninstall_purge": purge}
    )
    return runner.run(stack, job, RunDisplay(verbose=opts.verbosity > 0))
