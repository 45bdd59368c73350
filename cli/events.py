"""Turn ansible-runner events into per-host progress, a recap and failures.

Pure bookkeeping, no terminal output: the display renders this state, and
tests feed it recorded events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cli.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK

# A role sets a fact named <role>_host_summary (ansible.builtin.set_fact) to put
# a line about the host in the recap.
SUMMARY_SUFFIX = "_host_summary"
# A module returns `llm_report` (a dict), or a play sets it as a fact, for
# commands that show data rather than progress.
REPORT_KEY = "llm_report"

_COUNTERS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
# playbook_on_stats keys -> our counter names
_STATS_KEYS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


@dataclass
class HostState:
    name: str
    task: str = ""
    summaries: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTERS, 0))

    @property
    def summary(self) -> str:
        return "; ".join(self.summaries.values())

    @property
    def status(self) -> str:
        if self.counts["unreachable"]:
            return "unreachable"
        if self.counts["failed"]:
            return "failed"
        return "ok"


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    message: str
    unreachable: bool = False

    def line(self) -> str:
        if self.unreachable:
            return f"{self.host}: unreachable ({self.task}): {self.message}"
        return f"{self.host}: {self.task}: {self.message}"


def failure_message(res: dict[str, Any]) -> str:
    """The most useful words in a failed task's result, in plain text."""
    stderr = str(res.get("module_stderr") or "").strip()
    msg = str(res.get("msg") or "").strip()
    if stderr and (not msg or msg.startswith(("MODULE FAILURE", "Module result"))):
        # The module crashed: its stderr says why, the generic msg does not.
        lines = stderr.splitlines()
        return f"{msg}: {' '.join(lines[:3])}" if msg else " ".join(lines[:3])
    if msg == "non-zero return code" and str(res.get("stderr") or "").strip():
        return f"{str(res['stderr']).strip()} (exit status {res.get('rc')})"
    for key in ("msg", "reason", "stderr", "module_stderr", "exception"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    # A loop: the first failed item says why.
    for item in res.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            return failure_message(item)
    if res.get("rc") not in (None, 0):
        return f"command exited with status {res['rc']}"
    return "failed (run with -v for Ansible's output)"


class RunState:
    """Everything the display needs, updated one runner event at a time."""

    def __init__(self) -> None:
        self.hosts: dict[str, HostState] = {}
        self.failures: list[Failure] = []
        self.play = ""
        self.task = ""
        self.stats_seen = False
        self.canceled = False

    def host(self, name: str) -> HostState:
        if name not in self.hosts:
            self.hosts[name] = HostState(name)
        return self.hosts[name]

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        hostname = data.get("host") or data.get("remote_addr")
        task = data.get("task") or ""
        res = data.get("res") if isinstance(data.get("res"), dict) else {}

        if kind == "playbook_on_play_start":
            self.play = data.get("play") or data.get("name") or ""
        elif kind == "playbook_on_task_start":
            self.task = task
        elif kind == "runner_on_start" and hostname:
            self.host(hostname).task = task
        elif kind == "runner_on_ok" and hostname:
            state = self.host(hostname)
            state.counts["changed" if res.get("changed") else "ok"] += 1
            report = res.get(REPORT_KEY) or (res.get("ansible_facts") or {}).get(REPORT_KEY)
            if isinstance(report, dict):
                state.report = report
            for key, value in (res.get("ansible_facts") or {}).items():
                if key.endswith(SUMMARY_SUFFIX) and isinstance(value, str) and value.strip():
                    state.summaries[key] = " ".join(value.split())
        elif kind == "runner_on_skipped" and hostname:
            self.host(hostname).counts["skipped"] += 1
        elif kind == "runner_on_failed" and hostname:
            state = self.host(hostname)
            if data.get("ignore_errors"):
                state.counts["ignored"] += 1
            else:
                state.counts["failed"] += 1
                self.failures.append(Failure(hostname, task, failure_message(res)))
        elif kind == "runner_on_unreachable" and hostname:
            self.host(hostname).counts["unreachable"] += 1
            self.failures.append(Failure(hostname, task, failure_message(res), unreachable=True))
        elif kind == "playbook_on_stats":
            self._apply_stats(data)

    def _apply_stats(self, data: dict[str, Any]) -> None:
        """Ansible's own recap is the truth: it knows what a rescue block forgave."""
        self.stats_seen = True
        names: set[str] = set()
        for key in _STATS_KEYS:
            names.update((data.get(key) or {}).keys())
        for name in sorted(names):
            state = self.host(name)
            for key, counter in _STATS_KEYS.items():
                state.counts[counter] = int((data.get(key) or {}).get(name, 0))
        bad = {h.name for h in self.hosts.values() if h.status != "ok"}
        # An unreachable result Ansible ignored (a delegated read with ignore_unreachable)
        # counts nowhere in the recap: it is not why the host failed.
        self.failures = [
            f
            for f in self.failures
            if f.host in bad and (not f.unreachable or self.hosts[f.host].counts["unreachable"])
        ]

    def exit_code(self, runner_status: str, runner_rc: int | None) -> int:
        if self.canceled or runner_status == "canceled":
            return EXIT_INTERRUPTED
        if any(h.status != "ok" for h in self.hosts.values()):
            return EXIT_HOST_FAILED
        if runner_status != "successful" or (runner_rc or 0) != 0:
            return EXIT_HOST_FAILED
        return EXIT_OK
