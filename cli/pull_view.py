"""Per-host progress of model pulls, from the watcher task's retry events.

The models playbook pulls in the background and polls a progress file once a
second; each poll is a `runner_retry` event (or the final `runner_on_ok`)
whose result holds model, completed and total bytes. A model already present
is reported by the blob check that finds it ready (its `ready` list), or by the
task that would start its pull, which then starts nothing.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cli.display import RunDisplay
from cli.events import RunState
from cli.status_view import human_bytes

WATCH_TASK_PREFIX = "Watch the pull of "
START_TASK_PREFIX = "Start pulling "
VERIFY_TASK_PREFIX = "Check the blobs of the wanted models"


def pull_updates(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """[(host, progress)] the event reports: a watcher's poll, a start that found its model
    present, or the models a blob check found ready; [] for any other event."""
    if event.get("event") not in ("runner_retry", "runner_on_ok"):
        return []
    data = event.get("event_data") or {}
    task, host = str(data.get("task", "")), data.get("host", "?")
    res = data.get("res") or {}
    if task.startswith(VERIFY_TASK_PREFIX):
        return [(host, ready) for ready in res.get("ready") or [] if "completed" in ready]
    if not task.startswith((WATCH_TASK_PREFIX, START_TASK_PREFIX)) or "completed" not in res:
        return []
    return [(host, res)]


class PullProgress:
    """Bars on a terminal; in a log, a line per host and model at 25 % steps and at the end."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bars: Progress | None = None
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._logged: dict[tuple[str, str], int] = {}

    def start(self) -> None:
        if self.console.is_terminal:
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=self.console,
            )
            self._bars.start()

    def stop(self) -> None:
        if self._bars is not None:
            self._bars.stop()

    def update(self, host: str, res: dict[str, Any]) -> None:
        model = res.get("model") or "?"
        key = (host, model)
        completed, total = int(res.get("completed") or 0), int(res.get("total") or 0)
        if self._bars is not None:
            if key not in self._tasks:
                self._tasks[key] = self._bars.add_task(f"{host}: {model}", total=total or None)
            self._bars.update(self._tasks[key], completed=completed, total=total or None)
            return
        step = 100 if res.get("done") else (completed * 4 // total) * 25 if total else 0
        if step > self._logged.get(key, -1):
            self._logged[key] = step
            word = res.get("status") if res.get("done") else f"{step}%"
            self.console.print(
                f"{host}: {model}: {word} ({completed / 1e6:.1f} / {total / 1e6:.1f} MB)",
                soft_wrap=True,
            )


class ModelsDisplay(RunDisplay):
    """Pull bars instead of the task table; failures at the end."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(verbose=verbose, quiet=True)
        self.pulls = PullProgress(self.console)

    def __enter__(self) -> ModelsDisplay:
        if not self.verbose:
            self.pulls.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pulls.stop()

    def event(self, event: dict[str, Any]) -> bool:
        if not self.verbose:
            for host, res in pull_updates(event):
                self.pulls.update(host, res)
        return super().event(event)

    def recap(self) -> None:
        self.print_failures()


def models_by_host(state: RunState) -> dict[str, dict[str, int]]:
    """{host: {model: size}} for every host that runs Ollama, from the reports."""
    return {
        name: {m["name"]: m["size"] for m in host.report["models"]}
        for name, host in state.hosts.items()
        if host.report is not None and host.report.get("models") is not None
    }


def matrix(by_host: dict[str, dict[str, int]]) -> Table:
    """Models down, hosts across, sizes in the cells."""
    table = Table(title="Models", title_justify="left")
    table.add_column("model", style="bold")
    hosts = sorted(by_host)
    for host in hosts:
        table.add_column(host, justify="right")
    for model in sorted({m for models in by_host.values() for m in models}):
        cells = [by_host[h].get(model) for h in hosts]
        table.add_row(model, *(human_bytes(size) if size else "-" for size in cells))
    return table
