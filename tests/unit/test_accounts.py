"""The accounts record, the import plan, generated passwords and the printed handout."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace

import pytest

from cli import accounts, handout, passwords
from cli.accounts import ImportPlan, StoredAccount, apply, plan
from cli.errors import LlmError
from cli.handout import Slip, write_handout
from cli.roster import Account, password_problem, read_roster

HOSTS = ("chat-1", "chat-2")


def roster(tmp_path, rows: str):
    path = tmp_path / "roster.csv"
    path.write_text("email,name,username,password,tokens,host,role\n" + rows, encoding="utf-8")
    return read_roster(path, HOSTS)


CLASS = (
    "alice@x.example,Alice Martin,alice,,,,\n"
    "bob@x.example,Bob Stone,bob,given-pass-1,5000,chat-1,\n"
    "t@x.example,Ms Teacher,teach,,,,teacher\n"
)


@pytest.fixture
def umask0():
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- passwords -------------------------------------------------------------------------------


def test_alphabet_has_no_look_alikes():
    assert len(set(passwords.ALPHABET)) == len(passwords.ALPHABET) == 23
    # 6 and 9 stay: b, G, g and q, their look-alikes, are out.
    for confusable in "0Oo1lIi2Zz5Ss8BbgqG":
        assert confusable not in passwords.ALPHABET, confusable
    assert passwords.ALPHABET.islower()


def test_easy_password_shape_and_librechat_rules():
    for length in (8, 12, 13, 16):
        password = passwords.easy_password(length)
        symbols = password.replace("-", "")
        assert len(symbols) == length
        assert set(symbols) <= set(passwords.ALPHABET)
        assert re.fullmatch(r"[^-]{4}(-[^-]{4})*(-[^-]{1,3})?", password), password
        assert password_problem(password, min_length=length) is None
    assert re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", passwords.easy_password())


def test_easy_passwords_are_all_different_and_use_every_symbol():
    drawn = [passwords.easy_password() for _ in range(2000)]
    assert len(set(drawn)) == len(drawn)
    # 24000 symbols from 23: each appears (a fixed or short-cycled source would not).
    seen = set("".join(drawn).replace("-", ""))
    assert seen == set(passwords.ALPHABET)


def test_easy_password_draws_from_secrets(monkeypatch):
    calls = []

    def choice(seq):
        calls.append(seq)
        return seq[0]

    monkeypatch.setattr(passwords.secrets, "choice", choice)
    assert passwords.easy_password(8) == "aaaa-aaaa"
    assert calls == [passwords.ALPHABET] * 8


# --- plan ------------------------------------------------------------------------------------


def test_first_import_creates_everyone_teacher_first(tmp_path):
    result = plan(roster(tmp_path, CLASS), {}, prune=False)
    assert [p.username for p in result.create] == ["teach", "alice", "bob"]
    assert (result.update, result.unchanged, result.remove) == ((), (), ())
    made = {p.username: p.account for p in result.create}
    assert made["bob"].password == "given-pass-1"
    assert not made["bob"].generated
    assert made["alice"].generated
    assert made["teach"].generated
    assert made["alice"].password != made["teach"].password
    assert password_problem(made["alice"].password) is None
    assert (made["bob"].tokens, made["bob"].host, made["teach"].role) == (5000, "chat-1", "teacher")
    assert result.changes == 3


def test_generated_passwords_honour_a_larger_minimum(tmp_path):
    result = plan(roster(tmp_path, CLASS), {}, prune=False, min_password_length=20)
    alice = next(p.account for p in result.create if p.username == "alice")
    assert len(alice.password.replace("-", "")) == 20


def test_second_import_changes_nothing_and_generates_nothing(tmp_path):
    rows = roster(tmp_path, CLASS)
    state = apply(plan(rows, {}, prune=False), {})
    path = tmp_path / "accounts.yml"
    accounts.save(path, state)
    loaded = accounts.load(path)
    assert loaded == state
    again = plan(rows, loaded, prune=True)
    assert (again.create, again.update, again.remove) == ((), (), ())
    assert sorted(again.unchanged) == ["alice", "bob", "teach"]
    assert again.changes == 0
    assert apply(again, loaded) == loaded  # the generated passwords are kept


def test_a_changed_row_is_an_update_naming_its_fields(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    changed = CLASS.replace("Alice Martin,alice,,,,", "Alice Durand,alice,,900,chat-2,").replace(
        "given-pass-1,5000", "other-pass-2,5000"
    )
    result = plan(roster(tmp_path, changed), state, prune=False)
    assert result.create == ()
    by_name = {p.username: p for p in result.update}
    assert by_name["alice"].changed == ("name", "host", "tokens")
    assert by_name["alice"].account.password == state["alice"].password  # not regenerated
    assert by_name["alice"].account.generated
    assert by_name["alice"].previous == state["alice"]
    assert by_name["bob"].changed == ("password",)
    assert by_name["bob"].account.password == "other-pass-2"
    assert result.unchanged == ("teach",)
    new_state = apply(result, state)
    assert new_state["alice"].name == "Alice Durand"
    assert plan(roster(tmp_path, changed), new_state, prune=False).changes == 0


def test_email_role_and_case(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    # The same address in other case is no change (LibreChat stores it lowercase) ...
    same = plan(roster(tmp_path, CLASS.replace("alice@x.example", "Alice@X.example")), state,
                prune=False)  # fmt: skip
    assert same.update == ()
    # ... a role is a change ...
    demoted = CLASS.replace(
        "t@x.example,Ms Teacher,teach,,,,teacher", "t@x.example,Ms Teacher,teach,,,,student"
    )
    result = plan(roster(tmp_path, demoted), state, prune=False)
    assert {p.username: p.changed for p in result.update} == {"teach": ("role",)}
    # ... and another address is refused: the hosts know the account by its email, and
    # LibreChat's scripts cannot change it (it was a conflict on every later import).
    moved = CLASS.replace("alice@x.example", "alice@y.example")
    with pytest.raises(LlmError) as caught:
        plan(roster(tmp_path, moved), state, prune=False)
    assert (
        "line 2: account 'alice' has the email 'alice@x.example'; LibreChat's scripts cannot "
        "change it to 'alice@y.example'" in str(caught.value)
    )
    assert "llm users remove" in caught.value.hint


def test_a_row_giving_the_stored_password_is_no_change(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    alice_pw = state["alice"].password
    rows = CLASS.replace("Alice Martin,alice,,", f"Alice Martin,alice,{alice_pw},")
    assert plan(roster(tmp_path, rows), state, prune=False).changes == 0


def test_prune_removes_accounts_not_in_the_roster(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    fewer = "".join(line + "\n" for line in CLASS.splitlines() if not line.startswith("bob"))
    kept = plan(roster(tmp_path, fewer), state, prune=False)
    assert [a.username for a in kept.remove] == ["bob"]
    assert kept.changes == 0
    assert "bob" in apply(kept, state)
    pruned = plan(roster(tmp_path, fewer), state, prune=True)
    assert [a.username for a in pruned.remove] == ["bob"]
    assert pruned.changes == 1
    after = apply(pruned, state)
    assert sorted(after) == ["alice", "teach"]
    assert plan(roster(tmp_path, fewer), after, prune=True).changes == 0


def test_a_new_username_for_an_existing_email_is_refused(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    renamed = CLASS.replace("Alice Martin,alice,", "Alice Martin,amartin,")
    with pytest.raises(LlmError) as caught:
        plan(roster(tmp_path, renamed), state, prune=True)
    assert "line 2: email 'alice@x.example' belongs to the existing account 'alice'" in str(
        caught.value
    )
    assert "cannot be renamed" in str(caught.value)


def test_new_accounts_in_a_later_import(tmp_path):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    more = CLASS + "zoe@x.example,Zoë Roux,zoe,,,,\n"
    result = plan(roster(tmp_path, more), state, prune=False)
    assert [p.username for p in result.create] == ["zoe"]
    assert result.create[0].line == 5
    assert sorted(result.unchanged) == ["alice", "bob", "teach"]


# --- the record on disk ---------------------------------------------------------------------


def test_record_is_0600_under_umask_0_and_round_trips(tmp_path, umask0):
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    path = tmp_path / "accounts.yml"
    accounts.save(path, state)
    assert mode(path) == 0o600
    assert not list(tmp_path.glob(".accounts.yml.tmp"))
    path.chmod(0o644)
    accounts.save(path, state)  # replacing a too-open file narrows it
    assert mode(path) == 0o600
    assert accounts.load(path) == state
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# local-llm-stack: accounts")
    assert "alice:" in text
    assert "generated: true" in text


def test_an_encrypted_record_stays_encrypted(tmp_path, umask0, monkeypatch):
    secret = tmp_path / "vault-pass"
    secret.write_text("correct horse\n")
    monkeypatch.setenv("LLM_VAULT_PASSWORD_FILE", str(secret))
    state = apply(plan(roster(tmp_path, CLASS), {}, prune=False), {})
    path = tmp_path / "accounts.yml"
    accounts.save(path, state, encrypted=True)
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;")
    assert state["bob"].password.encode() not in path.read_bytes()
    assert accounts.load(path) == state
    accounts.save(path, state)  # a later save keeps it encrypted
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;")
    assert mode(path) == 0o600


def test_write_private_never_exists_wider_than_0600(tmp_path, umask0, monkeypatch):
    modes = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    from cli import secretstore  # the stack directory's one writer of private files

    monkeypatch.setattr(secretstore.os, "open", spy)
    secretstore.write_private(tmp_path / "f", b"x")
    assert modes == [0o600]


def test_absent_record_is_empty(tmp_path):
    assert accounts.load(tmp_path / "accounts.yml") == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("accounts: [1, 2]\n", "must map usernames"),
        (
            "accounts:\n  alice: {email: a@x.example, name: Alice}\n",
            "account 'alice': password must be a non-empty string",
        ),
        (
            "accounts: {alice: {email: a, name: b, password: c, tokens: 'x'}}\n",
            "tokens must be a whole number",
        ),
        ("{unclosed\n", "not valid YAML"),
    ],
    ids=["not-a-mapping", "no-password", "tokens-not-whole", "not-yaml"],
)
def test_a_broken_record_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "accounts.yml"
    path.write_text(content)
    with pytest.raises(LlmError, match=message):
        accounts.load(path)


def test_no_password_in_repr_or_str(tmp_path):
    result = plan(roster(tmp_path, CLASS), {}, prune=True)
    state = apply(result, {})
    secrets = [a.password for a in state.values()]
    updated = replace(state["bob"], name="Robert Stone")
    texts = [repr(result), str(result), repr(state), str(state), repr(updated)]
    texts += [repr(p) for p in result.create]
    slip = Slip("https://chat", "Bob", "bob", "bob@x.example", "given-pass-1")
    texts += [repr(slip), str(slip)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert "password" not in repr(state["alice"])


def test_plan_types():
    empty = plan([], {}, prune=False)
    assert isinstance(empty, ImportPlan)
    assert empty.changes == 0
    account = Account(2, "a@x.example", "Alice", "alice", None, None, None)
    stored = StoredAccount("alice", "a@x.example", "Alice", "student", None, None, "pw-12345", True)
    assert plan([account], {"alice": stored}, prune=False).unchanged == ("alice",)


# --- handout ---------------------------------------------------------------------------------


SLIPS = [
    Slip("https://chat-1.lab", "Ms Teacher", "teach", "t@x.example", "kmtr-7fqa-hx4p", "teacher"),
    Slip("https://chat-1.lab", "Alice <Martin>", "alice", "alice@x.example", "aaaa-cccc-dddd"),
    Slip("https://chat-2.lab", "Bob Stone", "bob", "bob@x.example", "given-pass-1"),
]


def test_handout_one_slip_each_with_cut_lines(tmp_path):
    path = write_handout(tmp_path / "handout.txt", SLIPS)
    assert path == tmp_path / "handout.txt"
    text = path.read_text(encoding="utf-8")
    assert text.count(handout.CUT) == len(SLIPS) + 1
    slips = text.split(handout.CUT + "\n")[1:-1]
    assert len(slips) == 3
    for slip, printed in zip(SLIPS, slips, strict=True):
        for value in (slip.url, slip.name, slip.username, slip.email, slip.password):
            assert value in printed
    assert "Role:" in slips[0]
    assert "Role:" not in slips[1]
    page = (tmp_path / "handout.html").read_text(encoding="utf-8")
    assert page.count('class="slip"') == 3
    assert "Alice &lt;Martin&gt;" in page
    assert "<Martin>" not in page
    assert "given-pass-1" in page


def test_handout_files_are_0600_and_replace_an_older_one(tmp_path, umask0):
    path = tmp_path / "handout.txt"
    path.write_text("old handout\n")
    path.chmod(0o644)
    write_handout(path, SLIPS[:1])
    assert mode(path) == 0o600
    assert mode(tmp_path / "handout.html") == 0o600
    assert "old handout" not in path.read_text()
    assert "teach" in path.read_text()
