"""A pull in the background (ollama_model's background, ollama_pull_progress's pid): run as
Ansible runs a module, against a fake Ollama, as a real process that detaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import serving


class FakeOllama(BaseHTTPRequestHandler):
    """/api/tags lists `present`; /api/pull streams a slow pull, or refuses `missing`."""

    present: ClassVar[list[str]] = ["here:latest"]
    delay: ClassVar[float] = 0.3

    def _send(self, code: int, lines: list[dict]) -> None:
        self.send_response(code)
        self.end_headers()
        for line in lines:
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
            time.sleep(self.delay)

    def do_GET(self):
        models = [{"name": n, "model": n, "size": 7} for n in self.present]
        self._send(200, [{"models": models}])

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("model", body.get("name", "")).startswith("missing"):
            self._send(500, [{"error": "pull model manifest: file does not exist"}])
            return
        self._send(200, [
            {"status": "pulling aaa", "digest": "sha256:aaa", "total": 100, "completed": 50},
            {"status": "pulling aaa", "digest": "sha256:aaa", "total": 100, "completed": 100},
            {"status": "success"},
        ])  # fmt: skip

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ollama_url():
    with serving(FakeOllama) as url:
        yield url


def module(collections_dir: Path, name: str, args: dict) -> dict:
    """Run a module of the collection as Ansible does (arguments on stdin)."""
    path = collections_dir / "ansible_collections/local_llm/stack/plugins/modules" / f"{name}.py"
    env = dict(os.environ, PYTHONPATH=str(collections_dir))
    done = subprocess.run(
        [sys.executable, str(path)], input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    return json.loads(done.stdout)


def start_pull(collections_dir: Path, url: str, name: str, progress: Path) -> dict:
    args = {"name": name, "url": url, "progress_file": str(progress), "background": True}
    return module(collections_dir, "ollama_model", args)


def watch(collections_dir: Path, path: Path, pid: int) -> tuple[dict, list[dict]]:
    seen = []
    for _ in range(100):
        answer = module(collections_dir, "ollama_pull_progress", {"path": str(path), "pid": pid})
        seen.append(answer)
        if answer["done"]:
            return answer, seen
        time.sleep(0.1)
    raise AssertionError(f"the watch never ended: {seen[-1]}")


def test_the_start_returns_at_once_and_the_watch_hands_on_the_result(
    collections_dir, ollama_url, tmp_path
):
    progress = tmp_path / "pull.json"
    started = time.monotonic()
    start = start_pull(collections_dir, ollama_url, "new", progress)
    assert time.monotonic() - started < 0.9 * 3 * FakeOllama.delay + 1  # did not wait for it
    assert start["started"] and start["pid"] > 0 and not start["changed"], start
    final, seen = watch(collections_dir, progress, start["pid"])
    assert not final.get("failed") and final["changed"], final
    assert final["completed"] == final["total"] == 100 and final["attempts"] == 1
    assert any(not s["done"] for s in seen)  # it ran while the watch polled


def test_a_failed_background_pull_fails_the_watch_with_its_message(
    collections_dir, ollama_url, tmp_path
):
    progress = tmp_path / "pull.json"
    start = start_pull(collections_dir, ollama_url, "missing", progress)
    final, _ = watch(collections_dir, progress, start["pid"])
    assert final["failed"] and "file does not exist" in final["msg"], final


def test_a_model_already_present_starts_nothing(collections_dir, ollama_url, tmp_path):
    progress = tmp_path / "pull.json"
    answer = start_pull(collections_dir, ollama_url, "here", progress)
    assert "pid" not in answer and not answer["changed"]
    assert answer["status"] == "already present" and answer["done"]


def test_a_pull_whose_process_died_is_a_failure_not_a_wait(collections_dir, tmp_path):
    progress = tmp_path / "pull.json"
    progress.write_text(json.dumps({"model": "m:latest", "completed": 5, "total": 9}))
    dead = subprocess.Popen(["true"])
    dead.wait()
    final = module(
        collections_dir, "ollama_pull_progress", {"path": str(progress), "pid": dead.pid}
    )
    assert final["done"] and final["failed"] and "stopped without a result" in final["msg"]


def test_a_pull_that_ended_with_its_result_is_read_with_it(collections_dir, tmp_path):
    """Its process is gone, its result is in the file: a success, not a death."""
    progress = tmp_path / "pull.json"
    result = {"changed": True, "failed": False, "received": 9}
    progress.write_text(json.dumps({"model": "m:latest", "completed": 9, "total": 9,
                                    "done": True, "result": result}))  # fmt: skip
    dead = subprocess.Popen(["true"])
    dead.wait()
    final = module(
        collections_dir, "ollama_pull_progress", {"path": str(progress), "pid": dead.pid}
    )
    assert final["done"] and not final.get("failed") and final["changed"], final


def test_an_earlier_pulls_file_does_not_pass_for_this_one(collections_dir, ollama_url, tmp_path):
    progress = tmp_path / "pull.json"
    old = {"model": "missing:latest", "done": True, "result": {"changed": True, "failed": False}}
    progress.write_text(json.dumps(old))
    start = start_pull(collections_dir, ollama_url, "missing", progress)
    final, _ = watch(collections_dir, progress, start["pid"])
    assert final["failed"] and not final["changed"], (
        final
    )  # this pull's failure, not the old success
