"""A stand-in for the Ollama model registry (registry.ollama.ai), for tests only.

Serves deterministic stand-in models over the registry protocol Ollama's pull
speaks (server/images.go pullModelManifest, server/download.go in
ollama/ollama), and counts what it serves, so a test can tell how many bytes
came "from the internet":

- GET/HEAD /v2/<namespace>/<model>/manifests/<tag>: the manifest, as
  registry.ollama.ai answers it: Content-Type
  application/vnd.docker.distribution.manifest.v2+json, body
  {"schemaVersion":2,"mediaType":...,"config":{mediaType,digest,size},
  "layers":[{mediaType,digest,size},...]} in Go's compact json.Marshal form
  (Ollama re-marshals the manifest before writing it, so the bytes a client
  stores are these). Unknown name: 404 with a distribution error body
  {"errors":[{"code":"MANIFEST_UNKNOWN",...}]} (Ollama turns any 404 into
  os.ErrNotExist: "pull model manifest: file does not exist").
- Too-old client: a model whose spec has "requires": "X.Y.Z" is refused at the
  manifest with 412 and the plain-text body the real registry sends, when the
  User-Agent "ollama/<version> (...)" names an older version (the check is on
  the registry side; the client prints "pull model manifest: 412: <body>").
  The wording comes from real refusals quoted in ollama/ollama issues #6396,
  #11675 and #14876. A request with no ollama/ User-Agent is served.
- GET/HEAD /v2/<namespace>/<model>/blobs/sha256:<hex>: the blob (config blob
  included), with Range support (206, Content-Range). Ollama first sends a GET
  without Range only to learn the download URL (download.go run: directURL via
  resp.Location(), then closes the body) and then fetches parts with
  "Range: bytes=a-b". registry.ollama.ai answers that first GET with a 307 to
  its CDN on another host; this stand-in instead answers 200 with a Location
  header naming the same path (what pull-through proxies do, since Ollama fails
  with "http: no Location header in response" on a bare 200: ollama/ollama
  PR #9737, #15512). Unknown blob: 404 {"errors":[{"code":"BLOB_UNKNOWN",...}]}.

Stand-in helpers:
- GET /standin/stats -> {"bytes": all body bytes written on /v2/ paths, "blob_bytes": blob
  bytes written in answer to Range requests (what a client stores; the aborted
  first GET is not counted here), "requests": {"manifest": n, "blob_head": n,
  "blob_get": n, "blob_range": n, "refused": n, "not_found": n}}
- POST /standin/reset: counters back to zero.
- POST /standin/config {"rate": bytes_per_second or 0}: throttle blob bodies.
- GET /standin/models: the model specs, with each blob's digest and size.

Run: python3 registry.py --listen 172.17.0.1:0 [--models JSON|@file] [--rate N]
(or STANDIN_REGISTRY_LISTEN, STANDIN_REGISTRY_MODELS, STANDIN_REGISTRY_RATE).
The first line on stdout is the bound address, host:port. Models spec:
{"<name>": {"layers": [size, ...], "requires": "0.41.0"}}; a name is
[namespace/]model[:tag] (namespace library, tag latest by default); the first
layer is the model (application/vnd.ollama.image.model), the others template,
params, license in turn. Layer bytes derive from the name, so every run and
every registry serves the same digests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MIB = 1024 * 1024
DEFAULT_MODELS: dict[str, dict] = {
    "library/tinyllama:latest": {"layers": [3 * MIB, 2048, 512]},
    "library/llama3.2:latest": {"layers": [2 * MIB, 1536, 256]},
    "library/llama3.2:1b": {"layers": [MIB, 1536, 256]},
    "library/qwen2.5:0.5b": {"layers": [MIB // 2, 1024]},
    # Large enough that a slowed copy of it can be stopped half-way.
    "library/mistral:7b": {"layers": [24 * MIB, 1536, 256]},
    # Needs a newer Ollama than the pinned 0.40.2: refused with 412.
    "library/newer-model:latest": {"layers": [MIB // 4, 512], "requires": "0.41.0"},
}
LAYER_TYPES = ["model", "template", "params", "license"]
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
# The real registry's refusal (ollama/ollama issues #6396, #11675, #14876).
TOO_OLD = (
    "\n\nThe model you are attempting to pull requires a newer version of Ollama.\n\n"
    "Please download the latest version at:\n\n\thttps://ollama.com/download\n\n"
)


def normalise(name: str) -> str:
    """'llama3.2' -> 'library/llama3.2:latest'."""
    repo, _, tag = name.partition(":")
    if "/" not in repo:
        repo = "library/" + repo
    return f"{repo}:{tag or 'latest'}"


def compact(obj: object) -> bytes:
    """Go's json.Marshal layout: no spaces."""
    return json.dumps(obj, separators=(",", ":")).encode()


def layer_bytes(name: str, index: int, size: int) -> bytes:
    seed = hashlib.sha256(f"{name}#{index}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def parse_version(text: str) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(p) for p in match.groups()) if match else None


class Store:
    """The models this registry serves, built once from the spec."""

    def __init__(self, spec: dict[str, dict]):
        self.manifests: dict[str, bytes] = {}
        self.requires: dict[str, str] = {}
        self.blobs: dict[str, bytes] = {}
        self.spec: dict[str, dict] = {}
        for raw, model in spec.items():
            name = normalise(raw)
            layers = []
            for i, size in enumerate(model.get("layers") or [MIB]):
                data = layer_bytes(name, i, int(size))
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                self.blobs[digest] = data
                kind = LAYER_TYPES[i % len(LAYER_TYPES)]
                layers.append(
                    {
                        "mediaType": f"application/vnd.ollama.image.{kind}",
                        "digest": digest,
                        "size": len(data),
                    }
                )
            config = {
                "model_format": "gguf",
                "model_family": "llama",
                "model_families": ["llama"],
                "model_type": "1B",
                "file_type": "Q4_0",
            }
            if model.get("requires"):
                config["requires"] = model["requires"]
                self.requires[name] = model["requires"]
            config |= {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [x["digest"] for x in layers]},
            }
            config_data = compact(config)
            config_digest = "sha256:" + hashlib.sha256(config_data).hexdigest()
            self.blobs[config_digest] = config_data
            manifest = {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {
                    "mediaType": CONFIG_TYPE,
                    "digest": config_digest,
                    "size": len(config_data),
                },
                "layers": layers,
            }
            self.manifests[name] = compact(manifest)
            self.spec[name] = {
                "requires": model.get("requires"),
                "manifest_digest": "sha256:" + hashlib.sha256(self.manifests[name]).hexdigest(),
                "size": sum(x["size"] for x in layers) + len(config_data),
                "blobs": {x["digest"]: x["size"] for x in layers}
                | {config_digest: len(config_data)},
            }


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rate = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.bytes = 0
            self.blob_bytes = 0
            self.requests = dict.fromkeys(
                ("manifest", "blob_head", "blob_get", "blob_range", "refused", "not_found"), 0
            )

    def count(self, key: str) -> None:
        with self.lock:
            self.requests[key] += 1

    def sent(self, n: int, blob_range: bool) -> None:
        with self.lock:
            self.bytes += n
            if blob_range:
                self.blob_bytes += n

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "bytes": self.bytes,
                "blob_bytes": self.blob_bytes,
                "requests": dict(self.requests),
                "rate": self.rate,
            }


MANIFEST_PATH = re.compile(r"^/v2/([a-z0-9._-]+)/([a-z0-9._-]+)/manifests/([A-Za-z0-9._-]+)$")
BLOB_PATH = re.compile(r"^/v2/([a-z0-9._-]+)/([a-z0-9._-]+)/blobs/(sha256:[0-9a-f]{64})$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: Store
    stats: Stats

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("registry-standin: " + fmt % args + "\n")

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            if not self.path.startswith("/standin/"):
                self.stats.sent(len(body), False)

    def _json(self, status: int, obj: object) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _error(self, status: int, code: str, message: str, detail: object = None) -> None:
        self.stats.count("not_found")
        self._json(status, {"errors": [{"code": code, "message": message, "detail": detail}]})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/standin/stats":
            return self._json(200, self.stats.snapshot())
        if path == "/standin/models":
            return self._json(200, self.store.spec)
        if path == "/v2/":
            return self._json(200, {})
        match = MANIFEST_PATH.match(path)
        if match:
            return self._manifest(*match.groups())
        match = BLOB_PATH.match(path)
        if match:
            return self._blob(match.group(3))
        return self._error(404, "NOT_FOUND", "not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/standin/reset":
            self.stats.reset()
            return self._json(200, self.stats.snapshot())
        if self.path == "/standin/config":
            try:
                self.stats.rate = int(json.loads(body or b"{}").get("rate") or 0)
            except (ValueError, AttributeError):
                return self._json(400, {"error": 'expected {"rate": bytes per second}'})
            return self._json(200, self.stats.snapshot())
        return self._error(404, "NOT_FOUND", "not found")

    def _manifest(self, namespace: str, model: str, tag: str) -> None:
        name = f"{namespace}/{model}:{tag}"
        self.stats.count("manifest")
        if name not in self.store.manifests:
            return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"name": name})
        needed = self.store.requires.get(name)
        agent = self.headers.get("User-Agent") or ""
        client = parse_version(agent[7:]) if agent.startswith("ollama/") else None
        if needed and client is not None and client < (parse_version(needed) or (0,)):
            self.stats.count("refused")
            return self._send(412, TOO_OLD.encode(), "text/plain; charset=utf-8")
        self._send(200, self.store.manifests[name], MANIFEST_TYPE)

    def _blob(self, digest: str) -> None:
        data = self.store.blobs.get(digest)
        if data is None:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
        if self.command == "HEAD":
            self.stats.count("blob_head")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            return None
        ranged = self.headers.get("Range")
        start, end = 0, len(data) - 1
        status = 200
        if ranged:
            match = re.match(r"bytes=(\d+)-(\d*)$", ranged.strip())
            if not match or int(match.group(1)) >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            start = int(match.group(1))
            end = min(int(match.group(2) or end), end)
            status = 206
            self.stats.count("blob_range")
        else:
            self.stats.count("blob_get")
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_header("Location", self.path)
        self.end_headers()
        self._body(memoryview(data)[start : end + 1], status == 206)
        return None

    def _body(self, view: memoryview, counted: bool) -> None:
        chunk = 64 * 1024
        began = time.monotonic()
        sent = 0
        try:
            while sent < len(view):
                piece = view[sent : sent + chunk]
                self.wfile.write(piece)
                sent += len(piece)
                self.stats.sent(len(piece), counted)
                rate = self.stats.rate
                if rate:
                    ahead = sent / rate - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def load_spec(text: str | None) -> dict[str, dict]:
    if not text:
        return DEFAULT_MODELS
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    spec = json.loads(text)
    if not isinstance(spec, dict):
        raise SystemExit('--models: expected {"name": {"layers": [sizes], "requires": "X.Y.Z"}}')
    return spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    env = os.environ.get
    parser.add_argument("--listen", default=env("STANDIN_REGISTRY_LISTEN", "127.0.0.1:0"))
    parser.add_argument("--models", default=env("STANDIN_REGISTRY_MODELS"))
    parser.add_argument("--rate", type=int, default=int(env("STANDIN_REGISTRY_RATE", "0")))
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    Handler.store = Store(load_spec(args.models))
    Handler.stats = Stats()
    Handler.stats.rate = args.rate
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port or 0)), Handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    print(f"{bound_host}:{bound_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
