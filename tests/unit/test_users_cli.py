"""`llm users`, without a lab: a bad roster changes nothing, the playbook gets the
passwords only through a 0600 file it deletes, the handout is 0600 and no password
reaches the terminal; a second import of the same roster plans nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import accounts
from cli.main import llm


def run(*args: str, **kwargs):
    return CliRunner().invoke(llm, list(args), **kwargs)


@pytest.fixture
def stack(tmp_path):
    path = tmp_path / "stack"
    assert run("init", "--dir", str(path)).exit_code == 0
    (path / "inventory.ini").write_text("[llm_ollama]\npc-01\npc-02\n[llm_chat]\npc-01\npc-02\n")
    return path


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(
        "email,name,username,password,tokens,role\n"
        "teacher@school.example,Tess Teacher,tess,,,teacher\n"
        "ana@school.example,Ana Lima,ana,,20000,\n"
        'bo@school.example,"Bo Brown, Jr.",bo,correct-horse-1,,\n',
        encoding="utf-8",
    )
    return path


class FakePlaybook:
    """Stands in for runner.run: records what the playbook was given and answers
    with the reports the librechat role would set."""

    def __init__(self, monkeypatch, created_by_host=None, code=0):
        from cli import runner as runner_module

        self.jobs, self.files, self.code = [], [], code
        self.created_by_host = created_by_host
        monkeypatch.setattr(runner_module, "run", self)

    def __call__(self, stack, job, display):
        self.jobs.append(job)
        path = Path(job.extra_vars["llm_users_file"])
        self.files.append((stat.S_IMODE(path.stat().st_mode), yaml.safe_load(path.read_text())))
        data = self.files[-1][1]
        for host in ("pc-01", "pc-02"):
            made = [a["username"] for a in data["llm_users_accounts"]]
            if self.created_by_host is not None:
                made = self.created_by_host.get(host, [])
            display.state.host(host).report = {
                "created": made if job.extra_vars["llm_users_action"] == "sync" else [],
                "updated": data["llm_users_reset"],
                "removed": data["llm_users_remove"],
                "unchanged": [],
                "url": f"http://{host}.school.lan:3080",
            }
        return self.code


def test_import_makes_accounts_with_a_0600_handout_and_no_password_in_the_output(
    stack, roster, monkeypatch
):
    fake = FakePlaybook(monkeypatch)
    handout = stack / "slips.txt"
    result = run("users", "import", str(roster), "--handout", str(handout), "--dir", str(stack))
    assert result.exit_code == 0, result.output
    stored = accounts.load(stack / "accounts.yml")
    assert sorted(stored) == ["ana", "bo", "tess"]
    assert stored["bo"].password == "correct-horse-1" and not stored["bo"].generated
    assert stored["ana"].generated and len(stored["ana"].password) >= 8
    assert stat.S_IMODE((stack / "accounts.yml").stat().st_mode) == 0o600
    for account in stored.values():
        assert account.password not in result.output
    # The playbook read the passwords from a 0600 file, teacher first, and it is gone.
    mode, data = fake.files[0]
    assert mode == 0o600
    assert data["llm_users_accounts"][0]["username"] == "tess"
    assert not Path(fake.jobs[0].extra_vars["llm_users_file"]).exists()
    assert not any(a.password in str(fake.jobs[0].extra_vars) for a in stored.values())
    assert data["llm_users_balance"] == {"ana": 20000}
    # The handout has every slip, 0600, and so has its HTML twin.
    text = handout.read_text()
    assert all(a.password in text for a in stored.values())
    assert stat.S_IMODE(handout.stat().st_mode) == 0o600
    assert stat.S_IMODE(handout.with_suffix(".html").stat().st_mode) == 0o600
    assert "the chat on any classroom PC, e.g. http://pc-01.school.lan:3080" in text
    assert "3 created" in result.output


def test_a_second_import_generates_nothing_and_writes_no_handout(stack, roster, monkeypatch):
    FakePlaybook(monkeypatch)
    assert run("users", "import", str(roster), "--dir", str(stack)).exit_code == 0
    first = accounts.load(stack / "accounts.yml")
    fake = FakePlaybook(monkeypatch, created_by_host={})
    again = run("users", "import", str(roster), "--dir", str(stack))
    assert again.exit_code == 0, again.output
    assert accounts.load(stack / "accounts.yml") == first  # same passwords
    assert fake.files[0][1]["llm_users_balance"] == {}  # nothing new to fund
    assert "handout" not in again.output
    assert "accounts changed: 0" in again.output


def test_accounts_a_failed_run_left_unmade_get_their_slips_next_time(stack, roster, monkeypatch):
    FakePlaybook(monkeypatch, created_by_host={}, code=1)  # nothing made: the run failed
    failed = run("users", "import", str(roster), "--dir", str(stack))
    assert failed.exit_code == 1 and "handout" not in failed.output
    recorded = accounts.load(stack / "accounts.yml")  # kept, so the passwords stay the same
    FakePlaybook(monkeypatch, created_by_host={"pc-01": ["ana", "bo", "tess"]})
    handout = stack / "slips.txt"
    again = run("users", "import", str(roster), "--handout", str(handout), "--dir", str(stack))
    assert again.exit_code == 0, again.output
    assert accounts.load(stack / "accounts.yml") == recorded
    assert all(a.password in handout.read_text() for a in recorded.values())


def test_a_bad_roster_lists_every_problem_and_changes_nothing(stack, tmp_path, monkeypatch):
    fake = FakePlaybook(monkeypatch)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\ufeffemail,name,username,password,host\n"
        "not-an-email,Al,a b c,short,pc-09\n"
        "ok@school.example,Okay Person,okay,,\n"
        "ok@school.example,Okay Again,okay,,\n",
        encoding="utf-8",
    )
    result = run("users", "import", str(bad), "--dir", str(stack))
    assert result.exit_code == 2
    for expected in ("line 2", "line 4", "pc-09", "short"):
        assert expected in result.output
    assert fake.jobs == [] and not (stack / "accounts.yml").exists()


def test_a_changed_row_updates_that_account_and_an_email_change_is_refused(
    stack, roster, monkeypatch
):
    FakePlaybook(monkeypatch)
    assert run("users", "import", str(roster), "--dir", str(stack)).exit_code == 0
    record = stack / "accounts.yml"
    before = accounts.load(record)
    changed = roster.parent / "changed.csv"
    changed.write_text(roster.read_text().replace("Ana Lima,ana,,20000", "Ana Silva,ana,,30000"))
    fake = FakePlaybook(monkeypatch, created_by_host={})
    updated = run("users", "import", str(changed), "--dir", str(stack))
    assert updated.exit_code == 0, updated.output
    assert fake.files[0][1]["llm_users_balance"] == {"ana": 30000}  # the new allowance only
    assert "note: ana" in updated.output and "name" in updated.output
    after = accounts.load(record)
    assert after["ana"].name == "Ana Silva" and after["ana"].password == before["ana"].password
    assert {n: a for n, a in after.items() if n != "ana"} == {
        n: a for n, a in before.items() if n != "ana"
    }

    # LibreChat's scripts find an account by its email and cannot change it: refused
    # before anything runs (it used to be recorded, then a conflict on every host).
    kept = record.read_bytes()
    moved = roster.parent / "moved.csv"
    moved.write_text(changed.read_text().replace("ana@school.example", "ana@other.example"))
    fake = FakePlaybook(monkeypatch)
    refused = run("users", "import", str(moved), "--dir", str(stack))
    assert refused.exit_code == 2, refused.output
    assert "line 3: account 'ana' has the email 'ana@school.example'" in refused.output
    assert fake.jobs == [] and record.read_bytes() == kept


def test_prune_asks_first_and_without_an_answer_changes_nothing(stack, roster, monkeypatch):
    FakePlaybook(monkeypatch)
    assert run("users", "import", str(roster), "--dir", str(stack)).exit_code == 0
    smaller = roster.parent / "smaller.csv"
    smaller.write_text("\n".join(roster.read_text().splitlines()[:3]) + "\n")
    fake = FakePlaybook(monkeypatch, created_by_host={})
    refused = run("users", "import", str(smaller), "--prune", "--dir", str(stack))
    assert refused.exit_code == 2 and "--yes" in refused.output and "bo" in refused.output
    assert fake.jobs == [] and "bo" in accounts.load(stack / "accounts.yml")

    pruned = run("users", "import", str(smaller), "--prune", "--yes", "--dir", str(stack))
    assert pruned.exit_code == 0, pruned.output
    assert fake.files[0][1]["llm_users_remove"] == ["bo"]
    assert "bo" not in accounts.load(stack / "accounts.yml")


def test_check_mode_writes_nothing_on_the_controller(stack, roster, monkeypatch):
    fake = FakePlaybook(monkeypatch)
    result = run("users", "import", str(roster), "--check", "--dir", str(stack))
    assert result.exit_code == 0, result.output
    assert fake.jobs[0].check
    assert not (stack / "accounts.yml").exists() and not (stack / "handouts").exists()
    assert "would change" in result.output


def test_reset_password_makes_a_new_one_in_a_handout_only(stack, roster, monkeypatch):
    FakePlaybook(monkeypatch)
    assert run("users", "import", str(roster), "--dir", str(stack)).exit_code == 0
    old = accounts.load(stack / "accounts.yml")["ana"].password
    fake = FakePlaybook(monkeypatch, created_by_host={})
    handout = stack / "ana.txt"
    result = run("users", "reset-password", "ana", "--handout", str(handout), "--dir", str(stack))
    assert result.exit_code == 0, result.output
    new = accounts.load(stack / "accounts.yml")["ana"].password
    assert new != old and new not in result.output and new in handout.read_text()
    assert fake.files[0][1]["llm_users_reset"] == ["ana"]
    unknown = run("users", "reset-password", "zed", "--dir", str(stack))
    assert unknown.exit_code == 2 and "zed" in unknown.output


def test_remove_needs_yes_without_a_terminal(stack, monkeypatch):
    fake = FakePlaybook(monkeypatch)
    result = run("users", "remove", "ana", "--dir", str(stack))
    assert result.exit_code == 2 and "--yes" in result.output and fake.jobs == []


def test_no_chat_host_is_one_line(stack, roster, tmp_path):
    inventory = tmp_path / "gpu.ini"
    inventory.write_text("[llm_ollama]\ngpu-01\n")
    result = run("users", "import", str(roster), "-i", str(inventory), "--dir", str(stack))
    assert result.exit_code == 2 and "no chat host" in result.output
