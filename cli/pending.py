"""Changes that reached only some hosts: said plainly, recorded, finished by a repeat.

`llm keys add|revoke|sync`, `secrets rotate`, `users import|remove|reset-password`,
`models add|remove|sync` and `tls ca --install-on` each change several hosts. When some
of them fail or cannot be reached, the run says which hosts have the change and which
do not, and `runs/pending.json` keeps, per playbook and per change, the hosts that
lack it, until a run reaches them: the same change again, or a run that does its whole
work too (any keys run sends the whole list; a whole install also rewrites the keys and
redeploys what a rotated secret changed). Read-only runs leave the record alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli.errors import LlmError

RECORD = "pending.json"

# How each playbook's pending changes are finished.
FINISH = {
    "install": "'llm install --retry-failed' (or 'llm install') finishes it",
    "keys": "'llm keys sync' or 'llm install' finishes it",
    "users": "the same 'llm users' command again finishes it",
    "models": "the same 'llm models' command again finishes it",
    "tls-trust": "the same 'llm tls ca --install-on' command again finishes it",
}
# Playbooks whose every whole run does all their changes' work on the hosts it finishes.
SUPERSEDING = ("install", "keys")
# Playbooks whose whole work a whole install does on a host too (the gateway role
# writes the API keys' list): --retry-failed takes their hosts as well.
INSTALL_FINISHES = ("keys",)

Record = dict[str, dict[str, list[str]]]


def _path(runs: Path) -> Path:
    return runs / RECORD


def load(runs: Path) -> Record:
    """playbook -> change -> hosts that lack it; a damaged record is one line, refused."""
    path = _path(runs)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(changes, dict)
        and all(
            isinstance(h, list) and all(isinstance(x, str) for x in h) for h in changes.values()
        )
        for changes in data.values()
    ):
        raise LlmError(
            f"{path} is damaged (it should map playbooks to changes to lists of hosts)",
            "move it away: what some hosts lacked is then forgotten; 'llm install' redoes the keys",
        )
    return {
        str(p): {str(c): sorted(h) for c, h in changes.items() if h} for p, changes in data.items()
    }


def _save(runs: Path, data: Record) -> None:
    data = {p: {c: h for c, h in changes.items() if h} for p, changes in data.items()}
    data = {p: changes for p, changes in data.items() if changes}
    path = _path(runs)
    if not data:
        path.unlink(missing_ok=True)
        return
    runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def _clear(changes: dict[str, list[str]], hosts: set[str], only: str | None = None) -> None:
    for change in list(changes):
        if only is None or change == only:
            changes[change] = sorted(set(changes[change]) - hosts)


def record(
    runs: Path,
    playbook: str,
    change: str | None,
    failed: list[str],
    succeeded: list[str],
    *,
    finished: bool,
    whole: bool,
) -> None:
    """After a run: the hosts it finished no longer lack its change (or, for a whole run
    of a superseding playbook, any of its changes); those it failed lack this change.

    finished: Ansible reached its recap (an interrupted run finished no host).
    whole: no --tags (a tagged install need not have written the keys).
    """
    data = load(runs)
    done = set(succeeded) if finished else set()
    changes = data.setdefault(playbook, {})
    if playbook in SUPERSEDING and whole:
        _clear(changes, done)
    elif change:
        _clear(changes, done, only=change)
        # A model removed from a host no longer waits there to be added, and the reverse.
        undone = _opposite(change)
        if undone:
            _clear(changes, done, only=undone)
    if playbook == "install" and whole:
        for other in INSTALL_FINISHES:
            _clear(data.setdefault(other, {}), done)
    if change and failed:
        changes[change] = sorted(set(changes.get(change, [])) | set(failed))
    _save(runs, data)


def forget(runs: Path, playbook: str, change: str) -> None:
    """A change undone before any host took it (a CA rotation put back): none lacks it."""
    data = load(runs)
    if data.get(playbook, {}).pop(change, None) is not None:
        _save(runs, data)


def _opposite(change: str) -> str | None:
    """'models add X' <-> 'models remove X' (the same models, in the same order)."""
    for this, that in (("models add ", "models remove "), ("models remove ", "models add ")):
        if change.startswith(this):
            return that + change[len(this) :]
    return None


def lacking(runs: Path, playbook: str) -> dict[str, list[str]]:
    """change -> the hosts that still lack it, for one playbook."""
    return load(runs).get(playbook, {})


def hosts(runs: Path, playbook: str) -> list[str]:
    return sorted({h for lack in lacking(runs, playbook).values() for h in lack})


def summary(playbook: str, change: str, failed: list[str], succeeded: list[str]) -> str | None:
    """One line for a change that did not reach every host it was for, else None."""
    if not failed:
        return None
    done = ", ".join(succeeded) if succeeded else "no host"
    return (
        f"{change}: done on {done}; NOT on {', '.join(failed)}, which may lack it "
        f"(recorded in runs/{RECORD}): {FINISH.get(playbook, 'repeat it')}"
    )


def notes(runs: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """A line per change some hosts still lack."""
    return [
        f"pending on {', '.join(lack)}: {change} ({FINISH.get(playbook, 'repeat it')})"
        for playbook, changes in sorted(load(runs).items())
        if playbook not in skip
        for change, lack in sorted(changes.items())
    ]
