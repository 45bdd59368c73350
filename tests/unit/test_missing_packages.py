"""local_llm.stack.missing_packages: a package task runs only where one is missing."""

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
