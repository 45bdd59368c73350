"""`llm install`: preflight on every host, then the stack's roles."""

from __future__ import annotations

from pathlib import Path

import click

from cli import inventory, runner, secretstore
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


@click.command()
@stack_dir_option
@click.option(
    "--allow-reboot",
    is_flag=True,
    help="Reboot GPU hosts whose new driver needs it (never the machine llm runs on).",
)
@ansible_options
def install(stack_dir: Path | None, allow_reboot: bool, **ansible_args: object) -> int:
    """Check every host, then install the stack.

    Preflight runs first on every host and reports every problem it finds at
    once (OS, architecture, disk, memory, ports, Python, clock, GPU) before
    anything is changed. With --check nothing is changed at all.

    GPU hosts get their driver; when it needs a reboot, hosts reboot only with
    --allow-reboot, otherwise the recap says "reboot pending" for each.
    """
    opts = collect_ansible_options(**ansible_args)  # type: ignore[arg-type]
    extra_vars = {"llm_allow_reboot": True} if allow_reboot else {}
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    hosts = inventory.stack_hosts(inventory_path, opts.limit)
    if not opts.check:
        secretstore.ensure(stack.secrets)

    from cli.display import RunDisplay

    mode = " (check mode: nothing will change)" if opts.check else ""
    click.echo(f"installing on {len(hosts)} host(s) from {inventory_path}{mode}")
    job = runner.PlaybookRun.from_options("install", inventory_path, opts, extra_vars=extra_vars)
    return runner.run(stack, job, RunDisplay(verbose=opts.verbosity > 0))
