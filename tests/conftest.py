"""Shared fixtures: the collection importable as ansible_collections.local_llm.stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def collections_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A collections path holding a link to this checkout as local_llm.stack."""
    base = tmp_path_factory.mktemp("collections")
    link = base / "ansible_collections" / "local_llm" / "stack"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(base))
    return base


def run_collection_module(collections_dir: Path, module: str, **args: object) -> tuple[int, dict]:
    """One of the collection's modules run as Ansible runs it, on localhost (check: its
    check mode): (ansible's exit status, the module's result)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_dir))
    # `llm`'s inventory check sets this in-process; the implicit localhost needs it off.
    env.pop("ANSIBLE_INVENTORY_UNPARSED_FAILED", None)
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
    check = ["--check"] if args.pop("check", None) else []
    python = "ansible_python_interpreter=/usr/bin/python3"
    ansible = str(Path(sys.executable).parent / "ansible")  # beside this Python, not PATH's
    argv = [ansible, "localhost", "-c", "local", "-e", python,
            "-m", f"local_llm.stack.{module}", "-a", json.dumps(args), *check]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert proc.stdout.startswith("{"), proc.stdout + proc.stderr
    plays = json.loads(proc.stdout)["plays"]
    return proc.returncode, plays[0]["tasks"][0]["hosts"]["localhost"]


@contextmanager
def serving(
    handler: type[BaseHTTPRequestHandler], server: type[HTTPServer] = ThreadingHTTPServer
) -> Iterator[str]:
    """An HTTP server on a free loopback port, in a thread: its base URL while it runs."""
    httpd = server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


def assert_no_secret_leaked(stack: Path, *texts: str) -> None:
    """No value of the stack's secrets.yml in the given texts or in any runner artifact."""
    import yaml

    secrets = [v for v in yaml.safe_load((stack / "secrets.yml").read_text()).values() if v]
    for text in texts:
        assert not any(secret in text for secret in secrets)
    artifacts = [p for p in (stack / "runs" / "artifacts").rglob("*") if p.is_file()]
    assert artifacts, "no runner artifacts to check"
    for path in artifacts:
        content = path.read_text(errors="replace")
        assert not any(secret in content for secret in secrets), path


@pytest.fixture
def recorded_events() -> list[dict]:
    path = FIXTURES / "runner_events" / "ok_failed_rescued_unreachable.json"
    return json.loads(path.read_text())
