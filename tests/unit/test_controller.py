"""Driving a lab: forks sized to the run, SSH settings, and the hosts that failed last time.

No Ansible run: runner._start (ansible_runner.run) is replaced by a fake that plays recorded events
(fixtures/runner_events) or made-up ones to the runner's event handler.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from rich.console import Console

from cli import controller
from cli import runner as runner_module
from cli.display import RunDisplay
from cli.main import llm
from cli.stack import StackDir

REPO = Path(__file__).resolve().parents[2]


def lab_inventory(path: Path, count: int) -> Path:
    hosts = "\n".join(f"pc-{n:02d}" for n in range(1, count + 1))
    path.write_text(f"[llm_ollama]\n{hosts}\n\n[llm_chat]\npc-01\n")
    return path


@pytest.fixture
def short_tmp():
    """pytest's tmp_path is too long for an ssh control socket below it."""
    with tempfile.TemporaryDirectory(prefix="llm-", dir="/tmp") as path:
        yield Path(path)


@pytest.fixture
def stack(monkeypatch, tmp_path, short_tmp):
    monkeypatch.delenv("LLM_STACK_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in (
        "ANSIBLE_CONFIG",
        "ANSIBLE_FORKS",
        "ANSIBLE_SSH_ARGS",
        "ANSIBLE_PIPELINING",
        "ANSIBLE_SSH_PIPELINING",
        "ANSIBLE_SSH_CONTROL_PATH_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    target = short_tmp / "stack"
    assert CliRunner().invoke(llm, ["init", "--dir", str(target)]).exit_code == 0
    return target


# Forks


@pytest.mark.parametrize(
    ("hosts", "expected"), [(0, 5), (1, 5), (5, 5), (6, 6), (30, 30), (50, 50), (60, 50)]
)
def test_forks_one_per_host_between_5_and_50(hosts, expected):
    assert controller.size_forks(hosts) == expected


def test_forks_option_then_setting_then_users_ansible():
    assert controller.size_forks(60, requested=3, setting=80, user_ansible=10) == 3
    assert controller.size_forks(60, setting=80, user_ansible=10) == 80
    assert controller.size_forks(60, user_ansible=10) == 10


class FakeRunner:
    """runner._start (ansible_runner.run): records its arguments, plays events, returns a result."""

    def __init__(self, events: list[dict] | None = None, status: str = "successful") -> None:
        self.events = events or []
        self.status = status
        self.kwargs: dict = {}

    def __call__(self, **kwargs):
        self.kwargs = kwargs
        for event in self.events:
            kwargs["event_handler"](event)
        rc = 0 if self.status == "successful" else 2
        return SimpleNamespace(status=self.status, rc=rc, stdout=io.StringIO(""))


@pytest.fixture
def fake_runner(monkeypatch):
    fake = FakeRunner()
    monkeypatch.setattr(runner_module, "_start", fake)
    return fake


def quiet_display() -> RunDisplay:
    return RunDisplay(console=Console(file=io.StringIO(), force_terminal=False))


def run_install(stack: Path, inventory: Path, **job: object) -> int:
    run = runner_module.PlaybookRun(playbook="install", inventory=inventory, **job)  # type: ignore[arg-type]
    return runner_module.run(StackDir(stack), run, quiet_display())


def test_runner_sizes_forks_to_the_hosts_the_run_targets(stack, tmp_path, fake_runner):
    inventory = lab_inventory(tmp_path / "lab.ini", 30)
    run_install(stack, inventory)
    assert fake_runner.kwargs["forks"] == 30
    run_install(stack, inventory, limit="pc-01,pc-02")
    assert fake_runner.kwargs["forks"] == 5
    run_install(stack, lab_inventory(tmp_path / "big.ini", 80))
    assert fake_runner.kwargs["forks"] == 50


def test_runner_forks_from_option_setting_and_ansible_cfg(
    stack, tmp_path, fake_runner, monkeypatch
):
    inventory = lab_inventory(tmp_path / "lab.ini", 30)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".ansible.cfg").write_text("[defaults]\nforks = 12\n")
    run_install(stack, inventory)
    assert fake_runner.kwargs["forks"] == 12
    with (stack / "config.yml").open("a") as config:
        config.write("llm_forks: 40\n")
    run_install(stack, inventory)
    assert fake_runner.kwargs["forks"] == 40
    run_install(stack, inventory, forks=7)
    assert fake_runner.kwargs["forks"] == 7


def test_a_bad_forks_setting_is_one_line_before_ansible(stack, tmp_path, fake_runner):
    with (stack / "config.yml").open("a") as config:
        config.write("llm_forks: 0\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "install", "--dir", str(stack), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"llm: error: {stack / 'config.yml'}: llm_forks: 0 is not a number of forks (1-500): "
        "fix it with 'llm config set' or 'llm config edit'; 'llm config validate' lists each"
    ]


@pytest.mark.parametrize("value", ["0", "501", "many"])
def test_forks_option_out_of_range_is_one_line_exit_2(stack, tmp_path, value):
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "install", "--dir", str(stack), "--forks", value],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--forks" in lines[0], lines


@pytest.mark.parametrize("command", [["install"], ["status"], ["models", "list"], ["stop"]])
def test_every_playbook_command_takes_forks(stack, monkeypatch, command):
    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = CliRunner().invoke(llm, [*command, "--dir", str(stack), "--forks", "17"])
    # (llm status exits 1 here: the fake run reported no service.)
    assert jobs and jobs[0].forks == 17, result.output


def test_config_schema_checks_the_forks_setting():
    from cli import config_schema

    assert config_schema.validate({"llm_forks": 20}) == []
    assert config_schema.validate({"llm_forks": 501}) == [
        "llm_forks: 501 is not a number of forks (1-500)"
    ]
    assert "is not an integer" in config_schema.validate({"llm_forks": "lots"})[0]


# SSH settings


def test_connection_environment_turns_on_pipelining_and_connection_reuse(short_tmp):
    runs = short_tmp / "runs"
    env = controller.connection_environment(runs, {}, None)
    # Ansible's general setting, read by every connection that can pipeline (docker too).
    assert env["ANSIBLE_PIPELINING"] == "True"
    assert "ControlMaster=auto" in env["ANSIBLE_SSH_ARGS"]
    assert "ControlPersist=" in env["ANSIBLE_SSH_ARGS"]
    control = Path(env["ANSIBLE_SSH_CONTROL_PATH_DIR"])
    assert control == runs / "cp"
    assert control.stat().st_mode & 0o777 == 0o700
    assert "ANSIBLE_SSH_PIPELINING" not in env


def test_connection_environment_keeps_what_the_user_chose(tmp_path, short_tmp):
    runs = short_tmp / "runs"
    user = {"ANSIBLE_PIPELINING": "False", "ANSIBLE_SSH_ARGS": "-o ProxyJump=bastion"}
    env = controller.connection_environment(runs, user, None)
    assert set(env) == {"ANSIBLE_SSH_CONTROL_PATH_DIR"}
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(
        "[defaults]\npipelining = False\n[ssh_connection]\nssh_args = -o X=1\n"
        "control_path_dir = /tmp/mine\n"
    )
    assert controller.connection_environment(runs, {}, cfg) == {}


def test_control_path_dir_too_long_for_a_socket_is_left_to_ansible(short_tmp):
    # /<49 characters>/cp is the longest whose sockets fit in sun_path.
    fits = short_tmp / ("d" * (40 - len(str(short_tmp)))) / "runs"
    assert len(str(fits / "cp")) == 49
    assert controller.connection_environment(fits, {}, None)["ANSIBLE_SSH_CONTROL_PATH_DIR"]
    deep = short_tmp / ("d" * (41 - len(str(short_tmp)))) / "runs"
    env = controller.connection_environment(deep, {}, None)
    assert "ANSIBLE_SSH_CONTROL_PATH_DIR" not in env
    assert not (deep / "cp").exists()


def test_ansible_cfg_is_found_in_ansibles_order(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "runs"
    home.mkdir()
    cwd.mkdir()
    (home / ".ansible.cfg").write_text("[defaults]\n")
    assert controller.user_ansible_cfg({"HOME": str(home)}, cwd) == home / ".ansible.cfg"
    (cwd / "ansible.cfg").write_text("[defaults]\n")
    assert controller.user_ansible_cfg({"HOME": str(home)}, cwd) == cwd / "ansible.cfg"
    explicit = tmp_path / "team.cfg"
    explicit.write_text("[defaults]\n")
    environ = {"HOME": str(home), "ANSIBLE_CONFIG": str(explicit)}
    assert controller.user_ansible_cfg(environ, cwd) == explicit


def test_runner_gives_ansible_the_ssh_settings(stack, tmp_path, fake_runner):
    run_install(stack, lab_inventory(tmp_path / "lab.ini", 3))
    env = fake_runner.kwargs["envvars"]
    assert env["ANSIBLE_PIPELINING"] == "True"
    assert env["ANSIBLE_SSH_CONTROL_PATH_DIR"] == str(stack / "runs" / "cp")


# Hosts that failed last time


def test_recorded_run_keeps_its_failed_and_unreachable_hosts(
    stack, tmp_path, fake_runner, recorded_events
):
    fake_runner.events = recorded_events
    fake_runner.status = "failed"
    inventory = lab_inventory(tmp_path / "lab.ini", 3)
    assert run_install(stack, inventory) == 1
    runs = stack / "runs"
    assert controller.read_failed(runs, "install") == ["bad", "gone"]
    text = (runs / "last-failed" / "install.txt").read_text()
    assert text.startswith("# ") and text.endswith("bad\ngone\n")


def test_check_mode_leaves_the_record_alone(stack, tmp_path, fake_runner, recorded_events):
    fake_runner.events = recorded_events
    fake_runner.status = "failed"
    run_install(stack, lab_inventory(tmp_path / "lab.ini", 3), check=True)
    assert controller.read_failed(stack / "runs", "install") == []


def stats_event(ok: list[str], failed: list[str] = (), dark: list[str] = ()) -> dict:  # type: ignore[assignment]
    data = {
        "ok": dict.fromkeys([*ok, *failed], 3),
        "failures": dict.fromkeys(failed, 1),
        "dark": dict.fromkeys(dark, 1),
    }
    return {"event": "playbook_on_stats", "event_data": data}


def test_a_limited_run_clears_only_the_hosts_it_finished(tmp_path):
    runs = tmp_path / "runs"
    controller.record_failed(runs, "install", ["pc-03", "pc-07", "pc-09"], [], finished=True)
    # --retry-failed reached pc-03 (now fine) and pc-07 (failed again); pc-09 not run.
    after = controller.record_failed(runs, "install", ["pc-07"], ["pc-03"], finished=True)
    assert after == ["pc-07", "pc-09"]
    assert controller.record_failed(runs, "install", [], ["pc-07", "pc-09"], finished=True) == []
    assert not (runs / "last-failed" / "install.txt").exists()


def test_an_interrupted_run_only_adds_failures(tmp_path):
    runs = tmp_path / "runs"
    controller.record_failed(runs, "install", ["pc-03"], [], finished=True)
    after = controller.record_failed(runs, "install", ["pc-05"], ["pc-03"], finished=False)
    assert after == ["pc-03", "pc-05"]


def test_state_outcome_from_a_runs_events(recorded_events):
    display = quiet_display()
    for event in recorded_events:
        display.event(event)
    assert controller.state_outcome(display.state) == (["bad", "gone"], ["good"])
    display = quiet_display()
    display.event(stats_event(ok=["a"], failed=["b"], dark=["c"]))
    assert controller.state_outcome(display.state) == (["b", "c"], ["a"])


def test_retry_hosts_intersect_the_users_limit():
    recorded = ["pc-03", "pc-07", "pc-09"]
    assert controller.retry_hosts(recorded, ["pc-01", "pc-07", "pc-09"]) == ["pc-07", "pc-09"]
    assert controller.retry_hosts(recorded, ["pc-01"]) == []


def invoke_install(stack: Path, *args: str):
    return CliRunner().invoke(llm, ["install", "--dir", str(stack), *args])


def test_retry_failed_runs_only_the_recorded_hosts(stack, tmp_path, monkeypatch):
    inventory = lab_inventory(tmp_path / "lab.ini", 10)
    controller.record_failed(stack / "runs", "install", ["pc-03", "pc-07"], [], finished=True)
    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = invoke_install(stack, "-i", str(inventory), "--retry-failed")
    assert result.exit_code == 0, result.output
    assert jobs[-1].limit == "pc-03,pc-07"
    assert "retrying the 2 host(s) that failed last time: pc-03, pc-07" in result.output
    # With the user's --limit: the intersection.
    result = invoke_install(stack, "-i", str(inventory), "--retry-failed", "-l", "pc-05:pc-07")
    assert result.exit_code == 0, result.output
    assert jobs[-1].limit == "pc-07"


def test_retry_failed_with_nothing_to_retry_says_so_and_succeeds(stack, tmp_path, monkeypatch):
    inventory = lab_inventory(tmp_path / "lab.ini", 10)
    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = invoke_install(stack, "-i", str(inventory), "--retry-failed")
    assert result.exit_code == 0
    assert result.output.strip() == (
        "no host failed in the last install or lacks what it makes: nothing to retry"
    )
    controller.record_failed(stack / "runs", "install", ["pc-03"], [], finished=True)
    result = invoke_install(stack, "-i", str(inventory), "--retry-failed", "-l", "pc-05")
    assert result.exit_code == 0
    assert "none of the hosts that failed last time (pc-03) is within --limit" in result.output
    assert jobs == []


def test_a_failed_install_points_at_retry_failed(stack, tmp_path, fake_runner, recorded_events):
    fake_runner.events = recorded_events
    fake_runner.status = "failed"
    inventory = lab_inventory(tmp_path / "lab.ini", 3)
    result = invoke_install(stack, "-i", str(inventory))
    assert result.exit_code == 1
    assert "2 host(s) to finish: 'llm install --retry-failed' runs only them" in result.output


def test_a_play_where_every_host_failed_leaves_the_others_unfinished(
    stack, tmp_path, fake_runner, recorded_events
):
    # Ansible's linear strategy ends the playbook when every host of a play failed
    # (one chat host, say): the later plays ran on no host, the fine ones included.
    stop = {"event": "playbook_on_no_hosts_remaining", "event_data": {}}
    stats_at = next(i for i, e in enumerate(recorded_events) if e["event"] == "playbook_on_stats")
    fake_runner.events = [*recorded_events[:stats_at], stop, *recorded_events[stats_at:]]
    fake_runner.status = "failed"
    display = quiet_display()
    run = runner_module.PlaybookRun(playbook="install", inventory=lab_inventory(tmp_path / "l", 3))
    assert runner_module.run(StackDir(stack), run, display) == 1
    assert controller.read_failed(stack / "runs", "install") == ["bad", "gone", "good"]
    assert "the plays after it did not run on good" in display.console.file.getvalue()


def test_mitogen_only_where_config_turns_it_on_and_the_user_chose_no_strategy():
    env = controller.mitogen_environment(True, {})
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    assert controller.mitogen_environment(False, {}) == {}
    assert controller.mitogen_environment(None, {}) == {}
    assert controller.mitogen_environment(True, {"ANSIBLE_STRATEGY": "free"}) == {}


def test_mitogen_is_set_aside_with_a_role_it_breaks(capsys):
    """The firewall's reconnect check needs a connection reset (mitogen-hq/mitogen#551):
    the registry says so (the security module's not_under_mitogen), not the CLI."""
    from cli import registry

    unfit = registry.not_under_mitogen(["core", "security"])
    assert len(unfit) == 1 and "mitogen-hq/mitogen#551" in unfit[0], unfit
    assert controller.mitogen_environment(True, {}, unfit=unfit) == {}
    assert "llm_mitogen set aside for this run: the firewall checks" in capsys.readouterr().err
    assert registry.not_under_mitogen(["core"]) == []
    assert controller.mitogen_environment(True, {}, unfit=[])["ANSIBLE_STRATEGY"]


def test_mitogen_on_without_mitogen_installed_says_what_to_do(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(controller.LlmError, match="Mitogen is not installed") as caught:
        controller.mitogen_environment(True, {})
    assert "llm config set llm_mitogen false" in str(caught.value.hint)


def test_llm_mitogen_is_a_boolean_setting(tmp_path):
    stack = ["--dir", str(tmp_path / "stack")]
    cli = CliRunner()
    assert cli.invoke(llm, ["init", *stack]).exit_code == 0
    assert cli.invoke(llm, ["config", "set", "llm_mitogen", "true", *stack]).exit_code == 0
    refused = cli.invoke(llm, ["config", "set", "llm_mitogen", "1", *stack])
    assert refused.exit_code != 0 and "llm_mitogen" in refused.output


def test_mitogen_leaves_a_strategy_chosen_in_ansible_cfg(tmp_path):
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nstrategy = free\n")
    assert controller.mitogen_environment(True, {}, cfg) == {}
