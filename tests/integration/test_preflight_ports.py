"""Preflight asks for the ports of the services that will be deployed, at their
configured port settings, and for nothing else (real `llm install --check` on
this machine, with the default inventory that puts localhost in every group)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RELAXED = ["-e", "preflight_min_free_disk_gb=1", "-e", "preflight_min_memory_mb=1",
           "-e", "preflight_require_time_sync=false"]  # fmt: skip


def _listen(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("0.0.0.0", port))
    except OSError:
        sock.close()
        return None
    sock.listen()
    return sock


@pytest.fixture
def listeners() -> Iterator[tuple[int, list[int]]]:
    """A free port taken for ollama_port, plus 80, 443 and 9090 where this machine lets us."""
    with ExitStack() as stack:
        probe = socket.socket()
        probe.bind(("0.0.0.0", 0))
        ollama_port = probe.getsockname()[1]
        probe.close()
        taken = _listen(ollama_port)
        assert taken is not None
        stack.callback(taken.close)
        held = []
        for port in (80, 443, 9090):
            sock = _listen(port)
            if sock is not None:
                stack.callback(sock.close)
                held.append(port)
        yield ollama_port, held


def install_check(tmp_path: Path, ollama_port: int) -> str:
    """`llm init`, then `llm install --check` on the default inventory; the output."""
    stack = tmp_path / "stack"
    subprocess.run([sys.executable, "-m", "cli.main", "init", "--dir", str(stack)], check=True,
                   capture_output=True)  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "install", "--check", "--dir", str(stack),
         *RELAXED, "-e", f"ollama_port={ollama_port}"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    return output


def test_default_inventory_asks_only_for_the_enabled_services_ports(tmp_path, listeners):
    ollama_port, held = listeners
    output = install_check(tmp_path, ollama_port)
    finding = next(line for line in output.splitlines() if "already in use" in line)
    assert f"port(s) {ollama_port} (ollama) already in use" in finding, output
    # Held by this test where the machine allowed it, and never asked for: no module uses them.
    # Every port named, with or without its service: "port(s) 80, 11434 (ollama) already ..."
    listed = finding.split("port(s) ", 1)[1].split(" already", 1)[0]
    asked = {int(part.split()[0]) for part in listed.split(", ")}
    assert asked == {ollama_port}, (held, finding)


def test_two_services_on_one_port_are_refused_before_anything_changes(tmp_path):
    output = install_check(tmp_path, 3080)
    assert "would publish the same port on this host: 3080 (ollama, librechat)" in output, output
    assert "PLAY Install the container runtime" not in output
