"""Day-2 commands through the real `llm`, from the controller, against this lab.

These tests take no `host` fixture: each runs once, not once per host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
STACK = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "stack"
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


def llm(*args: str, inventory: str = INVENTORY) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "--dir", str(STACK), "-i", inventory],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def status() -> tuple[int, dict]:
    result = llm("status", "--json")
    return result.returncode, json.loads(result.stdout)


def test_status_reports_every_host_service_and_model():
    rc, report = status()
    assert rc == 0, report
    assert set(report) == {"chat", "gpu-01", "gpu-02"}
    assert set(report["chat"]["services"]) == {"librechat", "mongodb", "meilisearch"}
    assert all(s["health"] == "healthy" for s in report["chat"]["services"].values())
    assert report["chat"]["services"]["librechat"]["url"].endswith(":3080")
    assert report["chat"]["models"] is None  # no Ollama on the chat host
    for gpu in ("gpu-01", "gpu-02"):
        assert set(report[gpu]["services"]) == {"ollama"}
        assert report[gpu]["services"]["ollama"]["url"].startswith("http://")
    assert [m["name"] for m in report["gpu-01"]["models"]] == ["qwen2.5:0.5b"]
    assert {m["name"] for m in report["gpu-02"]["models"]} == {"qwen2.5:0.5b", "llama3.2"}
    assert all(m["size"] > 0 for m in report["gpu-02"]["models"])


def test_status_table_names_hosts_and_urls():
    result = llm("status")
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("chat", "gpu-01", "gpu-02", "librechat", "healthy", "models: qwen2.5:0.5b"):
        assert word in result.stdout


def test_stop_and_start_one_service_on_one_host():
    stopped = llm("stop", "ollama", "--limit", "gpu-02")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    rc, report = status()
    assert rc == 1  # a service is down: status says so in its exit code
    assert report["gpu-02"]["services"]["ollama"]["state"] == "exited"
    assert report["gpu-01"]["services"]["ollama"]["state"] == "running"  # the limit held
    assert report["chat"]["services"]["librechat"]["state"] == "running"

    started = llm("start", "ollama", "--limit", "gpu-02")
    assert started.returncode == 0, started.stdout + started.stderr
    rc, report = status()
    assert rc == 0, report
    assert report["gpu-02"]["services"]["ollama"]["health"] == "healthy"


def test_restart_librechat_only(tmp_path):
    before = subprocess.run(
        ["docker", "exec", "chat", "docker", "inspect", "-f", "{{.State.StartedAt}}",
         "llm-librechat", "llm-mongodb"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    restarted = llm("restart", "librechat")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = subprocess.run(
        ["docker", "exec", "chat", "docker", "inspect", "-f", "{{.State.StartedAt}}",
         "llm-librechat", "llm-mongodb"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert after[0] != before[0]  # LibreChat restarted
    assert after[1] == before[1]  # MongoDB untouched
    rc, report = status()
    assert rc == 0 and report["chat"]["services"]["librechat"]["health"] == "healthy"


def test_unreachable_host_is_a_row_not_a_traceback(tmp_path):
    inventory = tmp_path / "with-ghost.yml"
    data = {
        "all": {"children": {"llm_ollama": {"hosts": {
            "gpu-01": {"ansible_connection": "community.docker.docker"},
            "ghost": {"ansible_connection": "community.docker.docker"},
        }}}}
    }  # fmt: skip
    inventory.write_text(json.dumps(data))
    result = llm("status", "--json", inventory=str(inventory))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["gpu-01"]["reachable"] is True
    assert report["ghost"]["reachable"] is False and report["ghost"]["error"]
