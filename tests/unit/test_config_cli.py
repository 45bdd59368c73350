"""`llm config`: typed settings from the roles' argument specs, comments kept, secrets hidden."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def llm(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def stack(tmp_path):
    target = tmp_path / "stack"
    assert llm("init", "--dir", str(target)).returncode == 0
    return target


@pytest.fixture
def nowhere(tmp_path):
    """An inventory whose one host cannot be reached (TEST-NET-1, RFC 5737): a purge that
    got past the checks must fail there, never act on this machine (issue 17's test on
    the old code ran it against localhost as root, and deleted /etc)."""
    path = tmp_path / "nowhere.ini"
    path.write_text(
        "[llm_ollama]\nghost ansible_host=192.0.2.1 ansible_connection=ssh"
        " ansible_ssh_common_args='-o ConnectTimeout=1'\n[llm_chat]\nghost\n"
    )
    return str(path)


def test_set_keeps_comments_and_other_settings(stack):
    before = (stack / "config.yml").read_text()
    result = llm("config", "set", "ollama_models", "[llama3.2, 'qwen2.5:7b']", "--dir", str(stack))
    assert result.returncode == 0, result.stderr
    after = (stack / "config.yml").read_text()
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")
    ]
    data = yaml.safe_load(after)
    assert data["ollama_models"] == ["llama3.2", "qwen2.5:7b"]
    assert data["librechat_allow_registration"] is False
    assert llm("config", "set", "ollama_port", "11500", "--dir", str(stack)).returncode == 0
    assert yaml.safe_load((stack / "config.yml").read_text())["ollama_port"] == 11500
    assert llm("config", "get", "ollama_port", "--dir", str(stack)).stdout.strip() == "11500"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ollama_prot", "8080", "unknown setting 'ollama_prot': did you mean ollama_port?"),
        ("ollama_port", "99999", "ollama_port: 99999 is not a port number (1-65535)"),
        ("ollama_port", "abc", 'ollama_port: "abc" is not an integer'),
        ("librechat_allow_registration", "maybe", '"maybe" is not a boolean (true or false)'),
        ("preflight_gpu_vendor", "intel", '"intel" is not one of auto, nvidia, amd, none'),
        # Each of these was stored, and every later command failed on it (issue 17).
        ("llm_forks", "true", "llm_forks: true is not an integer"),
        ("librechat_port", "true", "librechat_port: true is not an integer"),
        ("ollama_pull_timeout", "false", "ollama_pull_timeout: false is not an integer"),
        ("llm_registry", "{a: b}", 'llm_registry: {"a": "b"} is not a string'),
        ("ollama_models", "42", "ollama_models: 42 is not a list"),
        (
            "ollama_models",
            '[../../etc/passwd, "$(id)"]',
            'ollama_models: "../../etc/passwd" is not a valid Ollama model name',
        ),
        ("ollama_models", "[llama3.2, 7]", "ollama_models: item 7 is not a string"),
        # The purge deleted these (issue 17): a directory setting is absolute and no system one.
        ("llm_stack_root", "/", 'llm_stack_root: "/" is a system directory'),
        ("llm_stack_root", "opt/llm", 'llm_stack_root: "opt/llm" is not an absolute path'),
        ("ollama_dir", "/etc", 'ollama_dir: "/etc" is a system directory'),
        ("mongodb_data_dir", "/var/lib/../..", "goes up with '..'"),
        # What would harm a host or break every later command.
        ("ollama_dir", "/etc/ssh", 'ollama_dir: "/etc/ssh" is in /etc, the system\'s own'),
        ("librechat_dir", "/home/alice", "is a user's home directory"),
        ("mongodb_data_dir", "/var/lib/docker/volumes", "is in /var/lib/docker"),
        ("ollama_pull_timeout", "0", "is not a number of seconds"),
        ("llm_registry", "reg istry:5000/../x", "is not a registry address"),
        ("llm_forks", "{{ 0 }}", "llm reads it itself, not Ansible"),
        # Integers are decimal (YAML 1.1 reads these as 80, 10 and 80).
        ("librechat_port", "0x50", "is not an integer"),
        ("librechat_port", "0b1010", "is not an integer"),
        ("librechat_port", "1:20", "is not an integer"),
        ("mongodb_root_password", "hunter2", "mongodb_root_password is a secret"),
        # Issue 18's settings, checked where they are set too.
        ("librechat_admin_email", "admin@localhost", "is not an email address"),
        ("librechat_admin_email", '"admin@school.example\\n"', "is not an email address"),
        ("gateway_ca_permitted_names", "[school.lan]", "'school.lan' is not DNS:<domain>"),
        ("gateway_ca_permitted_names", '["IP:10.0.0.1/8"]', "is not DNS:<domain> or IP:"),
        ("firewall_admin_networks", '["10.0.0.0/33"]', "'10.0.0.0/33' is not an IP address"),
    ],
)
def test_set_refuses_with_one_line_and_changes_nothing(stack, key, value, message):
    before = (stack / "config.yml").read_text()
    result = llm("config", "set", key, value, "--dir", str(stack))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert "Traceback" not in result.stderr
    assert (stack / "config.yml").read_text() == before


def test_set_takes_a_string_setting_as_the_text_given(stack):
    assert llm("config", "set", "mongodb_version", "7.0", "--dir", str(stack)).returncode == 0
    assert yaml.safe_load((stack / "config.yml").read_text())["mongodb_version"] == "7.0"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("llm_stack_root: /\n", 'llm_stack_root: "/" is a system directory'),
        ("librechat_port: true\n", "librechat_port: true is not an integer"),
        ("ollama_models: 42\n", "ollama_models: 42 is not a list"),
    ],
)
def test_a_bad_setting_written_by_hand_stops_every_command_before_ansible(
    stack, line, message, nowhere
):
    with (stack / "config.yml").open("a") as handle:
        handle.write(line)
    assert message in llm("config", "validate", "--dir", str(stack)).stderr
    result = llm("uninstall", "--purge", "--yes", "--dir", str(stack), "-i", nowhere)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (stack / "runs" / "artifacts").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("llm_stack_root=/", '-e llm_stack_root: "/" is a system directory'),
        ("librechat_port=true", '-e librechat_port: "true" is not an integer'),
        ('{"ollama_models": "llama3.2"}', '-e ollama_models: "llama3.2" is not a list'),
        ("mongodb_root_password=x", "-e mongodb_root_password: a secret is never passed"),
    ],
)
def test_a_bad_extra_var_is_refused_before_ansible(stack, extra, message, nowhere):
    result = llm("uninstall", "--purge", "--yes", "-e", extra, "--dir", str(stack), "-i", nowhere)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_extra_vars_given_as_text_become_the_typed_setting():
    from cli.options import parse_extra_vars

    parsed = parse_extra_vars(("librechat_port=8080", "llm_allow_reboot=yes", "ansible_user=1"))
    assert parsed == {"librechat_port": 8080, "llm_allow_reboot": True, "ansible_user": "1"}


def test_get_falls_back_to_the_role_default(stack):
    assert llm("config", "get", "ollama_keep_alive", "--dir", str(stack)).stdout.strip() == "5m"


def test_validate_names_every_problem(stack):
    with (stack / "config.yml").open("a") as handle:
        handle.write("ollama_port: lots\nlibrechat_prot: 3080\n")
    result = llm("config", "validate", "--dir", str(stack))
    assert result.returncode == 2
    assert 'ollama_port: "lots" is not an integer' in result.stderr
    assert "unknown setting 'librechat_prot': did you mean librechat_port?" in result.stderr


def test_show_never_shows_a_secret(stack):
    secret = "s3cret-value-planted"
    with (stack / "config.yml").open("a") as handle:
        handle.write(f"librechat_creds_key: {secret}\n")
    for args in ((), ("--all",), ("--json",)):
        result = llm("config", "show", *args, "--dir", str(stack))
        assert secret not in result.stdout + result.stderr
        assert "********" in result.stdout


def editor(tmp_path, *contents: str) -> dict:
    """An $EDITOR that writes each given text in turn, one per invocation."""
    script = tmp_path / "fake-editor"
    states = tmp_path / "editor-texts"
    states.mkdir()
    for index, text in enumerate(contents):
        (states / f"{index}.yml").write_text(text)
    script.write_text(
        "#!/bin/sh\n"
        f"next=$(ls {states} | sort | head -n 1)\n"
        f'cp "{states}/$next" "$1" && rm "{states}/$next"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"EDITOR": str(script), "VISUAL": str(script)}


def edit(stack, env: dict, answer: str) -> subprocess.CompletedProcess:
    """`llm config edit` with a scripted editor, answering the re-open question."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "config", "edit", "--dir", str(stack)],
        input=answer,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        check=False,
    )


def test_edit_reopens_an_invalid_result_and_saves_the_valid_one(stack, tmp_path):
    result = edit(stack, editor(tmp_path, "ollama_port: nope\n", "ollama_port: 11600\n"), "y\n")
    assert result.returncode == 0, result.stderr
    assert 'not saved: ollama_port: "nope" is not an integer' in result.stderr
    assert yaml.safe_load((stack / "config.yml").read_text()) == {"ollama_port": 11600}


def test_edit_that_is_abandoned_keeps_the_file(stack, tmp_path):
    before = (stack / "config.yml").read_text()
    result = edit(stack, editor(tmp_path, "ollama_models: {not: [valid\n"), "n\n")
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr
    assert (stack / "config.yml").read_text() == before


def test_set_reads_an_integer_as_decimal(stack):
    assert llm("config", "set", "llm_forks", "010", "--dir", str(stack)).returncode == 0
    assert yaml.safe_load((stack / "config.yml").read_text())["llm_forks"] == 10


def test_a_name_that_is_not_text_is_one_line_not_a_traceback(stack):
    with (stack / "config.yml").open("a") as handle:
        handle.write("1: x\n")
    for args in (("validate",), ("show", "--json")):
        result = llm("config", *args, "--dir", str(stack))
        assert result.returncode == 2 and "1 is not a setting name" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_config_file_that_is_not_utf8_is_one_line_naming_it(stack):
    config = stack / "config.yml"
    config.write_bytes(config.read_bytes() + b"# caf\xe9 lab\n")
    for command in (("config", "validate"), ("config", "set", "librechat_port", "3090")):
        result = llm(*command, "--dir", str(stack))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"{config} is not UTF-8 text" in result.stderr
