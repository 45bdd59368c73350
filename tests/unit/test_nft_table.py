"""The firewall's one-call module (local_llm.stack.nft_table) on this machine, in scratch
paths: a ruleset that nft refuses changes nothing, check mode writes nothing. Writing,
loading and enabling for real run in team_lab (the security module's install, its re-run
with nothing changed, its rules in force)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_collection_module

pytestmark = pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft")

GOOD = """table inet llm_test {
  chain input {
    type filter hook input priority 0; policy accept;
  }
}
"""


def args(tmp_path: Path, ruleset: str) -> dict:
    return {
        "directory": str(tmp_path / "fw"),
        "ruleset": {"path": str(tmp_path / "fw" / "ruleset.nft"), "content": ruleset},
        "files": [
            {"path": str(tmp_path / "helper"), "content": "#!/bin/sh\n", "mode": "0755"},
            # A local fact, in a directory not there yet (made, 0755).
            {"path": str(tmp_path / "facts.d" / "llm_test.fact"), "content": "{}\n"},
        ],
        "table": "inet llm_test_absent",
        "unit": "llm-test-absent.service",
    }


def test_check_mode_reports_every_change_and_writes_nothing(collections_dir, tmp_path):
    rc, result = run_collection_module(
        collections_dir, "nft_table", check="1", **args(tmp_path, GOOD)
    )
    assert rc == 0, result
    assert result["changed"] and result["load"] is False  # never loaded in check mode
    assert set(result["written"]) >= {str(tmp_path / "fw"), str(tmp_path / "helper"),
                                      str(tmp_path / "fw" / "ruleset.nft"),
                                      str(tmp_path / "facts.d" / "llm_test.fact")}  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_a_ruleset_nft_refuses_leaves_the_old_one(collections_dir, tmp_path):
    (tmp_path / "fw").mkdir()
    ruleset = tmp_path / "fw" / "ruleset.nft"
    ruleset.write_text(GOOD)
    rc, result = run_collection_module(
        collections_dir, "nft_table", **args(tmp_path, "table inet llm_test { chain c { } }")
    )
    assert rc != 0 and "does not pass `nft -c`" in result["msg"], result
    assert "syntax error" in result["msg"]
    assert ruleset.read_text() == GOOD  # neither replaced nor backed up
    assert sorted(p.name for p in (tmp_path / "fw").iterdir()) == ["ruleset.nft"]
