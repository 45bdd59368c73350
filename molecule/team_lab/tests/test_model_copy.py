"""One model download per room (docs/models.md), through the real `llm`, against this lab.

gpu-01 is the hub (the first Ollama host); gpu-02 copies from gpu-01's seed server
(nginx, llm-model-seed.service). The fake registry converge.yml started counts what
comes "from the internet". Four `llm models` runs in all (the CI budget): the models
added are removed at the end, so the lab is left as it was found.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from test_day2 import llm

UPSTREAM = f"http://172.17.0.1:{os.environ.get('LLM_TEST_MODEL_REGISTRY_PORT', '5055')}"
MODELS = {"gpu-01": "/opt/llm-stack/ollama/models", "gpu-02": "/srv/ollama/models"}
SEED_LOG = {
    "gpu-01": "/opt/llm-stack/ollama/seed/access.log",
    "gpu-02": "/srv/ollama/seed/access.log",
}
MODEL = "tinyllama"


def sh(host: str, script: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", "exec", host, "sh", "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout


def upstream(path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(
        urllib.request.Request(UPSTREAM + path, data=data), timeout=10
    ) as r:
        return json.loads(r.read() or b"{}")


def spec(name: str) -> dict:
    return upstream("/standin/models")[f"library/{name}:latest"]


def manifest(host: str, name: str = MODEL) -> str:
    path = f"{MODELS[host]}/manifests/registry.ollama.ai/library/{name}/latest"
    return sh(host, f"cat {path}", check=False)


def seed_lines(host: str, name: str = MODEL) -> list[list[str]]:
    """The seed's access log lines for the blobs of `name`: [client, request, status, bytes]."""
    digests = spec(name)["blobs"]
    out = []
    for line in sh(host, f"cat {SEED_LOG[host]} 2>/dev/null || true").splitlines():
        if any(d in line for d in digests) and '"GET ' in line:
            client, rest = line.split(" ", 1)
            request, after = rest.split('"')[1], rest.split('"')[2].split()
            out.append([client, request, after[0], after[1]])
    return out


def seed_bytes(host: str, name: str = MODEL) -> int:
    return sum(int(b) for _, _, status, b in seed_lines(host, name) if status in ("200", "206"))


def upstream_range(name: str, digest: str, length: int) -> bytes:
    """The first bytes of one of the model's blobs, straight from the registry."""
    request = urllib.request.Request(
        f"{UPSTREAM}/v2/library/{name}/blobs/{digest}", headers={"Range": f"bytes=0-{length - 1}"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.read()


@pytest.fixture(scope="module")
def room():
    """tinyllama on no host, an interrupted copy of its largest blob left on gpu-02 (what
    Ollama leaves: the data so far and its part's progress), the counters at zero. Both
    models this file adds are removed at the end."""
    assert not manifest("gpu-01") and not manifest("gpu-02")
    # No download another test stopped half-way (they resume, as in Ollama), no blob of
    # the model left without its manifest: the counts below start from nothing.
    blobs = " ".join(d.replace(":", "-") + "*" for d in spec(MODEL)["blobs"])
    for host in MODELS:
        sh(host, f"cd {MODELS[host]}/blobs && rm -f *-partial* {blobs}")
    digest, size = max(spec(MODEL)["blobs"].items(), key=lambda item: item[1])
    have = size // 3
    partial = f"{MODELS['gpu-02']}/blobs/{digest.replace(':', '-')}-partial"
    subprocess.run(
        ["docker", "exec", "-i", "gpu-02", "sh", "-c",
         f"cat > {partial}; truncate -s {size} {partial}"],
        input=upstream_range(MODEL, digest, have), check=True,
    )  # fmt: skip
    part = json.dumps({"N": 0, "Offset": 0, "Size": size, "Completed": have})
    sh("gpu-02", f"printf '%s' '{part}' > {partial}-0")
    for host in MODELS:
        sh(host, f": > {SEED_LOG[host]}")
    upstream("/standin/reset", {})
    yield digest, size, have
    assert llm("models", "remove", MODEL, "newer-model", "--yes").returncode == 0


def test_one_download_for_the_room_and_the_interrupted_copy_resumes(room):
    digest, blob_size, have = room
    added = llm("models", "add", MODEL)
    assert added.returncode == 0, added.stdout + added.stderr
    size = spec(MODEL)["size"]
    assert upstream("/standin/stats")["blob_bytes"] == size  # once, not once per host
    assert manifest("gpu-01") and manifest("gpu-01") == manifest("gpu-02")  # same digests
    # gpu-02 got it from gpu-01's seed (the config blob twice: the minimum-version check
    # reads it first), and of the interrupted blob only the remainder, in one piece.
    config = json.loads(manifest("gpu-01"))["config"]["size"]
    assert seed_bytes("gpu-01") == size - have + config
    ranged = [line for line in seed_lines("gpu-01") if digest in line[1] and line[2] == "206"]
    assert [int(line[3]) for line in ranged] == [blob_size - have]
    assert seed_bytes("gpu-02") == 0

    again = llm("models", "add", MODEL)
    assert again.returncode == 0 and "already present" in again.stdout
    assert upstream("/standin/stats")["blob_bytes"] == size
    assert seed_bytes("gpu-01") == size - have + config  # nothing sent again


def test_a_corrupt_blob_is_found_and_copied_again(room):
    digest, size, _ = room
    blob = f"{MODELS['gpu-02']}/blobs/{digest.replace(':', '-')}"
    sh("gpu-02", f"printf 'XX' | dd of={blob} bs=1 seek=100 conv=notrunc 2>/dev/null")
    before = seed_bytes("gpu-01")
    synced = llm("models", "add", MODEL, "--limit", "gpu-02")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    config = json.loads(manifest("gpu-01"))["config"]["size"]
    assert seed_bytes("gpu-01") - before == size + config  # that blob only (and the check's read)
    assert sh("gpu-02", f"sha256sum {blob}").split()[0] == digest.split(":")[1]
    assert upstream("/standin/stats")["blob_bytes"] == spec(MODEL)["size"]  # not from upstream


def test_a_model_needing_a_newer_ollama_is_not_copied_to_an_older_one(room):
    """gpu-01 (the hub) runs a newer Ollama than gpu-02 (molecule.yml): the registry lets
    the hub have the model; the copy to gpu-02 is refused by the stack's own check (a
    local copy has no registry to refuse it), with the versions and the way out."""
    upstream("/standin/reset", {})
    result = llm("models", "add", "newer-model")
    assert result.returncode != 0
    assert manifest("gpu-01", "newer-model") and not manifest("gpu-02", "newer-model")
    assert "requires Ollama 0.41.0 or newer" in result.stdout, result.stdout
    assert "gpu-02" in result.stdout and "0.40.2" in result.stdout
    assert upstream("/standin/stats")["blob_bytes"] == spec("newer-model")["size"]  # the hub's


@contextmanager
def off(host: str) -> Iterator[None]:
    """The machine switched off for the length of the block (frozen: Ansible cannot reach it)."""
    subprocess.run(["docker", "pause", host], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["docker", "unpause", host], check=True, capture_output=True)


def test_the_room_goes_on_with_the_hub_or_a_pc_off_and_the_next_run_finishes():
    """With the hub off, the delegated read of its facts failed every host; now the others
    are named as waiting for the hub and nothing is fetched. With a PC off, the hub fetches
    it and the PC is named as lacking it; the next run copies it there from the hub's seed,
    and nothing comes twice from upstream (issue 17)."""
    name, tag = "llama3.2", "1b"
    size = upstream("/standin/models")[f"library/{name}:{tag}"]["size"]

    def has(host: str) -> bool:
        path = f"{MODELS[host]}/manifests/registry.ollama.ai/library/{name}/{tag}"
        return bool(sh(host, f"cat {path}", check=False))

    assert not has("gpu-01") and not has("gpu-02")
    upstream("/standin/reset", {})
    try:
        with off("gpu-01"):
            hub_off = llm("models", "add", f"{name}:{tag}")
        said = hub_off.stdout + hub_off.stderr
        assert hub_off.returncode == 1, said
        assert "gpu-01: unreachable" in said
        assert f"gpu-02 waits for the hub gpu-01 to download {name}:{tag}" in said
        assert upstream("/standin/stats")["blob_bytes"] == 0 and not has("gpu-02")

        with off("gpu-02"):
            pc_off = llm("models", "add", f"{name}:{tag}")
        assert pc_off.returncode == 1, pc_off.stdout + pc_off.stderr
        assert f"models add {name}:{tag}: done on gpu-01; NOT on gpu-02" in pc_off.stderr
        # At most the model once (a blob an earlier test left on the hub is not fetched).
        fetched = upstream("/standin/stats")["blob_bytes"]
        assert has("gpu-01") and 0 < fetched <= size

        finished = llm("models", "add", f"{name}:{tag}")
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert has("gpu-02")
        assert upstream("/standin/stats")["blob_bytes"] == fetched  # from gpu-01's seed
    finally:
        assert llm("models", "remove", f"{name}:{tag}", "--yes").returncode == 0
