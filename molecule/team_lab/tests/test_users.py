"""`llm users`, end to end on the chat host (LibreChat's own account scripts in its
container, the stand-in's faithful versions): a class imported from a roster, a
student logs in, a second import changes nothing, a bad roster changes nothing and
names every problem, --prune asks and then removes, no password in any output,
runner artifact or debug bundle. The accounts are removed at the end (the lab as
found)."""

from __future__ import annotations

import json
import stat
import tarfile

import lab
import pytest
from lab import STACK, assert_a_second_import_changes_nothing, in_host, llm, roster_imported

ROSTER = (
    "\ufeffemail,name,username,password,tokens,role\r\n"
    "tess@school.example,Tess Teacher,tess,,,teacher\r\n"
    'ana@school.example,"Lima, Ana",ana,,20000,\r\n'
    "bo@school.example,Bo Brown,bo,,,\r\n"
    "cy@school.example,Cy Chen,cy,given-pass-77,,\r\n"
)


def login(email: str, password: str) -> int:
    """LibreChat's password log-in on the chat host (port 3090: molecule.yml). Its limiter
    allows 7 attempts in 5 minutes from one address: this file makes 5."""
    return lab.login("chat", email, password, port=3090)


def every_account() -> dict[str, int | None]:
    result = llm("users", "list", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return {a["username"]: a["balance"] for a in json.loads(result.stdout)["chat"]}


def listed() -> dict[str, int | None]:
    """The accounts but the administrator the install made (it stays)."""
    return {name: balance for name, balance in every_account().items() if name != "admin"}


def test_the_install_made_the_administrator_and_nobody_can_sign_up():
    """Sign-up is off by default (issue 18): LibreChat refuses it, and the one account
    before any import is the administrator the install made, whose first password is
    the stack secret (LibreChat made it first, so it is LibreChat's administrator)."""
    from cli import secretstore

    assert "admin" in every_account()
    password = secretstore.load(STACK / "secrets.yml")["librechat_admin_password"]
    assert login("admin@llm-stack.local", password) == 200
    signup = in_host(
        "chat", "curl", "-s", "-w", " %{http_code}", "-H", "Content-Type: application/json",
        "-d", '{"email": "x@y.example", "password": "x"}',
        "http://127.0.0.1:3090/api/auth/register", check=True,
    ).stdout  # fmt: skip
    assert signup == "Registration is not allowed. 403", signup
    # Its record is a local fact (0600), so a re-run knows from its facts that nothing is to
    # ask LibreChat: the email of the account made, not its password.
    record = "/etc/ansible/facts.d/llm_librechat_admin.fact"
    mode = lab.in_host("chat", "stat", "-c", "%a", record)
    assert mode.stdout.strip() == "600", mode.stdout + mode.stderr
    made = lab.in_host("chat", "cat", record).stdout
    assert json.loads(made) == {"made": ["admin@llm-stack.local"]}, made


def passwords() -> list[str]:
    from cli import accounts

    return [a.password for a in accounts.load(STACK / "accounts.yml").values()]


def artifacts_text() -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in (STACK / "runs" / "artifacts").rglob("*")
        if p.is_file()
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    with roster_imported(tmp_path_factory.mktemp("class"), ROSTER, lambda: list(listed())) as done:
        yield done


def test_import_makes_the_class_teacher_first_with_a_private_handout(imported):
    _, handout, result = imported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chat: 4 created" in result.stdout
    secrets = passwords()
    assert len(secrets) == 4 and "given-pass-77" in secrets
    assert not any(s in result.stdout + result.stderr for s in secrets)
    assert stat.S_IMODE(handout.stat().st_mode) == 0o600
    slips = handout.read_text()
    assert all(s in slips for s in secrets) and "Lima, Ana" in slips
    # Balances: the start balance for everyone, the roster's allowance for ana.
    balances = listed()
    assert sorted(balances) == ["ana", "bo", "cy", "tess"]
    assert balances["ana"] == 20000 and balances["bo"] == balances["tess"] != 20000
    assert login("cy@school.example", "given-pass-77") == 200
    assert login("cy@school.example", "not-the-password") != 200


def test_a_second_import_changes_nothing(imported):
    roster, _, _ = imported
    assert_a_second_import_changes_nothing(roster)


def test_a_bad_roster_lists_every_problem_and_changes_nothing(imported, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,name,username,host\ndee@school,Dee,d,gpu-01\neve@school.example,Ev,eve,\n",
        encoding="utf-8",
    )
    before = listed()
    result = llm("users", "import", str(bad))
    assert result.returncode == 2
    for expected in ("line 2", "line 3", "gpu-01"):
        assert expected in result.stderr, result.stderr
    assert listed() == before


def test_prune_asks_then_removes_the_student_gone_from_the_roster(imported, tmp_path):
    roster, _, _ = imported
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("\n".join(roster.read_text(encoding="utf-8-sig").splitlines()[:4]) + "\n")
    refused = llm("users", "import", str(smaller), "--prune")
    assert refused.returncode == 2 and "cy" in refused.stderr and "--yes" in refused.stderr
    assert "cy" in listed()
    pruned = llm("users", "import", str(smaller), "--prune", "--yes")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert "chat: 0 created, 0 updated, 1 removed, 3 unchanged" in pruned.stdout
    assert sorted(listed()) == ["ana", "bo", "tess"]


def test_reset_password_then_no_password_anywhere(imported, tmp_path):
    from cli import accounts

    old = accounts.load(STACK / "accounts.yml")["bo"].password
    slip = tmp_path / "bo.txt"
    result = llm("users", "reset-password", "bo", "--handout", str(slip))
    assert result.returncode == 0, result.stdout + result.stderr
    new = accounts.load(STACK / "accounts.yml")["bo"].password
    assert new != old and login("bo@school.example", old) != 200
    assert new in slip.read_text() and new not in result.stdout + result.stderr
    assert login("bo@school.example", new) == 200
    # Nothing in the runner's artifacts or a debug bundle (llm debug refuses to keep
    # an archive holding one; the check here is independent of that one).
    secrets = passwords()
    text = artifacts_text()
    assert not any(s in text for s in secrets)
    bundle = llm("debug", "--limit", "chat", "-o", str(tmp_path))
    assert bundle.returncode == 0, bundle.stdout + bundle.stderr
    archive = next(tmp_path.glob("llm-debug-*.tar.gz"))
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            content = handle.read().decode(errors="replace") if handle else ""
            assert not any(s in content for s in secrets), member.name
