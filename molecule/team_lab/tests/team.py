"""What the team lab's tests share about this lab (molecule.yml): its Ollama hosts, and
its status and models as `llm` reports them."""

from __future__ import annotations

import json

from lab import llm

# gpu-01 the hub, gpu-02 with overridden places and ports and a second model. Three
# light ones (gpu-03 to gpu-05, the defaults) are in no stack group: only the model
# copy's tests install and use them (test_model_copy.py).
OLLAMA_HOSTS = ("gpu-01", "gpu-02")


def status() -> tuple[int, dict]:
    result = llm("status", "--json")
    return result.returncode, json.loads(result.stdout)


def models() -> dict[str, dict[str, int]]:
    result = llm("models", "list", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)
