"""`llm status`: every host's services, models and GPU, in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli import inventory, runner
from cli.errors import EXIT_HOST_FAILED, EXIT_OK
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.command()
@stack_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON, for scripts.")
@ansible_options
def status(stack_dir: Path | None, as_json: bool, **ansible_args: object) -> int:
    """Show each host's services (state, health, URL), models and GPU.

    Unreachable hosts are rows saying so. Exit status 0 when every host
    answered and every service runs (healthy where it has a health check).
    """
    opts = collect_ansible_options(**ansible_args)  # type: ignore[arg-type]
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    inventory.stack_hosts(inventory_path, opts.limit)

    from cli import status_view
    from cli.display import RunDisplay

    display = RunDisplay(verbose=opts.verbosity > 0, quiet=True)
    job = runner.PlaybookRun.from_options("status", inventory_path, opts)
    runner.run(stack, job, display)
    report = status_view.as_dict(display.state)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        status_view.render(report, display.console)
    return EXIT_OK if report and status_view.healthy(report) else EXIT_HOST_FAILED
