"""`llm start|stop|restart [SERVICE]`: Compose actions on the stack's services."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import click

from cli import inventory, registry, runner
from cli.errors import LlmError
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir


def check_services(names: tuple[str, ...], with_modules: tuple[str, ...] = ()) -> list[str]:
    """The services asked for (those named, plus every service of each --with module),
    or a one-line error naming the closest service or module."""
    known = list(registry.services())
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"services: {', '.join(known)}"
            raise LlmError(f"unknown service {name!r}", hint)
    chosen = list(names)
    for name in with_modules:
        module = registry.module(name)
        if not module.services:
            raise LlmError(
                f"module {name} runs no services here",
                "'llm modules list' shows what each module deploys",
            )
        chosen += [s.name for s in module.services]
    return list(dict.fromkeys(chosen))


def with_option(func: Callable[..., int]) -> Callable[..., int]:
    return click.option(
        "--with",
        "with_modules",
        multiple=True,
        metavar="MODULE",
        help="Also every service of MODULE (repeatable; 'llm modules list').",
    )(func)


def _command(name: str, action: str, words: str) -> Callable[..., int]:
    @click.command(name=name, help=f"{words} the stack's services (all, or those named).")
    @stack_dir_option
    @click.argument("service", nargs=-1, metavar="[SERVICE]...")
    @with_option
    @ansible_options
    def command(
        stack_dir: Path | None,
        service: tuple[str, ...],
        with_modules: tuple[str, ...],
        **ansible_args: object,
    ) -> int:
        opts = collect_ansible_options(**ansible_args)  # type: ignore[arg-type]
        services = check_services(service, with_modules)
        stack = StackDir(resolve_dir(stack_dir)).require()
        inventory_path = inventory.resolve(opts.inventory, stack.inventory)
        hosts = inventory.stack_hosts(inventory_path, opts.limit)

        from cli.display import RunDisplay

        what = ", ".join(services) or "every service"
        click.echo(f"{name}: {what} on {len(hosts)} host(s)")
        job = runner.PlaybookRun.from_options(
            "services",
            inventory_path,
            opts,
            extra_vars={"llm_services_action": action, "llm_services": services},
        )
        return runner.run(stack, job, RunDisplay(verbose=opts.verbosity > 0))

    return command


start = _command("start", "started", "Start")
stop = _command("stop", "stopped", "Stop")
restart = _command("restart", "restarted", "Restart")
