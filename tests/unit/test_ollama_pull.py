"""Ollama pulls: progress callbacks and the disk check that stops a pull that cannot fit."""

from __future__ import annotations

import importlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

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
    httpd = HTTPServer(("127.0.0.1", 0), Pull)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


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
