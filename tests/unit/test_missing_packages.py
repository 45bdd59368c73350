"""local_llm.stack.missing_packages: a package task runs only where one is missing; and
local_llm.stack.unit_running: a start task runs only where preflight's probe did not find
the unit running."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(scope="module")
def missing(collections_dir):
    module = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.packages")
    return module.FilterModule().filters()["missing_packages"]


FACTS = {"packages": {"nginx": [{"version": "1.26.3-3"}], "haproxy": [{"version": "3.0.11-1"}]}}


def test_only_the_packages_not_installed(missing):
    assert missing(["nginx", "haproxy", "procps"], FACTS) == ["procps"]
    assert missing("nginx", FACTS) == []
    assert missing([], FACTS) == []


def test_a_pinned_version_counts_only_when_it_is_the_installed_one(missing):
    assert missing(["haproxy=3.0.11-1", "nginx=1.26*"], FACTS) == []
    assert missing(["haproxy=2.6*", "nginx=1.24.0-1"], FACTS) == ["haproxy=2.6*", "nginx=1.24.0-1"]


def test_without_package_facts_every_package_is_left_to_the_package_task(missing):
    assert missing(["nginx"], {"distribution": "Debian"}) == ["nginx"]
    assert missing(["nginx"], None) == ["nginx"]


@pytest.fixture(scope="module")
def unit_running(collections_dir):
    module = importlib.import_module("ansible_collections.local_llm.stack.plugins.filter.packages")
    return module.FilterModule().filters()["unit_running"]


def test_a_unit_counts_as_running_only_when_the_probe_found_it_active_and_enabled(unit_running):
    facts = {"llm_units": {
        "haproxy.service": {"active": "active", "enabled": "enabled"},
        "llm-model-seed.service": {"active": "inactive", "enabled": "enabled"},
        "docker.service": {"active": "active", "enabled": "disabled"},
    }}  # fmt: skip
    assert unit_running("haproxy.service", facts) is True
    assert unit_running("llm-model-seed.service", facts) is False
    assert unit_running("docker.service", facts) is False
    assert unit_running("nginx.service", facts) is False  # not asked about
    # No probe this run (a day-2 playbook), or one that could not tell: the task decides.
    assert unit_running("haproxy.service", {"llm_units": None}) is False
    assert unit_running("haproxy.service", {}) is False
