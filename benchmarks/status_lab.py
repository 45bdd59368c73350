"""Wall time of `llm status` on a three-host lab (one chat host, two Ollama hosts).

Installs the lab once through the real CLI (as install_lab.py does), then times
`llm status --json` five times and prints the median, and once more with one
Ollama host down (its row must say unreachable). Target: a few seconds.

With --baseline DIR (a checkout of another version, e.g. made with
`git worktree add /tmp/base <rev>`), that version's `llm status` is timed on the
same lab in the same run, the two interleaved, so a change's cost shows side by side.

Needs what scripts/test sets up (Docker, the test image, the lab registry). Run:
    .venv/bin/python benchmarks/status_lab.py [--baseline DIR]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from install_lab import LLM, REPO, inventory, sh, start_host, timed_install

GROUPS = {"llm_chat": ["status-chat"], "llm_ollama": ["status-gpu1", "status-gpu2"]}


def timed_status(stack: Path, inv: Path, checkout: Path = REPO) -> tuple[float, int, dict]:
    start = time.perf_counter()
    result = subprocess.run(
        [*LLM, "status", "--json", "--dir", str(stack), "-i", str(inv)],
        cwd=checkout,  # `python -m cli.main` imports the checkout it runs in
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    return elapsed, result.returncode, json.loads(result.stdout or "{}")


def main() -> None:
    baseline = None
    if sys.argv[1:2] == ["--baseline"] and len(sys.argv) == 3:
        baseline = Path(sys.argv[2]).resolve()
    elif sys.argv[1:]:
        sys.exit("usage: status_lab.py [--baseline CHECKOUT]")
    hosts = sorted({h for members in GROUPS.values() for h in members})
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        try:
            for host in hosts:
                start_host(host)
            stack = Path(tmp) / "stack"
            sh(*LLM, "init", "--dir", str(stack), cwd=REPO)
            inv = stack / "lab.ini"
            inv.write_text(inventory(GROUPS))
            install = timed_install(stack, inv)
            print(f"lab installed in {install:.1f} s (not part of the figure)")
            runs = {"this checkout": (REPO, [])}
            if baseline is not None:
                runs[f"baseline {baseline.name}"] = (baseline, [])
            for _ in range(5):
                for checkout, times in runs.values():
                    elapsed, rc, report = timed_status(stack, inv, checkout)
                    if rc != 0 or set(report) != set(hosts):
                        sys.exit(f"llm status ({checkout}) failed (exit {rc}): {report}")
                    times.append(elapsed)
            for label, (_, times) in runs.items():
                print(f"llm status, 3 hosts, {label:20} median {statistics.median(times):5.2f} s"
                      f"   (min {min(times):.2f}, max {max(times):.2f}, 5 runs)")  # fmt: skip
            sh("docker", "stop", "status-gpu2")
            elapsed, rc, report = timed_status(stack, inv)
            if rc != 1 or report["status-gpu2"]["reachable"]:
                sys.exit(f"an unreachable host was not reported: exit {rc}, {report}")
            print(f"llm status, 1 host down    {elapsed:12.2f} s   (exit 1, row says unreachable)")
        finally:
            subprocess.run(["docker", "rm", "-f", "-v", *hosts], capture_output=True, check=False)


if __name__ == "__main__":
    main()
