"""The product as users get it: a wheel in a fresh virtual environment, and the
collection built by ansible-galaxy. Slow (a fresh venv installs Ansible), so
these run once per test run, from a directory outside the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, assert_no_secret_leaked

pytestmark = pytest.mark.integration

LOCAL_INVENTORY = (
    "[llm_ollama]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
)


def run(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def run_ok(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """run, and the test fails with the command's stderr unless it exits 0."""
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def installed_llm(tmp_path_factory) -> Path:
    """`pip install` of the built wheel into a new venv; returns its `llm`."""
    work = tmp_path_factory.mktemp("wheel")
    pip_wheel = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation")
    run_ok(*pip_wheel, "-w", work / "dist", REPO, cwd=work)
    wheel = next((work / "dist").glob("local_llm_stack-*.whl"))
    venv = work / "venv"
    run_ok(sys.executable, "-m", "venv", venv, cwd=work)
    run_ok(venv / "bin" / "pip", "install", "-q", wheel, cwd=work)
    return venv / "bin" / "llm"


def clean_env(tmp: Path) -> dict:
    """No venv on PATH, no stack directory inherited: as a user's fresh shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env["HOME"] = str(tmp)
    return env


def test_wheel_carries_the_collection(installed_llm):
    site = next(installed_llm.parent.parent.glob("lib/python*/site-packages"))
    collection = site / "cli" / "collection"
    for part in (
        "galaxy.yml",
        "playbooks/install.yml",
        "roles/preflight/tasks/main.yml",
        "plugins/modules/gpu_facts.py",
        "plugins/module_utils/gpu.py",
    ):
        assert (collection / part).is_file(), part


def test_installed_llm_works_from_any_directory(installed_llm, tmp_path):
    env = clean_env(tmp_path)
    version = run(installed_llm, "--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and "llm, version" in version.stdout
    assert run(installed_llm, "--help", cwd=tmp_path, env=env).returncode == 0

    stack = tmp_path / "stack"
    init = run(installed_llm, "init", "--dir", stack, cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stderr
    (stack / "inventory.ini").write_text(LOCAL_INVENTORY)

    check = run(installed_llm, "install", "--check", "--dir", stack, cwd=tmp_path, env=env)
    # The playbook ran against this machine in check mode: either every step could be
    # checked (0), or the recap names what stopped it, in words (1): preflight findings, or
    # e.g. Docker's repository being unreachable from a closed network.
    assert check.returncode in (0, 1), check.stdout + check.stderr
    assert "Traceback" not in check.stdout + check.stderr
    assert "PLAY Check every host and every setting before changing anything" in check.stdout
    assert "Recap" in check.stdout and "localhost" in check.stdout
    if check.returncode == 1:
        failures = check.stdout.split("Failures:", 1)[1].strip().splitlines()
        assert failures and failures[0].startswith("localhost: "), check.stdout
    # Runner artifacts landed in the stack, and no secret reached them or the output.
    assert_no_secret_leaked(stack, check.stdout, check.stderr)


def test_galaxy_build_installs_and_runs_by_fqcn(tmp_path):
    bin_dir = Path(sys.executable).parent
    galaxy = bin_dir / "ansible-galaxy"
    run_ok(galaxy, "collection", "build", "--output-path", tmp_path / "out", REPO, cwd=tmp_path)
    tarball = next((tmp_path / "out").glob("local_llm-stack-*.tar.gz"))
    install = ("collection", "install", "--force", "--no-deps", "--offline")
    run_ok(galaxy, *install, "-p", tmp_path / "collections", tarball, cwd=tmp_path)
    root = tmp_path / "collections" / "ansible_collections" / "local_llm" / "stack"
    assert (root / "roles" / "preflight" / "meta" / "argument_specs.yml").is_file()
    assert not (root / "tests").exists() and not (root / "cli").exists()

    (tmp_path / "inv.ini").write_text(LOCAL_INVENTORY)
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
        "ANSIBLE_NOCOLOR": "1",
    }
    play = run(
        bin_dir / "ansible-playbook",
        "local_llm.stack.install",
        "-i",
        tmp_path / "inv.ini",
        "--check",
        cwd=tmp_path,
        env=env,
    )
    said = play.stdout + play.stderr
    assert "Measure the disk, list listening ports, detect GPUs" in play.stdout, said
    assert "PLAY RECAP" in play.stdout
