"""The librechat_accounts module's pure parts: LibreChat's script output parsed as the
scripts print it (colours and all), the sync plan, and the dialog that answers one
question at a time (a fake script that drops what arrives before its question, as
Node's readline does)."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from plugins.module_utils import librechat_accounts as la

LIST_USERS = (
    "\n\x1b[35mUser List:\x1b[0m\n"
    "\x1b[35m----------------------------------------\x1b[0m\n"
    "ID: 674417a0c1d2e3f4a5b6c7d8\nEmail: Tess@School.example\nUsername: tess\n"
    "Name: Tess Teacher\nProvider: local\nCreated: Wed Nov 25 2026 18:03:40 GMT+0000\n"
    "----------------------------------------\n"
    "ID: 674417a0c1d2e3f4a5b6c7d9\nEmail: ana@school.example\nUsername: N/A\n"
    "Name: Ana (Lima)\nProvider: local\nCreated: Wed Nov 25 2026 18:03:41 GMT+0000\n"
    "----------------------------------------\n\nTotal Users: 2\n"
)
LIST_BALANCES = (
    "\x1b[35m--------------------------\x1b[0m\n\x1b[35mShow the balance of all users!\x1b[0m\n"
    "\x1b[35m--------------------------\x1b[0m\n"
    "\x1b[32mUser Tess Teacher (tess@school.example) has a balance of 50000\x1b[0m\n"
    "\x1b[32mUser Ana (Lima) (ana@school.example) has no balance\x1b[0m\n"
)


def test_list_users_parsed_lower_case_with_na_as_empty():
    assert la.parse_users(LIST_USERS) == [
        {"email": "tess@school.example", "username": "tess", "name": "Tess Teacher"},
        {"email": "ana@school.example", "username": "", "name": "Ana (Lima)"},
    ]


def test_list_balances_parsed_even_with_brackets_in_names():
    assert la.parse_balances(LIST_BALANCES) == {
        "tess@school.example": 50000,
        "ana@school.example": None,
    }


def wanted(username, role="student"):
    return {"username": username, "email": f"{username}@school.example", "name": username,
            "role": role, "password": "pw-" + username}  # fmt: skip


def test_plan_creates_only_what_is_missing_and_names_conflicts():
    existing = la.parse_users(LIST_USERS)
    todo = la.plan(
        [wanted("tess", "teacher"), wanted("bo"), wanted("ana")],
        existing,
        reset=["tess"],
        remove=["zed"],
        balance={"bo": 20000},
    )
    assert [a["username"] for a in todo["create"]] == ["bo"]
    assert todo["reset"] == [{"username": "tess", "email": "tess@school.example"}]
    assert todo["balance"] == [["bo", "bo@school.example", 20000]]
    assert todo["remove"] == []  # zed is not there: nothing to delete
    # ana's email exists with another (empty) username: a conflict, not a second account.
    assert [c[0] for c in todo["conflict"]] == ["ana"]
    assert todo["unchanged"] == []


def test_plan_of_what_exists_changes_nothing():
    existing = [{"email": "bo@school.example", "username": "bo", "name": "bo"}]
    todo = la.plan([wanted("bo")], existing, reset=[], remove=[], balance={})
    assert todo["create"] == todo["reset"] == todo["balance"] == todo["remove"] == []
    assert todo["unchanged"] == ["bo"]


FAKE = textwrap.dedent(
    r"""
    import os, sys, time
    def ask(question):
        # Node's readline per question: what arrived before the question is lost.
        time.sleep(0.2)
        os.set_blocking(0, False)
        try:
            os.read(0, 65536)
        except BlockingIOError:
            pass
        os.set_blocking(0, True)
        sys.stdout.write("\x1b[36m" + question + "\n> \x1b[0m"); sys.stdout.flush()
        line = b""
        while not line.endswith(b"\n"):
            byte = os.read(0, 1)
            if not byte:
                break
            line += byte
        return line.decode().strip()
    first = ask("Are you sure? (y/N)")
    second = ask("Password:")
    print("got", first, len(second))
    sys.exit(0 if first == "y" else 3)
    """
)


def test_dialog_answers_each_question_once_it_shows(tmp_path):
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    rc, out = la.dialog(
        [sys.executable, str(script)], [(la.ASKED, "y"), (la.ASKED, "s3cret-pw")], timeout=10
    )
    assert rc == 0 and "got y 9" in la.plain(out)


def test_dialog_gives_up_on_a_question_that_never_comes_and_blanks_secrets(tmp_path):
    script = tmp_path / "silent.py"
    script.write_text(
        "import time, sys\nprint('Error: s3cret-pw refused', flush=True)\ntime.sleep(30)\n"
    )
    with pytest.raises(la.ScriptError) as caught:
        la.dialog(
            [sys.executable, str(script)], [(la.ASKED, "x")], timeout=1, secrets=["s3cret-pw"]
        )
    assert "s3cret-pw" not in str(caught.value) and "********" in str(caught.value)


def test_script_argv_passes_arguments_after_the_double_dash():
    assert la.script("llm-librechat", "delete-user", "a@b.example") == [
        "docker", "exec", "-i", "llm-librechat", "npm", "run", "-s", "delete-user",
        "--", "a@b.example",
    ]  # fmt: skip


def test_a_settled_record_asks_nothing_and_a_failed_sync_writes_none(collections_dir, tmp_path):
    """The install's administrator: its record spares a re-run the question to LibreChat in
    the same module run (not even whether it runs); a sync that could not ask writes no
    record, so the next install asks again."""
    from tests.conftest import run_collection_module

    record = tmp_path / "admin-account"
    admin = [{"username": "admin", "email": "admin@lab.test", "name": "Administrator",
              "role": "teacher", "password": "x" * 20}]  # fmt: skip
    args = {"container": "llm-no-such-container", "action": "sync", "only_if_empty": True,
            "record": str(record), "accounts": admin}  # fmt: skip
    rc, result = run_collection_module(collections_dir, "librechat_accounts", **args)
    assert rc != 0 and "is not running here" in result["msg"], result
    assert not record.exists()
    record.write_text("admin@lab.test\n")
    rc, result = run_collection_module(collections_dir, "librechat_accounts", **args)
    assert rc == 0 and result["changed"] is False, result
    assert result["llm_report"] == {"created": [], "recorded": str(record)}
    assert "x" * 20 not in json.dumps(result)
