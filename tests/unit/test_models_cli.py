"""`llm models`: names checked before Ansible, progress from watcher events, the matrix."""

from __future__ import annotations

import pytest
from rich.console import Console

from cli import model_names, pull_view
from cli.errors import LlmError
from cli.events import RunState


def test_names_checked_with_the_collections_rule():
    assert model_names.check(("llama3.2", "qwen2.5:7b", "llama3.2")) == ["llama3.2", "qwen2.5:7b"]
    with pytest.raises(LlmError, match="'Llama 3!' is not a valid Ollama model name"):
        model_names.check(("llama3.2", "Llama 3!"))


def retry(host: str, **res) -> dict:
    task = "Watch the pull of llama3.2"
    return {"event": "runner_retry", "event_data": {"host": host, "task": task, "res": res}}


def test_pull_update_only_from_the_watcher():
    event = retry("gpu-01", model="llama3.2:latest", completed=10, total=100, done=False)
    [(host, res)] = pull_view.pull_updates(event)
    assert host == "gpu-01" and res["completed"] == 10
    other = {"event": "runner_retry", "event_data": {"task": "Wait for docker", "res": {}}}
    assert pull_view.pull_updates(other) == []
    assert pull_view.pull_updates({"event": "runner_on_failed", "event_data": {}}) == []


def test_a_model_already_present_is_shown_from_the_task_that_started_nothing():
    res = {"model": "llama3.2:latest", "completed": 7, "total": 7, "done": True,
           "status": "already present"}  # fmt: skip
    data = {"host": "pc-01", "task": "Start pulling llama3.2", "res": res}
    assert pull_view.pull_updates({"event": "runner_on_ok", "event_data": data}) == [("pc-01", res)]
    # A pull that started in the background says nothing yet: its watcher reports.
    data = dict(data, res={"started": True, "pid": 9})
    assert pull_view.pull_updates({"event": "runner_on_ok", "event_data": data}) == []


def test_models_the_blob_check_found_ready_are_shown_present():
    ready = [{"model": m, "completed": 7, "total": 7, "done": True, "status": "already present"}
             for m in ("llama3.2:latest", "qwen2.5:0.5b")]  # fmt: skip
    task = "Check the blobs of the wanted models (a corrupt one is deleted, to be fetched again)"
    data = {"host": "pc-01", "task": task, "res": {"complete": [], "ready": ready}}
    updates = pull_view.pull_updates({"event": "runner_on_ok", "event_data": data})
    assert updates == [("pc-01", ready[0]), ("pc-01", ready[1])]
    console = Console(record=True, width=200, force_terminal=False)
    progress = pull_view.PullProgress(console)
    for host, res in updates:
        progress.update(host, res)
    assert "pc-01: qwen2.5:0.5b: already present" in console.export_text()
    nothing = dict(data, res={"complete": ["llama3.2:latest"], "ready": []})
    assert pull_view.pull_updates({"event": "runner_on_ok", "event_data": nothing}) == []


def test_log_lines_at_quarter_steps_and_the_end():
    console = Console(record=True, width=200, force_terminal=False)
    progress = pull_view.PullProgress(console)
    progress.start()
    for completed in (0, 10, 30, 31, 60, 99):
        progress.update("gpu-01", {"model": "m:latest", "completed": completed, "total": 100})
    progress.update(
        "gpu-01", {"model": "m:latest", "completed": 100, "total": 100, "done": True,
                   "status": "success"}
    )  # fmt: skip
    progress.stop()
    lines = console.export_text().splitlines()
    assert lines == [
        "gpu-01: m:latest: 0% (0.0 / 0.0 MB)",
        "gpu-01: m:latest: 25% (0.0 / 0.0 MB)",
        "gpu-01: m:latest: 50% (0.0 / 0.0 MB)",
        "gpu-01: m:latest: 75% (0.0 / 0.0 MB)",
        "gpu-01: m:latest: success (0.0 / 0.0 MB)",
    ]


def test_matrix_models_down_hosts_across():
    state = RunState()
    for host, models in (("gpu-01", [("a:latest", 2_000_000_000)]), ("gpu-02", [])):
        report = {"models": [{"name": n, "size": s} for n, s in models]}
        state.handle(
            {"event": "runner_on_ok", "event_data": {"host": host, "res": {"llm_report": report}}}
        )
    chat = {"host": "chat", "res": {"llm_report": {"models": None}}}
    state.handle({"event": "runner_on_ok", "event_data": chat})
    by_host = pull_view.models_by_host(state)
    assert by_host == {"gpu-01": {"a:latest": 2_000_000_000}, "gpu-02": {}}  # chat: no Ollama
    console = Console(record=True, width=100)
    console.print(pull_view.matrix(by_host))
    row = next(line for line in console.export_text().splitlines() if "a:latest" in line)
    assert "2.0 GB" in row and "-" in row
