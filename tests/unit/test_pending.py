"""A change that reached only some hosts says so, is recorded, and a repeat finishes it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cli import controller
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

    def __call__(self, **kwargs):
        hosts = ["gw-1", "gw-2"]
        if kwargs.get("limit"):
            hosts = [h for h in hosts if h in kwargs["limit"].split(",")]
        self.limits.append(kwargs.get("limit"))
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
    inventory.write_text("[llm_gateway]\ngw-1\ngw-2\n[llm_chat]\ngw-1\n[llm_ollama]\ngw-1\n")
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
    assert "alice's key revoked: done on gw-1; NOT on gw-2, which still lack it" in result.output
    listed = CliRunner().invoke(llm, ["keys", "list", "--dir", str(lab.stack)])
    assert "not yet on gw-2, which go by their older list: alice's key revoked" in listed.output

    lab.fake.down = set()
    again = keys(lab, "revoke", "alice", "--yes")
    assert again.exit_code == 0, again.output
    assert "alice's key is revoked here; gw-2 still let it in" in again.output
    assert "alice's key revoked: every gateway has it" in again.output
    assert controller.read_failed(lab.stack / "runs", "keys") == []
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
    assert controller.read_failed(lab.stack / "runs", "keys") == []


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


def test_record_keeps_the_changes_while_a_host_lacks_them(tmp_path: Path):
    runs = tmp_path / "runs"
    controller.record_failed(runs, "keys", ["gw-2"], ["gw-1"], finished=True, change="a")
    controller.record_failed(runs, "keys", ["gw-2"], ["gw-1"], finished=True, change="b")
    assert controller.read_changes(runs, "keys") == ["a", "b"]
    controller.record_failed(runs, "keys", [], ["gw-2"], finished=True, change="c")
    assert controller.read_changes(runs, "keys") == []
    assert not list((runs / "last-failed").glob("*"))
