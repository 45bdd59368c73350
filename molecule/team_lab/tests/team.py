"""What the team lab's tests share about this lab (molecule.yml): its Ollama hosts, and
its status and models as `llm` reports them."""

from __future__ import annotations

import json
import os
import urllib.request

from lab import llm

# gpu-01 the hub, gpu-02 with overridden places and ports and a second model. Three
# light ones (gpu-03 to gpu-05, the defaults) are in no stack group: only the model
# copy's tests install and use them (test_model_copy.py).
OLLAMA_HOSTS = ("gpu-01", "gpu-02")
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
