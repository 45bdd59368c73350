"""Show a playbook run as it happens: a live table per host, then a recap.

On a terminal the table redraws in place; in a log (CI, a pipe) each changed,
failed or unreachable result is one line. With -v, Ansible's own output is
shown instead of the table. rich is imported here, not at `llm` start-up.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cli.events import RunState

_STYLE = {"ok": "green", "failed": "red", "unreachable": "magenta"}


def _progress_table(state: RunState) -> Table:
    title = f"{state.play}" if state.play else None
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("host", style="bold")
    table.add_column("current task", overflow="ellipsis", max_width=60)
    for column in ("ok", "changed", "failed", "unreach.", "skipped"):
        table.add_column(column, justify="right")
    for host in state.hosts.values():
        c = host.counts
        table.add_row(
            Text(host.name, style=_STYLE[host.status]),
            host.task,
            str(c["ok"]),
            str(c["changed"]),
            str(c["failed"]),
            str(c["unreachable"]),
            str(c["skipped"]),
        )
    return table


def recap_table(state: RunState) -> Table:
    counters = ["ok", "changed", "failed", "unreachable", "skipped"]
    # Rescued and ignored only matter when a play used them.
    hosts = state.hosts.values()
    counters += [k for k in ("rescued", "ignored") if any(h.counts[k] for h in hosts)]
    table = Table(title="Recap", title_justify="left")
    table.add_column("host", style="bold", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for counter in counters:
        table.add_column(counter, justify="right")
    for host in state.hosts.values():
        table.add_row(
            host.name,
            Text(host.status, style=_STYLE[host.status]),
            *(str(host.counts[k]) for k in counters),
        )
    return table


class RunDisplay:
    """Feeds events to a RunState and draws it; used as ansible-runner's event_handler."""

    def __init__(
        self, console: Console | None = None, verbose: bool = False, quiet: bool = False
    ) -> None:
        self.console = console or Console(stderr=False, highlight=False)
        self.state = RunState()
        self.verbose = verbose
        # Quiet: collect only; the command shows the result itself (llm status).
        self.quiet = quiet and not verbose
        self._live: Live | None = None
        # Set once the failures are shown, so they are not shown twice.
        self.failures_printed = False

    def __enter__(self) -> RunDisplay:
        if self.console.is_terminal and not self.verbose and not self.quiet:
            self._live = Live(
                _progress_table(self.state),
                console=self.console,
                refresh_per_second=8,
                transient=True,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def event(self, event: dict[str, Any]) -> bool:
        """ansible-runner event handler; returning True keeps the event in artifacts."""
        self.state.handle(event)
        if self.verbose:
            text = event.get("stdout")
            if text:
                # Ansible's own output, as ansible-playbook would print it.
                self.console.file.write(text + "\n")
                self.console.file.flush()
        elif self._live is not None:
            self._live.update(_progress_table(self.state))
        elif not self.quiet:
            self._log_line(event)
        return True

    def _log_line(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.console.print(f"PLAY {data.get('play', '')}", style="bold")
        elif kind in ("runner_on_failed", "runner_on_unreachable") or (
            kind == "runner_on_ok" and (data.get("res") or {}).get("changed")
        ):
            word = {
                "runner_on_failed": "failed",
                "runner_on_unreachable": "unreachable",
                "runner_on_ok": "changed",
            }[kind]
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                word = "failed (ignored)"
            self.console.print(f"{data.get('host')}: {data.get('task')}: {word}", soft_wrap=True)

    def recap(self) -> None:
        if self.quiet:
            return
        if self.state.hosts:
            self.console.print(recap_table(self.state))
        for host in self.state.hosts.values():
            if host.summary:
                self.console.print(Text(f"{host.name}: {host.summary}"), soft_wrap=True)
        self.print_failures()

    def print_failures(self) -> None:
        if self.state.failures:
            self.failures_printed = True
            self.console.print(Text("Failures:", style="bold red"))
            for failure in self.state.failures:
                self.console.print(Text(failure.line()), soft_wrap=True)
