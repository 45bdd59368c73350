"""The directories module: a loop of file state=directory in one round trip."""

from __future__ import annotations

import importlib
import json
import subprocess

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


def test_marks_what_it_makes_parents_included_and_never_what_was_there(module, capsys, tmp_path):
    (tmp_path / "there").mkdir()
    entries = [
        {"path": str(tmp_path / "there"), "mode": "0750"},
        {"path": str(tmp_path / "root" / "ollama" / "models"), "mode": "0750"},
        {"path": str(tmp_path / "facts.d"), "owned": False},
    ]
    run(module, capsys, directories=entries)
    marker = ".local-llm-stack"
    assert not (tmp_path / "there" / marker).exists()
    assert not (tmp_path / "facts.d" / marker).exists()
    for made in ("root", "root/ollama", "root/ollama/models"):
        text = (tmp_path / made / marker).read_text()
        assert json.loads(text)["path"] == str(tmp_path / made)


@pytest.mark.parametrize("path", ["/", "/etc", "/var/lib", "/usr//", "/proc/self"])
def test_refuses_a_system_directory(module, capsys, path):
    result = run(module, capsys, directories=[{"path": path}])
    assert result["failed"] and path.rstrip("/") in result["msg"]


def test_refuses_a_link_to_a_system_directory(module, capsys, tmp_path):
    (tmp_path / "root").symlink_to("/etc")
    for state in ("present", "absent"):
        args = {"paths": [str(tmp_path / "root")], "state": state}
        result = run(module, capsys, **args)
        if state == "present":
            assert result["failed"] and "through a link: /etc" in result["msg"]
        else:
            assert result["kept"][0]["reason"].startswith("a symbolic link")
    assert (tmp_path / "root").is_symlink()


def test_purge_removes_only_marked_directories_and_says_why_it_left_the_rest(
    module, capsys, tmp_path
):
    made = tmp_path / "stack"
    run(module, capsys, paths=[str(made / "ollama" / "models")])
    (made / "ollama" / "models" / "blob").write_text("x")
    before = tmp_path / "before"
    before.mkdir()
    (before / "precious").write_text("mine")
    copied = tmp_path / "copy"  # a backup holding a copy of the marker
    copied.mkdir()
    (copied / ".local-llm-stack").write_text((made / ".local-llm-stack").read_text())

    paths = [str(made / "ollama" / "models"), str(before), str(copied), str(made)]
    result = run(module, capsys, check=True, state="absent", paths=paths)
    assert result["changed_paths"] == [str(made / "ollama" / "models"), str(made)]
    assert made.exists()

    result = run(module, capsys, state="absent", paths=paths)
    assert result["changed"] and not made.exists()
    assert (before / "precious").read_text() == "mine" and copied.exists()
    reasons = {k["path"]: k["reason"] for k in result["kept"]}
    assert set(reasons) == {str(before), str(copied)}
    assert all("no marker" in reason for reason in reasons.values())
    assert run(module, capsys, state="absent", paths=paths)["changed"] is False


def test_purge_keeps_a_marked_directory_holding_one_that_is_kept(module, capsys, tmp_path):
    root = tmp_path / "stack"
    run(module, capsys, paths=[str(root)])
    (root / "models").mkdir()  # made by someone else, listed as data
    result = run(module, capsys, state="absent", paths=[str(root / "models"), str(root)])
    assert not result["changed"] and root.exists()
    reason = f"holds {root / 'models'}, which is kept"
    assert result["kept"][1] == {"path": str(root), "reason": reason}


def test_a_root_listed_with_a_kept_directory_inside_it_is_kept(module, capsys, tmp_path):
    """The uninstall's second call (the stack root) lists the services' directories again:
    one kept by the first call (no marker) keeps the root too."""
    root = tmp_path / "stack"
    run(module, capsys, paths=[str(root / "ollama")])
    mine = root / "ollama" / "models-big"  # ollama_models_dir pointed at the user's own
    mine.mkdir()
    (mine / "model").write_text("precious")
    first = run(module, capsys, state="absent", paths=[str(mine)])
    assert first["kept"][0]["path"] == str(mine)
    second = run(module, capsys, state="absent", paths=[str(mine), str(root / "ollama"), str(root)])
    assert not second["changed"] and (mine / "model").read_text() == "precious"
    assert {k["path"] for k in second["kept"]} == {str(mine), str(root / "ollama"), str(root)}


def test_a_bind_mount_inside_keeps_the_directory(module, capsys, tmp_path):
    root = tmp_path / "stack"
    run(module, capsys, paths=[str(root / "data")])
    source = tmp_path / "elsewhere"
    source.mkdir()
    (source / "keep").write_text("x")
    mounted = subprocess.run(
        ["mount", "--bind", str(source), str(root / "data")], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("mount --bind needs root: " + mounted.stderr.decode().strip())
    try:
        result = run(module, capsys, state="absent", paths=[str(root)])
        assert not result["changed"]
        assert result["kept"][0]["reason"] == f"holds a mount point ({root / 'data'})"
    finally:
        subprocess.run(["umount", str(root / "data")], check=True)
    assert (source / "keep").read_text() == "x"


def test_a_link_may_not_lead_where_the_path_could_not_be_written(module, capsys, tmp_path):
    (tmp_path / "llm").symlink_to("/etc/ssh")
    result = run(module, capsys, check=True, paths=[str(tmp_path / "llm")])
    assert result["failed"] and "through a link: /etc/ssh" in result["msg"]
    # A setting templated into the system's trees is refused on the host too...
    for path in ("/etc/ssh", "/var/lib/dpkg", "/home/alice"):
        assert run(module, capsys, check=True, paths=[path])["failed"], path
    # ...but not a role's own fixed place there (the gateway's).
    assert "failed" not in run(module, capsys, check=True, paths=["/etc/haproxy/llm/certs"])
