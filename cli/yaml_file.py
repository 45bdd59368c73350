"""The collection's own YAML files (the registry, the roles' declarations), read strictly:
a mistake in one is one line naming the file and the line, never a traceback, and a key
written twice is refused rather than the second one silently winning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cli.errors import LlmError


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_mapping(path: Path, whose: str = "the collection's") -> dict[Any, Any]:
    """The file's top-level mapping ({} for an empty file)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise LlmError(f"{whose} {path} cannot be read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LlmError(f"{whose} {path} is not valid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LlmError(f"{whose} {path} must hold a mapping, not a {type(data).__name__}")
    return data
