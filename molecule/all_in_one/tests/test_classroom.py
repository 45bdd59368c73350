"""The room as a whole, through the real `llm` from the controller: the models came
to pc-02 from pc-01 (the room's hub), and one roster makes every student an account on
every PC (each PC its own LibreChat), idempotent. That the teacher is made first, so
LibreChat makes them its administrator, is proved by
tests/integration/test_librechat_accounts_module.py.

These tests take no `host` fixture: each runs once, not once per PC. The accounts
are removed at the end (the lab as found).
"""

from __future__ import annotations

import json
import stat

import pytest
from lab import (
    STACK,
    address,
    assert_a_second_import_changes_nothing,
    llm,
    login,
    roster_imported,
    sh,
)

PCS = ("pc-01", "pc-02")
MODELS = "/opt/llm-stack/ollama/models"
ROSTER = (
    "email,name,username,password,role\n"
    "tess@school.example,Tess Teacher,tess,,teacher\n"
    "ana@school.example,Ana Lima,ana,,\n"
    "bo@school.example,Bo Brown,bo,,\n"
)


def test_pc02_copied_the_models_from_pc01_not_from_upstream():
    """pc-01 is the hub: pc-02's blobs came from its model seed, and are the same."""
    log = sh("pc-01", "cat /opt/llm-stack/ollama/seed/access.log")
    fetched = [line for line in log.splitlines()
               if line.startswith(address("pc-02") + " ") and '"GET /v2/' in line
               and "/blobs/sha256:" in line and ('" 200 ' in line or '" 206 ' in line)]  # fmt: skip
    assert fetched, log
    for name in ("library/llama3.2/latest", "library/qwen2.5/0.5b"):
        path = f"{MODELS}/manifests/registry.ollama.ai/{name}"
        # The same manifest (Ollama writes it re-encoded, so compare it as JSON).
        assert json.loads(sh("pc-01", f"cat {path}")) == json.loads(sh("pc-02", f"cat {path}"))
    blobs = {pc: sh(pc, f"ls {MODELS}/blobs").split() for pc in PCS}
    assert blobs["pc-01"] and blobs["pc-02"] == blobs["pc-01"]
    # Every blob pc-02 holds is one pc-01's seed sent it.
    sent = {line.split("/blobs/sha256:")[1].split()[0] for line in fetched}
    assert {b.removeprefix("sha256-") for b in blobs["pc-02"]} <= sent


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    with roster_imported(
        tmp_path_factory.mktemp("class"), ROSTER, lambda: ["tess", "ana", "bo"]
    ) as done:
        yield done


def test_one_roster_makes_every_account_on_every_pc(imported):
    from cli import accounts

    _, handout, result = imported
    assert result.returncode == 0, result.stdout + result.stderr
    for pc in PCS:
        assert f"{pc}: 3 created" in result.stdout, result.stdout
    made = accounts.load(STACK / "accounts.yml")
    assert not any(a.password in result.stdout + result.stderr for a in made.values())
    assert stat.S_IMODE(handout.stat().st_mode) == 0o600
    assert all(a.password in handout.read_text() for a in made.values())
    listed = json.loads(llm("users", "list", "--json").stdout)
    for pc in PCS:
        # With the administrator each PC's install made first (sign-up is off).
        assert sorted(a["username"] for a in listed[pc]) == ["admin", "ana", "bo", "tess"], listed
    # The same slip works on whichever PC the student sits at.
    for pc in PCS:
        assert login(pc, "ana@school.example", made["ana"].password) == 200, pc
    assert login("pc-02", "bo@school.example", made["ana"].password) != 200


def test_a_second_import_changes_nothing_on_any_pc(imported):
    roster, _, _ = imported
    assert_a_second_import_changes_nothing(roster)
