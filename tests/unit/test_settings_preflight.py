"""Preflight holds the inventory's host and group variables to the rules config.yml gets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: Check the settings only
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the settings the inventory gives this host
      ansible.builtin.include_role:
        name: local_llm.stack.preflight
        tasks_from: settings
"""


def run(tmp_path: Path, collections_dir: Path, inventory: str) -> subprocess.CompletedProcess:
    (tmp_path / "lab.ini").write_text(inventory)
    (tmp_path / "check.yml").write_text(PLAYBOOK)
    return subprocess.run(
        [Path(sys.executable).parent / "ansible-playbook", "-i", "lab.ini", "check.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(collections_dir),
            "ANSIBLE_NOCOLOR": "1",
        },
        check=False,
    )


def test_a_system_directory_or_a_boolean_port_in_the_inventory_stops_the_host(
    tmp_path, collections_dir
):
    result = run(
        tmp_path,
        collections_dir,
        "[llm_ollama]\n"
        "gpu-01 ansible_connection=local\n"
        "gpu-02 ansible_connection=local ollama_dir=/etc ollama_models=\"['$(id)']\"\n"
        "[llm_ollama:vars]\n"
        "llm_stack_root=/\n"
        "librechat_port=true\n"
        "[llm_chat]\n"
        # A template naming a role's default resolves only in the role: left to it.
        "chat ansible_connection=local ollama_models_dir='{{ ollama_dir }}/models'\n"
        "[llm_chat:vars]\n"
        # INI group variables are text: a number or a boolean written as one is fine.
        "librechat_port=3080\n"
        "librechat_search=false\n"
        "llm_stack_root=/srv/llm\n",
    )
    out = result.stdout
    assert result.returncode == 2, out
    assert "ok: [chat]" in out
    assert 'llm_stack_root: "/" is a system directory' in out
    assert 'librechat_port: "true" is not an integer' in out
    assert 'ollama_dir: "/etc" is a system directory' in out
    assert '"$(id)" is not a valid Ollama model name' in out
    assert "4 setting(s) refused for gpu-02" in out and "2 setting(s) refused for gpu-01" in out
