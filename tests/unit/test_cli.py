"""The `llm` command line through Click's CliRunner: no Ansible run needed."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import __version__
from cli.main import llm


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.delenv("LLM_STACK_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return CliRunner()


def run_llm(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_version(runner):
    result = runner.invoke(llm, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_commands(runner):
    result = runner.invoke(llm, ["--help"])
    assert result.exit_code == 0
    assert "init" in result.output and "install" in result.output


def test_unknown_command_is_one_line_exit_2():
    proc = run_llm("instal")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "llm: error: No such command 'instal'. (see 'llm --help')"
    ]
    assert "Traceback" not in proc.stderr


def test_help_does_not_import_ansible_runner_or_rich():
    code = (
        "import sys\n"
        "from cli.main import llm\n"
        "try:\n    llm(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('ansible', 'ansible_runner', 'rich') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands:" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "HEAVY:"


def test_init_creates_the_stack(runner, tmp_path):
    target = tmp_path / "stack"
    result = runner.invoke(llm, ["init", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "config.yml").is_file()
    assert "[llm_ollama]" in (target / "inventory.ini").read_text()
    assert stat.S_IMODE((target / "secrets.yml").stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert "generated 10 secrets" in result.output


def test_init_twice_keeps_secrets_and_edits(runner, tmp_path):
    target = tmp_path / "stack"
    runner.invoke(llm, ["init", "--dir", str(target)])
    secrets_before = (target / "secrets.yml").read_bytes()
    (target / "config.yml").write_text("llm_stack_root: /srv/llm\n")
    result = runner.invoke(llm, ["init", "--dir", str(target)])
    assert result.exit_code == 0
    assert "kept the existing secrets" in result.output
    assert (target / "secrets.yml").read_bytes() == secrets_before
    assert (target / "config.yml").read_text() == "llm_stack_root: /srv/llm\n"


def test_stack_dir_from_environment(runner, tmp_path, monkeypatch):
    target = tmp_path / "from-env"
    monkeypatch.setenv("LLM_STACK_DIR", str(target))
    assert runner.invoke(llm, ["init"]).exit_code == 0
    assert (target / "secrets.yml").exists()


def test_stack_dir_default_is_under_xdg_config(runner, tmp_path):
    assert runner.invoke(llm, ["init"]).exit_code == 0
    assert (tmp_path / "xdg" / "llm-stack" / "inventory.ini").exists()


@pytest.fixture
def stack(runner, tmp_path):
    target = tmp_path / "stack"
    assert runner.invoke(llm, ["init", "--dir", str(target)]).exit_code == 0
    return target


def one_line_error(tmp_path, *args: str) -> str:
    proc = run_llm(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_install_without_a_stack(tmp_path):
    line = one_line_error(tmp_path, "install", "--dir", str(tmp_path / "nowhere"))
    assert "no stack found" in line and "llm init" in line


def test_install_with_a_missing_inventory(stack, tmp_path):
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "-i", "lab.ini")
    assert "inventory file lab.ini not found" in line
    assert not (stack / "runs" / "artifacts").exists()  # Ansible never ran


def test_install_with_a_limit_matching_no_host(stack, tmp_path):
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "--limit", "lab-pc-99")
    assert "--limit 'lab-pc-99' matches no host" in line and "localhost" in line
    assert not (stack / "runs" / "artifacts").exists()


def test_install_with_an_inventory_outside_the_stack_groups(stack, tmp_path):
    inventory = tmp_path / "plain.ini"
    inventory.write_text("[web]\nweb1 ansible_host=10.0.0.1\n")
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "-i", str(inventory))
    assert "no host in any of the groups llm_ollama" in line


def test_install_with_an_unreadable_inventory(stack, tmp_path):
    inventory = tmp_path / "broken.yml"
    inventory.write_text("all:\n  hosts: [unclosed\n")
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "-i", str(inventory))
    assert "cannot be read" in line and "flow sequence" in line


@pytest.mark.parametrize(
    ("value", "expected"),
    [("novalue", "is not KEY=VALUE"), ("9x=1", "is not KEY=VALUE"), ("{bad", "not a valid JSON")],
)
def test_install_with_bad_extra_vars(stack, tmp_path, value, expected):
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "-e", value)
    assert expected in line


def test_unknown_option_is_one_line(stack, tmp_path):
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "--frobnicate")
    assert "No such option '--frobnicate'" in line


def test_first_ctrl_c_asks_to_stop_the_second_aborts():
    import os
    import signal

    from cli.runner import _Interrupt

    # Whatever handler the test run started with (a background job ignores SIGINT) comes back.
    before = signal.getsignal(signal.SIGINT)
    with _Interrupt() as interrupt:
        assert interrupt.cancel() is False
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.cancel() is True
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("name", ["localhost.ini", "classroom.ini", "gpu-cluster.ini"])
def test_example_inventories_are_valid_stacks(name):
    from pathlib import Path

    from cli.inventory import stack_hosts

    path = Path(__file__).resolve().parents[2] / "inventories" / name
    hosts = stack_hosts(path, None)
    expected = {"localhost.ini": 1, "classroom.ini": 30, "gpu-cluster.ini": 4}[name]
    assert len(hosts) == expected


def test_install_with_a_broken_config_is_one_line(stack, tmp_path):
    (stack / "config.yml").write_text("ollama_models: [llama3.2\n")
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "--check")
    assert "config.yml line 2 is not valid YAML" in line


@pytest.mark.parametrize(("flag", "expected"), [([], None), (["--allow-reboot"], True)])
def test_install_allow_reboot_reaches_the_playbook(runner, stack, monkeypatch, flag, expected):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = runner.invoke(llm, ["install", "--dir", str(stack), *flag, "-e", "x=1"])
    assert result.exit_code == 0, result.output
    assert jobs[0].extra_vars.get("llm_allow_reboot") is expected
    assert jobs[0].extra_vars["x"] == "1"


@pytest.mark.parametrize("command", ["start", "stop", "restart"])
def test_unknown_service_is_one_line_and_suggests(stack, tmp_path, command):
    line = one_line_error(tmp_path, command, "--dir", str(stack), "librechatt")
    assert line == "llm: error: unknown service 'librechatt': did you mean librechat?"
    assert not (stack / "runs" / "artifacts").exists()


def test_services_reach_the_playbook(runner, stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = runner.invoke(llm, ["restart", "--dir", str(stack), "ollama", "librechat", "ollama"])
    assert result.exit_code == 0, result.output
    assert jobs[0].playbook == "services"
    assert jobs[0].extra_vars["llm_services_action"] == "restarted"
    assert jobs[0].extra_vars["llm_services"] == ["ollama", "librechat"]


@pytest.mark.parametrize("limit", ["@no-such-file", "localhost[5]"])
def test_a_limit_ansible_refuses_is_one_line_not_a_traceback(stack, tmp_path, limit):
    line = one_line_error(tmp_path, "install", "--dir", str(stack), "--limit", limit)
    assert "--limit '" in line and "cannot be used with" in line, line


def test_status_with_a_limit_matching_no_host(stack, tmp_path):
    line = one_line_error(tmp_path, "status", "--dir", str(stack), "--limit", "nope")
    assert "--limit 'nope' matches no host" in line


def test_models_and_backup_need_hosts_of_their_group(stack, tmp_path):
    inventory = stack / "ollama-only.ini"
    inventory.write_text("[llm_ollama]\ngpu-01\n")
    line = one_line_error(tmp_path, "backup", "--dir", str(stack), "-i", str(inventory))
    assert "no chat host (group llm_chat)" in line
    line = one_line_error(
        tmp_path, "models", "add", "llama3.2", "--dir", str(stack), "-i", str(inventory),
        "--limit", "nobody",
    )  # fmt: skip
    assert "--limit 'nobody' matches no host" in line
    chat = stack / "chat.ini"
    chat.write_text("[llm_ollama]\ngpu-01\n[llm_chat]\nchat\n")
    line = one_line_error(
        tmp_path, "models", "list", "--dir", str(stack), "-i", str(chat), "--limit", "chat"
    )
    assert "no Ollama host (group llm_ollama) matching --limit 'chat'" in line


REFUSE_CHECK = (
    ("keys", "add"),
    ("keys", "revoke"),
    ("keys", "sync"),
    ("users", "reset-password"),
    ("secrets", "rotate"),
    ("backup",),
    ("restore",),
)


def _commands(group, path=()):
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_help_offers_check_only_where_it_is_honoured(runner):
    seen = set()
    for path, command in _commands(llm):
        params = {p.name: p for p in command.params}
        if "check" not in params:
            continue
        shown = "--check" in runner.invoke(llm, [*path, "--help"]).output
        assert shown is (path not in REFUSE_CHECK), path
        assert ("--diff" in runner.invoke(llm, [*path, "--help"]).output) is shown, path
        seen.add(path)
    assert set(REFUSE_CHECK) <= seen
    # Still refused in one line when given anyway (not "no such option").
    result = runner.invoke(llm, ["keys", "add", "alice", "--check"])
    assert result.exit_code == 2
    assert "llm keys add does not take --check" in result.output


def test_restore_takes_one_host_by_name_and_only_an_archive_its_sums_vouch_for(stack, tmp_path):
    backups = tmp_path / "b"
    backups.mkdir()
    (backups / "all.archive.gz").write_bytes(b"dump")
    pattern = one_line_error(tmp_path, "restore", str(backups / "all.archive.gz"), "--yes",
                             "--dir", str(stack))  # fmt: skip
    assert "all is not a chat host" in pattern and "not a group or pattern" in pattern
    archive = backups / "localhost.archive.gz"
    archive.write_bytes(b"dump")
    unlisted = one_line_error(tmp_path, "restore", str(archive), "--yes", "--dir", str(stack))
    assert "is not listed in" in unlisted and "sha256sum localhost.archive.gz" in unlisted
    (backups / "SHA256SUMS").write_bytes(b"\xff\xfe garbage\n")
    damaged = one_line_error(tmp_path, "restore", str(archive), "--yes", "--dir", str(stack))
    assert "cannot read" in damaged or "is not a sha256sum line" in damaged, damaged
    (backups / "SHA256SUMS").write_text("garbage\n")
    garbage = one_line_error(tmp_path, "restore", str(archive), "--yes", "--dir", str(stack))
    assert "line 1, is not a sha256sum line" in garbage
    assert not (stack / "runs" / "artifacts").exists()  # Ansible never ran
