"""`llm backup` and `llm restore ARCHIVE`: MongoDB dumps of the chat hosts."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import click

from cli import inventory, prompts
from cli.errors import EXIT_OK, LlmError
from cli.playbook_command import Target, playbook_command

SUMS = "SHA256SUMS"
SUFFIX = ".archive.gz"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def listed_sums(sums: Path) -> dict[str, str]:
    """name -> sha256 from a SHA256SUMS file (`sha256sum` text or binary lines)."""
    try:
        text = sums.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmError(f"cannot read {sums}: {exc}", "use another backup") from None
    listed = {}
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split(None, 1)
        if not line.strip():
            continue
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise LlmError(
                f"{sums}, line {number}, is not a sha256sum line: {line[:60]!r}",
                "use another backup, or write that file again with sha256sum",
            )
        listed[parts[1].removeprefix("*")] = parts[0]
    return listed


def verify(archive: Path) -> str:
    """The archive's checksum, which SHA256SUMS beside it must list: a restore drops the
    data it replaces, so an archive nobody can vouch for is not restored."""
    actual = sha256(archive)
    sums = archive.parent / SUMS
    expected = listed_sums(sums).get(archive.name) if sums.is_file() else None
    if expected is None:
        raise LlmError(
            f"{archive} is not listed in {sums}: its checksum cannot be checked",
            f"after checking it yourself, add it: (cd {archive.parent} && sha256sum "
            f"{archive.name} >> {SUMS})",
        )
    if expected != actual:
        raise LlmError(
            f"{archive} does not match its checksum in {sums} (corrupted or changed)",
            "use another backup",
        )
    return actual


@click.command()
@playbook_command(no_check="a backup only reads the database; it has nothing to preview")
def backup(target: Target) -> int:
    """Dump MongoDB on every chat host into the stack's backups/ directory.

    One archive per host, under backups/<timestamp>/, with a SHA256SUMS file.
    """
    if not inventory.group_hosts(target.inventory, target.opts.limit, "llm_chat"):
        raise LlmError(f"no chat host (group llm_chat) in {target.inventory}: nothing to back up")
    where = target.stack.root / "backups" / time.strftime("%Y%m%d-%H%M%S")
    where.mkdir(parents=True, mode=0o700)
    code = target.run("backup", extra_vars={"llm_backup_dir": str(where)})
    sums = {}
    for archive in sorted(where.glob(f"*{SUFFIX}")):
        archive.chmod(0o600)
        sums[archive] = sha256(archive)
        click.echo(f"{archive}  sha256 {sums[archive]}")
    if sums:
        (where / SUMS).write_text("".join(f"{s}  {a.name}\n" for a, s in sums.items()))
    return code


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", metavar="HOST", help="Chat host to restore to (default: the archive's).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before replacing the data.")
@playbook_command(no_check="a restore cannot be previewed; 'llm backup' first keeps a way back")
def restore(target: Target, archive: Path, host: str | None, yes: bool) -> int:
    """Replace a chat host's MongoDB data with ARCHIVE (from llm backup)."""
    if host and target.opts.limit:
        raise LlmError("--host and --limit both given: use one (--host names the chat host)")
    if not archive.is_file():
        raise LlmError(f"backup archive {archive} not found")
    chat = host or (archive.name[: -len(SUFFIX)] if archive.name.endswith(SUFFIX) else None)
    if not chat:
        raise LlmError(f"cannot tell which host {archive.name} belongs to", "give --host HOST")
    # A host's own name only: a pattern (`all`, `chat*`) would restore over every host it matches.
    if chat not in inventory.group_hosts(target.inventory, None, "llm_chat"):
        raise LlmError(
            f"{chat} is not a chat host (group llm_chat) in {target.inventory}",
            "give one chat host by name with --host (not a group or pattern)",
        )
    checksum = verify(archive)
    prompts.confirm(
        f"Replace the conversations on {chat} with {archive}?",
        f"restoring would replace the conversations on {chat}",
        yes,
    )
    click.echo(f"restoring {archive} (sha256 {checksum}) to {chat}")
    code = target.run(
        "restore", limit=chat, extra_vars={"llm_restore_archive": str(archive.resolve())}
    )
    return code if code else EXIT_OK
