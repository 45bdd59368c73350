"""Ollama pulls: progress callbacks and the disk check that stops a pull that cannot fit."""

from __future__ import annotations

import importlib
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from tests.conftest import serving

GB = 10**9
EVENTS = [
    {"status": "pulling manifest"},
    {"status": "pulling aaa", "digest": "sha256:aaa", "total": 4 * GB, "completed": 0},
    {"status": "pulling aaa", "digest": "sha256:aaa", "total": 4 * GB, "completed": 2 * GB},
    {"status": "pulling bbb", "digest": "sha256:bbb", "total": 1000, "completed": 1000},
    {"status": "pulling aaa", "digest": "sha256:aaa", "total": 4 * GB, "completed": 4 * GB},
    {"status": "success"},
]


class Pull(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()
        for event in EVENTS:
            self.wfile.write((json.dumps(event) + "\n").encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    with serving(Pull, HTTPServer) as url:
        yield url


@pytest.fixture(scope="module")
def ollama(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.ollama"
    )


def test_progress_sums_every_layer(ollama, server):
    seen = []
    total = ollama.pull(server, "m", on_progress=lambda c, t, s: seen.append((c, t)))
    assert total == 4 * GB + 1000
    assert seen[2] == (2 * GB, 4 * GB)  # second layer not announced yet
    assert seen[-1] == (4 * GB + 1000, 4 * GB + 1000)


def test_space_is_checked_as_each_layer_is_announced(ollama, server):
    asked = []
    ollama.pull(server, "m", check_space=asked.append)
    assert asked == [4 * GB, 2 * GB]  # what was still to download when each layer appeared


def test_a_pull_that_cannot_fit_stops_at_the_first_layer(ollama, server):
    def refuse(remaining):
        raise RuntimeError(f"not enough disk: needs {remaining}")

    seen = []
    with pytest.raises(RuntimeError, match="needs 4000000000"):
        ollama.pull(server, "m", on_progress=lambda c, t, s: seen.append(c), check_space=refuse)
    assert seen == [0]  # only the manifest line went by


class Stalling(BaseHTTPRequestHandler):
    """Ollama when the host it downloads from went away mid-blob: progress every 60 ms
    (Blob.Wait's ticker), the completed count no longer growing (server/download.go)."""

    protocol_version = "HTTP/1.1"
    steps: ClassVar[list[tuple[dict, int]]] = []  # (event, how many times, 20 ms apart)

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for event, times in self.steps:
                for _ in range(times):
                    self.wfile.write((json.dumps(event) + "\n").encode())
                    self.wfile.flush()
                    time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            type(self).gone = True  # the client closed the stream: Ollama cancels the download

    def log_message(self, *args):
        pass


@pytest.fixture
def stalling():
    Stalling.gone = False
    with serving(Stalling) as url:
        yield url


def layer(completed: int, total: int = 1000) -> dict:
    digest = "sha256:" + "a" * 64
    return {"status": "pulling aaaaaaaaaaaa", "digest": digest, "total": total} | {
        "completed": completed
    }


def test_a_download_whose_bytes_stop_is_stalled_though_ollama_still_reports(ollama, stalling):
    Stalling.steps = [(layer(100), 1), (layer(400), 1), (layer(400), 100), (layer(1000), 1)]
    with pytest.raises(ollama.Stalled, match=r"no byte of aaaaaaaaaaaa arrived for 0\.3 s"):
        ollama.pull(stalling, "m", timeout=30, stall=0.3)
    time.sleep(0.2)
    # Closed while Ollama was still reporting (which cancels its download), not at the end.
    assert Stalling.gone


def test_slow_bytes_and_steps_that_download_nothing_are_not_a_stall(ollama, stalling):
    # Growing by one byte per report, then a long verification: neither stops the pull.
    Stalling.steps = [(layer(n), 1) for n in range(0, 1000, 50)] + [
        (layer(1000), 1),
        ({"status": "verifying sha256 digest"}, 20),
        ({"status": "success"}, 1),
    ]
    assert ollama.pull(stalling, "m", timeout=30, stall=0.1) == 1000


def test_without_a_stall_time_the_timeout_is_the_stall_time(ollama, stalling):
    Stalling.steps = [(layer(400), 40), ({"status": "success"}, 1)]
    assert ollama.pull(stalling, "m", timeout=5) == 1000  # 0.8 s unchanged, under 5 s
