"""Options shared by every command: the stack directory and the Ansible pass-throughs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from cli.controller import DEFAULT_MAX_FORKS, FORKS_RANGE, MIN_FORKS
from cli.errors import LlmError
from cli.stack import ENV_VAR

F = TypeVar("F", bound=Callable[..., Any])

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def stack_dir_option(func: F) -> F:
    return click.option(
        "--dir",
        "stack_dir",
        envvar=ENV_VAR,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Stack directory (default: ${ENV_VAR}, else ~/.config/llm-stack).",
    )(func)


@dataclass(frozen=True)
class AnsibleOptions:
    inventory: Path | None
    limit: str | None
    tags: list[str]
    check: bool
    diff: bool
    extra_vars: dict[str, Any]
    verbosity: int
    # --forks; None: sized to the run (cli.controller.size_forks).
    forks: int | None = None


def parse_extra_vars(values: tuple[str, ...]) -> dict[str, Any]:
    """-e KEY=VALUE, -e @vars.yml or -e '{"json": "object"}', later ones winning.

    A stack setting among them is checked as `llm config set` checks it, and a
    KEY=VALUE one becomes the typed value (-e librechat_port=8080 is the number).
    """
    import yaml

    from cli import config_schema

    merged: dict[str, Any] = {}
    text_keys: set[str] = set()
    for raw in values:
        if raw.startswith("@"):
            path = Path(raw[1:]).expanduser()
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise LlmError(f"-e {raw}: cannot read {path}: {exc.strerror}") from exc
            except yaml.YAMLError as exc:
                raise LlmError(f"-e {raw}: {path} is not valid YAML") from exc
            if not isinstance(data, dict):
                raise LlmError(f"-e {raw}: {path} must hold a mapping of variable names to values")
            merged.update(data)
        elif raw.lstrip().startswith("{"):
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise LlmError(f"-e {raw!r} is not a valid JSON object: {exc.msg}") from exc
            merged.update(data)
        else:
            key, sep, value = raw.partition("=")
            if not sep or not _VAR_NAME.match(key):
                raise LlmError(
                    f"-e {raw!r} is not KEY=VALUE",
                    'use -e name=value, -e @file.yml or -e \'{"name": "value"}\'',
                )
            merged[key] = value  # a string, as ansible-playbook -e key=value gives
            text_keys.add(key)
            continue
        text_keys.difference_update(data)
    for key in merged:
        if not isinstance(key, str) or not _VAR_NAME.match(key):
            raise LlmError(f"-e: {key!r} is not a valid Ansible variable name")
    return config_schema.typed_extra_vars(merged, text_keys)


def ansible_options(func: F | None = None, *, check: bool = True) -> Any:
    """--inventory, --limit, --tags, --check, --diff, -e, -v and --forks for every playbook
    command. ``@ansible_options(check=False)`` for a command that cannot honour check
    mode: --check and --diff are left out of its --help, and given anyway they reach
    the command, which refuses them in one line (refuse_check)."""
    if func is None:
        return lambda f: _add_ansible_options(f, check)
    return _add_ansible_options(func, check)


def _add_ansible_options(func: F, check: bool) -> F:
    decorators = [
        click.option(
            "-i",
            "--inventory",
            type=click.Path(dir_okay=True, path_type=Path),
            help="Inventory file (default: the stack's localhost inventory).",
        ),
        click.option("-l", "--limit", metavar="PATTERN", help="Only these hosts or groups."),
        click.option(
            "-t", "--tags", multiple=True, metavar="TAG", help="Only tasks tagged TAG (repeatable)."
        ),
        click.option(
            "-C",
            "--check",
            is_flag=True,
            hidden=not check,
            help="Show what would change; change nothing.",
        ),
        click.option(
            "-D",
            "--diff",
            is_flag=True,
            hidden=not check,
            help="Show the differences in changed files.",
        ),
        click.option(
            "-e",
            "--extra-vars",
            "extra_vars",
            multiple=True,
            metavar="KEY=VALUE",
            help="Set an Ansible variable (repeatable; @file.yml reads a file).",
        ),
        click.option(
            "-v", "--verbose", "verbosity", count=True, help="Ansible's own output (-vvv more)."
        ),
        click.option(
            "--forks",
            type=click.IntRange(*FORKS_RANGE),
            metavar="N",
            help="Hosts worked on at once (default: config.yml's llm_forks, else one per "
            f"host, at least {MIN_FORKS}, at most {DEFAULT_MAX_FORKS}).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def collect_ansible_options(
    inventory: Path | None,
    limit: str | None,
    tags: tuple[str, ...],
    check: bool,
    diff: bool,
    extra_vars: tuple[str, ...],
    verbosity: int,
    forks: int | None = None,
) -> AnsibleOptions:
    if limit and limit.startswith("@"):
        # A file of host names, made absolute: Ansible runs in the stack's runs/ directory.
        limit = "@" + str(Path(limit[1:]).expanduser().resolve())
    return AnsibleOptions(
        inventory=inventory,
        limit=limit,
        tags=[t for tag in tags for t in tag.split(",") if t],
        check=check,
        diff=diff,
        extra_vars=parse_extra_vars(extra_vars),
        verbosity=verbosity,
        forks=forks,
    )


def refuse_check(opts: AnsibleOptions, command: str, why: str) -> None:
    """For a command that cannot run in check mode: one line, exit 2, before anything changes."""
    if opts.check or opts.diff:
        flag = "--check" if opts.check else "--diff"
        raise LlmError(f"llm {command} does not take {flag}: {why}")
