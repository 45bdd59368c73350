"""One model download per room (docs/models.md), through the real `llm`, against this lab.

gpu-01 is the hub (the first Ollama host); the four others copy from the seed servers
(nginx, llm-model-seed.service) of the hosts that have the model, in rounds: gpu-02
from gpu-01, then gpu-03 from gpu-01 and gpu-04 from gpu-02, then gpu-05 from gpu-01
(local_llm.stack.fanout_rounds). The fake registry converge.yml started counts what
comes "from the internet". Each model added is removed at the end, so the lab is left
as it was found.

gpu-03 to gpu-05 are light hosts in no stack group of the lab's inventory, so the other
test files' runs do not pay for them: converge.yml installed them beside the others, and
this file's runs reach them through an inventory of its own that adds them to the lab's
Ollama hosts (the room).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from lab import HOST_OFF_VARS, REPO, address, llm, llm_argv, sh
from team import LIGHT, OLLAMA_HOSTS, ROOM_INVENTORY, UPSTREAM, room_inventory, spec, upstream

ROOM = (*OLLAMA_HOSTS, *LIGHT)
# gpu-02 overrides ollama_dir (molecule.yml); the others keep the default.
OLLAMA_DIR = {host: "/opt/llm-stack/ollama" for host in ROOM} | {"gpu-02": "/srv/ollama"}
MODELS = {host: f"{path}/models" for host, path in OLLAMA_DIR.items()}
SEED_LOG = {host: f"{path}/seed/access.log" for host, path in OLLAMA_DIR.items()}
MODEL = "tinyllama"


def in_room(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`llm` on the room's five Ollama hosts."""
    return llm(*args, inventory=str(ROOM_INVENTORY), env=env)


def manifest(host: str, name: str = MODEL) -> str:
    path = f"{MODELS[host]}/manifests/registry.ollama.ai/library/{name}/latest"
    return sh(host, f"cat {path}", check=False)


def seed_lines(host: str, name: str = MODEL, to: str | None = None) -> list[list[str]]:
    """The seed's access log lines for the blobs of `name` (sent to host `to`, or to any):
    [client, request, status, bytes]."""
    digests = spec(name)["blobs"]
    client_address = address(to) if to else None
    out = []
    for line in sh(host, f"cat {SEED_LOG[host]} 2>/dev/null || true").splitlines():
        if any(d in line for d in digests) and '"GET ' in line:
            client, rest = line.split(" ", 1)
            request, after = rest.split('"')[1], rest.split('"')[2].split()
            if client_address in (None, client):
                out.append([client, request, after[0], after[1]])
    return out


def seed_bytes(host: str, name: str = MODEL, to: str | None = None) -> int:
    lines = seed_lines(host, name, to)
    return sum(int(b) for _, _, status, b in lines if status in ("200", "206"))


def has(host: str, name: str, tag: str = "latest") -> bool:
    path = f"{MODELS[host]}/manifests/registry.ollama.ai/library/{name}/{tag}"
    return bool(sh(host, f"cat {path}", check=False))


def upstream_range(name: str, digest: str, length: int) -> bytes:
    """The first bytes of one of the model's blobs, straight from the registry."""
    request = urllib.request.Request(
        f"{UPSTREAM}/v2/library/{name}/blobs/{digest}", headers={"Range": f"bytes=0-{length - 1}"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.read()


@pytest.fixture(scope="module", autouse=True)
def room_of_five() -> None:
    """The light hosts, installed by converge.yml, hold the lab's model."""
    room_inventory()
    assert all(has(host, "qwen2.5", "0.5b") for host in LIGHT)


@pytest.fixture(scope="module")
def room(room_of_five):
    """tinyllama on no host, an interrupted copy of its largest blob left on gpu-02 (what
    Ollama leaves: the data so far and its part's progress), the counters at zero. Both
    models this file adds are removed at the end."""
    assert not any(manifest(host) for host in ROOM)
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
    assert in_room("models", "remove", MODEL, "newer-model", "--yes").returncode == 0


def test_one_download_for_the_room_in_rounds_and_the_interrupted_copy_resumes(room):
    digest, blob_size, have = room
    added = in_room("models", "add", MODEL)
    assert added.returncode == 0, added.stdout + added.stderr
    size = spec(MODEL)["size"]
    assert upstream("/standin/stats")["blob_bytes"] == size  # once, not once per host
    assert manifest("gpu-01")
    assert all(manifest(host) == manifest("gpu-01") for host in ROOM)  # same digests
    # Each host's copy (the config blob twice: the minimum-version check reads it first)
    # came from the host the copy tree paired it with.
    config = json.loads(manifest("gpu-01"))["config"]["size"]
    # Round 1, gpu-02 from the hub: of the interrupted blob only the remainder, in one piece.
    assert seed_bytes("gpu-01", to="gpu-02") == size - have + config
    ranged = [line for line in seed_lines("gpu-01", to="gpu-02") if digest in line[1]
              and line[2] == "206"]  # fmt: skip
    assert [int(line[3]) for line in ranged] == [blob_size - have]
    # Round 2: gpu-02 passes on what it received; rounds 2 and 3: the hub sends again.
    assert seed_bytes("gpu-02", to="gpu-04") == size + config
    assert seed_bytes("gpu-01", to="gpu-03") == seed_bytes("gpu-01", to="gpu-05") == size + config
    assert seed_bytes("gpu-01", to="gpu-04") == seed_bytes("gpu-02", to="gpu-03") == 0
    assert not any(seed_bytes(host) for host in ("gpu-03", "gpu-04", "gpu-05"))

    again = in_room("models", "add", MODEL)
    assert again.returncode == 0 and "already present" in again.stdout
    assert upstream("/standin/stats")["blob_bytes"] == size
    hub_sent = (size - have + config) + 2 * (size + config)  # to gpu-02, gpu-03 and gpu-05
    assert seed_bytes("gpu-01") == hub_sent  # nothing sent again


def test_a_corrupt_blob_is_found_and_copied_again(room):
    digest, size, _ = room
    blob = f"{MODELS['gpu-02']}/blobs/{digest.replace(':', '-')}"
    sh("gpu-02", f"printf 'XX' | dd of={blob} bs=1 seek=100 conv=notrunc 2>/dev/null")
    before = seed_bytes("gpu-01")
    synced = in_room("models", "add", MODEL, "--limit", "gpu-02")
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
    result = in_room("models", "add", "newer-model")
    assert result.returncode != 0
    assert manifest("gpu-01", "newer-model") and not manifest("gpu-02", "newer-model")
    assert "requires Ollama 0.41.0 or newer" in result.stdout, result.stdout
    assert "gpu-02" in result.stdout and "0.40.2" in result.stdout
    assert upstream("/standin/stats")["blob_bytes"] == spec("newer-model")["size"]  # the hub's


@contextmanager
def off(host: str) -> Iterator[None]:
    """The machine switched off for the length of the block (frozen: Ansible cannot reach it,
    and a copy from it stops getting bytes), and reached without pipelining in the room's
    runs meanwhile, so Ansible finds it unreachable as it would a PC that is off (lab.py)."""
    marked = ROOM_INVENTORY / "off.yml"
    marked.write_text(json.dumps({"all": {"hosts": {host: HOST_OFF_VARS}}}))
    subprocess.run(["docker", "pause", host], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["docker", "unpause", host], check=True, capture_output=True)
        marked.unlink()


def test_the_room_goes_on_with_the_hub_or_a_pc_off_and_the_next_run_finishes():
    """Three runs (issue 17). The hub off, the model nowhere: every PC is named as waiting
    for the hub, nothing is fetched (the delegated read of the hub's facts used to fail them
    all). A PC off: the hub fetches it, the copy tree brings it to the other three, the PC
    is named as lacking it. The hub off again, and two PCs reimaged: a PC that has the model
    is the origin, and the three without it get it from there in two rounds, the second
    passing on what the first brought. Nothing comes twice from upstream."""
    name, tag = "llama3.2", "1b"
    model = f"{name}:{tag}"
    size = upstream("/standin/models")[f"library/{name}:{tag}"]["size"]
    pcs = [host for host in ROOM if host != "gpu-01"]
    assert not any(has(host, name, tag) for host in ROOM)
    upstream("/standin/reset", {})
    try:
        with off("gpu-01"):
            hub_off = in_room("models", "add", model)
        said = hub_off.stdout + hub_off.stderr
        assert hub_off.returncode == 1, said
        assert "gpu-01: unreachable" in said
        for pc in pcs:
            assert f"{pc} waits for the hub gpu-01 to download {model}" in said
        assert upstream("/standin/stats")["blob_bytes"] == 0
        assert not any(has(pc, name, tag) for pc in pcs)

        with off("gpu-02"):
            pc_off = in_room("models", "add", model)
        assert pc_off.returncode == 1, pc_off.stdout + pc_off.stderr
        assert f"models add {model}: done on gpu-01, gpu-03, gpu-04, gpu-05; NOT on gpu-02" in (
            pc_off.stderr
        )
        # At most the model once (a blob an earlier test left on the hub is not fetched).
        fetched = upstream("/standin/stats")["blob_bytes"]
        assert 0 < fetched <= size
        assert all(has(host, name, tag) for host in ROOM if host != "gpu-02")
        assert not has("gpu-02", name, tag)

        # Two more PCs without it (reimaged), so the copy with the hub off takes two rounds
        # and a PC that received it in the first passes it on in the second.
        for pc in ("gpu-04", "gpu-05"):
            # Ollama listens on the PC's LAN address here (the chat host is a client).
            sh(pc, f"curl -fsS -X DELETE http://{address(pc)}:11434/api/delete"
                   f" -d '{{\"model\": \"{model}\"}}'")  # fmt: skip
            assert not has(pc, name, tag)
        for host in ROOM:
            sh(host, f": > {SEED_LOG[host]}")
        with off("gpu-01"):
            finished = in_room("models", "add", model)
        said = finished.stdout + finished.stderr
        assert finished.returncode == 1, said  # the hub is off
        assert all(has(pc, name, tag) for pc in pcs), said
        assert "NOT on gpu-01" in finished.stderr and "waits for the hub" not in finished.stdout
        # From the first PC that has it, not from the hub, nor from upstream: round 1
        # gpu-03 -> gpu-02, round 2 gpu-03 -> gpu-04 and gpu-02 (which had just got it)
        # -> gpu-05 (local_llm.stack.fanout_rounds).
        assert seed_bytes("gpu-03", model, to="gpu-02") > 0
        assert seed_bytes("gpu-03", model, to="gpu-04") > 0
        assert seed_bytes("gpu-02", model, to="gpu-05") > 0, said
        assert upstream("/standin/stats")["blob_bytes"] == fetched
    finally:
        assert in_room("models", "remove", model, "--yes").returncode == 0


def test_a_pc_switched_off_mid_copy_leaves_its_receiver_to_the_hub():
    """gpu-04 copies from gpu-02 in the second round, slowly (it reads at 2 MiB/s:
    molecule.yml); gpu-02 goes off half-way. The copy stops getting bytes, and after the
    stall time gpu-04 takes it up from the hub's seed where it stopped. Every host that is
    up ends with the model, which came once from upstream (issue 17)."""
    name = "mistral"
    model = f"{name}:7b"
    listed = upstream("/standin/models")[f"library/{model}"]
    digest, blob_size = max(listed["blobs"].items(), key=lambda item: item[1])
    progress = f"{MODELS['gpu-04']}/blobs/{digest.replace(':', '-')}-partial-0"
    for host in ROOM:
        sh(host, f": > {SEED_LOG[host]}")
    upstream("/standin/reset", {})
    run = subprocess.Popen(
        llm_argv("models", "add", model, "-e", "ollama_copy_stall_timeout=3",
                 inventory=str(ROOM_INVENTORY)),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        received = 0
        for _ in range(600):  # until gpu-04 has a few MiB of the model
            part = sh("gpu-04", f"cat {progress} 2>/dev/null || true")
            try:
                received = json.loads(part)["Completed"] if part.strip() else 0
            except json.JSONDecodeError:  # read while being rewritten: the next look
                received = 0
            if received >= 3 * 1024 * 1024 or run.poll() is not None:
                break
            time.sleep(0.1)
        assert run.poll() is None and received < blob_size, "the copy to gpu-04 was not caught"
        # The stand-in, as Ollama, never gives up on a silent source by itself: without the
        # stack's stall check this run would not end.
        with off("gpu-02"):
            out, err = run.communicate(timeout=240)
        said = out + err
        for host in ROOM:
            assert has(host, name, "7b"), (host, said[-3000:])
        assert upstream("/standin/stats")["blob_bytes"] == listed["size"]  # once
        # gpu-04 took the rest from the hub, with a Range request from where it had got to.
        ranged = [line for line in seed_lines("gpu-01", model, to="gpu-04")
                  if digest in line[1] and line[2] == "206"]  # fmt: skip
        assert ranged and 0 < int(ranged[-1][3]) < blob_size, (ranged, said[-3000:])
    finally:
        if run.poll() is None:
            run.kill()
        assert in_room("models", "remove", model, "--yes").returncode == 0
