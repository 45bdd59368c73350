"""The model copy tree: rounds, senders and who has the model when."""

from __future__ import annotations

import importlib
import math

import pytest


@pytest.fixture(autouse=True)
def _collection(collections_dir):
    """The collection importable as ansible_collections.local_llm.stack."""


def fanout():
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.fanout"
    )


def hosts(n: int) -> list[str]:
    return [f"pc-{i:02d}" for i in range(1, n + 1)]


def check_plan(sources: list[str], targets: list[str], rounds: list[dict], per_source: int):
    """Every target exactly once, senders only after they have it, none over its share."""
    have = set(sources)
    copied = []
    for plan in rounds:
        assert plan, "an empty round"
        senders = list(plan.values())
        for sender in set(senders):
            assert senders.count(sender) <= per_source, (sender, plan)
        for target, sender in plan.items():
            assert sender in have, f"{sender} sends before it has the model"
            assert target not in have, f"{target} already has the model"
        have |= set(plan)
        copied += list(plan)
    assert sorted(copied) == sorted(set(targets) - set(sources))
    assert len(copied) == len(set(copied))


@pytest.mark.parametrize("n", range(1, 65))
def test_one_source_doubles_each_round(n):
    targets = hosts(n)
    rounds = fanout().fanout_rounds(["hub"], targets)
    assert len(rounds) == math.ceil(math.log2(n + 1))
    check_plan(["hub"], targets, rounds, 1)


@pytest.mark.parametrize(("n", "per_source"), [(8, 2), (30, 2), (30, 3), (60, 4)])
def test_more_per_source(n, per_source):
    targets = hosts(n)
    rounds = fanout().fanout_rounds(["hub"], targets, per_source=per_source)
    # Senders grow by (per_source + 1) each round.
    assert len(rounds) == math.ceil(math.log(n + 1, per_source + 1) - 1e-9)
    check_plan(["hub"], targets, rounds, per_source)


def test_hub_carries_the_first_copy_and_order_is_kept():
    rounds = fanout().fanout_rounds(["hub"], ["a", "b", "c", "d", "e"])
    assert rounds == [
        {"a": "hub"},
        {"b": "hub", "c": "a"},
        {"d": "hub", "e": "a"},
    ]


def test_several_sources_send_first():
    rounds = fanout().fanout_rounds(["hub", "pc-01"], hosts(6))
    # pc-01 already has it: not a target; both sources send in round one.
    assert rounds[0] == {"pc-02": "hub", "pc-03": "pc-01"}
    check_plan(["hub", "pc-01"], hosts(6), rounds, 1)
    assert len(rounds) == 2


def test_deterministic():
    a = fanout().fanout_rounds(["hub"], hosts(30))
    b = fanout().fanout_rounds(["hub"], hosts(30))
    assert a == b


def test_repeated_targets_are_copied_once():
    rounds = fanout().fanout_rounds(["hub"], ["a", "b", "a", "hub"])
    assert rounds == [{"a": "hub"}, {"b": "hub"}]


@pytest.mark.parametrize(
    ("sources", "targets"), [([], []), (["hub"], []), (["hub"], ["hub"]), (None, None)]
)
def test_nothing_to_copy(sources, targets):
    assert fanout().fanout_rounds(sources, targets) == []


def test_no_source_is_an_error_naming_the_hosts():
    with pytest.raises(ValueError, match=r"pc-01, pc-02.*hub"):
        fanout().fanout_rounds([], ["pc-01", "pc-02"])


@pytest.mark.parametrize("bad", [0, -1, True, "2", 1.5, None])
def test_per_source_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="per_source"):
        fanout().fanout_rounds(["hub"], ["a"], per_source=bad)


def test_host_names_are_checked():
    with pytest.raises(ValueError, match="targets must be host names"):
        fanout().fanout_rounds(["hub"], ["a", ""])


def test_filter_plugin():
    from ansible.errors import AnsibleFilterError

    module = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.fanout")
    rounds = module.FilterModule().filters()["fanout_rounds"]
    assert rounds(["hub"], ["a", "b"]) == [{"a": "hub"}, {"b": "hub"}]
    with pytest.raises(AnsibleFilterError, match="no host has the model"):
        rounds([], ["a"])
