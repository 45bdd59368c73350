"""Fan-out time of one model to N Ollama hosts whose links are rate-limited.

Starts a hub and N (default 8) test hosts as containers (llm-test-debian13 plus
Debian's nginx, built once as the local image llm-bench-seed) on one Docker
network. Each runs the Ollama stand-in (tests/standins/ollama/ollama.py, mounted
read-only, so the code under test is the checkout's) and a read-only nginx
"seed" serving its models directory at Ollama's registry paths, configured from
the ollama role's own template (roles/ollama/templates/seed-nginx.conf.j2):

    /v2/<ns>/<model>/manifests/<tag>       -> manifests/registry.ollama.ai/<ns>/<model>/<tag>
    /v2/<ns>/<model>/blobs/sha256:<hex>    -> blobs/sha256-<hex>

Every container's egress (eth0) is limited with `tc ... tbf` to the same rate.
The hub holds one model (built with the registry stand-in's Store, so it has
the public registry's manifest and blob layout). Copies are driven the way the
product drives them (plugins/modules/ollama_model.py with a source): the seed's
manifest and config blob read first, then POST /api/pull on the target's Ollama
with the model named `<peer address>:<seed port>/<ns>/<model>:<tag>` and
"insecure": true (NDJSON progress read to "success"), then POST /api/copy to the
model's own name and DELETE of the peer-named copy.

Times, each on emptied targets:
- one copy: hub -> one target, alone;
- hub only, all at once: every target pulls from the hub at the same time;
- hub only, one after another;
- fan-out: the rounds of local_llm.stack's fanout_rounds (plugins/module_utils/
  fanout.py), each round's copies at once, the next round when all are done.
Prints the times, their ratios to one copy, and the goal (log2 N + 1) x one
copy. With the defaults (16 MiB at 40 Mbit/s: about 3.5 s a copy) it takes
about 2 minutes (2 m 6 s to 2 m 17 s on 2 busy cores, load average 5 to 12).
One copy and the tree run --runs times (default 3); their medians are compared.

For N = 8 the goal equals the tree's floor: each round at most doubles the hosts
that have the model, so hub + 8 need ceil(log2 9) = 4 rounds of one copy each,
and log2 8 + 1 = 4. The tree lands on the goal line, a few per cent either side
with the machine's load; for N that is not a power of two it has room
(N = 30: 5 rounds against 5.9).

Needs Docker and the llm-test-debian13 image (`scripts/build-test-images`); the
nginx package comes from the Debian mirror the image's apt sources name. Run:
    .venv/bin/python benchmarks/model_fanout.py [--hosts 8] [--size-mib 16] [--rate 40mbit]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
BASE_IMAGE = "llm-test-debian13"
IMAGE = "llm-bench-seed"
NETWORK = "llm-bench-fanout"
PREFIX = "llm-bench-fanout-"
SEED_PORT = 11435
MODELS_DIR = "/srv/ollama/models"
MODEL = "library/bench:latest"
DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends nginx \\
 && rm -rf /var/lib/apt/lists/*
"""
SEED_TEMPLATE = REPO / "roles/ollama/templates/seed-nginx.conf.j2"
SEED_DIR = "/var/lib/llm-model-seed"


def seed_conf() -> str:
    """The ollama role's seed configuration, rendered for a test host."""
    import jinja2

    if not SEED_TEMPLATE.is_file():
        sys.exit(f"{SEED_TEMPLATE} is missing: this benchmark times the role's own seed")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.from_string(SEED_TEMPLATE.read_text()).render(
            ansible_managed="Ansible managed",
            _ollama_seed_group="nogroup",
            _ollama_seed_dir=SEED_DIR,
            _ollama_seed_bind="0.0.0.0",
            ollama_seed_port=SEED_PORT,
            ollama_models_dir=MODELS_DIR,
        )
    except jinja2.UndefinedError as exc:
        sys.exit(f"{SEED_TEMPLATE} wants a variable this benchmark does not set: {exc}")


def sh(*args: str, check: bool = True, stdin: str | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, input=stdin, check=False)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(args[:4])} ... failed (exit {result.returncode}):\n{result.stderr}")
    return result.stdout


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write_model(models: Path, size: int) -> dict:
    """The model as the hub's Ollama stores it after a pull from the registry."""
    registry = load(REPO / "tests/standins/registry/registry.py", "bench_registry")
    store = registry.Store({MODEL: {"layers": [size, 1536, 256]}})
    manifest = store.manifests[MODEL]
    ns, _, rest = MODEL.partition("/")
    repo, _, tag = rest.partition(":")
    path = models / "manifests" / "registry.ollama.ai" / ns / repo / tag
    path.parent.mkdir(parents=True)
    path.write_bytes(manifest)
    (models / "blobs").mkdir()
    for digest, data in store.blobs.items():
        (models / "blobs" / digest.replace(":", "-")).write_bytes(data)
    return json.loads(manifest)


def call(ip: str, method: str, path: str, body: dict | None = None, timeout: float = 600) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://{ip}:11434{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path} on {ip}: {exc.code} {exc.read().decode()}") from None
    return json.loads(text) if text.strip() else {}


class Lab:
    def __init__(self, hosts: int, rate: str, work: Path) -> None:
        self.rate = rate
        self.work = work
        self.hub = PREFIX + "hub"
        self.targets = [f"{PREFIX}pc-{i:02d}" for i in range(1, hosts + 1)]
        self.ip: dict[str, str] = {}

    @property
    def names(self) -> list[str]:
        return [self.hub, *self.targets]

    def start(self, size: int) -> dict:
        sh("docker", "build", "-q", "-t", IMAGE, "-", stdin=DOCKERFILE)
        conf = self.work / "seed.conf"
        conf.write_text(seed_conf())
        sh("docker", "network", "create", NETWORK)
        standin = REPO / "tests/standins/ollama"
        for name in self.names:
            sh(
                "docker", "run", "-d", "--name", name, "--hostname", name,
                "--network", NETWORK, "--cap-add", "NET_ADMIN",
                "-v", f"{standin}:/standin:ro", "-v", f"{conf}:{SEED_DIR}/nginx.conf:ro",
                "-e", "OLLAMA_HOST=0.0.0.0:11434", "-e", f"OLLAMA_MODELS={MODELS_DIR}",
                "--entrypoint", "sh", IMAGE, "-c",
                f"mkdir -p {MODELS_DIR} {SEED_DIR}/tmp /run/llm-model-seed"
                f" && nginx -c {SEED_DIR}/nginx.conf && exec python3 /standin/ollama.py serve",
            )  # fmt: skip
        hub_models = self.work / "hub-models"
        manifest = write_model(hub_models, size)
        sh("docker", "cp", f"{hub_models}/.", f"{self.hub}:{MODELS_DIR}")
        for name in self.names:
            self.ip[name] = sh(
                "docker", "inspect", "-f",
                f"{{{{(index .NetworkSettings.Networks \"{NETWORK}\").IPAddress}}}}", name,
            ).strip()  # fmt: skip
            sh("docker", "exec", name, "tc", "qdisc", "replace", "dev", "eth0", "root",
               "tbf", "rate", self.rate, "burst", "64kb", "latency", "1s")  # fmt: skip
        for name in self.names:
            self.wait_up(name)
        return manifest

    def wait_up(self, name: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                call(self.ip[name], "GET", "/api/version", timeout=2)
                return
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    logs = sh("docker", "logs", "--tail", "20", name, check=False)
                    sys.exit(f"{name}: the Ollama stand-in did not answer in 30 s\n{logs}")
                time.sleep(0.3)

    def empty(self) -> None:
        """Targets back to no model (blobs, partial files and manifests gone)."""
        for name in self.targets:
            sh("docker", "exec", name, "sh", "-c", f"rm -rf {MODELS_DIR}/*")

    def copy(self, target: str, source: str) -> float:
        """One copy as the ollama_model module makes it with `source`: read the
        manifest and config from the peer's seed (the version check), POST /api/pull
        `<peer ip>:<seed port>/<ns>/<model>:<tag>` with insecure, reading the NDJSON
        progress, then /api/copy to the model's name and DELETE the seed-named one."""
        started = time.perf_counter()
        seed = f"{self.ip[source]}:{SEED_PORT}"
        ns, _, rest = MODEL.partition("/")
        repo, _, tag = rest.partition(":")
        with urllib.request.urlopen(f"http://{seed}/v2/{ns}/{repo}/manifests/{tag}") as answer:
            config = json.load(answer)["config"]["digest"]
        with urllib.request.urlopen(f"http://{seed}/v2/{ns}/{repo}/blobs/{config}") as answer:
            answer.read()
        peer_name = f"{seed}/{MODEL}"
        body = json.dumps({"model": peer_name, "stream": True, "insecure": True}).encode()
        request = urllib.request.Request(
            f"http://{self.ip[target]}:11434/api/pull", data=body, method="POST"
        )
        status = ""
        with urllib.request.urlopen(request, timeout=600) as answer:
            for line in answer:
                event = json.loads(line) if line.strip() else {}
                if event.get("error"):
                    raise RuntimeError(f"pull {peer_name} on {target}: {event['error']}")
                status = event.get("status", status)
        if status != "success":
            raise RuntimeError(f"pull {peer_name} on {target} ended with {status!r}")
        call(self.ip[target], "POST", "/api/copy", {"source": peer_name, "destination": MODEL})
        call(self.ip[target], "DELETE", "/api/delete", {"model": peer_name})
        return time.perf_counter() - started

    def check(self, manifest: dict, targets: list[str]) -> None:
        """Each target lists the model, with the hub's layers, under its own name only."""
        want = sum(x["size"] for x in manifest["layers"]) + manifest["config"]["size"]
        for name in targets:
            models = call(self.ip[name], "GET", "/api/tags")["models"]
            listed = {m["name"]: m["size"] for m in models}
            if listed != {MODEL.removeprefix("library/"): want}:
                sys.exit(f"{name}: expected only {MODEL} ({want} bytes), lists {listed}")

    def stop(self) -> None:
        subprocess.run(["docker", "rm", "-f", *self.names], capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True, check=False)


def at_once(lab: Lab, plan: dict[str, str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(plan)) as pool:
        for future in [pool.submit(lab.copy, t, s) for t, s in plan.items()]:
            future.result()


def timed(lab: Lab, manifest: dict, run: Callable[[], object], targets: list[str]) -> float:
    lab.empty()
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    lab.check(manifest, targets)
    return elapsed


def tree(lab: Lab, rounds: list[dict[str, str]], times: list[float]) -> None:
    """The product's rounds: each round's copies at once, the next when all are done."""
    for plan in rounds:
        started = time.perf_counter()
        at_once(lab, plan)
        times.append(time.perf_counter() - started)


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=8, help="targets besides the hub")
    parser.add_argument("--size-mib", type=int, default=16, help="the model's main layer")
    parser.add_argument("--rate", default="40mbit", help="tc tbf rate on every eth0")
    parser.add_argument("--runs", type=int, default=3, help="of one copy and of the tree")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    args = parser.parse_args()
    fanout = load(REPO / "plugins/module_utils/fanout.py", "bench_fanout")
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="llm-bench-fanout-") as tmp:
        lab = Lab(args.hosts, args.rate, Path(tmp))
        lab.stop()  # leftovers of an interrupted run
        try:
            manifest = lab.start(args.size_mib * 1024 * 1024)
            targets = lab.targets
            rounds = fanout.fanout_rounds([lab.hub], targets)
            first = targets[:1]
            ones = [
                timed(lab, manifest, lambda: lab.copy(first[0], lab.hub), first)
                for _ in range(args.runs)
            ]
            everyone = dict.fromkeys(targets, lab.hub)
            hub_parallel = timed(lab, manifest, lambda: at_once(lab, everyone), targets)
            hub_serial = timed(
                lab, manifest, lambda: [lab.copy(t, lab.hub) for t in targets], targets
            )
            trees, round_times = [], []
            for _ in range(args.runs):
                round_times.append([])
                trees.append(
                    timed(lab, manifest, lambda: tree(lab, rounds, round_times[-1]), targets)
                )
        finally:
            if not args.keep:
                lab.stop()
    size = sum(x["size"] for x in manifest["layers"]) + manifest["config"]["size"]
    n = len(targets)
    one, fan = median(ones), median(trees)
    goal = math.log2(n) + 1
    rounds_of_median = round_times[trees.index(fan)]
    print(f"model {size / 2**20:.1f} MiB; hub + {n} targets, egress {args.rate} each (tc tbf); "
          f"{os.cpu_count()} CPUs, load avg {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")  # fmt: skip
    print(f"one copy (hub -> 1)           {one:7.2f} s   1.00 x   "
          f"(median of {', '.join(f'{x:.2f}' for x in ones)})")  # fmt: skip
    print(f"hub only, all at once         {hub_parallel:7.2f} s   {hub_parallel / one:4.2f} x")
    print(f"hub only, one after another   {hub_serial:7.2f} s   {hub_serial / one:4.2f} x")
    print(f"fan-out tree, {len(rounds)} rounds        {fan:7.2f} s   {fan / one:4.2f} x   "
          f"(median of {', '.join(f'{x:.2f}' for x in trees)})")  # fmt: skip
    print(f"  copies per round {'+'.join(str(len(p)) for p in rounds)}, round times "
          f"{' + '.join(f'{x:.2f}' for x in rounds_of_median)} s")  # fmt: skip
    print(f"goal (log2 N + 1) x one copy  {goal * one:7.2f} s   {goal:4.2f} x   "
          f"fan-out {'meets' if fan <= goal * one else 'misses'} it")  # fmt: skip
    print(f"hub only / fan-out            {hub_parallel / fan:7.2f} (all at once), "
          f"{hub_serial / fan:.2f} (one after another)")  # fmt: skip
    print(f"benchmark wall time           {time.perf_counter() - began:7.1f} s")


if __name__ == "__main__":
    main()
