"""`llm status`: every host's services, models and GPU, in one pass."""

from __future__ import annotations

import json

import click

from cli.errors import EXIT_HOST_FAILED, EXIT_OK
from cli.playbook_command import Target, playbook_command


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON, for scripts.")
@playbook_command()
def status(target: Target, as_json: bool) -> int:
    """Show each host's services (state, health, URL), models and GPU.

    Unreachable hosts are rows saying so. Exit status 0 when every host
    answered and every service runs (healthy where it has a health check).
    """
    target.hosts()

    from cli import status_view
    from cli.display import RunDisplay

    display = RunDisplay(verbose=target.opts.verbosity > 0, quiet=True)
    target.run("status", display)
    report = status_view.as_dict(display.state)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        status_view.render(report, display.console)
    return EXIT_OK if report and status_view.healthy(report) else EXIT_HOST_FAILED
