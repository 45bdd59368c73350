"""Find the Ansible collection `local_llm.stack` that ships with `llm`.

Installed from a wheel, the collection lies at ``cli/collection/`` inside the
package; in a checkout it is the repository root (``galaxy.yml`` beside
``cli/``). Ansible finds collections only under an ``ansible_collections/
<namespace>/<name>`` tree, so we link one into the stack's run directory and
put that on ``ANSIBLE_COLLECTIONS_PATH``.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

from cli import links
from cli.errors import LlmError

NAMESPACE = "local_llm"
NAME = "stack"
FQCN = f"{NAMESPACE}.{NAME}"

_PACKAGE_DIR = Path(__file__).resolve().parent


def root() -> Path:
    """The directory holding galaxy.yml, roles/, playbooks/ and plugins/."""
    for candidate in (_PACKAGE_DIR / "collection", _PACKAGE_DIR.parent):
        if (candidate / "galaxy.yml").is_file() and (candidate / "playbooks").is_dir():
            return candidate
    raise LlmError(
        "the local_llm.stack collection is missing from this installation",
        "reinstall with 'pip install --force-reinstall local-llm-stack'",
    )


def roles() -> Path:
    """The collection's roles directory."""
    return root() / "roles"


def playbook(name: str) -> Path:
    path = root() / "playbooks" / f"{name}.yml"
    if not path.is_file():
        raise LlmError(f"playbook {name} is missing from the collection at {root()}")
    return path


def link_into(base: Path) -> Path:
    """Make ``base/ansible_collections/local_llm/stack`` point at the collection.

    Returns ``base``, the value for ANSIBLE_COLLECTIONS_PATH. The link is
    refreshed when it points elsewhere (after an upgrade, or another checkout).
    """
    links.point(base / "ansible_collections" / NAMESPACE / NAME, root())
    return base


@cache
def module_utils(name: str) -> ModuleType:
    """One of the collection's plain-Python module_utils, loaded by its path, so the
    CLI and the hosts apply the same rules (model names, settings)."""
    path = root() / "plugins" / "module_utils" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_llm_module_utils_{name}", path)
    if spec is None or spec.loader is None:
        raise LlmError(f"cannot read {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
