"""`llm config show|get|set|edit|validate`: the stack's settings, checked by type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from cli import config_file, config_schema
from cli.errors import EXIT_OK, EXIT_USAGE, LlmError
from cli.options import stack_dir_option
from cli.stack import StackDir, resolve_dir

MASK = "********"


def _stack(stack_dir: Path | None) -> StackDir:
    return StackDir(resolve_dir(stack_dir)).require()


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    """A secret put in config.yml by hand is still not shown."""
    known = config_schema.options()
    return {k: MASK if k in known and known[k].secret else v for k, v in values.items()}


@click.group()
def config() -> None:
    """Show, read, change and check the stack's settings (config.yml)."""


@config.command()
@stack_dir_option
@click.option("--all", "show_all", is_flag=True, help="Also every setting left at its default.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(stack_dir: Path | None, show_all: bool, as_json: bool) -> int:
    """Print the settings (never the secrets)."""
    stack = _stack(stack_dir)
    values = _masked(config_file.load(stack.config))
    if show_all:
        for name, opt in sorted(config_schema.options().items()):
            if name not in values and not opt.secret:
                values[name] = opt.spec.get("default")
    if as_json:
        click.echo(json.dumps(values, indent=2, sort_keys=True, default=str))
    else:
        click.echo(f"# {stack.config}")
        click.echo(yaml.safe_dump(values, default_flow_style=False, sort_keys=True), nl=False)
    return EXIT_OK


@config.command()
@stack_dir_option
@click.argument("key")
def get(stack_dir: Path | None, key: str) -> int:
    """Print one setting's value (the role's default when config.yml leaves it unset)."""
    stack = _stack(stack_dir)
    opt = config_schema.option(key)
    values = config_file.load(stack.config)
    value = values[key] if key in values else opt.spec.get("default")
    click.echo(json.dumps(value) if not isinstance(value, str) else value)
    return EXIT_OK


@config.command(name="set")
@stack_dir_option
@click.argument("key")
@click.argument("value")
def set_(stack_dir: Path | None, key: str, value: str) -> int:
    """Set KEY to VALUE (YAML: 8080, true, [a, b]); refused when invalid."""
    stack = _stack(stack_dir)
    parsed = config_schema.parse(key, value)
    problems = config_schema.validate({key: parsed})
    if problems:
        raise LlmError(problems[0])
    config_file.set_value(stack.config, key, parsed)
    click.echo(f"{key} = {json.dumps(parsed)} in {stack.config}")
    click.echo("takes effect with 'llm install' ('llm install --check --diff' shows what changes)")
    return EXIT_OK


@config.command()
@stack_dir_option
def validate(stack_dir: Path | None) -> int:
    """Check every setting in config.yml: known key, right type, allowed value."""
    stack = _stack(stack_dir)
    problems = config_schema.validate(config_file.load(stack.config))
    for problem in problems:
        click.echo(f"{stack.config}: {problem}", err=True)
    if problems:
        return EXIT_USAGE
    click.echo(f"{stack.config}: valid")
    return EXIT_OK


@config.command()
@stack_dir_option
def edit(stack_dir: Path | None) -> int:
    """Open config.yml in $EDITOR; an invalid result is re-opened, never saved."""
    stack = _stack(stack_dir)
    text = stack.config.read_text()
    while True:
        edited = click.edit(text, extension=".yml", require_save=True)
        if edited is None or edited == stack.config.read_text():
            click.echo("no change")
            return EXIT_OK
        try:
            data = yaml.safe_load(edited) or {}
            if not isinstance(data, dict):
                problems = ["the file must be a mapping of settings (key: value)"]
            else:
                named = config_file.name_problem(data)
                problems = [named] if named else config_schema.validate(data)
        except yaml.YAMLError as exc:
            problems = [f"not valid YAML: {exc}".splitlines()[0]]
        if not problems:
            config_file.write_text(stack.config, edited)
            click.echo(f"saved {stack.config}")
            return EXIT_OK
        click.echo("not saved: " + "; ".join(problems), err=True)
        if not click.confirm("edit again?", default=True):
            raise LlmError("not saved: config.yml is unchanged")
        # Keep the user's work, with the reason on top, for the next round.
        text = "".join(f"# NOT SAVED: {p}\n" for p in problems) + _strip_notes(edited)


def _strip_notes(text: str) -> str:
    return "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("# NOT SAVED: ")
    )
