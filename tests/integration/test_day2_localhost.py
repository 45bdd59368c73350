"""Day-2 commands against the default localhost inventory, on this machine.

Nothing of the stack is deployed here, so these prove the commands run and
say so truthfully; the multi-host lab (molecule/team_lab) proves them on a
deployed stack. Nothing here changes the machine: read-only commands, and
stop/uninstall with nothing to stop or remove.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def llm(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=REPO,
        check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    target = tmp_path_factory.mktemp("day2") / "stack"
    assert llm("init", "--dir", str(target)).returncode == 0
    return target


def test_status_on_a_machine_without_the_stack(stack):
    result = llm("status", "--json", "--dir", str(stack))
    report = json.loads(result.stdout)
    assert result.returncode == 1  # reachable, but nothing deployed is not a working stack
    assert report["localhost"]["reachable"] is True
    assert report["localhost"]["services"] == {}


def test_models_list_and_logs_with_no_ollama_running(stack):
    listed = llm("models", "list", "--json", "--dir", str(stack))
    assert listed.returncode == 0 and json.loads(listed.stdout) == {}
    logs = llm("logs", "ollama", "--dir", str(stack))
    assert logs.returncode == 1 and "ollama runs on none of these hosts" in logs.stderr


def test_stop_and_uninstall_with_nothing_deployed_change_nothing(stack):
    for args in (("stop",), ("uninstall", "--check")):
        result = llm(*args, "--dir", str(stack))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "changed" not in result.stdout.split("Recap")[0]


def test_debug_bundle_of_this_machine(stack, tmp_path):
    result = llm("debug", "--dir", str(stack), "--output", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    bundle = next(tmp_path.glob("llm-debug-*.tar.gz"))
    secrets = [v for v in yaml.safe_load((stack / "secrets.yml").read_text()).values() if v]
    with tarfile.open(bundle) as archive:
        names = [m.name.split("/", 1)[1] for m in archive.getmembers()]
        texts = [
            archive.extractfile(m).read().decode(errors="replace") for m in archive.getmembers()
        ]
    assert "localhost/cmd/uname_-a.txt" in names and "controller/version.txt" in names
    assert not any(secret in text for secret in secrets for text in texts)
