"""`llm logs SERVICE [--host H] [--tail N]`: a service's recent log from every host."""

from __future__ import annotations

import click

from cli.commands.services import check_services
from cli.errors import EXIT_HOST_FAILED, EXIT_OK, LlmError
from cli.playbook_command import Target, playbook_command


@click.command()
@click.argument("service")
@click.option("--host", "host", metavar="HOST", help="Only this host (same as --limit HOST).")
@click.option("-n", "--tail", default=100, show_default=True, help="Lines per host.")
@playbook_command()
def logs(target: Target, service: str, host: str | None, tail: int) -> int:
    """Show the last lines of SERVICE's log on each host that runs it."""
    check_services((service,))
    if tail < 1:
        raise LlmError(f"--tail {tail}: give a number of lines, 1 or more")
    if host and target.opts.limit:
        raise LlmError("--host and --limit both given: use one")
    limit = host or target.opts.limit
    target.hosts(limit)

    from rich.text import Text

    from cli.display import RunDisplay

    display = RunDisplay(verbose=target.opts.verbosity > 0, quiet=True)
    code = target.run(
        "logs",
        display,
        limit=limit,
        extra_vars={"llm_logs_service": service, "llm_logs_tail": tail},
    )
    shown = 0
    for name, state in display.state.hosts.items():
        report = state.report or {}
        if report.get("missing", True):
            continue
        shown += 1
        display.console.print(Text(f"==> {name}: {service} <==", style="bold"))
        for line in report.get("lines", []):
            display.console.print(Text(line), soft_wrap=True)
    if not shown and code == EXIT_OK:
        click.echo(f"{service} runs on none of these hosts", err=True)
        return EXIT_HOST_FAILED
    return code
