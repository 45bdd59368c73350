"""Ansible's environment, as runner writes it into each run's artifacts, holds no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cli import child_env

REPO = Path(__file__).resolve().parents[2]

PLANTED = {
    "OPENAI_API_KEY": "llmk_planted-key-0123456789",  # docs/security.md suggests exporting it
    "GITHUB_TOKEN": "ghp_planted-token",
    "SOME_TOOL_SETTING": "llmk_planted-in-an-innocent-name",
    "https_proxy": "http://alice:planted-proxy-password@proxy.lab:3128",
    "DATABASE_URL": "postgres://bob:planted-db-password@db/app",
    "ANSIBLE_BECOME_PASSWORD": "planted-become",
    "LLM_ADMIN_PW": "planted-pw",
    "LLM_APIKEY": "planted-apikey",
}


def test_the_callers_secrets_stay_out_and_what_ansible_needs_stays_in():
    caller = {
        **PLANTED,
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "SSH_AUTH_SOCK": "/run/agent",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_PRIVATE_KEY_FILE": "/home/u/.ssh/lab",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "EDITOR": "vi",
        "FROM_LOOKUP": "kept-on-request",
        "LLM_PASS_ENV": "FROM_LOOKUP",
    }
    runner_env = {**caller, "PATH": "/stack/bin:/usr/bin", "ANSIBLE_STDOUT_CALLBACK": "awx_display"}
    env = child_env.for_ansible(runner_env, caller)
    assert not set(PLANTED) & set(env)
    assert env["PATH"] == "/stack/bin:/usr/bin" and env["ANSIBLE_STDOUT_CALLBACK"] == "awx_display"
    kept = ("HOME", "SSH_AUTH_SOCK", "LC_ALL", "ANSIBLE_PRIVATE_KEY_FILE", "FROM_LOOKUP")
    for name in (*kept, "ANSIBLE_HOST_KEY_CHECKING"):
        assert env[name] == caller[name]
    assert "EDITOR" not in env


def test_a_real_run_leaves_no_planted_secret_in_its_artifacts(tmp_path):
    stack = tmp_path / "stack"
    inventory = tmp_path / "lab.ini"
    # A host nothing answers for: the run ends at once, its artifacts written.
    inventory.write_text(
        "[llm_ollama]\npc-01 ansible_host=127.0.0.1 ansible_port=9 ansible_connection=ssh\n"
    )
    base = {k: v for k, v in os.environ.items() if k not in PLANTED}
    cli = [sys.executable, "-m", "cli.main"]
    assert subprocess.run([*cli, "init", "--dir", str(stack)], cwd=REPO, env=base).returncode == 0
    result = subprocess.run(
        [
            *cli,
            "status",
            "--dir",
            str(stack),
            "-i",
            str(inventory),
            "-e",
            "ansible_become_password=planted-by-e",
            "-e",
            "my_api=llmk_planted-by-e",
        ],
        cwd=REPO,
        env={**base, **PLANTED},
        capture_output=True,
        text=True,
        check=False,
    )
    (command,) = list((stack / "runs" / "artifacts").glob("*/command"))
    recorded = json.loads(command.read_text())
    assert "ansible-playbook" in recorded["command"][0], result.stdout + result.stderr
    assert recorded["env"]["HOME"] == os.environ["HOME"]
    assert "@" + str(stack / "runs" / "private-vars.yml") in recorded["command"]
    assert not (stack / "runs" / "private-vars.yml").exists()  # deleted after the run
    assert "not handed to Ansible" in result.stderr and "LLM_ADMIN_PW" in result.stderr
    planted = [*PLANTED.values(), "planted-by-e"]
    for path in (stack / "runs").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(value in text for value in planted), path
