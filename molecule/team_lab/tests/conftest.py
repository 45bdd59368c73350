"""The team lab's test order: converge.yml installs the lab with the security module on,
so its idempotence step is the secured re-run; test_security.py runs first, on the lab as
converge left it, and disables the module at its end. Every other file expects the core
stack: run alone or in another order, it disables the module itself (team.unsecure), so
no file depends on another's place in the run."""

from __future__ import annotations

import pytest
from team import unsecure

FIRST = "test_security.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name != FIRST)  # stable: each file keeps its order


@pytest.fixture(scope="module", autouse=True)
def core_stack(request: pytest.FixtureRequest) -> None:
    if request.path.name != FIRST:
        unsecure()
