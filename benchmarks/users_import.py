"""Wall time of `llm users import` for a class of 60 students, through the real CLI.

The chat host is this machine (a local connection): a container named llm-librechat
from the LibreChat stand-in image, with the MongoDB stand-in inside it, so the
playbook, the librechat role's accounts tasks and the librechat_accounts module run
exactly as on a lab's chat host. Prints, for the module's default of 4 scripts at
once and for 1 (one script after another, what a shell loop over `npm run
create-user` does), the first import's wall time and the second's, and checks the
second changed nothing (the output's "accounts changed: 0").

The scripts are the stand-in's (Python); LibreChat's real ones start Node and connect
to MongoDB each time (about a second or two each), so the real first import is slower
and gains more from running scripts at once. Needs Docker and the stand-in image
(scripts/build-test-images). Run:
    .venv/bin/python benchmarks/users_import.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STANDINS = REPO / "tests" / "standins"
IMAGE = os.environ.get("LLM_TEST_REGISTRY", "172.17.0.1:5000") + "/librechat-ai/librechat:v0.8.8"
CONTAINER = "llm-librechat"  # the name the librechat role gives LibreChat's container
STUDENTS = 60


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chat() -> None:
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    mongo = free_port()
    docker("run", "-d", "--network", "host", "--name", CONTAINER, "-v",
           f"{STANDINS}:/standins:ro", "--entrypoint", "sleep", IMAGE, "infinity")  # fmt: skip
    env = f"MONGO_URI=mongodb://root:bench-root-1@127.0.0.1:{mongo}/LibreChat?authSource=admin\n"
    config = "version: 1.3.17\nbalance:\n  enabled: true\n  startBalance: 50000\n"
    docker("exec", CONTAINER, "sh", "-c", f"mkdir -p /tmp/db /tmp/initdb && printf '%s' '{env}' "
           f"> /app/.env && printf '%s' '{config}' > /app/librechat.yaml")  # fmt: skip
    docker("exec", "-d", "-e", "MONGO_INITDB_ROOT_USERNAME=root",
           "-e", "MONGO_INITDB_ROOT_PASSWORD=bench-root-1", "-e", "STANDIN_INITDB_DIR=/tmp/initdb",
           CONTAINER, "python3", "/standins/mongodb/mongod.py", "--dbpath", "/tmp/db",
           "--port", str(mongo), "--bind_ip", "127.0.0.1")  # fmt: skip
    time.sleep(1)


def roster(path: Path) -> Path:
    rows = [
        "email,name,username,tokens,role",
        "teacher@school.example,The Teacher,teacher,,teacher",
    ]
    rows += [
        f"s{i:02d}@school.example,Student Number {i:02d},s{i:02d},{20000 if i % 3 == 0 else ''},"
        for i in range(1, STUDENTS + 1)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def import_once(stack: Path, inventory: Path, class_csv: Path, parallel: int) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "users", "import", str(class_csv), "--dir", str(stack),
         "-i", str(inventory), "-e", f"librechat_accounts_parallel={parallel}"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"llm users import failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        class_csv = roster(work / "class.csv")
        inventory = work / "inventory.ini"
        inventory.write_text(
            "[llm_chat]\nlocalhost ansible_connection=local "
            f"ansible_python_interpreter={sys.executable}\n"
            "[llm_ollama]\nlocalhost\n"  # `llm` checks a chat host has an Ollama host
        )
        try:
            for parallel in (4, 1):
                start_chat()
                stack = work / f"stack-{parallel}"
                subprocess.run([sys.executable, "-m", "cli.main", "init", "--dir", str(stack)],
                               cwd=REPO, check=True, capture_output=True)  # fmt: skip
                first, out = import_once(stack, inventory, class_csv, parallel)
                if f"{STUDENTS + 1} created" not in out:
                    sys.exit(f"the first import did not create {STUDENTS + 1} accounts:\n{out}")
                second, out = import_once(stack, inventory, class_csv, parallel)
                changed = "accounts changed: 0" in out
                if not changed:
                    sys.exit(f"the second import changed something:\n{out}")
                rows.append((parallel, first, second))
        finally:
            subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    load = os.getloadavg()[0]
    print(f"llm users import, {STUDENTS} students + 1 teacher, one chat host "
          f"(stand-in scripts; load average {load:.1f})")  # fmt: skip
    print(f"{'scripts at once':>16} {'first import':>13} {'second (no-op)':>15} {'changed':>8}")
    for parallel, first, second in rows:
        print(f"{parallel:>16} {first:>12.1f}s {second:>14.1f}s {0:>8}")


if __name__ == "__main__":
    main()
