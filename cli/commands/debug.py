"""`llm debug`: one archive of diagnostics from every host, secrets redacted."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import click

from cli import __version__, accounts, secretstore
from cli.errors import EXIT_OK, LlmError
from cli.playbook_command import Target, playbook_command


def _add(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    archive.addfile(info, io.BytesIO(data))


def leaked(path: Path, secrets: list[str]) -> list[str]:
    """Names of archive members holding a secret value: must be none."""
    found = []
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            content = handle.read().decode(errors="replace") if handle else ""
            if any(secret in content for secret in secrets):
                found.append(member.name)
    return found


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Directory to write the archive in.",
)
@playbook_command()
def debug(target: Target, output: Path) -> int:
    """Collect diagnostics from every host into one archive (secrets redacted).

    Versions, container states, recent logs, disk, memory, GPU tool output and
    the stack's configuration, per host; the archive is safe to attach to an
    issue: every secret is removed on the host, and the archive is checked.
    """
    stack = target.stack
    hosts = target.hosts()
    output.mkdir(parents=True, exist_ok=True)

    from cli.display import RunDisplay

    click.echo(f"collecting diagnostics from {len(hosts)} host(s)")
    display = RunDisplay(verbose=target.opts.verbosity > 0, quiet=True)
    code = target.run("debug", display)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = output / f"llm-debug-{stamp}.tar.gz"
    secrets = [v for v in secretstore.load(stack.secrets).values() if v]
    # The students' initial passwords (llm users) must not leak either.
    secrets += [a.password for a in accounts.load(stack.accounts).values()]
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, f"llm-debug-{stamp}/controller/version.txt", f"llm {__version__}\n")
        _add(
            archive,
            f"llm-debug-{stamp}/controller/hosts.json",
            json.dumps({"inventory": str(target.inventory), "hosts": hosts}, indent=2),
        )
        for name, state in display.state.hosts.items():
            files = (state.report or {}).get("files") or {}
            if not files:
                reason = next((f.message for f in display.state.failures if f.host == name), "")
                files = {"UNAVAILABLE": f"no diagnostics from {name}: {reason or state.status}\n"}
            for entry, text in sorted(files.items()):
                _add(archive, f"llm-debug-{stamp}/{name}/{entry.strip('/')}.txt", text)
    path.chmod(0o600)
    bad = leaked(path, secrets)
    if bad:  # never expected: redaction happens on each host; refuse to keep it anyway
        path.unlink()
        raise LlmError(f"a secret survived redaction in {', '.join(bad)}: archive deleted")
    click.echo(f"wrote {path} ({path.stat().st_size // 1024 or 1} KiB, secrets redacted)")
    return code if code else EXIT_OK
