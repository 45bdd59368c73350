"""A change that reached only some hosts: said plainly, recorded, finished by a repeat.

`llm keys revoke`, `secrets rotate`, `users ...`, `models ...`, `modules` (through
install) and `tls ca --install-on` each change several hosts. When some of them
fail or cannot be reached, the run says which hosts have the change and which do
not, and the hosts that lack it stay in the playbook's record
(runs/last-failed/<playbook>.txt, cli.controller) with the change named, until a
repeat of the command (or, where it does the same work, `llm install`) reaches
them.
"""

from __future__ import annotations

from pathlib import Path

from cli import controller

# How each playbook's pending change is finished.
FINISH = {
    "install": "'llm install --retry-failed' (or 'llm install') finishes it",
    "keys": "'llm keys sync' or 'llm install' finishes it",
    "users": "the same 'llm users' command again finishes it",
    "models": "the same 'llm models' command again finishes it",
    "tls-trust": "the same 'llm tls ca --install-on' command again finishes it",
}
# Playbooks whose whole work a successful install does on a host too: the gateway
# role writes the API keys' list. --retry-failed takes their hosts as well.
INSTALL_FINISHES = ("keys",)


def record(
    runs: Path,
    playbook: str,
    failed: list[str],
    succeeded: list[str],
    *,
    finished: bool,
    change: str | None,
) -> list[str]:
    """Update the playbook's record (and, after an install, those it finishes)."""
    hosts = controller.record_failed(
        runs, playbook, failed, succeeded, finished=finished, change=change
    )
    if playbook == "install" and finished:
        for other in INSTALL_FINISHES:
            controller.record_failed(runs, other, [], succeeded, finished=True)
    return hosts


def lacking(runs: Path) -> dict[str, list[str]]:
    """playbook -> the hosts that still lack its last change (only non-empty records)."""
    found = {}
    for playbook in FINISH:
        hosts = controller.read_failed(runs, playbook)
        if hosts:
            found[playbook] = hosts
    return found


def summary(playbook: str, change: str, failed: list[str], succeeded: list[str]) -> str | None:
    """One line for a change that did not reach every host it was for, else None."""
    if not failed:
        return None
    done = ", ".join(succeeded) if succeeded else "no host"
    return (
        f"{change}: done on {done}; NOT on {', '.join(failed)}, which still lack it "
        f"(recorded in runs/last-failed/{playbook}.txt): {FINISH.get(playbook, 'repeat it')}"
    )


def notes(runs: Path, skip: str | None = None) -> list[str]:
    """A line per record of a change some hosts still lack (skip: a playbook not to name)."""
    lines = []
    for playbook, hosts in lacking(runs).items():
        if playbook == skip:
            continue
        what = "; ".join(controller.read_changes(runs, playbook)) or f"the last '{playbook}' run"
        lines.append(f"pending on {', '.join(hosts)}: {what} ({FINISH[playbook]})")
    return lines
