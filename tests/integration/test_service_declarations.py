"""The roles' service declarations, resolved with a host's settings as every command sees
them: a service the settings leave out is not one the host runs (status would call it
missing, start would try it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def services(tmp_path: Path, role: str, group: str, **settings) -> list[str]:
    inventory, out = tmp_path / "hosts.ini", tmp_path / "services.json"
    inventory.write_text(f"[{group}]\nlocalhost\n")
    extra = json.dumps({"role": role, "out": str(out), **settings})
    done = subprocess.run(
        [Path(sys.executable).parent / "ansible-playbook", "-i", str(inventory),
         "tests/fixtures/host_services.yml", "-e", extra],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_meilisearch_only_with_search(tmp_path):
    assert services(tmp_path, "librechat", "llm_chat") == ["meilisearch", "librechat"]
    assert services(tmp_path, "librechat", "llm_chat", librechat_search=False) == ["librechat"]
    assert services(tmp_path, "librechat", "llm_ollama") == []
