"""RunState and the display, fed events recorded from a real ansible-runner run.

The recording (fixtures/runner_events/*.json) came from running the playbook
beside it on three hosts: `good` (ok, a rescued failure, an ignored failure),
`bad` (a failed task) and `gone` (unreachable over ssh).
"""

from __future__ import annotations

import io

from rich.console import Console

from cli.display import RunDisplay
from cli.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK
from cli.events import RunState, failure_message


def run_state(events: list[dict]) -> RunState:
    state = RunState()
    for event in events:
        state.handle(event)
    return state


def test_counts_follow_ansibles_recap(recorded_events):
    state = run_state(recorded_events)
    good, bad, gone = state.hosts["good"], state.hosts["bad"], state.hosts["gone"]
    assert (good.counts["changed"], good.counts["rescued"], good.counts["ignored"]) == (1, 1, 1)
    assert good.counts["failed"] == 0 and good.status == "ok"
    assert bad.counts["failed"] == 1 and bad.status == "failed"
    assert gone.counts["unreachable"] == 1 and gone.status == "unreachable"


def test_failures_name_host_task_and_reason(recorded_events):
    lines = [f.line() for f in run_state(recorded_events).failures]
    assert "bad: Break on one host: disk full on bad" in lines
    unreachable = [line for line in lines if line.startswith("gone: unreachable (Say hello): ")]
    assert len(unreachable) == 1 and "Connection refused" in unreachable[0]
    # The rescued and the ignored failure on `good` are not failures of the run.
    assert not [line for line in lines if line.startswith("good:")]


def test_exit_codes(recorded_events):
    state = run_state(recorded_events)
    assert state.exit_code("failed", 4) == EXIT_HOST_FAILED
    only_good = [e for e in recorded_events if (e["event_data"].get("host") in (None, "good"))]
    for event in only_good:
        if event["event"] == "playbook_on_stats":
            for key in ("failures", "dark", "ok", "changed", "skipped", "rescued", "ignored"):
                event["event_data"][key] = {
                    h: n for h, n in event["event_data"].get(key, {}).items() if h == "good"
                }
    assert run_state(only_good).exit_code("successful", 0) == EXIT_OK
    state.canceled = True
    assert state.exit_code("canceled", 254) == EXIT_INTERRUPTED


def test_current_task_tracks_runner_start(recorded_events):
    state = RunState()
    for event in recorded_events:
        state.handle(event)
        if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Rescue":
            break
    assert state.hosts["good"].task == "Rescue"
    assert state.hosts["bad"].task == "Break on one host"


def test_host_summary_facts_reach_the_recap(recorded_events):
    state = run_state(recorded_events)
    assert state.hosts["good"].summary == "rescued on good"
    assert state.hosts["bad"].summary == ""


def test_module_crash_shows_its_stderr():
    res = {
        "msg": "Module result deserialization failed: No start of json char found",
        "module_stderr": "pyenv: python3.13: command not found\n\nmore",
    }
    assert "python3.13: command not found" in failure_message(res)


def test_loop_failure_names_the_failed_item():
    res = {"msg": "", "results": [{"failed": False}, {"failed": True, "msg": "no such package"}]}
    assert failure_message(res) == "no such package"


def test_log_display_prints_recap_and_failures(recorded_events):
    out = io.StringIO()
    display = RunDisplay(console=Console(file=out, width=120, force_terminal=False))
    with display:
        for event in recorded_events:
            assert display.event(event) is True  # runner keeps the event
    display.recap()
    text = out.getvalue()
    assert "good: Say hello: changed" in text  # a log line per change
    assert "Recap" in text and "unreachable" in text
    assert "bad: Break on one host: disk full on bad" in text
    assert "good: rescued on good" in text


def test_verbose_display_prints_ansibles_output(recorded_events):
    out = io.StringIO()
    display = RunDisplay(console=Console(file=out, width=120), verbose=True)
    with display:
        for event in recorded_events:
            display.event(event)
    assert "TASK [Break on one host]" in out.getvalue()
    assert "PLAY RECAP" in out.getvalue()


def test_an_ignored_unreachable_result_is_not_why_a_host_failed():
    state = RunState()
    for event in (
        {"event": "runner_on_unreachable", "event_data": {"host": "pc-02", "task": "Read the hub",
                                                           "res": {"msg": "hub off"}}},
        {"event": "runner_on_failed", "event_data": {"host": "pc-02", "task": "Stop",
                                                      "res": {"msg": "waits for the hub"}}},
        {"event": "playbook_on_stats", "event_data": {"ok": {"pc-02": 3}, "ignored": {"pc-02": 1},
                                                       "failures": {"pc-02": 1}}},
    ):  # fmt: skip
        state.handle(event)
    assert [f.line() for f in state.failures] == ["pc-02: Stop: waits for the hub"]
