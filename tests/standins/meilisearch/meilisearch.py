"""A stand-in for Meilisearch, for tests only.

Honours: MEILI_MASTER_KEY (required: the server refuses to start without one of
16+ bytes, as Meilisearch does in production), MEILI_HTTP_ADDR (default
0.0.0.0:7700), /meili_data as its state, GET /health, and Bearer authentication
with the master key for everything else (GET /indexes, GET /version).
It does NOT index or search anything.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KEY = os.environ.get("MEILI_MASTER_KEY", "")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("meilisearch-standin: " + fmt % args + "\n")

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            return self._send(200, {"status": "available"})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._send(
                403, {"message": "The provided API key is invalid.", "code": "invalid_api_key"}
            )
        if self.path == "/version":
            return self._send(200, {"pkgVersion": "1.12.3"})
        if self.path.startswith("/indexes"):
            return self._send(200, {"results": [], "offset": 0, "limit": 20, "total": 0})
        return self._send(404, {"message": "not found"})


if __name__ == "__main__":
    if len(KEY.encode()) < 16:
        sys.exit("meilisearch-standin: MEILI_MASTER_KEY must be at least 16 bytes")
    Path("/meili_data/standin-started").write_text("ok\n")
    host, _, port = os.environ.get("MEILI_HTTP_ADDR", "0.0.0.0:7700").rpartition(":")
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
