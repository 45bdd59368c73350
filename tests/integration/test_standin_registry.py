"""Model distribution with the stand-ins, as local processes (no Docker).

One stand-in registry ("the internet"), two stand-in Ollamas A and B, and a
read-only static "seed" serving A's models directory at registry paths: the
layout the nginx seed on each host uses. A pulls from the registry; B pulls
from A's seed, copies to the canonical name and deletes the seed-named one.
Checks the bytes each side served, the digests, a corrupted blob, a resumed
partial download and a model needing a newer Ollama.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.standins.ollama.seed import SeedHandler

pytestmark = pytest.mark.integration

STANDINS = Path(__file__).resolve().parents[1] / "standins"
MIB = 1024 * 1024
MODELS = {
    "library/tinyllama:latest": {"layers": [MIB, 2048, 512]},
    "library/newer-model:latest": {"layers": [4096, 512], "requires": "0.41.0"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, path: str, body: dict | None = None, method: str | None = None) -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def pull(base: str, name: str, insecure: bool = False) -> list[dict]:
    """POST /api/pull streamed; the NDJSON events."""
    status, raw = call(base, "/api/pull", {"model": name, "insecure": insecure})
    assert status == 200, raw
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def tags(base: str) -> dict[str, dict]:
    return {m["name"]: m for m in json.loads(call(base, "/api/tags")[1])["models"]}


class Seed(SeedHandler):
    """The nginx seed's mapping (tests/standins/ollama/seed.py), counting what it sends.
    A blob's GET without Range gets its headers alone: Ollama reads only the Location."""

    sent = 0
    # A host switched off mid-copy: after this many bytes of a blob, nothing more
    # (the connection stays open) until `released` is set.
    hang_after: int | None = None
    released = threading.Event()

    def send_body(self, piece: bytes, status: int, blob: bool) -> None:
        if blob and status != 206:
            return
        wanted = len(piece)
        if blob and self.hang_after is not None:
            piece = piece[: self.hang_after]
        self.wfile.write(piece)
        self.wfile.flush()
        type(self).sent += len(piece)
        if len(piece) < wanted:
            self.released.wait(60)
            self.close_connection = True


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict]:
    procs = []
    registry = subprocess.Popen(
        [sys.executable, str(STANDINS / "registry" / "registry.py"), "--listen", "127.0.0.1:0"],
        env={**os.environ, "STANDIN_REGISTRY_MODELS": json.dumps(MODELS)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    procs.append(registry)
    upstream = "http://" + registry.stdout.readline().strip()
    # The seed binds its port first and each stand-in answers before the next port is
    # picked: a port picked free but not yet bound could otherwise go to two servers.
    seed_handler = type(
        "SeedA", (Seed,), {"root": tmp_path / "a", "sent": 0, "released": threading.Event()}
    )
    seed = ThreadingHTTPServer(("127.0.0.1", 0), seed_handler)
    threading.Thread(target=seed.serve_forever, daemon=True).start()
    hosts = {}
    for host in ("a", "b"):
        port = free_port()
        env = {
            **os.environ,
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_MODELS": str(tmp_path / host),
            "STANDIN_OLLAMA_UPSTREAM": upstream,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, str(STANDINS / "ollama" / "ollama.py"), "serve"],
                env=env,
                stderr=subprocess.DEVNULL,
            )
        )
        hosts[host] = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                call(hosts[host], "/api/version")
                break
            except OSError:
                time.sleep(0.05)
    try:
        yield {
            "upstream": upstream,
            "seed": f"127.0.0.1:{seed.server_address[1]}",
            "seed_handler": seed_handler,
            **hosts,
            "dirs": {"a": tmp_path / "a", "b": tmp_path / "b"},
        }
    finally:
        seed_handler.released.set()
        seed.shutdown()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=5)


def stats(upstream: str) -> dict:
    return json.loads(call(upstream, "/standin/stats")[1])


def model_size(upstream: str, name: str) -> int:
    return json.loads(call(upstream, "/standin/models")[1])[name]["size"]


def test_one_download_then_copies_through_the_seed(stack):
    size = model_size(stack["upstream"], "library/tinyllama:latest")
    events = pull(stack["a"], "tinyllama")
    assert events[0] == {"status": "pulling manifest"}
    assert events[-1] == {"status": "success"}
    assert [e["status"] for e in events[-3:]] == [
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    assert stats(stack["upstream"])["blob_bytes"] == size
    digest = tags(stack["a"])["tinyllama:latest"]["digest"]

    before = stats(stack["upstream"])
    seed_name = f"{stack['seed']}/library/tinyllama:latest"
    events = pull(stack["b"], seed_name, insecure=True)
    assert events[-1] == {"status": "success"}, events
    assert stack["seed_handler"].sent >= size
    assert (
        call(stack["b"], "/api/copy", {"source": seed_name, "destination": "tinyllama"})[0] == 200
    )
    assert call(stack["b"], "/api/delete", {"model": seed_name}, "DELETE")[0] == 200
    listed = tags(stack["b"])
    assert list(listed) == ["tinyllama:latest"]
    assert listed["tinyllama:latest"]["digest"] == digest
    assert listed["tinyllama:latest"]["size"] == size
    # The copy kept every blob; the delete of the seed name removed none.
    for layer_digest in json.loads(call(stack["upstream"], "/standin/models")[1])[
        "library/tinyllama:latest"
    ]["blobs"]:
        status, _ = call(stack["b"], f"/api/blobs/{layer_digest}", method="HEAD")
        assert status == 200
    assert stats(stack["upstream"]) == before
    # Deleting the last name removes the blobs, as Ollama prunes.
    assert call(stack["b"], "/api/delete", {"model": "tinyllama"}, "DELETE")[0] == 200
    assert not list((stack["dirs"]["b"] / "blobs").glob("sha256-*"))


def test_corrupt_seed_blob_fails_the_pull_and_leaves_no_manifest(stack):
    pull(stack["a"], "tinyllama")
    model = json.loads(
        (stack["dirs"]["a"] / "blobs")
        .parent.joinpath("manifests/registry.ollama.ai/library/tinyllama/latest")
        .read_text()
    )
    big = stack["dirs"]["a"] / "blobs" / model["layers"][0]["digest"].replace(":", "-")
    data = bytearray(big.read_bytes())
    data[100] ^= 0xFF
    big.write_bytes(bytes(data))
    got = "sha256:" + hashlib.sha256(data).hexdigest()

    events = pull(stack["b"], f"{stack['seed']}/library/tinyllama", insecure=True)
    assert events[-1] == {
        "error": "digest mismatch, file must be downloaded again: "
        f"want {model['layers'][0]['digest']}, got {got}"
    }
    assert not (stack["dirs"]["b"] / "manifests").exists() or not list(
        (stack["dirs"]["b"] / "manifests").rglob("latest")
    )
    assert not (stack["dirs"]["b"] / "blobs" / big.name).exists()
    assert tags(stack["b"]) == {}


def test_partial_download_resumes_with_the_remainder(stack):
    spec = json.loads(call(stack["upstream"], "/standin/models")[1])["library/tinyllama:latest"]
    digest, size = max(spec["blobs"].items(), key=lambda item: item[1])
    have = size // 3
    blobs = stack["dirs"]["a"] / "blobs"
    blobs.mkdir(parents=True)
    # What an interrupted Ollama leaves: the data file and its part's progress.
    content = urllib.request.urlopen(
        urllib.request.Request(
            f"{stack['upstream']}/v2/library/tinyllama/blobs/{digest}",
            headers={"Range": f"bytes=0-{have - 1}"},
        ),
        timeout=10,
    ).read()
    name = digest.replace(":", "-")
    (blobs / f"{name}-partial").write_bytes(content + bytes(size - have))
    part = {"N": 0, "Offset": 0, "Size": size, "Completed": have}
    (blobs / f"{name}-partial-0").write_text(json.dumps(part))
    call(stack["upstream"], "/standin/reset", {})

    events = pull(stack["a"], "tinyllama")
    assert events[-1] == {"status": "success"}, events
    assert stats(stack["upstream"])["blob_bytes"] == spec["size"] - have
    assert not list(blobs.glob("*-partial*"))
    assert tags(stack["a"])["tinyllama:latest"]["size"] == spec["size"]


def test_a_copy_whose_source_goes_silent_stalls_and_resumes_from_another(stack, collections_dir):
    """The peer B copies from is switched off mid-blob: Ollama goes on reporting progress
    (so only bytes that stop growing tell), the stack's pull gives up after its stall time,
    and a pull from another source (here the registry) fetches only the rest."""
    ollama = importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.ollama"
    )
    pull(stack["a"], "tinyllama")
    spec = json.loads(call(stack["upstream"], "/standin/models")[1])["library/tinyllama:latest"]
    digest = max(spec["blobs"].items(), key=lambda item: item[1])[0]
    stack["seed_handler"].hang_after = 300 * 1024
    seen: list[tuple[int, int, str]] = []

    with pytest.raises(ollama.Stalled, match="no byte of " + digest[7:19]):
        ollama.pull(
            stack["b"], f"{stack['seed']}/library/tinyllama", insecure=True, timeout=30,
            stall=1, on_progress=lambda *event: seen.append(event),
        )  # fmt: skip
    stuck = [done for done, _, _ in seen if done == 300 * 1024]
    assert len(stuck) >= 5, seen[-3:]  # reported on, 60 ms apart, while nothing came
    blobs = stack["dirs"]["b"] / "blobs"
    part = json.loads((blobs / (digest.replace(":", "-") + "-partial-0")).read_text())
    assert part["Completed"] == 300 * 1024

    call(stack["upstream"], "/standin/reset", {})
    events = pull(stack["b"], "tinyllama")
    assert events[-1] == {"status": "success"}, events[-3:]
    # The rest only: that blob from where it stopped, and the blobs after it.
    assert stats(stack["upstream"])["blob_bytes"] == spec["size"] - 300 * 1024
    assert (
        tags(stack["b"])["tinyllama:latest"]["digest"]
        == tags(stack["a"])["tinyllama:latest"]["digest"]
    )


def test_a_model_needing_a_newer_ollama_is_refused(stack):
    events = pull(stack["a"], "newer-model")
    assert events[0] == {"status": "pulling manifest"}
    assert events[-1]["error"].startswith(
        "pull model manifest: 412: \n\nThe model you are attempting to pull requires a newer "
        "version of Ollama."
    )
    assert stats(stack["upstream"])["requests"]["refused"] == 1
    assert tags(stack["a"]) == {}
    status, body = call(stack["a"], "/api/pull", {"model": "missing-one", "stream": False})
    assert (status, json.loads(body)) == (
        500,
        {"error": "pull model manifest: file does not exist"},
    )
