"""Ctrl-C during a run: Ansible is stopped cleanly and `llm` exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_ctrl_c_stops_ansible_and_exits_130(tmp_path):
    stack = tmp_path / "stack"
    init = subprocess.run(
        [sys.executable, "-m", "cli.main", "init", "--dir", str(stack)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    # Preflight's first task runs `python3` on the host through the shell: make it hang.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "hung"
    (fake_bin / "python3").write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 120\n")
    (fake_bin / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "install", "--dir", str(stack)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - started < 60, "the hanging task never started"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "stopping Ansible" in err
    assert "Traceback" not in out + err
    assert time.monotonic() - started < 90  # not the 120 s the task wanted
