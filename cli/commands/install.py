"""`llm install`: preflight on every host, then the stack's roles."""

from __future__ import annotations

from pathlib import Path

import click

from cli import controller, inventory, pending, secretstore
from cli.playbook_command import Target, playbook_command
from cli.stack import StackDir


@click.command()
@click.option(
    "--allow-reboot",
    is_flag=True,
    help="Reboot GPU hosts whose new driver needs it (never the machine llm runs on).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Only the hosts that failed or were unreachable last time (within --limit).",
)
@playbook_command()
def install(target: Target, allow_reboot: bool, retry_failed: bool) -> int:
    """Check every host, then install the stack.

    Preflight runs first on every host and reports every problem it finds at
    once (OS, architecture, disk, memory, ports, Python, clock, GPU) before
    anything is changed. With --check nothing is changed at all.

    GPU hosts get their driver; when it needs a reboot, hosts reboot only with
    --allow-reboot, otherwise the recap says "reboot pending" for each.

    A host that fails or is unreachable does not stop the others; the hosts that
    failed are kept in the stack's runs/last-failed/install.txt, and
    --retry-failed runs only those.
    """
    opts, stack = target.opts, target.stack
    extra_vars = {"llm_allow_reboot": True} if allow_reboot else {}
    limit = opts.limit
    if retry_failed:
        limit = _retry_limit(stack, target.inventory, opts.limit)
        if limit is None:
            return 0
    hosts = target.hosts(limit)
    target.require_module_groups()
    if not opts.check:
        secretstore.ensure(stack.secrets)

    mode = " (check mode: nothing will change)" if opts.check else ""
    click.echo(f"installing on {len(hosts)} host(s) from {target.inventory}{mode}")
    status = target.run("install", limit=limit, extra_vars=extra_vars)
    failed = controller.read_failed(stack.runs, "install")
    if status != 0 and failed and not opts.check:
        click.echo(
            f"{len(failed)} host(s) to finish: 'llm install --retry-failed' runs only them "
            f"(listed in {controller.failed_record(stack.runs, 'install')})"
        )
    return status


def _retry_limit(stack: StackDir, inventory_path: Path, limit: str | None) -> str | None:
    """The --limit for --retry-failed: the hosts the last install failed on, and those
    lacking a change an install also makes (the keys' list), within the user's --limit.
    None (after one line saying so) when there is nothing to retry:
    that is not an error, so a script may run it until every host is done."""
    recorded = list(
        dict.fromkeys(
            [
                *controller.read_failed(stack.runs, "install"),
                *(
                    h
                    for p in ("install", *pending.INSTALL_FINISHES)
                    for h in pending.hosts(stack.runs, p)
                ),
            ]
        )
    )
    # What some hosts lack (a rotated secret and the keys' list are finished by this install).
    for line in pending.notes(stack.runs):
        click.echo(line)
    if not recorded:
        click.echo("no host failed in the last install or lacks what it makes: nothing to retry")
        return None
    in_scope = inventory.any_group_hosts(inventory_path, limit, "all")
    chosen = controller.retry_hosts(recorded, in_scope)
    if not chosen:
        where = f" within --limit {limit!r}" if limit else f" in {inventory_path}"
        click.echo(
            f"none of the hosts that failed last time ({', '.join(recorded)}) is{where}: "
            "nothing to retry"
        )
        return None
    click.echo(f"retrying the {len(chosen)} host(s) that failed last time: {', '.join(chosen)}")
    return ",".join(chosen)
