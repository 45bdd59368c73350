"""Ollama model names, checked with the collection's own rule before Ansible runs."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from cli import collection
from cli.errors import LlmError


def _rules() -> ModuleType:
    # The collection's module_utils/ollama.py is plain Python: load it by path,
    # so the CLI and the hosts apply one rule.
    path = collection.root() / "plugins" / "module_utils" / "ollama.py"
    spec = importlib.util.spec_from_file_location("_llm_ollama_rules", path)
    if spec is None or spec.loader is None:
        raise LlmError(f"cannot read {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(names: tuple[str, ...] | list[str]) -> list[str]:
    """The names, de-duplicated, or a one-line error naming the first bad one."""
    rules = _rules()
    for name in names:
        if not rules.valid_model_name(name):
            raise LlmError(
                f"{name!r} is not a valid Ollama model name",
                "expected model[:tag] (e.g. llama3.2, qwen2.5:7b, namespace/model:tag)",
            )
    return list(dict.fromkeys(names))
