"""`llm backup` and `llm restore ARCHIVE`: MongoDB dumps of the chat hosts."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import click

from cli import inventory, prompts, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import ansible_options, collect_ansible_options, refuse_check, stack_dir_option
from cli.stack import StackDir, resolve_dir

SUMS = "SHA256SUMS"
SUFFIX = ".archive.gz"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(archive: Path) -> str | None:
    """The archive's checksum, checked against SHA256SUMS beside it when there is one."""
    actual = sha256(archive)
    sums = archive.parent / SUMS
    if sums.is_file():
        listed = dict(
            reversed(line.split(None, 1)) for line in sums.read_text().splitlines() if line
        )
        expected = listed.get(archive.name)
        if expected is not None and expected != actual:
            raise LlmError(
                f"{archive} does not match its checksum in {sums} (corrupted or changed)",
                "use another backup",
            )
    return actual


@click.command()
@stack_dir_option
@ansible_options(check=False)
def backup(stack_dir: Path | None, **ansible_args: Any) -> int:
    """Dump MongoDB on every chat host into the stack's backups/ directory.

    One archive per host, under backups/<timestamp>/, with a SHA256SUMS file.
    """
    opts = collect_ansible_options(**ansible_args)
    refuse_check(opts, "backup", "a backup only reads the database; it has nothing to preview")
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    if not inventory.group_hosts(inventory_path, opts.limit, "llm_chat"):
        raise LlmError(f"no chat host (group llm_chat) in {inventory_path}: nothing to back up")
    target = stack.root / "backups" / time.strftime("%Y%m%d-%H%M%S")
    target.mkdir(parents=True, mode=0o700)

    from cli.display import RunDisplay

    code = runner.run(
        stack,
        runner.PlaybookRun.from_options(
            "backup",
            inventory_path,
            opts,
            extra_vars={"llm_backup_dir": str(target)},
        ),
        RunDisplay(verbose=opts.verbosity > 0),
    )
    sums = {}
    for archive in sorted(target.glob(f"*{SUFFIX}")):
        archive.chmod(0o600)
        sums[archive] = sha256(archive)
        click.echo(f"{archive}  sha256 {sums[archive]}")
    if sums:
        (target / SUMS).write_text("".join(f"{s}  {a.name}\n" for a, s in sums.items()))
    return code


@click.command()
@stack_dir_option
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", metavar="HOST", help="Chat host to restore to (default: the archive's).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before replacing the data.")
@ansible_options(check=False)
def restore(stack_dir: Path | None, archive: Path, host: str | None, yes: bool,
            **ansible_args: Any) -> int:  # fmt: skip
    """Replace a chat host's MongoDB data with ARCHIVE (from llm backup)."""
    opts = collect_ansible_options(**ansible_args)
    refuse_check(
        opts, "restore", "a restore cannot be previewed; 'llm backup' first keeps a way back"
    )
    if not archive.is_file():
        raise LlmError(f"backup archive {archive} not found")
    target = host or (archive.name[: -len(SUFFIX)] if archive.name.endswith(SUFFIX) else None)
    if not target:
        raise LlmError(f"cannot tell which host {archive.name} belongs to", "give --host HOST")
    stack = StackDir(resolve_dir(stack_dir)).require()
    inventory_path = inventory.resolve(opts.inventory, stack.inventory)
    if not inventory.group_hosts(inventory_path, target, "llm_chat"):
        raise LlmError(f"{target} is not a chat host (group llm_chat) in {inventory_path}")
    checksum = verify(archive)
    prompts.confirm(
        f"Replace the conversations on {target} with {archive}?",
        f"restoring would replace the conversations on {target}",
        yes,
    )
    click.echo(f"restoring {archive} (sha256 {checksum}) to {target}")

    from cli.display import RunDisplay

    code = runner.run(
        stack,
        runner.PlaybookRun.from_options(
            "restore",
            inventory_path,
            opts,
            limit=target,
            extra_vars={"llm_restore_archive": str(archive.resolve())},
        ),
        RunDisplay(verbose=opts.verbosity > 0),
    )
    return code if code else EXIT_OK
