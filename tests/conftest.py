"""Shared fixtures: the collection importable as ansible_collections.local_llm.stack."""

from __future__ import annotations

import json
import sys
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


@pytest.fixture
def recorded_events() -> list[dict]:
    path = FIXTURES / "runner_events" / "ok_failed_rescued_unreachable.json"
    return json.loads(path.read_text())
