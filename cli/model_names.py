"""Ollama model names, checked with the collection's own rule before Ansible runs."""

from __future__ import annotations

from cli import collection
from cli.errors import LlmError


def check(names: tuple[str, ...] | list[str]) -> list[str]:
    """The names, de-duplicated, or a one-line error naming the first bad one."""
    rules = collection.module_utils("ollama")
    for name in names:
        if not rules.valid_model_name(name):
            raise LlmError(
                f"{name!r} is not a valid Ollama model name",
                "expected model[:tag] (e.g. llama3.2, qwen2.5:7b, namespace/model:tag)",
            )
    return list(dict.fromkeys(names))
