"""What the team lab's tests share about this lab (molecule.yml): its Ollama hosts, the
room's inventory, the security module's state, and its status and models as `llm` reports
them."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import yaml
from lab import INVENTORY, STACK, llm

# gpu-01 the hub, gpu-02 with overridden places and ports and a second model. Three
# light ones (gpu-03 to gpu-05, the defaults) are in no stack group: only the model
# copy's tests install and use them (test_model_copy.py).
OLLAMA_HOSTS = ("gpu-01", "gpu-02")
LIGHT = ("gpu-03", "gpu-04", "gpu-05")
ROOM_INVENTORY = STACK.parent / "room-inventory"
# The fake model registry (tests/standins/registry), on the Docker bridge.
UPSTREAM = f"http://172.17.0.1:{os.environ.get('LLM_TEST_MODEL_REGISTRY_PORT', '5055')}"


def status() -> tuple[int, dict]:
    result = llm("status", "--json")
    return result.returncode, json.loads(result.stdout)


def models() -> dict[str, dict[str, int]]:
    result = llm("models", "list", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def upstream(path: str, body: dict | None = None) -> dict:
    """A request to the fake model registry (its /standin/ API counts what it served)."""
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(
        urllib.request.Request(UPSTREAM + path, data=data), timeout=10
    ) as r:
        return json.loads(r.read() or b"{}")


def spec(name: str) -> dict:
    """The registry's spec of a model: its size and its blobs' digests."""
    return upstream("/standin/models")[f"library/{name}" + ("" if ":" in name else ":latest")]


def room_inventory() -> str:
    """The room's inventory: the lab's own (its file and variables, linked) and a file that
    adds the light hosts to llm_ollama after gpu-01 and gpu-02 (so gpu-01 stays the hub),
    as converge.yml installed them."""
    ROOM_INVENTORY.mkdir(exist_ok=True)
    lab = Path(INVENTORY).parent
    for name in ("ansible_inventory.yml", "group_vars", "host_vars"):
        link = ROOM_INVENTORY / name
        if not link.is_symlink():
            link.symlink_to(lab / name)
    light = "\n".join(f"    {host}:" for host in LIGHT)
    (ROOM_INVENTORY / "room.yml").write_text(f"llm_ollama:\n  hosts:\n{light}\n")
    return str(ROOM_INVENTORY)


def security_enabled() -> bool:
    """Whether the lab's config.yml has the security module on (converge.yml installs it so)."""
    config = yaml.safe_load((STACK / "config.yml").read_text()) or {}
    return "security" in (config.get("llm_modules") or [])


def unsecure(force: bool = False) -> None:
    """The core stack, as every test file but test_security.py expects it: the module
    disabled and installed away on every host converge.yml gave it (the lab's; the light
    hosts never had it)
    (force: installed again even where config.yml says it is off, after a disabling install
    that may have failed part-way)."""
    if security_enabled():
        disabled = llm("modules", "disable", "security", inventory=None)
        assert disabled.returncode == 0, disabled.stdout + disabled.stderr
    elif not force:
        return
    # The lab's hosts as every other file's `llm` sees them: LibreChat offers gpu-01 and
    # gpu-02 again, not the light hosts converge.yml added (which it left unsecured).
    install = llm("install")
    assert install.returncode == 0, install.stdout[-4000:] + install.stderr
