"""`llm status` pieces: docker ps parsing, Ollama's model list, the report and its verdict."""

from __future__ import annotations

import importlib
import json

import pytest
from rich.console import Console

from cli import status_view
from cli.events import RunState

PS = "\n".join(
    json.dumps(row)
    for row in [
        {"Names": "llm-ollama", "State": "running", "Status": "Up 3 minutes (healthy)"},
        {"Names": "llm-mongodb", "State": "running", "Status": "Up 3 minutes (health: starting)"},
        {"Names": "llm-librechat", "State": "exited", "Status": "Exited (1) 2 minutes ago"},
        {"Names": "llm-meilisearch", "State": "running", "Status": "Up 3 minutes"},
        {"Names": "someone-else", "State": "running", "Status": "Up 1 hour"},
    ]
)


@pytest.fixture(scope="module")
def parsing(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.stack_status"
    )


CONTAINERS = {
    "ollama": "llm-ollama",
    "mongodb": "llm-mongodb",
    "librechat": "llm-librechat",
    "meilisearch": "llm-meilisearch",
}


def test_docker_ps_rows_become_services(parsing):
    services = parsing.parse_docker_ps(PS + "\nnot json\n", CONTAINERS)
    assert set(services) == {"ollama", "mongodb", "librechat", "meilisearch"}
    assert services["ollama"]["health"] == "healthy"
    assert services["mongodb"]["health"] == "starting"
    assert (services["librechat"]["state"], services["librechat"]["health"]) == ("exited", "-")
    assert services["meilisearch"]["health"] == "none"  # no health check: running is enough


def test_models_sorted_with_sizes(parsing):
    payload = {"models": [{"name": "qwen2.5:0.5b", "size": 397821319}, {"model": "llama3.2"}]}
    assert parsing.parse_models(payload) == [
        {"name": "llama3.2", "size": 0},
        {"name": "qwen2.5:0.5b", "size": 397821319},
    ]
    assert parsing.parse_models({}) == []


def state_with(*events: dict) -> RunState:
    state = RunState()
    for event in events:
        state.handle(event)
    return state


def ok(host: str, report: dict) -> dict:
    return {"event": "runner_on_ok", "event_data": {"host": host, "res": {"llm_report": report}}}


def unreachable(host: str) -> dict:
    res = {"msg": "Failed to connect to the host via ssh: connection refused", "unreachable": True}
    return {"event": "runner_on_unreachable", "event_data": {"host": host, "task": "t", "res": res}}


def running(health: str = "healthy") -> dict:
    return {"state": "running", "health": health, "status": "Up"}


def test_report_keeps_unreachable_hosts_as_rows_with_the_reason():
    state = state_with(
        ok("gpu-01", {"services": {"ollama": running()}, "models": [], "gpus": [], "errors": []}),
        unreachable("gpu-02"),
    )
    report = status_view.as_dict(state)
    assert report["gpu-01"]["reachable"] is True
    assert report["gpu-02"] == {
        "reachable": False,
        "error": "Failed to connect to the host via ssh: connection refused",
    }
    assert status_view.healthy(report) is False
    console = Console(record=True, width=120)
    status_view.render(report, console)
    text = console.export_text()
    assert "gpu-02" in text and "unreachable" in text and "connection refused" in text


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        ({"ollama": running(), "meilisearch": running("none")}, True),
        ({"ollama": running("unhealthy")}, False),
        ({"ollama": running("starting")}, False),
        ({"ollama": {"state": "exited", "health": "-"}}, False),
        ({}, False),  # nothing deployed is not a working stack
    ],
)
def test_verdict(services, expected):
    state = state_with(ok("h", {"services": services, "models": None, "gpus": [], "errors": []}))
    assert status_view.healthy(status_view.as_dict(state)) is expected


@pytest.mark.parametrize(
    ("services", "expected", "verdict", "words"),
    [
        ({}, [], True, "nothing to run here"),  # a gateway host before its module is enabled
        ({}, ["ollama"], False, "nothing deployed"),
        ({"mongodb": running()}, ["mongodb", "librechat"], False, "missing"),
        ({"mongodb": running(), "librechat": running()}, ["mongodb", "librechat"], True, "mongodb"),
    ],
)
def test_verdict_follows_what_the_enabled_modules_put_on_the_host(
    services, expected, verdict, words
):
    report = {"services": services, "expected": expected, "models": None, "gpus": [], "errors": []}
    entry = status_view.as_dict(state_with(ok("h", report)))
    assert status_view.healthy(entry) is verdict
    console = Console(record=True, width=120)
    status_view.render(entry, console)
    assert words in console.export_text()


def test_render_shows_models_and_gpu_memory():
    report = {
        "gpu-01": {
            "reachable": True,
            "services": {"ollama": dict(running(), url="http://10.0.0.11:11434")},
            "models": [{"name": "llama3.2", "size": 2019393189}],
            "gpus": [{"index": 0, "name": "NVIDIA H200", "memory_used_mib": 1024,
                      "memory_total_mib": 143771, "driver_version": "580.159.04"}],
            "errors": [],
        }
    }  # fmt: skip
    console = Console(record=True, width=120)
    status_view.render(report, console)
    text = console.export_text()
    assert "http://10.0.0.11:11434" in text
    assert "gpu-01: models: llama3.2 (2.0 GB)" in text
    assert "gpu-01: GPU 0: NVIDIA H200, 1024 / 143771 MiB used" in text


def test_a_systemd_unit_reads_like_a_container(parsing):
    active = "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n"
    assert parsing.parse_systemctl_show(active) == {
        "state": "running",
        "health": "none",
        "status": "active (running)",
    }
    failed = "LoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=enabled\n"
    assert parsing.parse_systemctl_show(failed)["state"] == "exited"
    assert parsing.parse_systemctl_show("LoadState=not-found\nActiveState=inactive\n") is None
    # Disabled and stopped: a disabled module's unit (the package stays): not deployed.
    removed = "LoadState=loaded\nActiveState=inactive\nSubState=dead\nUnitFileState=disabled\n"
    assert parsing.parse_systemctl_show(removed) is None
