"""Upstream bytes for one model installed on N Ollama hosts, as a multiple of its size.

Local processes only (no Docker): the registry stand-in
(tests/standins/registry/registry.py) plays the internet and counts every body
byte it serves; N Ollama stand-ins (tests/standins/ollama/ollama.py) on loopback
ports, each with its own temporary models directory and STANDIN_OLLAMA_UPSTREAM
pointing at that registry; beside each, a read-only static "seed" serving its
models directory at the registry paths the ollama role's nginx seed uses:

    /v2/<ns>/<model>/manifests/<tag>       -> manifests/registry.ollama.ai/<ns>/<model>/<tag>
    /v2/<ns>/<model>/blobs/sha256:<hex>    -> blobs/sha256-<hex>   (Range, Location on 200)

For N = 1, 4 and 8, two ways side by side, each on fresh models directories:
- the product's path: the hub (the first host) pulls the model from upstream
  once, then the others copy it in the rounds of fanout_rounds
  (plugins/module_utils/fanout.py), each copy driven as the product drives it:
  POST /api/pull `127.0.0.1:<seed port>/<ns>/<model>:<tag>` with "insecure":
  true, POST /api/copy to the model's own name, DELETE the seed-named copy;
- every host pulls the model from upstream itself (all at once).
Prints the registry's counted bytes (all body bytes, including what Ollama's
first, aborted GET of each blob received) divided by the model's size (config
blob and every layer), and checks every host ends with the model's digests.
Goal: 1.0 for every N on the product's path.

Run: .venv/bin/python benchmarks/model_upstream_bytes.py [--size-mib 8]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.standins.ollama.seed import SeedHandler

REPO = Path(__file__).resolve().parent.parent
STANDINS = REPO / "tests" / "standins"
MODEL = "library/bench:latest"
SIZES = (1, 4, 8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {base}{path}: {exc.code} {exc.read().decode()}") from None
    return json.loads(text) if text.strip() else {}


class Seed(SeedHandler):
    """The nginx seed's mapping (tests/standins/ollama/seed.py), its body on every GET."""

    def handle(self) -> None:
        # Ollama closes the connection of its first, probing blob GET at once.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()


class Host:
    """One Ollama stand-in and its seed."""

    def __init__(self, name: str, work: Path, upstream: str) -> None:
        self.name = name
        self.models = work / name / "models"
        self.models.mkdir(parents=True)
        port = free_port()
        self.api = f"http://127.0.0.1:{port}"
        env = os.environ | {
            "OLLAMA_HOST": f"127.0.0.1:{port}",
            "OLLAMA_MODELS": str(self.models),
            "STANDIN_OLLAMA_UPSTREAM": upstream,
        }
        self.log = (work / name / "ollama.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(STANDINS / "ollama" / "ollama.py"), "serve"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        handler = type(f"Seed_{name}", (Seed,), {"root": self.models})
        self.seed = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.seed.daemon_threads = True
        self.seed_addr = f"127.0.0.1:{self.seed.server_address[1]}"
        threading.Thread(target=self.seed.serve_forever, daemon=True).start()

    def wait_up(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                call(self.api, "GET", "/api/version")
                return
            except (OSError, RuntimeError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(
                        f"{self.name}: the Ollama stand-in did not start (see {self.log.name})"
                    )
                time.sleep(0.1)

    def pull(self, name: str, insecure: bool = False) -> None:
        answer = call(
            self.api, "POST", "/api/pull", {"model": name, "insecure": insecure, "stream": False}
        )
        if answer.get("status") != "success":
            raise RuntimeError(f"{self.name}: pull {name}: {answer}")

    def copy_from(self, peer: Host) -> None:
        """The product's copy: pull from the peer's seed, name it, drop the seed name."""
        peer_name = f"{peer.seed_addr}/{MODEL}"
        self.pull(peer_name, insecure=True)
        call(self.api, "POST", "/api/copy", {"source": peer_name, "destination": MODEL})
        call(self.api, "DELETE", "/api/delete", {"model": peer_name})

    def digests(self) -> set[str]:
        ns, _, rest = MODEL.partition("/")
        repo, _, tag = rest.partition(":")
        path = self.models / "manifests" / "registry.ollama.ai" / ns / repo / tag
        data = json.loads(path.read_text())
        return {x["digest"] for x in data["layers"]} | {data["config"]["digest"]}

    def stop(self) -> None:
        self.seed.shutdown()
        self.seed.server_close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@contextlib.contextmanager
def registry(size: int) -> Iterator[str]:
    spec = {MODEL: {"layers": [size, 1536, 256]}}
    proc = subprocess.Popen(
        [sys.executable, str(STANDINS / "registry" / "registry.py"), "--listen", "127.0.0.1:0"],
        env=os.environ | {"STANDIN_REGISTRY_MODELS": json.dumps(spec)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield "http://" + proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def load_fanout() -> object:
    path = REPO / "plugins" / "module_utils" / "fanout.py"
    spec = importlib.util.spec_from_file_location("bench_fanout", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(n: int, product: bool, upstream: str, work: Path, fanout: object) -> tuple[dict, float]:
    """The registry's counters and the wall time for one model on n fresh hosts."""
    call(upstream, "POST", "/standin/reset", {})
    hosts = [Host(f"pc-{i:02d}", work, upstream) for i in range(1, n + 1)]
    try:
        for host in hosts:
            host.wait_up()
        by_name = {h.name: h for h in hosts}
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            if product:
                hub, rest = hosts[0], [h.name for h in hosts[1:]]
                hub.pull(MODEL)
                for plan in fanout.fanout_rounds([hub.name], rest):  # type: ignore[attr-defined]
                    jobs = [pool.submit(by_name[t].copy_from, by_name[s]) for t, s in plan.items()]
                    for job in jobs:
                        job.result()
            else:
                for job in [pool.submit(h.pull, MODEL) for h in hosts]:
                    job.result()
        elapsed = time.perf_counter() - started
        want = set(call(upstream, "GET", "/standin/models")[MODEL]["blobs"])
        for host in hosts:
            if host.digests() != want:
                sys.exit(f"{host.name}: the model's digests differ from the registry's")
        return call(upstream, "GET", "/standin/stats"), elapsed
    finally:
        for host in hosts:
            host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=8, help="the model's main layer")
    args = parser.parse_args()
    fanout = load_fanout()
    began = time.perf_counter()
    with (
        registry(args.size_mib * 1024 * 1024) as upstream,
        tempfile.TemporaryDirectory(prefix="llm-bench-upstream-") as tmp,
    ):
        size = call(upstream, "GET", "/standin/models")[MODEL]["size"]
        print(f"model {MODEL}: {size} bytes (config blob and 3 layers); upstream bytes / size")
        print("        product: hub once + fan-out    every host from upstream")
        print("hosts   blobs   all body bytes  time   blobs   all body bytes  time")
        for n in SIZES:
            row = f"{n:>5}"
            for index, product in enumerate((True, False)):
                stats, elapsed = run(n, product, upstream, Path(tmp) / f"{n}-{index}", fanout)
                row += f"  {stats['blob_bytes'] / size:6.2f}  {stats['bytes'] / size:14.2f}"
                row += f"  {elapsed:4.2f}s"
            print(row)
    print("blobs: blob bytes sent in answer to Ollama's Range requests (what it stores);")
    print("all body bytes adds manifests and what each blob's first, probing GET got before")
    print("Ollama closed it (registry.ollama.ai answers that GET with a 307 and no body).")
    print(f"goal: 1.00 for every N on the product's path. {os.cpu_count()} CPUs, load avg "
          f"{os.getloadavg()[0]:.2f}, wall time {time.perf_counter() - began:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
