"""How long `llm --help` takes to start: median wall time over repeated runs.

Target: under 0.3 s on a 2-core machine. Run with the environment's Python:
    .venv/bin/python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3


def llm_executable() -> str:
    beside_python = Path(sys.executable).parent / "llm"
    found = str(beside_python) if beside_python.exists() else shutil.which("llm")
    if not found:
        sys.exit("llm is not installed in this environment: pip install -e . first")
    return found


def time_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    llm = llm_executable()
    for command in ([llm, "--help"], [llm, "--version"], [llm, "install", "--help"]):
        time_once(command)  # warm the page cache
        samples = sorted(time_once(command) for _ in range(args.runs))
        median = statistics.median(samples)
        verdict = "within" if median < TARGET_S else "OVER"
        print(
            f"{' '.join(['llm', *command[1:]]):<20} median {median * 1000:6.1f} ms"
            f"  (min {samples[0] * 1000:.1f}, max {samples[-1] * 1000:.1f}, n={args.runs})"
            f"  {verdict} the {TARGET_S * 1000:.0f} ms target"
        )


if __name__ == "__main__":
    main()
