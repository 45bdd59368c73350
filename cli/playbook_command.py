"""What every playbook command does first, written once: ``@playbook_command()``.

It adds ``--dir`` and the Ansible options, reads them (``-e`` checked as ``llm config
set`` checks), refuses ``--check`` where the command cannot honour it, finds the
stack directory, and calls the command with a ``Target``: the options, the stack,
the inventory (resolved when first used), and a ``run`` that starts a playbook with
the usual display.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from cli import inventory as inventories
from cli.errors import LlmError
from cli.options import (
    AnsibleOptions,
    ansible_options,
    collect_ansible_options,
    refuse_check,
    stack_dir_option,
)
from cli.stack import StackDir, resolve_dir

# The parameters ansible_options adds, in collect_ansible_options' order.
_ANSIBLE_PARAMS = (
    "inventory", "limit", "tags", "check", "diff", "extra_vars", "verbosity", "forks"
)  # fmt: skip


@dataclass
class Target:
    """What a playbook command works on."""

    opts: AnsibleOptions
    stack: StackDir

    @cached_property
    def inventory(self) -> Path:
        """--inventory, else the stack's own."""
        return inventories.resolve(self.opts.inventory, self.stack.inventory)

    def hosts(self, limit: str | None = None) -> list[str]:
        """The stack's hosts in the inventory within limit (default --limit); none is an
        error that says what the inventory holds."""
        return inventories.stack_hosts(self.inventory, limit or self.opts.limit)

    def check_given(self) -> None:
        """Read -i and --limit where they were given though this run reaches no host (a
        key made while the gateway is off): a typo in either is an error, not ignored."""
        if self.opts.inventory or self.opts.limit:
            self.hosts()

    def require_module_groups(self) -> None:
        """Each module enabled by choice (off by default: config.yml's llm_modules, or -e's)
        has a host in each group it deploys on, in the whole inventory: a --limit run still
        installs a stack whose gateway is elsewhere. A module on by default (gpu: drivers
        where a GPU is found) may find nothing to do. Checked before an install starts."""
        from cli import registry, runner

        chosen = runner.run_settings(self.stack, self.opts.extra_vars).get("llm_modules")
        modules = registry.modules()
        enabled = [modules[name] for name in registry.enabled(chosen)]
        wanted = {
            group: m.name for m in enabled if m.optional and not m.default for group in m.groups
        }
        defaults = registry.logic().group_defaults(registry.raw_registry())
        empty = inventories.empty_groups(self.inventory, [*wanted, *defaults.values()])
        # A group left empty takes its default's hosts (llm_monitoring: the chat host's).
        empty = [g for g in empty if g in wanted and (g not in defaults or defaults[g] in empty)]
        if empty:
            group, name = empty[0], wanted[empty[0]]
            raise LlmError(
                f"module {name} is enabled but its group {group} has no host in {self.inventory}",
                f"add a host to the group {group} in the inventory (the chat host will do), "
                f"or 'llm modules disable {name}'",
            )

    def run(self, playbook: str, display: Any = None, **job: Any) -> int:
        """Run the playbook (job: PlaybookRun.from_options' keywords) with display, by
        default the usual one, and return the exit status."""
        from cli import runner

        if display is None:
            from cli.display import RunDisplay

            display = RunDisplay(verbose=self.opts.verbosity > 0)
        plan = runner.PlaybookRun.from_options(playbook, self.inventory, self.opts, **job)
        return runner.run(self.stack, plan, display)


def _command_name() -> str:
    """'keys add' for `llm keys add` (whatever the program is called)."""
    ctx: click.Context | None = click.get_current_context()
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def playbook_command(no_check: str | None = None) -> Callable[[Callable[..., int]], Any]:
    """The decorator. ``no_check``: why the command cannot honour --check (and --diff),
    which its --help then leaves out and which are refused in one line."""

    def decorate(func: Callable[..., int]) -> Any:
        @functools.wraps(func)
        def command(stack_dir: Path | None, **params: Any) -> int:
            opts = collect_ansible_options(**{name: params.pop(name) for name in _ANSIBLE_PARAMS})
            if no_check:
                refuse_check(opts, _command_name(), no_check)
            stack = StackDir(resolve_dir(stack_dir)).require()
            return func(Target(opts, stack), **params)

        return stack_dir_option(ansible_options(command, check=no_check is None))

    return decorate
