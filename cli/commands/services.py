"""`llm start|stop|restart [SERVICE]`: Compose actions on the stack's services."""

from __future__ import annotations

import difflib
from collections.abc import Callable

import click

from cli import registry
from cli.errors import LlmError
from cli.playbook_command import Target, playbook_command


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
    @click.argument("service", nargs=-1, metavar="[SERVICE]...")
    @with_option
    @playbook_command()
    def command(target: Target, service: tuple[str, ...], with_modules: tuple[str, ...]) -> int:
        services = check_services(service, with_modules)
        hosts = target.hosts()
        what = ", ".join(services) or "every service"
        click.echo(f"{name}: {what} on {len(hosts)} host(s)")
        return target.run(
            "services", extra_vars={"llm_services_action": action, "llm_services": services}
        )

    return command


start = _command("start", "started", "Start")
stop = _command("stop", "stopped", "Stop")
restart = _command("restart", "restarted", "Restart")
