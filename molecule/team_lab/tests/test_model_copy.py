"""One model download per room (docs/models.md), through the real `llm`, against this lab.

gpu-01 is the hub (the first Ollama host); gpu-02 copies from gpu-01's seed server
(nginx, llm-model-seed.service). The fake registry converge.yml started counts what
comes "from the internet". Every test removes the model it adds: the lab is left as
it was found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

REPO = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
STACK = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "stack"
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
UPSTREAM = f"http://172.17.0.1:{os.environ.get('LLM_TEST_MODEL_REGISTRY_PORT', '5055')}"
MODELS = {"gpu-01": "/opt/llm-stack/ollama/models", "gpu-02": "/srv/ollama/models"}
SEED_LOG = {
    "gpu-01": "/opt/llm-stack/ollama/seed/access.log",
    "gpu-02": "/srv/ollama/seed/access.log",
}
MODEL = "tinyllama"


def llm(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "--dir", str(STACK), "-i", INVENTORY],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


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


@pytest.fixture
def clean():
    """The model is on no host before and after."""
    llm("models", "remove", MODEL, "--yes")
    for host in MODELS:
        sh(host, f"rm -f {SEED_LOG[host]}.test; : > {SEED_LOG[host]} 2>/dev/null || true")
    upstream("/standin/reset", {})
    yield
    assert llm("models", "remove", MODEL, "--yes").returncode == 0


def test_one_download_for_the_room_then_nothing(clean):
    added = llm("models", "add", MODEL)
    assert added.returncode == 0, added.stdout + added.stderr
    size = spec(MODEL)["size"]
    assert upstream("/standin/stats")["blob_bytes"] == size  # once, not once per host
    assert manifest("gpu-01") and manifest("gpu-01") == manifest("gpu-02")  # same digests
    # gpu-02 got it from gpu-01's seed, every byte once (the config blob twice: the
    # minimum-version check reads it first), nothing from gpu-02's own seed.
    config = json.loads(manifest("gpu-01"))["config"]["size"]
    assert seed_bytes("gpu-01") == size + config
    assert seed_bytes("gpu-02") == 0

    again = llm("models", "add", MODEL)
    assert again.returncode == 0 and "already present" in again.stdout
    assert upstream("/standin/stats")["blob_bytes"] == size
    assert seed_bytes("gpu-01") == size + config  # nothing sent again


def test_a_corrupt_blob_is_found_and_copied_again(clean):
    assert llm("models", "add", MODEL).returncode == 0
    digest, size = max(spec(MODEL)["blobs"].items(), key=lambda item: item[1])
    blob = f"{MODELS['gpu-02']}/blobs/{digest.replace(':', '-')}"
    sh("gpu-02", f"printf 'XX' | dd of={blob} bs=1 seek=100 conv=notrunc 2>/dev/null")
    before = seed_bytes("gpu-01")

    synced = llm("models", "add", MODEL, "--limit", "gpu-02")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    config = json.loads(manifest("gpu-01"))["config"]["size"]
    assert seed_bytes("gpu-01") - before == size + config  # that blob only (and the check's read)
    assert sh("gpu-02", f"sha256sum {blob}").split()[0] == digest.split(":")[1]
    assert upstream("/standin/stats")["blob_bytes"] == spec(MODEL)["size"]  # not from upstream


def test_an_interrupted_copy_resumes_with_the_remainder(clean):
    assert llm("models", "add", MODEL, "--limit", "gpu-01").returncode == 0
    digest, size = max(spec(MODEL)["blobs"].items(), key=lambda item: item[1])
    have = size // 3
    name = digest.replace(":", "-")
    # What an interrupted Ollama leaves on gpu-02: the data so far and its part's progress.
    head = subprocess.run(
        ["docker", "exec", "gpu-01", "head", "-c", str(have), f"{MODELS['gpu-01']}/blobs/{name}"],
        capture_output=True,
        check=True,
    ).stdout
    partial = f"{MODELS['gpu-02']}/blobs/{name}-partial"
    subprocess.run(
        [
            "docker",
            "exec",
            "-i",
            "gpu-02",
            "sh",
            "-c",
            f"cat > {partial}; truncate -s {size} {partial}",
        ],
        input=head,
        check=True,
    )
    part = json.dumps({"N": 0, "Offset": 0, "Size": size, "Completed": have})
    sh("gpu-02", f"printf '%s' '{part}' > {partial}-0")
    sh("gpu-01", f": > {SEED_LOG['gpu-01']}")

    added = llm("models", "add", MODEL)
    assert added.returncode == 0, added.stdout + added.stderr
    ranged = [line for line in seed_lines("gpu-01") if digest in line[1] and line[2] == "206"]
    assert [int(line[3]) for line in ranged] == [size - have]  # only the remainder
    assert manifest("gpu-02") == manifest("gpu-01")


def test_a_model_needing_a_newer_ollama_is_refused_with_the_way_out():
    upstream("/standin/reset", {})
    result = llm("models", "add", "newer-model")
    assert result.returncode != 0
    # The hub's own pull is refused by the registry (412); the other host is told why.
    assert "requires a newer version of Ollama" in result.stdout, result.stdout
    assert not manifest("gpu-01", "newer-model") and not manifest("gpu-02", "newer-model")
    assert upstream("/standin/stats")["blob_bytes"] == 0
