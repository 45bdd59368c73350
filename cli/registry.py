"""The stack's modules and services, as the collection declares them.

One source: the modules in ``playbooks/vars/modules.yml`` and the services in
each role's ``vars/main.yml`` (``<role>_services``). The decisions (which
modules are enabled, which roles run services) come from the collection's own
``plugins/module_utils/stack_services.py``, loaded by path, so `llm` and the
playbooks cannot disagree.
"""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from cli import collection
from cli.errors import LlmError


@dataclass(frozen=True)
class Service:
    name: str
    role: str
    module: str
    group: str


@dataclass(frozen=True)
class Module:
    name: str
    description: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    optional: bool
    default: bool
    requires: tuple[str, ...]  # modules that must be enabled with it
    available: bool  # every role is in the collection
    services: tuple[Service, ...]


def _roles_dir() -> Path:
    return collection.roles()


@lru_cache(maxsize=1)
def logic() -> ModuleType:
    """plugins/module_utils/stack_services.py, the code the playbooks' filters run."""
    path = collection.root() / "plugins" / "module_utils" / "stack_services.py"
    spec = importlib.util.spec_from_file_location("_llm_stack_services", path)
    if spec is None or spec.loader is None:
        raise LlmError(f"{path} is missing from the collection")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml(path: Path) -> dict[str, Any]:
    from cli.yaml_file import load_mapping

    return load_mapping(path)


@lru_cache(maxsize=1)
def raw_registry() -> dict[str, dict[str, Any]]:
    """llm_module_registry as the playbooks see it, its shape checked (validate_registry)."""
    path = collection.root() / "playbooks" / "vars" / "modules.yml"
    registry = dict(_yaml(path).get("llm_module_registry") or {})
    try:
        logic().validate_registry(registry)
    except logic().RegistryError as exc:
        raise LlmError(f"{path}: {exc}", "docs/modules.md says what each key holds") from None
    return registry


def _declared_services(role: str) -> dict[str, dict[str, Any]]:
    path = _roles_dir() / role / "vars" / "main.yml"
    if not path.is_file():
        return {}
    return dict(_yaml(path).get(f"{role}_services") or {})


@lru_cache(maxsize=1)
def modules() -> dict[str, Module]:
    """Every module, in install order."""
    roles_dir = str(_roles_dir())
    out = {}
    for name, spec in raw_registry().items():
        roles = tuple(spec.get("roles") or ())
        services = tuple(
            Service(service, role, name, str(declared.get("group", "")))
            for role in roles
            for service, declared in _declared_services(role).items()
        )
        out[name] = Module(
            name=name,
            description=str(spec.get("description", "")),
            roles=roles,
            groups=tuple(spec.get("groups") or ()),
            optional=bool(spec.get("optional", False)),
            default=bool(spec.get("default", False)),
            requires=tuple(spec.get("requires") or ()),
            available=logic().module_available(spec, roles_dir),
            services=services,
        )
    return out


def module(name: str) -> Module:
    """The module called name, or a one-line error naming the closest one."""
    known = modules()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"did you mean {close[0]}?" if close else f"modules: {', '.join(known)}"
        raise LlmError(f"unknown module {name!r}", hint)
    return known[name]


def missing_roles(module: Module) -> list[str]:
    return [r for r in module.roles if not logic().role_present(r, str(_roles_dir()))]


def services() -> dict[str, Service]:
    """Every service any module's roles declare, in start order."""
    return {s.name: s for m in modules().values() for s in m.services}


def stack_groups() -> tuple[str, ...]:
    """Every group a module deploys on, in registry order: their hosts are the stack's
    (the playbooks' _llm_stack_groups: the same function)."""
    return tuple(logic().stack_groups(raw_registry()))


def optional_modules() -> list[str]:
    return [m.name for m in modules().values() if m.optional]


def not_under_mitogen(chosen: list[str] | None) -> list[str]:
    """Why the enabled modules' roles cannot run under Mitogen (their not_under_mitogen)."""
    known = raw_registry()
    return [
        why for name in enabled(chosen) for why in known[name].get("not_under_mitogen", {}).values()
    ]


def enabled(chosen: list[str] | None, requires: bool = True) -> list[str]:
    """The modules an install deploys for this llm_modules value (None: unset);
    requires=False: without checking what each requires (to fix such a value)."""
    try:
        return list(logic().enabled_modules(raw_registry(), chosen, requires))
    except logic().RegistryError as exc:
        raise LlmError(str(exc), "fix llm_modules with 'llm modules enable|disable'") from None
