"""`llm logs SERVICE [--host H] [--tail N]`: a service's recent log from every host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli import inventory, runner
from cli.commands.services import check_services
from cli.errors import EXIT_HOST_FAILED, EXIT_OK, LlmError
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.command()
@stack_dir_option
@click.argument("service")
@click.option("--host", "host", metavar="HOST", help="Only this host (same as --limit HOST).")
@click.option("-n", "--tail", default=100, show_default=True, help="Lines per host.")
@ansible_options
def logs(stack_dir: Path | None, service: str, host: str | None, tail: int,
         **ansible_args: Any) -> int:  # fmt: skip
    """Show the last lines of SERVICE's log on each host that runs it."""
    check_services((service,))
    if tail < 1:
        raise LlmError(f"--tail {tail}: give a number of lines, 1 or more")
    opts = collect_ansible_options(**ansible_args)
    if host and opts.limit:
        raise LlmError("--host and --limit both given: use one")
    limit = host or opts.limit
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    inventory.stack_hosts(inventory_path, limit)

    from rich.text import Text

    from cli.display import RunDisplay

    display = RunDisplay(verbose=opts.verbosity > 0, quiet=True)
    job = runner.PlaybookRun.from_options(
        "logs",
        inventory_path,
        opts,
        limit=limit,
        extra_vars={"llm_logs_service": service, "llm_logs_tail": tail},
    )
    code = runner.run(stack, job, display)
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
