"""The roster reader: LibreChat's registration rules, every problem at once, with line numbers."""

from __future__ import annotations

import pytest

from cli.errors import EXIT_USAGE, LlmError
from cli.roster import Account, RosterError, read_roster

HOSTS = ("chat-1", "chat-2")
HEADER = "email,name,username,password,tokens,host,role\n"


def write(tmp_path, text: str, name: str = "roster.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def problems(tmp_path, text: str, **kwargs) -> list[str]:
    with pytest.raises(RosterError) as caught:
        read_roster(write(tmp_path, text), HOSTS, **kwargs)
    assert caught.value.exit_code == EXIT_USAGE
    assert isinstance(caught.value, LlmError)
    # The message lists exactly the problems, each on its own line.
    assert str(caught.value).count("\n") >= len(caught.value.problems)
    for line in caught.value.problems:
        assert line in str(caught.value)
    return caught.value.problems


def test_a_good_roster(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "t@school.example,Ms Teacher,teach,,,,teacher\n"
        + "alice@school.example,Alice Martin,Alice,s3cret-pass,50000,chat-1,\n"
        + "bob@school.example,Bob Stone,bob,,,,student\n",
    )
    accounts = read_roster(path, HOSTS)
    assert accounts == [
        Account(2, "t@school.example", "Ms Teacher", "teach", None, None, None, "teacher"),
        Account(3, "alice@school.example", "Alice Martin", "alice", "s3cret-pass", 50000, "chat-1"),
        Account(4, "bob@school.example", "Bob Stone", "bob", None, None, None, "student"),
    ]
    assert accounts[1].role == "student"


def test_only_the_required_columns_in_any_case_and_spacing(tmp_path):
    path = write(tmp_path, " Username , EMAIL,Name \nalice , alice@x.example ,  Alice M \n")
    [account] = read_roster(path, HOSTS)
    assert (account.username, account.email, account.name) == (
        "alice",
        "alice@x.example",
        "Alice M",
    )
    assert (account.password, account.tokens, account.host, account.role) == (
        None,
        None,
        None,
        "student",
    )


def test_bom_crlf_quotes_and_a_multiline_field_keep_line_numbers(tmp_path):
    text = (
        "\ufeffemail,name,username,password\r\n"
        '"a@x.example","Martin, Alice ""Al""",alice,\r\n'
        "\r\n"
        '"b@x.example","Bob\r\nStone",bob,\r\n'
        "c@x.example,Cy,c d e f,\r\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(RosterError) as caught:
        read_roster(path, HOSTS)
    # line 1 header, 2 alice, 3 blank, 4-5 bob (two physical lines), 6 the bad row
    assert caught.value.problems == [
        "roster.csv line 6: name 'Cy' must be 3 to 80 characters long (LibreChat's rule)"
    ]
    path = write(tmp_path, text.replace("Cy,", "Cyd,"))
    accounts = read_roster(path, HOSTS)
    assert [a.line for a in accounts] == [2, 4, 6]
    assert accounts[0].name == 'Martin, Alice "Al"'
    assert accounts[1].name == "Bob\r\nStone"
    assert accounts[2].username == "c d e f"  # spaces are Script=Common: LibreChat takes them


def test_a_bom_alone_is_not_a_column_name(tmp_path):
    path = write(tmp_path, "email,name,username\na@x.example,Alice,alice\n", encoding="utf-8-sig")
    assert read_roster(path, HOSTS)[0].email == "a@x.example"


def test_every_problem_at_once_in_line_order(tmp_path):
    text = (
        HEADER
        + "not-an-email,Al,a,short,1000,chat-1,student\n"  # 2
        + "b@x.example,Bob Stone,b/c,,1,000,chat-9,\n"  # 3: the comma makes 8 fields
        + 'c@x.example,Cy Young,cy,,"1,000",chat-9,boss\n'  # 4
        + ",,,,,,\n"  # 5: an empty spreadsheet row is skipped
        + "C@X.example,Cy Again,CY,,,,\n"  # 6
        + "d@x.example,,,,,,\n"  # 7
        + "e@x.example,Eve Adams,eve,,,,teacher\n"  # 8
        + "f@x.example,Fay Adams,fay,,,,Teacher\n"  # 9
    )
    assert problems(tmp_path, text) == [
        "roster.csv line 2: email 'not-an-email' is not a valid address "
        "(like alice@school.example)",
        "roster.csv line 2: name 'Al' must be 3 to 80 characters long (LibreChat's rule)",
        "roster.csv line 2: username 'a' must be 2 to 80 characters long",
        "roster.csv line 2: password is too short: 5 characters, LibreChat needs at least 8",
        "roster.csv line 3: 8 fields but the header has 7 columns "
        "(quote a value that contains a comma)",
        "roster.csv line 4: tokens '1,000' must be a whole number written with digits only, "
        "no separators or units (e.g. 50000)",
        "roster.csv line 4: host 'chat-9' is not a chat host in the inventory "
        "(chat hosts: chat-1, chat-2)",
        "roster.csv line 4: role 'boss' must be student or teacher",
        "roster.csv line 6: email 'C@X.example' is also on line 4",
        "roster.csv line 6: username 'CY' is also on line 4 (LibreChat stores usernames lowercase)",
        "roster.csv line 7: name is empty",
        "roster.csv line 7: username is empty",
        "roster.csv line 9: more than one teacher (lines 8, 9): a roster has at most one "
        "teacher, the account LibreChat makes its administrator",
    ]


@pytest.mark.parametrize(
    ("username", "fragment"),
    [
        ("a", "must be 2 to 80 characters long"),
        ("a" * 81, "must be 2 to 80 characters long"),
        ("o'neil", 'contains "\'"'),
        ("a--b", "contains '--'"),
        ("x$NEx", "contains '$NE'"),
        ("a{b}", "contains '{'"),
        ("a*b", "contains '*'"),
        ("a;b", "contains ';'"),
        ("a<b", "contains '<'"),
        ("a/b", "contains '/'"),
        ("a=b", "contains '='"),
        ("ab\u0e01", "has characters LibreChat refuses: \u0e01"),  # Thai: not a listed script
        ("e\u0301cole", "has characters LibreChat refuses"),  # combining mark: Script=Inherited
    ],
)
def test_usernames_librechat_refuses(tmp_path, username, fragment):
    [message] = problems(tmp_path, f'email,name,username\na@x.example,Alice,"{username}"\n')
    assert message.startswith("roster.csv line 2: username ")
    assert fragment in message


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 80, "jöhn.döe", "Jéan-Piérre", "łódź", "иван", "राम", "李雷", "すずき", "カタ",
     "김철수", "مريم", "a_b.c@d#e$f%g&h(i)", "a-b", "a b", "école"],
)  # fmt: skip
def test_usernames_librechat_accepts(tmp_path, username):
    path = write(tmp_path, f'email,name,username\na@x.example,Alice,"{username}"\n')
    assert read_roster(path, HOSTS)[0].username == username.lower()


def test_lengths_are_javascript_lengths(tmp_path):
    # An emoji is two UTF-16 code units for zod: 40 of them are 80, 41 are 82.
    ok = write(tmp_path, "email,name,username\na@x.example," + "😀" * 40 + ",alice\n")
    assert read_roster(ok, HOSTS)
    [message] = problems(tmp_path, "email,name,username\na@x.example," + "😀" * 41 + ",alice\n")
    assert "must be 3 to 80 characters" in message


@pytest.mark.parametrize(
    "email",
    ["plain", "a@b", "a@b.c", ".a@b.example", "a..b@x.example", "a@-x.example", "a b@x.example",
     "a@x_y.example"],
)  # fmt: skip
def test_malformed_emails(tmp_path, email):
    [message] = problems(tmp_path, f'email,name,username\n"{email}",Alice,alice\n')
    assert "is not a valid address" in message


def test_password_rules_and_the_configured_minimum(tmp_path):
    row = "email,name,username,password\na@x.example,Alice,alice,{}\n"
    assert read_roster(write(tmp_path, row.format("12345678")), HOSTS)[0].password == "12345678"
    [message] = problems(tmp_path, row.format("12345678"), min_password_length=10)
    assert message == (
        "roster.csv line 2: password is too short: 8 characters, LibreChat needs at least 10"
    )
    [message] = problems(tmp_path, row.format("x" * 129))
    assert "too long: 129 characters, LibreChat allows 128" in message
    # The password itself never appears in a problem.
    assert "xxxxxxxx" not in message


def test_tokens_digits_only(tmp_path):
    row = "email,name,username,tokens\na@x.example,Alice,alice,{}\n"
    assert read_roster(write(tmp_path, row.format("0")), HOSTS)[0].tokens == 0
    assert read_roster(write(tmp_path, row.format(" 2500 ")), HOSTS)[0].tokens == 2500
    for bad in ("-5", "1.5", "1e3", "10k", "\uff11\uff10"):
        [message] = problems(tmp_path, row.format(bad))
        assert "digits only" in message, bad


def test_host_must_be_a_chat_host(tmp_path):
    row = "email,name,username,host\na@x.example,Alice,alice,chat-3\n"
    with pytest.raises(RosterError) as caught:
        read_roster(write(tmp_path, row), [])
    assert caught.value.problems == [
        "roster.csv line 2: host 'chat-3' is not a chat host in the inventory (chat hosts: none)"
    ]
    assert read_roster(write(tmp_path, row), ["chat-3"])[0].host == "chat-3"


def test_header_problems(tmp_path):
    assert problems(tmp_path, "email,name,user,phone\na@x.example,Alice,alice,1\n") == [
        "roster.csv line 1: unknown column 'user' (columns: email, name, username, password, "
        "tokens, host, role)",
        "roster.csv line 1: unknown column 'phone' (columns: email, name, username, password, "
        "tokens, host, role)",
        "roster.csv line 1: missing column username; the first row must be the header (a roster "
        "is a CSV file with a header row: email,name,username and optionally "
        "password,tokens,host,role)",
    ]
    assert problems(tmp_path, "email,name,username,Email\na@x.example,Alice,alice,b\n") == [
        "roster.csv line 1: column 'email' appears twice in the header"
    ]
    # No header at all: the first row is taken as one and its "columns" are unknown.
    found = problems(tmp_path, "a@x.example,Alice,alice\n")
    assert found[-1].startswith("roster.csv line 1: missing columns email, name, username")


def test_unknown_columns_still_let_rows_be_checked(tmp_path):
    found = problems(tmp_path, "email,name,username,class\na@x.example,Al,alice,5b\n")
    assert [p.split(":")[0] for p in found] == ["roster.csv line 1", "roster.csv line 2"]


def test_empty_and_header_only_files(tmp_path):
    assert problems(tmp_path, "")[0].startswith("roster.csv: the file is empty")
    assert problems(tmp_path, "\n\n")[0].startswith("roster.csv: the file is empty")
    assert problems(tmp_path, "email,name,username\n") == [
        "roster.csv line 1: the roster has a header but no accounts"
    ]


def test_a_file_that_is_not_utf8(tmp_path):
    path = write(tmp_path, "email,name,username\na@x.example,Zoë Roux,zoe\n", encoding="latin-1")
    with pytest.raises(RosterError) as caught:
        read_roster(path, HOSTS)
    [message] = caught.value.problems
    assert message.startswith("roster.csv line 2: the file is not UTF-8 text (byte 0xeb)")
    assert "CSV UTF-8" in message


def test_a_spreadsheet_file_is_not_csv(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x9c\xff")
    with pytest.raises(RosterError) as caught:
        read_roster(path, HOSTS)
    assert len(caught.value.problems) == 1
    assert "not UTF-8" in caught.value.problems[0]
    assert ".xlsx is not CSV" in caught.value.problems[0]


def test_broken_quoting_is_one_clear_problem(tmp_path):
    found = problems(tmp_path, 'email,name,username\na@x.example,"Alice" M,alice\n')
    assert len(found) == 1
    assert found[0].startswith("roster.csv line 2: not readable as CSV")


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(LlmError) as caught:
        read_roster(tmp_path / "nope.csv", HOSTS)
    assert not isinstance(caught.value, RosterError)
    assert "roster" in str(caught.value)
    assert "not found" in str(caught.value)
    assert "header row" in str(caught.value)
    with pytest.raises(LlmError, match="is a directory"):
        read_roster(tmp_path, HOSTS)


def test_repr_of_an_account_hides_the_password(tmp_path):
    path = write(tmp_path, "email,name,username,password\na@x.example,Alice,alice,Sup3rSecret!\n")
    [account] = read_roster(path, HOSTS)
    assert account.password == "Sup3rSecret!"
    assert "Sup3rSecret!" not in repr(account)
    assert "Sup3rSecret!" not in str(account)
