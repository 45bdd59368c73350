"""A stand-in for the Ollama server and CLI, for tests only.

Honours: OLLAMA_HOST (bind address), OLLAMA_MODELS (models directory, laid out
as manifests/<registry>/<namespace>/<model>/<tag> plus blobs/sha256-<digest>),
GET /api/version, GET /api/tags, POST /api/pull (NDJSON progress with
total/completed, or one JSON object with "stream": false), DELETE /api/delete,
GET /api/ps, GET /v1/models, POST /v1/chat/completions, and `ollama list` /
`ollama serve`. A model whose name starts with "missing" does not exist.
Every OLLAMA_* variable the server was started with is reported by
GET /standin/env so tests can check the configuration reached the process.
"""

import hashlib
import json
import os
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = os.environ.get("STANDIN_OLLAMA_VERSION", "0.12.3")
MODELS = Path(os.environ.get("OLLAMA_MODELS", "/root/.ollama/models"))
REGISTRY = "registry.ollama.ai"
BLOB_SIZE = 256 * 1024  # bytes per stand-in model layer


def split_name(name):
    """'llama3.2' -> (registry, namespace, model, tag), as Ollama normalises names."""
    base, _, tag = name.partition(":")
    if "/" in tag:  # a port, not a tag
        base, tag = name, ""
    parts = base.split("/")
    registry = parts[0] if len(parts) == 3 else REGISTRY
    namespace = parts[-2] if len(parts) >= 2 else "library"
    return registry, namespace, parts[-1], tag or "latest"


def display_name(registry, namespace, model, tag):
    prefix = "" if registry == REGISTRY else registry + "/"
    prefix += "" if namespace == "library" and not prefix else namespace + "/"
    return f"{prefix}{model}:{tag}"


def manifests():
    root = MODELS / "manifests"
    for path in sorted(root.glob("*/*/*/*")):
        registry, namespace, model, tag = path.relative_to(root).parts
        data = json.loads(path.read_text())
        yield display_name(registry, namespace, model, tag), path, data


def model_list():
    out = []
    for name, path, data in manifests():
        size = sum(layer["size"] for layer in data["layers"])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        mtime = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))
        out.append(
            {
                "name": name,
                "model": name,
                "size": size,
                "digest": digest,
                "modified_at": mtime,
                "details": {"format": "gguf", "family": "standin"},
            }
        )
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("ollama-standin: " + fmt % args + "\n")

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/api/version":
            self._json(200, {"version": VERSION})
        elif self.path == "/api/tags":
            self._json(200, {"models": model_list()})
        elif self.path == "/api/ps":
            self._json(200, {"models": []})
        elif self.path == "/v1/models":
            data = [
                {"id": m["name"], "object": "model", "created": 0, "owned_by": "library"}
                for m in model_list()
            ]
            self._json(200, {"object": "list", "data": data})
        elif self.path == "/standin/env":
            self._json(200, {k: v for k, v in os.environ.items() if k.startswith("OLLAMA_")})
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self):
        if self.path != "/api/delete":
            return self._json(404, {"error": "not found"})
        name = self._body().get("model") or self._body().get("name") or ""
        registry, namespace, model, tag = split_name(name)
        path = MODELS / "manifests" / registry / namespace / model / tag
        if not path.exists():
            return self._json(404, {"error": f"model '{name}' not found"})
        path.unlink()
        return self._json(200, {})

    def do_POST(self):
        if self.path == "/api/pull":
            return self._pull(self._body())
        if self.path == "/v1/chat/completions":
            body = self._body()
            known = {m["name"] for m in model_list()}
            if body.get("model") not in known and f"{body.get('model')}:latest" not in known:
                return self._json(
                    404, {"error": {"message": f"model '{body.get('model')}' not found"}}
                )
            reply = {"role": "assistant", "content": "stand-in reply"}
            return self._json(
                200,
                {
                    "id": "chatcmpl-standin",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": reply, "finish_reason": "stop"}],
                },
            )
        return self._json(404, {"error": "not found"})

    def _pull(self, body):
        name = body.get("model") or body.get("name") or ""
        stream = body.get("stream", True)
        registry, namespace, model, tag = split_name(name)
        if model.startswith("missing"):
            return self._json(500, {"error": "pull model manifest: file does not exist"})
        content = hashlib.sha256(f"{registry}/{namespace}/{model}:{tag}".encode()).digest() * (
            BLOB_SIZE // 32
        )
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        blob = MODELS / "blobs" / digest.replace(":", "-")
        blob.parent.mkdir(parents=True, exist_ok=True)
        events = [{"status": "pulling manifest"}]
        for done in range(0, BLOB_SIZE + 1, BLOB_SIZE // 4):
            events.append(
                {
                    "status": f"pulling {digest[7:19]}",
                    "digest": digest,
                    "total": BLOB_SIZE,
                    "completed": done,
                }
            )
        blob.write_bytes(content)
        manifest = MODELS / "manifests" / registry / namespace / model / tag
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(
            json.dumps(
                {
                    "schemaVersion": 2,
                    "layers": [
                        {
                            "mediaType": "application/vnd.ollama.image.model",
                            "digest": digest,
                            "size": BLOB_SIZE,
                        }
                    ],
                }
            )
        )
        events += [
            {"status": "verifying sha256 digest"},
            {"status": "writing manifest"},
            {"status": "success"},
        ]
        if not stream:
            return self._json(200, {"status": "success"})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            line = (json.dumps(event) + "\n").encode()
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
            time.sleep(0.05)
        self.wfile.write(b"0\r\n\r\n")
        return None


def serve():
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    MODELS.mkdir(parents=True, exist_ok=True)
    ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler).serve_forever()


def cli_list():
    host = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").replace("0.0.0.0", "127.0.0.1")
    with urllib.request.urlopen(f"http://{host}/api/tags", timeout=5) as response:
        models = json.load(response)["models"]
    print("NAME\tID\tSIZE\tMODIFIED")
    for m in models:
        print(f"{m['name']}\t{m['digest'][:12]}\t{m['size']}\t{m['modified_at']}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "serve":
        serve()
    elif command in ("list", "ls"):
        cli_list()
    elif command in ("--version", "-v"):
        print(f"ollama version is {VERSION}")
    else:
        sys.exit(f"ollama stand-in: unsupported command {command!r}")
