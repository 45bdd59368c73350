"""A stand-in for the Ollama server and CLI, for tests only.

Honours: OLLAMA_HOST (bind address), OLLAMA_MODELS (models directory, laid out
as manifests/<registry>/<namespace>/<model>/<tag> plus blobs/sha256-<digest>),
GET /api/version, GET /api/tags, POST /api/pull (NDJSON progress with
total/completed, or one JSON object with "stream": false), DELETE /api/delete,
GET /api/ps, GET /v1/models, and `ollama list` / `ollama serve`.

Pulls come from a registry, the way Ollama pulls (server/images.go PullModel,
pullModelManifest, makeRequest; server/download.go downloadBlob) when
STANDIN_OLLAMA_UPSTREAM is set (e.g. http://172.17.0.1:PORT, the stand-in
registry tests/standins/registry/registry.py, which then answers for
registry.ollama.ai) or when the name carries a host: [http://]host[:port]/
namespace/model[:tag], fetched over https, or http with "insecure": true
("insecure protocol http" for an http:// name without it). Every request sends
User-Agent "ollama/<STANDIN_OLLAMA_VERSION> (amd64 linux) Go/go1.24.0".
Steps and wording, as upstream:
- "pulling manifest": GET /v2/<ns>/<model>/manifests/<tag> with Accept
  application/vnd.docker.distribution.manifest.v2+json. 404 -> "pull model
  manifest: file does not exist"; another status >= 400 -> "pull model
  manifest: <code>: <body>" (the registry's 412 for a model needing a newer
  Ollama arrives this way).
- each layer, then the config blob: a blob already in blobs/ is reported
  complete and not verified; otherwise the <blob>-partial-N part files (JSON
  {"N","Offset","Size","Completed"}) resume an earlier download, or HEAD gives
  the size and parts are cut (16 parts, 100 MB to 1000 MB each); a GET without
  Range gives the direct URL from its Location header (same-host redirects
  followed; a 200 without Location fails "http: no Location header in
  response", as Ollama does), then each part's missing bytes are fetched with
  "Range: bytes=a-b" into <blob>-partial, renamed to the blob when complete.
  Progress: {"status": "pulling <12 hex>", "digest", "total", "completed"}
  ("completed" left out while 0, Go's omitempty), every 60 ms whether bytes
  arrive or not (Blob.Wait's ticker), so a source gone silent shows only as a
  "completed" that stops growing. If the /api/pull client goes away the
  download stops (the last waiter's release cancels it) and the partial files
  stay for the next pull.
  STANDIN_OLLAMA_PULL_RATE (bytes/s) slows the stand-in's reading.
- "verifying sha256 digest": a mismatch removes the blob and fails "digest
  mismatch, file must be downloaded again: want sha256:..., got sha256:...".
- "writing manifest": the manifest, re-marshalled compactly (as json.Marshal),
  written last (temp file + rename); "removing unused layers" when an older
  manifest of the name used blobs nothing uses now; "success".
An error is a last NDJSON line {"error": "..."} (status 200), or 500
{"error"} with "stream": false. Without STANDIN_OLLAMA_UPSTREAM a name without
a host gets a fabricated one-layer model at once, and a model whose name
starts with "missing" does not exist (500).

POST /api/copy {"source","destination"} copies the manifest (404 'model
"<src>" not found'); DELETE /api/delete removes the manifest, then the blobs
no other manifest uses, then empty manifest directories (Manifest.Remove,
deleteUnusedLayers, PruneDirectory); HEAD /api/blobs/sha256:<hex> is 200 or
404; POST /api/show gives "details" from the config blob (model_format,
model_family, model_type, file_type), "modified_at", and "requires" when the
config blob has one (types/model ConfigV2.Requires).

Chat, the way a real model server answers (no model runs; the reply is a fixed
text cut into STANDIN_OLLAMA_CHUNKS pieces, default 5, with
STANDIN_OLLAMA_CHUNK_DELAY seconds, default 0.4, between them, so a client or a
proxy in between can be timed to pass chunks on as they come):

- POST /api/chat and POST /api/generate: stream defaults to true; NDJSON
  (application/x-ndjson), one object per line, written with chunked
  Transfer-Encoding and flushed per line, as server/routes.go streamResponse
  does with gin's c.Stream. Each line is an api.ChatResponse
  {"model","created_at","message":{"role":"assistant","content"},"done":false}
  (api.GenerateResponse has "response" instead of "message"); the last has
  "done": true, "done_reason": "stop" and the api.Metrics fields
  total_duration, load_duration, prompt_eval_count, prompt_eval_duration,
  eval_count, eval_duration (nanoseconds; generate adds "context"). With
  "stream": false, one object with the whole content (ChatHandler /
  GenerateHandler accumulate the channel). No messages (chat) or an empty
  prompt (generate) loads the model: one done object, done_reason "load".
  An unknown model is 404 {"error": "model '<name>' not found"}; no model is
  400 {"error": "model is required"} (chat).
- POST /v1/chat/completions (openai/openai.go, middleware/openai.go
  ChatMiddleware/ChatWriter): stream defaults to false: one chat.completion
  (id "chatcmpl-<n>", system_fingerprint "fp_ollama", choices[0].message,
  finish_reason "stop", usage). With "stream": true, text/event-stream:
  "data: <chat.completion.chunk>\n\n" per piece (delta {"role":"assistant",
  "content"}, finish_reason null), a last chunk with empty content and
  finish_reason "stop", a usage chunk with no choices when
  stream_options.include_usage is set, then "data: [DONE]\n\n". Errors are
  openai.NewError: {"error":{"message","type":"not_found_error"|
  "invalid_request_error","param":null,"code":null}}; no messages is 400
  "[] is too short - 'messages'".

Every OLLAMA_* variable the server was started with is reported by
GET /standin/env so tests can check the configuration reached the process.
It does NOT run a model, use a GPU, or stream tool calls or thinking; it
downloads parts one after another (Ollama runs up to 16 at once), does not
retry a failed part (a stalled one it waits on without end, as Ollama, which
retries it without end, comes to), and does not authenticate to a registry.
"""

import contextlib
import hashlib
import http.client
import json
import os
import queue
import random
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = os.environ.get("STANDIN_OLLAMA_VERSION", "0.40.2")
MODELS = Path(os.environ.get("OLLAMA_MODELS", "/root/.ollama/models"))
REGISTRY = "registry.ollama.ai"
BLOB_SIZE = 256 * 1024  # bytes per stand-in model layer
REPLY = "This is the stand-in reply, sent in pieces the way a model streams tokens."


def split_name(name):
    """'llama3.2' -> (registry, namespace, model, tag), as types/model ParseName
    normalises names: [host[:port]/][namespace/]model[:tag], a scheme prefix
    (http://, https://) dropped."""
    name = name.split("://", 1)[-1]
    parts = name.split("/")
    last, _, tag = parts[-1].partition(":")
    registry = parts[0] if len(parts) >= 3 else REGISTRY
    namespace = parts[-2] if len(parts) >= 2 else "library"
    return registry, namespace, last, tag or "latest"


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
        size += (data.get("config") or {}).get("size", 0)
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


def model_exists(name):
    """Whether a pulled manifest answers to `name` (tag optional, as in Ollama)."""
    if not isinstance(name, str) or not name:
        return False
    registry, namespace, model, tag = split_name(name)
    return (MODELS / "manifests" / registry / namespace / model / tag).is_file()


def created_at():
    """Go's time.Time JSON form (RFC 3339, UTC, fraction without trailing zeros)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return stamp + "Z"


def chunk_settings():
    """How many pieces a reply is cut into, and the pause before each later piece."""
    pieces = max(1, int(os.environ.get("STANDIN_OLLAMA_CHUNKS", "5")))
    return pieces, float(os.environ.get("STANDIN_OLLAMA_CHUNK_DELAY", "0.4"))


def pieces_of(text, count):
    """Cut `text` into `count` consecutive pieces at word boundaries."""
    words = text.split(" ")
    count = min(count, len(words))
    size, extra = divmod(len(words), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(" ".join(words[start:end]) + (" " if end < len(words) else ""))
        start = end
    return out


def generation(model, prompt_words, kind):
    """Yield the api.ChatResponse (kind "chat") or api.GenerateResponse objects of
    one reply, pausing between them like a model producing tokens."""
    started = time.monotonic_ns()
    count, delay = chunk_settings()
    pieces = pieces_of(REPLY, count)
    for i, piece in enumerate(pieces):
        if i:
            time.sleep(delay)
        obj = {"model": model, "created_at": created_at()}
        if kind == "chat":
            obj["message"] = {"role": "assistant", "content": piece}
        else:
            obj["response"] = piece
        obj["done"] = False
        yield obj
    time.sleep(delay)
    total = time.monotonic_ns() - started
    last = {"model": model, "created_at": created_at()}
    if kind == "chat":
        last["message"] = {"role": "assistant", "content": ""}
    else:
        last["response"] = ""
    last |= {"done": True, "done_reason": "stop"}
    if kind == "generate":
        last["context"] = list(range(1, prompt_words + len(pieces) + 1))
    last |= {
        "total_duration": total,
        "load_duration": 1_000_000,
        "prompt_eval_count": prompt_words,
        "prompt_eval_duration": 2_000_000,
        "eval_count": len(pieces),
        "eval_duration": max(total - 3_000_000, 1),
    }
    yield last


def openai_error(status, message):
    """openai.NewError: the error shape of the /v1 endpoints."""
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def message_words(messages):
    return sum(len(str(m.get("content") or "").split()) for m in messages if isinstance(m, dict))


# --- pulling from a registry (server/images.go PullModel, server/download.go) ---


class PullError(Exception):
    """A pull failed; the message is worded as Ollama words it."""


class ClientGone(Exception):
    """The /api/pull client went away: the download stops, its partial files stay."""


def upstream_base(registry, insecure):
    """The base URL a name's registry is reached at (ModelPath.BaseURL, then
    makeRequest's switch to http when the pull is insecure). Names on
    registry.ollama.ai go to STANDIN_OLLAMA_UPSTREAM when it is set."""
    upstream = os.environ.get("STANDIN_OLLAMA_UPSTREAM", "").rstrip("/")
    if registry == REGISTRY and upstream:
        return upstream
    return ("http" if insecure else "https") + "://" + registry


def user_agent():
    return f"ollama/{VERSION} (amd64 linux) Go/go1.24.0"


def go_error(method, url, err):
    """How Go's net/http reports a failed request."""
    reason = getattr(err, "reason", None) or err
    return f'{method.capitalize()} "{url}": {reason}'


def http_request(method, url, headers=None, follow=True, read_body=True, timeout=30):
    """One request with redirects handled as Go's client does: follow=True
    follows every redirect (makeRequestWithRetry), follow="same-host" stops at
    the first one to another host (download.go's CheckRedirect). Returns
    (status, headers, body or the open response, final url)."""
    for _ in range(11):
        parts = urllib.parse.urlsplit(url)
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
        path = parts.path + ("?" + parts.query if parts.query else "")
        try:
            conn.request(method, path, headers={"User-Agent": user_agent()} | (headers or {}))
            resp = conn.getresponse()
        except OSError as err:
            conn.close()
            raise PullError(go_error(method, url, err)) from err
        location = resp.getheader("Location")
        if resp.status in (301, 302, 303, 307, 308) and location and follow:
            target = urllib.parse.urljoin(url, location)
            if follow != "same-host" or urllib.parse.urlsplit(target).hostname == parts.hostname:
                resp.read()
                conn.close()
                url = target
                continue
        if read_body:
            body = resp.read()
            conn.close()
            return resp.status, resp, body, url
        return resp.status, resp, None, url
    raise PullError("maximum redirects exceeded (10) for directURL")


def registry_request(method, url, headers=None):
    """makeRequestWithRetry: 404 -> os.ErrNotExist, >= 400 -> "<code>: <body>"."""
    status, resp, body, _ = http_request(method, url, headers)
    if status == 404:
        raise PullError("file does not exist")
    if status >= 400:
        raise PullError(f"{status}: {body.decode(errors='replace')}")
    return resp, body


def pull_rate():
    return int(os.environ.get("STANDIN_OLLAMA_PULL_RATE", "0") or 0)


def download_blob(base, namespace, model, digest, emit):
    """downloadBlob: a blob already there is a cache hit (no verify); else
    resume from <blob>-partial-N part files (JSON N/Offset/Size/Completed), or
    HEAD for the size; GET once without Range for the direct URL (the
    Location header; "http: no Location header in response" without one),
    then GET each part's remaining bytes with Range into <blob>-partial, and
    rename it to the blob when every part is complete."""
    blob = MODELS / "blobs" / digest.replace(":", "-")
    label = f"pulling {digest[7:19]}"
    if blob.exists():
        size = blob.stat().st_size
        emit({"status": label, "digest": digest, "total": size, "completed": size})
        return True
    blob.parent.mkdir(parents=True, exist_ok=True)
    url = f"{base}/v2/{namespace}/{model}/blobs/{digest}"
    part_files = sorted(blob.parent.glob(blob.name + "-partial-*"))
    parts = [json.loads(path.read_text()) for path in part_files]
    if not parts:
        resp, _ = registry_request("HEAD", url)
        total = int(resp.getheader("Content-Length") or 0)
        size = min(max(total // 16, 100 * 1000**2), 1000 * 1000**2)
        offset = 0
        while offset < total:
            parts.append({"N": len(parts), "Offset": offset, "Size": min(size, total - offset)})
            parts[-1]["Completed"] = 0
            offset += parts[-1]["Size"]
        for part in parts:
            write_part(blob, part)
    total = sum(p["Size"] for p in parts)
    completed = sum(p["Completed"] for p in parts)
    status, resp, _, final = http_request("GET", url, follow="same-host", read_body=False)
    location = resp.getheader("Location")
    if status >= 400:
        body = resp.read(64 * 1024).decode(errors="replace")
        resp.close()
        raise PullError("file does not exist" if status == 404 else f"{status}: {body}")
    resp.close()
    if status not in (200, 307):
        raise PullError(f"unexpected status code {status}")
    if not location:
        raise PullError("http: no Location header in response")
    direct = urllib.parse.urljoin(final, location)
    partial = Path(str(blob) + "-partial")
    with partial.open("r+b" if partial.exists() else "w+b") as out:
        out.truncate(total)
        last = 0.0
        for part in parts:
            start = part["Offset"] + part["Completed"]
            stop = part["Offset"] + part["Size"]
            if start >= stop:
                continue
            # No timeout on a part, as Ollama (http.DefaultClient) has none: it retries a
            # part stalled for 30 s without end, so a silent source holds the pull until
            # its client goes away.
            status, resp, _, _ = http_request(
                "GET",
                direct,
                {"Range": f"bytes={start}-{stop - 1}", "User-Agent": "Go-http-client/1.1"},
                read_body=False,
                timeout=None,
            )
            if status not in (200, 206):
                resp.close()
                raise PullError(f"unexpected status code {status}")
            out.seek(start)
            began, got = time.monotonic(), 0
            chunks, stop = queue.Queue(maxsize=4), threading.Event()
            reader = threading.Thread(
                target=read_part, args=(resp, part["Size"] - part["Completed"], chunks, stop),
                daemon=True,
            )  # fmt: skip
            reader.start()
            try:
                while part["Completed"] < part["Size"]:
                    try:
                        chunk = chunks.get(timeout=0.06)
                    except queue.Empty:
                        chunk = None  # nothing came: Blob.Wait reports all the same
                    if isinstance(chunk, OSError) or chunk == b"":
                        break
                    if chunk:
                        out.write(chunk)
                        part["Completed"] += len(chunk)
                        completed += len(chunk)
                        got += len(chunk)
                        if pull_rate():
                            ahead = got / pull_rate() - (time.monotonic() - began)
                            if ahead > 0:
                                time.sleep(ahead)
                    if time.monotonic() - last >= 0.06:
                        last = time.monotonic()
                        out.flush()
                        write_part(blob, part)
                        emit(
                            {"status": label, "digest": digest, "total": total}
                            | ({"completed": completed} if completed else {})
                        )
            finally:
                stop.set()
                abort(resp)  # as Ollama cancels the request's context: the read ends now
                reader.join(timeout=5)
                resp.close()
                out.flush()
                write_part(blob, part)
            if part["Completed"] < part["Size"]:
                raise PullError(f"max retries exceeded: {digest[7:19]} part {part['N']}: EOF")
    emit({"status": label, "digest": digest, "total": total, "completed": total})
    for path in blob.parent.glob(blob.name + "-partial-*"):
        path.unlink()
    partial.rename(blob)
    return False


def read_part(resp, want, chunks, stop):
    """Read one part's bytes into `chunks` (a chunk, b"" at the end, or the error), so the
    pull reports progress every 60 ms even while its source sends nothing, as Ollama's
    Blob.Wait does. A source gone silent keeps it waiting (no timeout, see download_blob)
    until abort() ends the read."""
    try:
        while want > 0 and not stop.is_set():
            chunk = resp.read1(min(64 * 1024, want))  # what came, as io.CopyN writes it
            want -= len(chunk)
            while not stop.is_set():
                try:
                    chunks.put(chunk, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if not chunk:
                return
    except (OSError, ValueError) as err:  # ValueError: closed by the pull that gave up
        with contextlib.suppress(queue.Full):
            chunks.put_nowait(err if isinstance(err, OSError) else OSError(str(err)))


def abort(resp):
    """Wake a read blocked on this response (closing it would wait for the read)."""
    sock = getattr(getattr(resp.fp, "raw", None), "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def write_part(blob, part):
    path = Path(f"{blob}-partial-{part['N']}")
    path.write_text(json.dumps(part) + "\n")


def file_digest(path):
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            sha.update(chunk)
    return "sha256:" + sha.hexdigest()


def registry_pull(name, insecure, emit):
    """PullModel: manifest (Accept: application/vnd.docker.distribution.manifest.v2+json),
    each layer then the config blob, verify the downloaded ones (a mismatch
    removes the blob), write the manifest last, prune layers the previous
    manifest of this name used and nothing uses now."""
    scheme = name.split("://", 1)[0] if "://" in name else ""
    registry, namespace, model, tag = split_name(name)
    path = MODELS / "manifests" / registry / namespace / model / tag
    old = manifest_digests(path)
    if scheme == "http" and not insecure:
        raise PullError("insecure protocol http")
    emit({"status": "pulling manifest"})
    base = upstream_base(registry, insecure or scheme == "http")
    try:
        _, body = registry_request(
            "GET",
            f"{base}/v2/{namespace}/{model}/manifests/{tag}",
            {"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        manifest = json.loads(body)
    except (PullError, ValueError) as err:
        raise PullError(f"pull model manifest: {err}") from err
    layers = list(manifest.get("layers") or [])
    if (manifest.get("config") or {}).get("digest"):
        layers.append(manifest["config"])
    hits = {}
    for layer in layers:
        hits[layer["digest"]] = download_blob(base, namespace, model, layer["digest"], emit)
    emit({"status": "verifying sha256 digest"})
    for layer in layers:
        if hits[layer["digest"]]:
            continue
        blob = MODELS / "blobs" / layer["digest"].replace(":", "-")
        got = file_digest(blob)
        if got != layer["digest"]:
            blob.unlink(missing_ok=True)
            raise PullError(
                f"digest mismatch, file must be downloaded again: want {layer['digest']}, got {got}"
            )
    emit({"status": "writing manifest"})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".standin-tmp")
    tmp.write_bytes(json.dumps(manifest, separators=(",", ":")).encode())
    tmp.replace(path)
    unused = old - {x["digest"] for x in layers}
    if unused:
        emit({"status": "removing unused layers"})
        remove_unused(unused)
    emit({"status": "success"})


def manifest_digests(path):
    """The layer and config digests a manifest file names (none if unreadable)."""
    try:
        data = json.loads(path.read_text())
        out = {x["digest"] for x in data.get("layers", [])}
        config = (data.get("config") or {}).get("digest")
        return out | ({config} if config else set())
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def referenced_digests():
    out = set()
    for path in (MODELS / "manifests").glob("*/*/*/*"):
        out |= manifest_digests(path)
    return out


def remove_unused(candidates):
    """deleteUnusedLayers: remove the blobs no manifest references any more."""
    for digest in candidates - referenced_digests():
        (MODELS / "blobs" / digest.replace(":", "-")).unlink(missing_ok=True)


def prune_directory(path):
    """PruneDirectory: drop empty manifest directories up to manifests/."""
    root = MODELS / "manifests"
    while path != root and path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        path = path.parent


class Handler(BaseHTTPRequestHandler):
    # TCP_NODELAY, as Go and Node servers set it: no delayed-ACK stall on kept-alive connections.
    disable_nagle_algorithm = True

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("ollama-standin: " + fmt % args + "\n")

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _stream(self, content_type, frames):
        """Send each frame as one HTTP chunk and flush it, as gin's c.Stream does.
        Returns False if the client went away."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for frame in frames:
                data = frame.encode() if isinstance(frame, str) else frame
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return False
        return True

    def do_HEAD(self):
        if self.path.startswith("/api/blobs/"):
            # HeadBlobHandler: 200 if the blob is there, else 404 blob "<digest>" not found.
            digest = self.path[len("/api/blobs/") :]
            blob = MODELS / "blobs" / digest.replace(":", "-")
            if not digest.startswith("sha256:") or not blob.is_file():
                return self._json(404, {"error": f'blob "{digest}" not found'})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

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
        body = self._body() or {}
        name = body.get("model") or body.get("name") or ""
        registry, namespace, model, tag = split_name(name)
        path = MODELS / "manifests" / registry / namespace / model / tag
        if not path.exists():
            return self._json(404, {"error": f"model '{name}' not found"})
        try:
            data = json.loads(path.read_text())
            used = {x["digest"] for x in data.get("layers", [])}
            used |= (
                {data["config"]["digest"]} if (data.get("config") or {}).get("digest") else set()
            )
        except (ValueError, KeyError):
            used = set()
        path.unlink()
        # Manifest.Remove + RemoveLayers: blobs another manifest still uses stay.
        remove_unused(used)
        prune_directory(path.parent)
        return self._json(200, {})

    def do_POST(self):
        routes = {
            "/api/pull": self._pull,
            "/api/copy": self._copy,
            "/api/show": self._show,
            "/api/chat": self._chat,
            "/api/generate": self._generate,
            "/v1/chat/completions": self._openai_chat,
        }
        route = routes.get(self.path)
        if route is None:
            return self._json(404, {"error": "not found"})
        body = self._body()
        if body is None:
            if self.path.startswith("/v1/"):
                return self._json(400, openai_error(400, "invalid request body"))
            return self._json(400, {"error": "invalid request body"})
        return route(body)

    def _native(self, body, kind, words, load_only):
        """/api/chat and /api/generate: NDJSON stream, or one object."""
        model = body.get("model")
        if kind == "chat" and not model:
            return self._json(400, {"error": "model is required"})
        if not model_exists(model):
            return self._json(404, {"error": f"model '{model or ''}' not found"})
        if load_only:
            loaded = {"model": model, "created_at": created_at()}
            if kind == "chat":
                loaded["message"] = {"role": "assistant", "content": ""}
            else:
                loaded["response"] = ""
            return self._json(200, loaded | {"done": True, "done_reason": "load"})
        frames = generation(model, words, kind)
        if body.get("stream") is False:
            objs = list(frames)
            whole = "".join(
                o["message"]["content"] if kind == "chat" else o["response"] for o in objs
            )
            last = objs[-1]
            if kind == "chat":
                last["message"]["content"] = whole
            else:
                last["response"] = whole
            return self._json(200, last)
        return self._stream("application/x-ndjson", (json.dumps(o) + "\n" for o in frames))

    def _chat(self, body):
        messages = body.get("messages") or []
        return self._native(body, "chat", message_words(messages), not messages)

    def _generate(self, body):
        prompt = str(body.get("prompt") or "")
        return self._native(body, "generate", len(prompt.split()), not prompt)

    def _openai_chat(self, body):
        messages = body.get("messages") or []
        if not messages:
            return self._json(400, openai_error(400, "[] is too short - 'messages'"))
        model = body.get("model")
        if not model_exists(model):
            return self._json(404, openai_error(404, f"model '{model or ''}' not found"))
        ident = f"chatcmpl-{random.randrange(999)}"
        frames = generation(model, message_words(messages), "chat")
        if not body.get("stream"):
            objs = list(frames)
            last = objs[-1]
            usage = {
                "prompt_tokens": last["prompt_eval_count"],
                "completion_tokens": last["eval_count"],
                "total_tokens": last["prompt_eval_count"] + last["eval_count"],
            }
            return self._json(
                200,
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "system_fingerprint": "fp_ollama",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "".join(o["message"]["content"] for o in objs),
                            },
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return self._stream("text/event-stream", sse(ident, model, frames, include_usage))

    def _registry_pull(self, name, insecure, stream):
        """PullHandler: progress as NDJSON lines, an error as a last {"error"} line
        (status 200); with "stream": false one object, or 500 {"error"}."""
        if not stream:
            try:
                registry_pull(name, insecure, lambda event: None)
            except PullError as err:
                return self._json(500, {"error": str(err)})
            return self._json(200, {"status": "success"})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def emit(event):
            data = (json.dumps(event) + "\n").encode()
            try:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError) as err:
                raise ClientGone from err

        try:
            try:
                registry_pull(name, insecure, emit)
            except PullError as err:
                emit({"error": str(err)})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return None

    def _copy(self, body):
        """CopyHandler/CopyModel: the manifest file is copied; no blob moves."""
        src, dst = body.get("source") or "", body.get("destination") or ""
        if not src or not dst:
            return self._json(400, {"error": "source and destination are required"})
        source = MODELS / "manifests" / Path(*split_name(src))
        if not source.is_file():
            return self._json(404, {"error": f'model "{src}" not found'})
        target = MODELS / "manifests" / Path(*split_name(dst))
        target.parent.mkdir(parents=True, exist_ok=True)
        if source != target:
            target.write_bytes(source.read_bytes())
        return self._json(200, {})

    def _show(self, body):
        """ShowHandler, the fields tests use: details from the config blob,
        "requires" when the model's config carries one, modified_at."""
        name = body.get("model") or body.get("name") or ""
        path = MODELS / "manifests" / Path(*split_name(name))
        if not name or not path.is_file():
            return self._json(404, {"error": f"model '{name}' not found"})
        manifest = json.loads(path.read_text())
        config = {}
        digest = (manifest.get("config") or {}).get("digest")
        if digest:
            blob = MODELS / "blobs" / digest.replace(":", "-")
            try:
                config = json.loads(blob.read_text())
            except (OSError, ValueError):
                config = {}
        out = {
            "details": {
                "parent_model": "",
                "format": config.get("model_format", "gguf"),
                "family": config.get("model_family", "standin"),
                "families": config.get("model_families"),
                "parameter_size": config.get("model_type", ""),
                "quantization_level": config.get("file_type", ""),
            },
            "modified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime)),
        }
        if config.get("requires"):
            out["requires"] = config["requires"]
        return self._json(200, out)

    def _pull(self, body):
        name = body.get("model") or body.get("name") or ""
        stream = body.get("stream", True)
        registry, namespace, model, tag = split_name(name)
        explicit_host = "://" in name or len(name.split("/")) >= 3
        if os.environ.get("STANDIN_OLLAMA_UPSTREAM") or explicit_host:
            return self._registry_pull(name, bool(body.get("insecure")), stream)
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

        def paced():
            for event in events:
                yield json.dumps(event) + "\n"
                time.sleep(0.05)

        self._stream("application/x-ndjson", paced())
        return None


def sse(ident, model, frames, include_usage):
    """ChatWriter.writeResponse with stream on: one SSE event per api.ChatResponse
    (openai.ToChunk), the usage chunk if asked for, then [DONE]."""
    for obj in frames:
        chunk = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_ollama",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": obj["message"]["content"]},
                    "finish_reason": obj.get("done_reason") or None,
                }
            ],
        }
        yield f"data: {json.dumps(chunk)}\n\n"
        if obj["done"]:
            if include_usage:
                prompt, completion = obj["prompt_eval_count"], obj["eval_count"]
                chunk["choices"] = []
                chunk["usage"] = {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"


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
