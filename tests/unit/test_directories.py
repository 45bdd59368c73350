"""The directories module: a loop of file state=directory in one round trip."""

from __future__ import annotations

import importlib
import json

import pytest
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def module(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.modules.directories"
    )


def run(module, capsys, check: bool = False, **args) -> dict:
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_creates_sets_modes_and_then_changes_nothing(module, capsys, tmp_path):
    base = tmp_path / "stack"
    entries = [
        {"path": str(base), "mode": "0750"},
        {"path": str(base / "deep" / "data"), "mode": "0700"},
    ]
    result = run(module, capsys, check=True, directories=entries)
    assert result["changed"] and result["changed_paths"] == [e["path"] for e in entries]
    assert not base.exists()
    result = run(module, capsys, directories=entries)
    assert result["changed"]
    assert (base.stat().st_mode & 0o777, (base / "deep" / "data").stat().st_mode & 0o777) == (
        0o750,
        0o700,
    )
    assert run(module, capsys, directories=entries)["changed"] is False
    base.chmod(0o755)
    result = run(module, capsys, directories=entries)
    assert result["changed_paths"] == [str(base)]
    assert base.stat().st_mode & 0o777 == 0o750


def test_a_file_in_the_way_fails(module, capsys, tmp_path):
    (tmp_path / "taken").write_text("")
    result = run(module, capsys, directories=[{"path": str(tmp_path / "taken")}])
    assert result["failed"] and "is not a directory" in result["msg"]
