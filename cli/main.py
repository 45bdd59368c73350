"""`llm`: the command line of local-llm-stack.

Commands are imported only when invoked, and none imports Ansible, ansible-
runner or rich at module level, so `llm --help` starts instantly.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from cli import __version__
from cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, LlmError

# command name -> "module:function", loaded on first use
COMMANDS = {
    "init": ("cli.commands.init:init", "Create the stack directory: config, inventory, secrets."),
    "install": ("cli.commands.install:install", "Check every host, then install the stack."),
    "backup": ("cli.commands.backup:backup", "Dump MongoDB of every chat host to this machine."),
    "restore": ("cli.commands.backup:restore", "Restore a chat host's MongoDB from a backup."),
    "config": ("cli.commands.config:config", "Show, read, change and check the settings."),
    "debug": ("cli.commands.debug:debug", "Collect diagnostics from every host (redacted)."),
    "keys": ("cli.commands.keys:keys", "Add, list or revoke API keys for the Ollama API."),
    "logs": ("cli.commands.logs:logs", "Show a service's recent log from every host."),
    "models": ("cli.commands.models:models", "List, add, remove or sync models on every host."),
    "modules": ("cli.commands.modules:modules", "List modules; enable or disable optional ones."),
    "secrets": ("cli.commands.secrets:secrets", "List, fill in or rotate the stack's secrets."),
    "tls": ("cli.commands.tls:tls", "Write the stack's CA certificate; trust it on hosts."),
    "status": ("cli.commands.status:status", "Show services, models and GPUs on every host."),
    "start": ("cli.commands.services:start", "Start the stack's services (all, or those named)."),
    "stop": ("cli.commands.services:stop", "Stop the stack's services (all, or those named)."),
    "restart": ("cli.commands.services:restart", "Restart services (all, or those named)."),
    "users": ("cli.commands.users:users", "Make, list and remove accounts (a class roster)."),
    "uninstall": (
        "cli.commands.uninstall:uninstall",
        "Remove the stack (data kept unless --purge).",
    ),
}


class LlmGroup(click.Group):
    """A group whose commands load lazily and whose errors are one line, exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above: listing commands imports none of them.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else "", err=False)
            sys.exit(0)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"llm: error: {exc.format_message()}{hint}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            click.echo(f"llm: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except LlmError as exc:
            click.echo(f"llm: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("llm: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        # In non-standalone mode Click returns a command's return value (our exit status).
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=LlmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="llm")
def llm() -> None:
    """Run private LLMs (Ollama + LibreChat) on one machine or a whole lab.

    \b
    First steps:
      llm init                      create the stack (localhost inventory)
      llm install                   check the hosts, then install
      llm install -i lab.ini        the same on every host of a lab
    """


def main() -> None:
    llm(prog_name="llm")


if __name__ == "__main__":
    main()
