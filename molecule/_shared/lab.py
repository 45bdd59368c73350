"""What the scenarios' tests share: the real `llm` run from the controller against the
scenario's lab (its stack directory and inventory, which Molecule names in the
environment), and commands run inside its test hosts (Docker containers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

REPO = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
STACK = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "stack"
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


def llm_argv(*args: str, inventory: str | None = INVENTORY) -> list[str]:
    """`llm ARGS` on the lab's stack; inventory None: a command that takes none."""
    where = ["--dir", str(STACK), *(["-i", inventory] if inventory else [])]
    return [sys.executable, "-m", "cli.main", *args, *where]


# A stopped, paused or missing container is unreachable to Ansible's docker connection
# only where a task first makes a temporary directory in it, which pipelining skips (the
# module then fails with docker's "is paused" as its output). A PC switched off is
# unreachable over SSH either way, so a test host switched off is reached without
# pipelining (these host variables in the run's inventory), as a user's inventory may
# choose; the hosts that are on keep it (docs/testing.md).
HOST_OFF_VARS = {"ansible_pipelining": False}


def llm(
    *args: str, inventory: str | None = INVENTORY, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run it (env: added to this environment); whatever its exit status, a traceback is a
    failure."""
    result = subprocess.run(
        llm_argv(*args, inventory=inventory), cwd=REPO, capture_output=True, text=True,
        check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


def in_host(host: str, *argv: str, check: bool = False) -> subprocess.CompletedProcess:
    """argv inside the test host."""
    return subprocess.run(["docker", "exec", host, *argv], capture_output=True, text=True,
                          check=check)  # fmt: skip


def sh(host: str, script: str, check: bool = True) -> str:
    """A shell script inside the test host; its output (check: it must succeed)."""
    done = in_host(host, "sh", "-c", script)
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout


def address(host: str) -> str:
    """The test host's address on the Docker network."""
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.run(["docker", "inspect", "-f", fmt, host], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def login(host: str, email: str, password: str, port: int = 3080) -> int:
    """LibreChat's password log-in from inside host, at its port; the HTTP status. Its
    limiter allows 7 attempts in 5 minutes from one address."""
    body = json.dumps({"email": email, "password": password})
    out = in_host(host, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                  "Content-Type: application/json", "-d", body,
                  f"http://127.0.0.1:{port}/api/auth/login", check=True).stdout  # fmt: skip
    return int(out)


@contextmanager
def roster_imported(tmp_dir: Path, roster_text: str, remove: Callable[[], list[str]]):
    """`llm users import` of a roster (with a handout) for a test module: (roster, handout,
    result); afterwards the accounts record goes and the accounts `remove()` names are
    removed, so the lab is left as found."""
    roster = tmp_dir / "class.csv"
    roster.write_text(roster_text, encoding="utf-8")
    handout = tmp_dir / "handout.txt"
    result = llm("users", "import", str(roster), "--handout", str(handout))
    try:
        yield roster, handout, result
    finally:
        (STACK / "accounts.yml").unlink(missing_ok=True)
        names = remove()
        if names:
            llm("users", "remove", *names, "--yes")


def assert_a_second_import_changes_nothing(roster: Path) -> None:
    """The same roster imported again: no account changed, no handout, and the accounts
    record byte for byte as it was (no new password)."""
    before = (STACK / "accounts.yml").read_bytes()
    again = llm("users", "import", str(roster))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "accounts changed: 0" in again.stdout and "handout" not in again.stdout
    assert (STACK / "accounts.yml").read_bytes() == before
