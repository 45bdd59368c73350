"""Latency the security module's gateway (HAProxy, TLS) adds to the Ollama API.

Installs one all-in-one lab host (llm_ollama, llm_chat and llm_gateway) through
the real CLI (`llm init`, `llm modules enable security`, `llm install`, then
`llm keys add`), then runs one client inside that host (the firewall leaves
Ollama's own port closed from outside), which times, in the same process and
interleaved request by request (the order alternating):

- direct:  http://127.0.0.1:11434/api/...            (Ollama, no gateway)
- gateway: https://127.0.0.1/ollama/api/...           (HAProxy: TLS, API key check,
           path rewrite, then the same Ollama), certificate verified against the
           stack's CA (`<stack>/tls/ca.crt`)

Figures, in milliseconds unless marked:

- GET /api/version on kept-alive connections (http.client, one per side,
  N requests each, default 300): p50, p99 and mean; "gateway adds" is the
  gateway's figure minus the direct one. This is the cost per request of a
  client that keeps its connection, as LibreChat and the OpenAI SDKs do.
- The same on a new connection for every request (N/10 each): TCP connect plus,
  through the gateway, a full TLS handshake (no tickets: the gateway turns them off).
- POST /api/chat streamed (NDJSON), 10 each: median time to the first chunk and
  to the last, and each chunk's median arrival on both sides. The Ollama
  stand-in pauses STANDIN_OLLAMA_CHUNK_DELAY (0.4 s) between chunks, so the
  "+ms" row (gateway minus direct, chunk by chunk) is how long the gateway holds
  each chunk back: about 0 when it passes each on as it comes.

The stand-in answers in well under a millisecond, so the direct figures are the
floor of the loopback path (Docker's published port) and the difference is the
gateway's own share; a real model's first token takes far longer. A note is
printed when the direct kept-alive figures are above the new-connection ones:
then they measure the backend's Nagle/delayed-ACK wait, not the path.

Needs what scripts/test sets up: Docker, the llm-test-debian13 image and the lab
registry with the stand-ins (`scripts/build-test-images`); the host installs
HAProxy from Debian. Run:
    .venv/bin/python benchmarks/gateway_latency.py [--requests N] [--keep]
--keep leaves the host and the stack directory in place (their names are printed).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from install_lab import LLM, REPO, inventory, start_host, timed_install

HOST = "bench-gateway"
GROUPS = {"llm_ollama": [HOST], "llm_chat": [HOST], "llm_gateway": [HOST]}
MODEL = "qwen2.5:0.5b"
OLLAMA_PORT = 11434
HTTPS_PORT = 443
STREAMS = 10

# Runs inside the host on its own python3 (standard library only); CONFIG is
# prepended as a JSON string. Prints one JSON object of raw times in seconds.
CLIENT = r"""
import http.client, json, ssl, sys, time

cfg = json.loads(CONFIG)
TLS = ssl.create_default_context(cadata=cfg["ca"])
SIDES = {
    "direct": (lambda: http.client.HTTPConnection("127.0.0.1", cfg["ollama_port"], timeout=60),
               "", {}),
    "gateway": (lambda: http.client.HTTPSConnection("127.0.0.1", cfg["https_port"], context=TLS,
                                                    timeout=60),
                "/ollama", {"Authorization": "Bearer " + cfg["key"]}),
}
ORDERS = (("direct", "gateway"), ("gateway", "direct"))
reopened = {side: 0 for side in SIDES}


def answer(conn, side, method, path, body=None):
    connect, prefix, headers = SIDES[side]
    headers = dict(headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, prefix + path, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        sys.exit(f"{side} {method} {prefix + path}: HTTP {response.status} "
                 f"{response.read()[:300]!r}")
    return response


def get_version(conn, side):
    start = time.perf_counter()
    response = answer(conn, side, "GET", "/api/version")
    response.read()
    elapsed = time.perf_counter() - start
    reopened[side] += response.will_close  # the next request opens a new connection
    return elapsed


def kept_alive():
    conns = {side: SIDES[side][0]() for side in SIDES}
    for _ in range(20):  # warm-up: connections, HAProxy's pool to Ollama; not counted
        for side in SIDES:
            get_version(conns[side], side)
    return conns


def chat_stream(conn, side):
    body = json.dumps({"model": cfg["model"], "stream": True,
                       "messages": [{"role": "user", "content": "Say hello."}]})
    start = time.perf_counter()
    response = answer(conn, side, "POST", "/api/chat", body)
    arrivals, last = [], b""
    while line := response.readline():
        if line.strip():
            arrivals.append(time.perf_counter() - start)
            last = line
    if not arrivals or not json.loads(last).get("done"):
        sys.exit(f"{side} /api/chat: the stream did not end with done=true: {last!r}")
    return arrivals


kept = kept_alive()
reopened = {side: 0 for side in SIDES}
tls = kept["gateway"].sock.version() + " " + kept["gateway"].sock.cipher()[0]

keepalive = {side: [] for side in SIDES}
for i in range(cfg["requests"]):
    for side in ORDERS[i % 2]:
        keepalive[side].append(get_version(kept[side], side))

fresh = {side: [] for side in SIDES}
for i in range(max(1, cfg["requests"] // 10)):
    for side in ORDERS[i % 2]:
        conn = SIDES[side][0]()
        start = time.perf_counter()  # connect (and handshake) happen in request()
        answer(conn, side, "GET", "/api/version").read()
        fresh[side].append(time.perf_counter() - start)
        conn.close()

kept = kept_alive()  # new ones: the gateway may have closed idle ones meanwhile
streams = {side: [] for side in SIDES}
for i in range(cfg["streams"]):
    for side in ORDERS[i % 2]:
        streams[side].append(chat_stream(kept[side], side))

print(json.dumps({"keepalive": keepalive, "fresh": fresh, "streams": streams,
                  "reopened": reopened, "tls": tls}))
"""


def llm(*args: str) -> str:
    """Run an `llm` command; stop with its output when it fails."""
    result = subprocess.run([*LLM, *args], cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"llm {' '.join(args)} failed (exit {result.returncode}):\n"
                 f"{result.stdout}\n{result.stderr}")  # fmt: skip
    return result.stdout


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure(key: str, ca: str, requests: int) -> dict:
    config = {"ca": ca, "key": key, "model": MODEL, "requests": requests, "streams": STREAMS,
              "ollama_port": OLLAMA_PORT, "https_port": HTTPS_PORT}  # fmt: skip
    script = f"CONFIG = {json.dumps(config)!r}\n{CLIENT}"
    result = subprocess.run(["docker", "exec", "-i", HOST, "python3", "-"], input=script,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"the client in {HOST} failed (exit {result.returncode}):\n"
                 f"{result.stdout}\n{result.stderr}")  # fmt: skip
    return json.loads(result.stdout)


def report(figures: dict, requests: int) -> None:
    ms = 1000.0
    label = {"direct": f"direct   http://127.0.0.1:{OLLAMA_PORT}",
             "gateway": "gateway  https://127.0.0.1/ollama"}  # fmt: skip
    for kind, title in (
        ("keepalive", f"GET /api/version, kept-alive connection, {requests} each, interleaved"),
        ("fresh", f"GET /api/version, new connection each, {max(1, requests // 10)} each"),
    ):
        rows = {}
        for side, times in figures[kind].items():
            rows[side] = (percentile(times, 0.5) * ms, percentile(times, 0.99) * ms,
                          statistics.fmean(times) * ms)  # fmt: skip
        print(f"{title}\n  {'':38}{'p50':>9}{'p99':>9}{'mean':>9}  (ms)")
        for side, (p50, p99, mean) in rows.items():
            print(f"  {label[side]:38}{p50:9.2f}{p99:9.2f}{mean:9.2f}")
        added = [g - d for g, d in zip(rows["gateway"], rows["direct"], strict=True)]
        print(f"  {'gateway adds':38}{added[0]:+9.2f}{added[1]:+9.2f}{added[2]:+9.2f}\n")

    print(f"POST /api/chat, streamed, {STREAMS} each, kept-alive connection, interleaved")
    print(f"  {'':38}{'1st chunk':>11}{'last chunk':>12}{'chunks':>8}  (medians)")
    arrivals = {}
    for side, runs in figures["streams"].items():
        count = min(len(r) for r in runs)
        arrivals[side] = [statistics.median(r[i] for r in runs) for i in range(count)]
        first, last = statistics.median(r[0] for r in runs), statistics.median(r[-1] for r in runs)
        print(f"  {label[side]:38}{first * ms:8.2f} ms{last:10.3f} s{count:8d}")
    gateway, direct = figures["streams"]["gateway"], figures["streams"]["direct"]
    first = statistics.median(r[0] for r in gateway) - statistics.median(r[0] for r in direct)
    last = statistics.median(r[-1] for r in gateway) - statistics.median(r[-1] for r in direct)
    print(f"  {'gateway adds':38}{first * ms:+8.2f} ms{last * ms:+9.1f} ms")
    print("  each chunk's arrival, median (s); the stand-in pauses between chunks:")
    for side, times in arrivals.items():
        print(f"    {side:9}" + "".join(f"{t:8.3f}" for t in times))
    held = [g - d for g, d in zip(arrivals["gateway"], arrivals["direct"], strict=False)]
    print(f"    {'+ms':9}" + "".join(f"{h * ms:+8.1f}" for h in held)
          + "   (gateway minus direct: what the gateway holds each chunk back)")  # fmt: skip
    print(f"\ngateway TLS: {figures['tls']}")
    kept, fresh = (percentile(figures[k]["direct"], 0.5) for k in ("keepalive", "fresh"))
    if kept > fresh:
        print("note: direct, a kept-alive connection answers slower than a new one"
              f" ({kept * ms:.2f} vs {fresh * ms:.2f} ms): the backend writes headers and body"
              " separately with Nagle's algorithm on, and waits for a delayed ACK (Ollama"
              " itself, in Go, sets TCP_NODELAY)")  # fmt: skip
    reopened = {side: n for side, n in figures["reopened"].items() if n}
    if reopened:
        print(f"note: kept-alive connections were reopened {reopened} times (server closed them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, metavar="N",
                        help="GET /api/version requests per side (default 300; N/10 on new "
                             "connections)")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help="leave the host and the stack directory in place")  # fmt: skip
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="llm-bench-gateway-"))
    stack = work / "stack"
    try:
        start_host(HOST)
        llm("init", "--dir", str(stack))
        inv = stack / "lab.ini"
        inv.write_text(inventory(GROUPS) + f"\n[llm_ollama:vars]\nollama_models=['{MODEL}']\n")
        llm("modules", "enable", "security", "--dir", str(stack), "-i", str(inv))
        install = timed_install(stack, inv)
        print(f"all-in-one host with the security module installed in {install:.1f} s "
              "(not part of the figures)\n")  # fmt: skip
        added = llm("keys", "add", "bench", "--dir", str(stack), "-i", str(inv))
        found = re.search(r"^  (llmk_\S+)$", added, re.M)
        if found is None:
            sys.exit(f"no key in the output of llm keys add:\n{added}")
        ca = (stack / "tls" / "ca.crt").read_text()
        report(measure(found.group(1), ca, args.requests), args.requests)
    finally:
        if args.keep:
            print(f"\nkept: host {HOST}, stack {stack} "
                  f"(remove with: docker rm -f -v {HOST}; rm -rf {work})")  # fmt: skip
        else:
            subprocess.run(["docker", "rm", "-f", "-v", HOST], capture_output=True, check=False)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
