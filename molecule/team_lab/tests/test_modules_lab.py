"""Modules on the lab: what `llm modules list` finds installed, and the install's
last play, which removes the services of a disabled module and keeps their data.

No optional module with services is in the collection yet, so the removal is
driven through the registry itself (-e llm_module_registry with `core` made
optional and left out): the same play and the same compose_services tasks a
disabled monitoring or security module will go through. The host is
reinstalled at the end.
"""

from __future__ import annotations

import json
import subprocess

from test_day2 import llm, status

REGISTRY = {
    "llm_module_registry": {
        "core": {"roles": ["ollama", "mongodb", "librechat"], "groups": ["llm_ollama", "llm_chat"],
                 "optional": True, "default": False},
        "gpu": {"roles": ["gpu_nvidia", "gpu_rocm"], "groups": ["llm_ollama"], "optional": True},
    }
}  # fmt: skip


def in_host(host: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", host, *argv], capture_output=True, text=True, check=False
    )


def test_modules_list_says_where_core_is_installed():
    result = llm("modules", "list", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["module"]: row for row in json.loads(result.stdout)}
    assert rows["core"]["installed_on"] == ["chat", "gpu-01", "gpu-02"]
    assert rows["core"]["groups"] == {"llm_ollama": 2, "llm_chat": 1}
    assert rows["security"]["state"] == "disabled" and not rows["security"]["installed_on"]


def test_a_disabled_module_loses_its_services_and_keeps_its_data():
    models = in_host("gpu-01", "ls", "/opt/llm-stack/ollama/models/blobs").stdout.split()
    assert models
    result = llm("install", "--limit", "gpu-01", "-e", json.dumps({**REGISTRY, "llm_modules": []}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Remove the services of disabled modules" in result.stdout
    assert "llm-ollama" not in in_host("gpu-01", "docker", "ps", "-a").stdout
    assert in_host("gpu-01", "test", "-e", "/opt/llm-stack/ollama/compose.yml").returncode == 1
    assert in_host("gpu-01", "ls", "/opt/llm-stack/ollama/models/blobs").stdout.split() == models

    reinstall = llm("install", "--limit", "gpu-01")
    assert reinstall.returncode == 0, reinstall.stdout + reinstall.stderr
    assert status()[0] == 0
