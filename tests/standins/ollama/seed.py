"""The model seed beside each Ollama, as a Python request handler, for the tests and
benchmarks that run the stand-ins as local processes (no Docker, no nginx).

It maps the registry paths onto an Ollama models directory as
roles/ollama/templates/seed-nginx.conf.j2 does, read-only (GET and HEAD):

    /v2/<ns>/<model>/manifests/<tag>       -> manifests/registry.ollama.ai/<ns>/<model>/<tag>
    /v2/<ns>/<model>/blobs/sha256:<hex>    -> blobs/sha256-<hex>

with Range (206 and Content-Range) and, on a blob's 200, a Location header naming the
blob itself (Ollama needs one). Anything else is a 404. A subclass sets `root` to the
models directory and may override `send_body`.
"""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path

# The nginx seed's location patterns.
NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
MANIFEST = re.compile(rf"^/v2/({NAME})/({NAME})/manifests/([A-Za-z0-9_][A-Za-z0-9_.-]*)$")
BLOB = re.compile(rf"^/v2/{NAME}/{NAME}/blobs/sha256:([0-9a-f]{{64}})$")


class SeedHandler(BaseHTTPRequestHandler):
    """The nginx seed's mapping of one models directory (`root`)."""

    protocol_version = "HTTP/1.1"
    root: Path

    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        manifest = MANIFEST.match(self.path)
        blob = BLOB.match(self.path)
        path = None
        if manifest:
            path = self.root / "manifests" / "registry.ollama.ai" / Path(*manifest.groups())
        elif blob:
            path = self.root / "blobs" / f"sha256-{blob.group(1)}"
        if path is None or not path.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = path.read_bytes()
        start, end, status = 0, len(data) - 1, 200
        ranged = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range") or "")
        if ranged:
            start, end = int(ranged.group(1)), min(int(ranged.group(2) or end), end)
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        elif blob:
            self.send_header("Location", self.path)
        self.end_headers()
        if self.command == "GET":
            self.send_body(data[start : end + 1], status, blob is not None)

    def send_body(self, piece: bytes, status: int, blob: bool) -> None:
        """A GET's body: the file, or the part of it the Range asked for."""
        self.wfile.write(piece)
