"""A change that reached only some hosts says so, is recorded, and a repeat finishes it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cli import pending
from cli import runner as runner_module
from cli.main import llm


def events(ok: list[str], unreachable: list[str]) -> list[dict]:
    found = [
        {"event": "runner_on_ok", "event_data": {"host": h, "task": "Write", "res": {}}} for h in ok
    ]
    found += [
        {
            "event": "runner_on_unreachable",
            "event_data": {"host": h, "task": "Find the gateway", "res": {"msg": "no route"}},
        }
        for h in unreachable
    ]
    stats = {"ok": {h: 1 for h in ok}, "dark": {h: 1 for h in unreachable}}
    return [*found, {"event": "playbook_on_stats", "event_data": stats}]


class Gateways:
    """runner._start: plays a run where the hosts in `down` cannot be reached."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.limits: list[str | None] = []
        # No task reports for any host (--tags that skip them all, or an interrupted run).
        self.silent = False

    def __call__(self, **kwargs):
        hosts = ["gw-1", "gw-2"]
        if kwargs.get("limit"):
            hosts = [h for h in hosts if h in kwargs["limit"].split(",")]
        self.limits.append(kwargs.get("limit"))
        if self.silent:
            kwargs["event_handler"]({"event": "playbook_on_stats", "event_data": {}})
            return SimpleNamespace(status="successful", rc=0)
        up = [h for h in hosts if h not in self.down]
        for event in events(up, [h for h in hosts if h in self.down]):
            kwargs["event_handler"](event)
        rc = 0 if not self.down & set(hosts) else 2
        return SimpleNamespace(status="successful" if rc == 0 else "failed", rc=rc)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    stack = tmp_path / "stack"
    assert CliRunner().invoke(llm, ["init", "--dir", str(stack)]).exit_code == 0
    with (stack / "config.yml").open("a") as config:
        config.write("llm_modules: [security]\n")
    inventory = tmp_path / "lab.ini"
    inventory.write_text("[llm_gateway]\ngw-1\ngw-2\n[llm_chat]\ngw-1\n[llm_ollama]\ngw-1\npc\n")
    fake = Gateways()
    monkeypatch.setattr(runner_module, "_start", fake)
    return SimpleNamespace(stack=stack, inventory=inventory, fake=fake)


def keys(lab, *args: str):
    return CliRunner().invoke(
        llm, ["keys", *args, "--dir", str(lab.stack), "-i", str(lab.inventory)]
    )


def test_a_revoke_that_misses_a_gateway_says_so_and_a_second_revoke_finishes_it(lab):
    assert keys(lab, "add", "alice").exit_code == 0
    lab.fake.down = {"gw-2"}
    result = keys(lab, "revoke", "alice", "--yes")
    assert result.exit_code == 1
    assert "alice's key revoked: done on gw-1; NOT on gw-2, which may lack it" in result.output
    listed = CliRunner().invoke(llm, ["keys", "list", "--dir", str(lab.stack)])
    assert "not yet on gw-2, which go by an older list: alice's key revoked" in listed.output

    lab.fake.down = set()
    again = keys(lab, "revoke", "alice", "--yes")
    assert again.exit_code == 0, again.output
    assert "alice's key is revoked here; gw-2 still let it in" in again.output
    assert "alice's key revoked: every gateway reached has it" in again.output
    assert pending.lacking(lab.stack / "runs", "keys") == {}
    # Now it is truly gone: a third revoke says so.
    assert "no key named 'alice'" in keys(lab, "revoke", "alice", "--yes").output


def test_install_retry_failed_finishes_a_keys_change_and_clears_it(lab):
    assert keys(lab, "add", "bob").exit_code == 0
    lab.fake.down = {"gw-2"}
    assert keys(lab, "revoke", "bob", "--yes").exit_code == 1
    lab.fake.down = set()
    result = CliRunner().invoke(
        llm,
        ["install", "--retry-failed", "--dir", str(lab.stack), "-i", str(lab.inventory)],
    )
    assert "pending on gw-2: bob's key revoked" in result.output
    assert "retrying the 1 host(s) that failed last time: gw-2" in result.output
    assert lab.fake.limits[-1] == "gw-2", (lab.fake.limits, result.output)
    assert pending.lacking(lab.stack / "runs", "keys") == {}


def test_a_quiet_command_names_the_unreachable_host_even_with_json(lab, tmp_path):
    lab.fake.down = {"gw-2"}
    chat = tmp_path / "chat.ini"
    chat.write_text("[llm_chat]\ngw-1\ngw-2\n[llm_ollama]\ngw-1\n")
    result = CliRunner().invoke(
        llm, ["users", "list", "--json", "--dir", str(lab.stack), "-i", str(chat)]
    )
    assert result.exit_code == 1, result.output
    assert "gw-2: unreachable (Find the gateway): no route" in result.output
    assert '"gw-2": null' in result.output


def test_the_record_is_per_change_and_only_a_run_that_does_the_work_clears_it(tmp_path: Path):
    runs = tmp_path / "runs"

    def record(playbook, change, failed, succeeded, whole=True):
        pending.record(runs, playbook, change, failed, succeeded, finished=True, whole=whole)

    record("models", "models remove x", ["o1"], ["o2"])
    record("models", "models add y", [], ["o1", "o2"])  # another change: x still lacks o1
    assert pending.lacking(runs, "models") == {"models remove x": ["o1"]}
    record("models", "models remove x", [], ["o1"])
    assert pending.lacking(runs, "models") == {}
    # A model removed where its add was pending is no longer waited for there.
    record("models", "models add z", ["o1", "o2"], [])
    record("models", "models remove z", [], ["o2"])
    assert pending.lacking(runs, "models") == {"models add z": ["o1"]}
    record("models", "models add z", [], ["o1"])

    record("keys", "alice's key revoked", ["gw-2"], ["gw-1"])
    record("keys", "bob's key added", ["gw-2"], ["gw-1"])
    record("install", None, [], ["gw-2"], whole=False)  # --tags ollama: no keys written
    assert set(pending.lacking(runs, "keys")) == {"alice's key revoked", "bob's key added"}
    record("install", None, [], ["gw-2"])  # a whole install writes the whole list
    assert pending.lacking(runs, "keys") == {} and not (runs / pending.RECORD).exists()


def test_a_revoke_refused_before_ansible_changes_nothing_here(lab):
    """A bad config.yml stops the run: the key must still be there (it was struck and never
    sent, with nothing recorded, so a second revoke said there was no such key)."""
    assert keys(lab, "add", "carol").exit_code == 0
    with (lab.stack / "config.yml").open("a") as config:
        config.write("llm_stack_root: /\n")
    result = keys(lab, "revoke", "carol", "--yes")
    assert result.exit_code == 2 and "llm_stack_root" in result.output
    assert "Revoked" not in result.output
    listed = CliRunner().invoke(llm, ["keys", "list", "--dir", str(lab.stack)])
    assert "carol" in listed.output


def test_sync_with_no_gateway_in_the_limit_is_refused(lab):
    result = keys(lab, "sync", "--limit", "pc")
    assert result.exit_code == 2 and "no gateway (group llm_gateway)" in result.output
    assert lab.fake.limits == []


def test_a_gateway_the_run_gave_no_result_for_lacks_the_change(lab):
    """--tags that skip every task, or an interrupted run: no host reports, none has it."""
    assert keys(lab, "add", "gina").exit_code == 0
    lab.fake.silent = True
    result = keys(lab, "revoke", "gina", "--yes", "-t", "nothing")
    assert "NOT on gw-1, gw-2" in result.output
    assert pending.lacking(lab.stack / "runs", "keys") == {"gina's key revoked": ["gw-1", "gw-2"]}


def test_a_damaged_record_is_one_line_before_the_run(lab):
    (lab.stack / "runs").mkdir(parents=True, exist_ok=True)
    (lab.stack / "runs" / pending.RECORD).write_text('{"keys": {"x": 5}}')
    result = keys(lab, "sync")
    assert result.exit_code == 2 and "pending.json is damaged" in result.output
    assert lab.fake.limits == []


def test_sigterm_asks_ansible_to_stop_like_ctrl_c():
    import os
    import signal

    with runner_module._Interrupt() as interrupt:
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupt.cancel() is True
