"""The several-files-in-one-run module (local_llm.stack.files) on this machine, in scratch
paths: what a re-run changes, check mode, a file its check refuses, a missing directory."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import run_collection_module

OWNER = {"owner": str(os.getuid()), "group": str(os.getgid())}


def entry(path: Path, content: str, **extra: object) -> dict:
    return {"path": str(path), "content": content, **OWNER, **extra}


def test_a_second_run_changes_nothing_and_a_mode_alone_is_a_change(collections_dir, tmp_path):
    files = [entry(tmp_path / "a.conf", "a\n"), entry(tmp_path / "b.env", "B=1\n", mode="0600")]
    rc, first = run_collection_module(collections_dir, "files", files=files)
    assert rc == 0 and first["written"] == [str(tmp_path / "a.conf"), str(tmp_path / "b.env")]
    assert oct((tmp_path / "b.env").stat().st_mode & 0o777) == "0o600"
    rc, again = run_collection_module(collections_dir, "files", files=files)
    assert rc == 0 and again["changed"] is False and again["written"] == [], again
    (tmp_path / "a.conf").chmod(0o600)
    rc, mode = run_collection_module(collections_dir, "files", files=files)
    assert mode["written"] == [str(tmp_path / "a.conf")], mode
    assert oct((tmp_path / "a.conf").stat().st_mode & 0o777) == "0o644"


def test_check_mode_reports_and_writes_nothing(collections_dir, tmp_path):
    (tmp_path / "old").write_text("old\n")
    files = [entry(tmp_path / "old", "new\n"), entry(tmp_path / "sub" / "new", "x\n")]
    rc, result = run_collection_module(
        collections_dir, "files", check="1", files=files, make_parents=True
    )
    assert rc == 0 and len(result["written"]) == 2, result
    assert (tmp_path / "old").read_text() == "old\n" and not (tmp_path / "sub").exists()


def test_a_file_its_check_refuses_is_not_written_and_the_run_stops(collections_dir, tmp_path):
    (tmp_path / "b").write_text("kept\n")
    files = [
        entry(tmp_path / "a", "fine\n"),
        entry(tmp_path / "b", "bad\n", validate="grep -q fine %s"),
        entry(tmp_path / "c", "never\n"),
    ]
    rc, result = run_collection_module(collections_dir, "files", files=files)
    assert rc != 0 and f"{tmp_path / 'b'} was not written" in result["msg"], result
    assert result["written"] == [str(tmp_path / "a")]
    assert (tmp_path / "b").read_text() == "kept\n" and not (tmp_path / "c").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary file left


def test_a_missing_directory_is_named(collections_dir, tmp_path):
    rc, result = run_collection_module(
        collections_dir, "files", files=[entry(tmp_path / "none" / "f", "x\n")]
    )
    assert rc != 0 and "its directory does not exist" in result["msg"], result
    # In check mode the task that makes it did not run either: the file would be written.
    rc, result = run_collection_module(
        collections_dir, "files", check="1", files=[entry(tmp_path / "none" / "f", "x\n")]
    )
    assert rc == 0 and result["written"] == [str(tmp_path / "none" / "f")], result
    assert not (tmp_path / "none").exists()


def test_directories_and_files_in_one_run_and_check_mode_plans_both(collections_dir, tmp_path):
    """A concern's directories and files in one round trip (issue 19): the directories first
    (the stack's marker in each it makes), then the files in them; in check mode a file in
    a directory still to be made is reported, nothing is made."""
    home = tmp_path / "app"
    dirs = [{"path": str(home), "mode": "0750", **OWNER}, {"path": str(home / "logs")}]
    files = [entry(home / ".env", "K=v\n", mode="0600")]
    rc, planned = run_collection_module(
        collections_dir, "files", check="1", directories=dirs, files=files
    )
    assert rc == 0 and planned["changed"] is True, planned
    assert planned["directories"] == [str(home), str(home / "logs")]
    assert planned["written"] == [str(home / ".env")] and not home.exists()
    rc, first = run_collection_module(collections_dir, "files", directories=dirs, files=files)
    assert rc == 0 and first["directories"] == [str(home), str(home / "logs")], first
    assert (home / ".env").read_text() == "K=v\n" and (home / ".local-llm-stack").is_file()
    assert oct(home.stat().st_mode & 0o777) == "0o750"
    rc, again = run_collection_module(collections_dir, "files", directories=dirs, files=files)
    assert rc == 0 and again["changed"] is False, again
    assert again["directories"] == [] and again["written"] == []


def test_a_file_not_forced_is_written_once_and_then_left_as_it_is(collections_dir, tmp_path):
    """force=false (the gateway's ACME challenge map, which the ACME tasks fill in): written
    where there is none, then neither its content nor its mode is touched."""
    files = [entry(tmp_path / "acme.map", "# header\n", mode="0640", force=False)]
    rc, first = run_collection_module(collections_dir, "files", files=files)
    assert rc == 0 and first["written"] == [str(tmp_path / "acme.map")], first
    (tmp_path / "acme.map").write_text("# header\ntoken answer\n")
    (tmp_path / "acme.map").chmod(0o600)
    rc, again = run_collection_module(collections_dir, "files", files=files)
    assert rc == 0 and again["changed"] is False, again
    assert (tmp_path / "acme.map").read_text() == "# header\ntoken answer\n"
    assert oct((tmp_path / "acme.map").stat().st_mode & 0o777) == "0o600"


def test_a_file_where_a_parent_directory_should_be_is_named(collections_dir, tmp_path):
    (tmp_path / "etc").write_text("not a directory\n")
    rc, result = run_collection_module(
        collections_dir, "files", make_parents=True,
        files=[entry(tmp_path / "etc" / "facts.d" / "x.fact", "{}\n")],
    )  # fmt: skip
    assert rc != 0 and f"{tmp_path / 'etc'} is not a directory" in result["msg"], result
