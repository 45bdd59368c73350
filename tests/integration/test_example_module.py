"""A module added in one place: its role and one registry entry, nothing else.

The product is copied into a scratch directory with the example module of
docs/modules.md (tests/fixtures/example_module) added: the role (with its secret
in meta/secret_specs.yml) under roles/ and the entry in playbooks/vars/modules.yml.
Then, through that copy's `llm` and on this machine only in the module's own
group (so no other role runs here), the module is listed, enabled, checked,
installed where its stage and group put it, re-run without changes, and run
alone by its tag. It writes one file in a scratch directory: no service, no Docker.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "tests" / "fixtures" / "example_module"
PRODUCT = ("cli", "galaxy.yml", "inventories", "meta", "playbooks", "plugins", "roles")
LOCAL = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3"
# This machine is not what is under test: relax the host checks.
RELAXED = ("-e", "preflight_min_free_disk_gb=1", "-e", "preflight_min_memory_mb=1",
           "-e", "preflight_require_time_sync=false")  # fmt: skip


@pytest.fixture(scope="module")
def product(tmp_path_factory) -> Path:
    """The product with the example module added, as a developer would add it."""
    copy = tmp_path_factory.mktemp("product")
    for name in PRODUCT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    shutil.copytree(EXAMPLE / "roles" / "greeting", copy / "roles" / "greeting")
    registry = copy / "playbooks" / "vars" / "modules.yml"
    data = yaml.safe_load(registry.read_text())
    data["llm_module_registry"].update(yaml.safe_load((EXAMPLE / "registry.yml").read_text()))
    registry.write_text("---\n" + yaml.safe_dump(data, sort_keys=False))
    return copy


def llm(product: Path, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *map(str, args)],
        cwd=product,  # this copy's cli/ and, beside it, its collection
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_module_added_in_one_place_is_listed_enabled_checked_and_installed(
    product: Path, tmp_path: Path
):
    stack, out = tmp_path / "stack", tmp_path / "greeting"
    lab = tmp_path / "lab.ini"
    lab.write_text(f"[llm_greeting]\n{LOCAL}\n")
    assert llm(product, "init", "--dir", stack).returncode == 0
    at = ("--dir", stack, "-i", lab)
    # The default inventory (this machine in every module's group) has its group; its
    # secret, declared in its role's meta/secret_specs.yml, is made with the others.
    assert "[llm_greeting]\nlocalhost\n" in (stack / "inventory.ini").read_text()
    secrets = yaml.safe_load((stack / "secrets.yml").read_text())
    assert len(secrets["greeting_token"]) == 32 and secrets["mongodb_app_password"]

    listed = llm(product, "modules", "list", "--no-probe", "--json", *at)
    assert listed.returncode == 0, listed.stderr
    rows = {row["module"]: row for row in yaml.safe_load(listed.stdout)}
    assert rows["greeting"]["state"] == "disabled"
    assert rows["greeting"]["groups"] == {"llm_greeting": 1}

    enabled = llm(product, "modules", "enable", "greeting", *at)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    assert "greeting" in yaml.safe_load((stack / "config.yml").read_text())["llm_modules"]

    def install(*extra: str) -> subprocess.CompletedProcess:
        return llm(product, "install", *at, *RELAXED, "-e", f"greeting_dir={out}", *extra)

    # Its own check, in the install's first play: nothing is written.
    refused = install("-e", "greeting_text=")
    assert refused.returncode == 1, refused.stdout
    assert "greeting_text is empty on localhost" in refused.stdout + refused.stderr
    assert not out.exists()

    # Installed in its stage, on its group, with the value its entry sets; no other
    # module's role runs on this host (no Docker, no firewall, no Ollama).
    first = install()
    assert first.returncode == 0, first.stdout + first.stderr
    greeting = out / "greeting.txt"
    assert greeting.read_text() == (
        "Hello from the lab (set by the registry, apps stage, a token of 32 characters)\n"
    )
    assert _roles_deployed(stack) == {"greeting"}
    assert _changed(first.stdout) == 2  # the greeting's directory and file, nothing else

    again = install()
    assert again.returncode == 0, again.stdout
    assert _changed(again.stdout) == 0, again.stdout

    # Run alone by its module's tag (the role's tasks carry the role's and the module's name).
    greeting.unlink()
    tagged = install("--tags", "greeting", "-e", "greeting_text=Tagged")
    assert tagged.returncode == 0, tagged.stdout
    assert greeting.read_text().startswith("Tagged ")


def _changed(output: str) -> int:
    """The `changed` column of the recap table's row for localhost."""
    rows = [line for line in output.splitlines() if "localhost" in line and "│" in line]
    assert rows, output
    cells = [cell.strip() for cell in rows[-1].split("│")]
    return int(cells[4])  # '', host, result, ok, changed, ...


# What every stack host runs of other roles: each role's checks and declared services
# (read on the controller), and the firewall's look for rules to remove while the
# security module is off (it finds none here and changes nothing: see _changed).
READ_ONLY = ("preflight.yml", "services.yml", "uninstall.yml")


def _roles_deployed(stack: Path) -> set[str]:
    """The roles whose own tasks ran in the last run (from its events), but for READ_ONLY."""
    import json

    last = max((stack / "runs" / "artifacts").iterdir(), key=lambda p: p.stat().st_mtime)
    out = set()
    for path in (last / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        data = event.get("event_data", {})  # a plain output line ("verbose") has none
        where = data.get("task_path", "").rpartition("/roles/")[2].split(":")[0]
        role, _, task_file = where.partition("/tasks/")
        ours = role == data.get("role") != "preflight"
        if event["event"] == "runner_on_ok" and ours and task_file not in READ_ONLY:
            out.add(role)
    return out
