# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The stack's modules and services: pure logic shared by the playbooks (as
filters) and by `llm` (loaded from the collection by path, so the CLI and
Ansible decide the same way).

A module (playbooks/vars/modules.yml) is a set of roles; a role that runs
services declares them as <role>_services in its vars/main.yml and publishes
them with tasks/services.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The collection's roles/ beside plugins/ (this file is plugins/module_utils/).
ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")


class RegistryError(ValueError):
    pass


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(value):
    return isinstance(value, list) and all(isinstance(v, str) and _NAME.match(v) for v in value)


def validate_registry(registry):
    """The registry's shape (docs/modules.md): each module a mapping; roles, groups,
    containers_on and requires lists of names; runs_on, runs_if, stages and sets mappings
    about its own roles; stages known; requires naming other modules, without a cycle."""
    if not isinstance(registry, dict):
        raise RegistryError("llm_module_registry must map module names to their entries")
    for name, module in registry.items():
        if not isinstance(module, dict):
            raise RegistryError("module %s must be a mapping of its keys" % name)
        for key in ("roles", "groups", "containers_on", "requires"):
            if not _names(module.get(key, [])):
                raise RegistryError(
                    "module %s: %s must be a list of names, not %r" % (name, key, module.get(key))
                )
        for key in ("runs_on", "runs_if", "stages", "sets", "not_under_mitogen"):
            if not isinstance(module.get(key, {}), dict):
                raise RegistryError("module %s: %s must be a mapping" % (name, key))
        for key in ("runs_on", "runs_if", "stages", "not_under_mitogen"):
            strangers = sorted(set(module.get(key, {})) - set(module.get("roles", [])))
            if strangers:
                raise RegistryError(
                    "module %s: %s names %s, not one of its roles"
                    % (name, key, ", ".join(strangers))
                )
        for role, why in module.get("not_under_mitogen", {}).items():
            if not isinstance(why, str) or not why.strip():
                raise RegistryError(
                    "module %s: not_under_mitogen.%s must say why, in words" % (name, role)
                )
        for role, groups in module.get("runs_on", {}).items():
            if not _names(groups):
                raise RegistryError("module %s: runs_on.%s must be a list of groups" % (name, role))
        for role in module.get("stages", {}):
            role_stage(module, role)
        defaults = module.get("group_defaults", {})
        if not isinstance(defaults, dict) or not _names(list(defaults.values())):
            raise RegistryError("module %s: group_defaults must map groups to groups" % name)
        strangers = sorted(set(defaults) - set(module.get("groups", [])))
        if strangers:
            raise RegistryError(
                "module %s: group_defaults names %s, not one of its groups"
                % (name, ", ".join(strangers))
            )
        for needed in module.get("requires", []):
            if needed not in registry or needed == name:
                raise RegistryError(
                    "module %s requires %r, which is %s"
                    % (name, needed, "itself" if needed == name else "not a module")
                )

    def visit(name, path):
        for needed in registry[name].get("requires", []):
            if needed in path:
                raise RegistryError("modules require each other: %s" % " -> ".join([*path, needed]))
            visit(needed, [*path, needed])

    for name in registry:
        visit(name, [name])


def enabled_modules(registry, chosen, requires=True):
    """Module names deployed: the required ones, plus `chosen` (llm_modules) or,
    when it is None, those enabled by default. Registry order. requires=False skips
    the check that each module's required modules are among them."""
    validate_registry(registry)
    if chosen is not None and not (
        isinstance(chosen, (list, tuple)) and all(isinstance(m, str) for m in chosen)
    ):
        raise RegistryError("llm_modules must be a list of module names, not %r" % (chosen,))
    unknown = sorted(set(chosen or []) - set(registry))
    if unknown:
        raise RegistryError(
            "llm_modules names unknown module(s) %s: modules are %s"
            % (", ".join(unknown), ", ".join(registry))
        )

    def wanted(name, module):
        if not module.get("optional", False):
            return True
        return module.get("default", False) if chosen is None else name in chosen

    out = [name for name, module in registry.items() if wanted(name, module)]
    for name in out if requires else []:
        missing = [m for m in registry[name].get("requires") or [] if m not in out]
        if missing:
            raise RegistryError(
                "module %s requires %s, which llm_modules leaves off: enable it too "
                "('llm modules enable %s')" % (name, ", ".join(missing), missing[0])
            )
    return out


def role_present(role, roles_dir=ROLES_DIR):
    return os.path.isdir(os.path.join(roles_dir, role, "tasks"))


def role_has_services(role, roles_dir=ROLES_DIR):
    return os.path.isfile(os.path.join(roles_dir, role, "tasks", "services.yml"))


def module_available(module, roles_dir=ROLES_DIR):
    """Every role of the module is in the collection."""
    return all(role_present(role, roles_dir) for role in module.get("roles", []))


def service_roles(registry, modules, roles_dir=ROLES_DIR):
    """Roles of these modules that run services and are in the collection, in start order."""
    out = []
    for name, module in registry.items():
        if name not in modules:
            continue
        for role in module.get("roles", []):
            if role not in out and role_has_services(role, roles_dir):
                out.append(role)
    return out


# A role placed on this group runs on every stack host (the firewall).
EVERY_STACK_HOST = "llm_stack"


def role_groups(module, role):
    """The groups a module's role runs on: its `runs_on` entry, else the module's groups."""
    return list((module.get("runs_on") or {}).get(role) or module.get("groups") or [])


# The install's stages, in order (playbooks/install.yml runs one play per stage): a
# role's `stages` entry in its module, else the default. Roles of one stage must not
# need each other across hosts; on one host they run in registry order.
STAGES = ("drivers", "models", "front", "apps", "lockdown")
DEFAULT_STAGE = "apps"


def role_stage(module, role):
    """The install stage a module's role runs in."""
    stage = (module.get("stages") or {}).get(role, DEFAULT_STAGE)
    if stage not in STAGES:
        known = ", ".join(STAGES)
        raise RegistryError("role %s: unknown stage %r (stages: %s)" % (role, stage, known))
    return stage


def _enabled_roles(registry, modules):
    """(module, role) for each role of these modules, in registry order, once each."""
    seen = set()
    for name, module in registry.items():
        if name not in modules:
            continue
        for role in module.get("roles", []):
            if role not in seen:
                seen.add(role)
                yield module, role


def host_roles(registry, modules, group_names):
    """Roles of these modules, in registry order, that run on a host in group_names."""
    here = set(group_names or []) | {EVERY_STACK_HOST}
    return [
        role
        for module, role in _enabled_roles(registry, modules)
        if here & set(role_groups(module, role))
    ]


def stack_groups(registry):
    """Every group a module deploys on, in registry order: their hosts are the stack's."""
    return list(dict.fromkeys(g for m in registry.values() for g in m.get("groups") or []))


def group_defaults(registry):
    """{group: the group whose hosts it takes when the inventory leaves it empty}, from the
    modules' `group_defaults` (monitoring's llm_monitoring: the chat host)."""
    out = {}
    for module in registry.values():
        out.update(module.get("group_defaults") or {})
    return out


def inventory_groups(registry, modules, groups):
    """What the inventory `llm` generates beside the user's defines (cli/runner.py), from
    the user's inventory (`groups`: name -> hosts, in its order): llm_stack, every stack
    host (in the order of the stack-wide plays' pattern), and each defaulted group of these
    (enabled) modules that the inventory leaves empty, with its default's hosts. Flat host
    lists, not children, so no group gets deeper and the precedence of the user's group
    variables stays as it was."""

    def listed(names):
        return dict((h, None) for g in names for h in groups.get(g) or [])

    out = {EVERY_STACK_HOST: {"hosts": listed(stack_groups(registry))}}
    for name, module in registry.items():
        if name not in modules:
            continue
        for group, default in (module.get("group_defaults") or {}).items():
            if not groups.get(group) and groups.get(default):
                out[group] = {"hosts": listed([default])}
    return out


def role_hosts(registry, role, groups):
    """The inventory's hosts that a role runs on (the groups its module places it on;
    llm_stack: every stack host), from `groups` (Ansible's)."""
    everywhere = stack_groups(registry)
    out = []
    for module in registry.values():
        if role not in module.get("roles", []):
            continue
        for group in role_groups(module, role):
            chosen = everywhere if group == EVERY_STACK_HOST else [group]
            out += [h for g in chosen for h in groups.get(g, [])]
    return list(dict.fromkeys(out))


def stage_roles(registry, modules, stage, roles_dir=ROLES_DIR):
    """Roles of these modules that are in the collection and run in this install stage,
    in registry order: the same list on every host (each host runs those of host_roles)."""
    return [
        role
        for module, role in _enabled_roles(registry, modules)
        if role_stage(module, role) == stage and role_present(role, roles_dir)
    ]


def _holds(condition):
    """A runs_if condition as Ansible templated it for the host (a bool, or its text)."""
    if isinstance(condition, str):
        return condition.strip().lower() in ("true", "yes", "on", "1")
    return bool(condition)


def host_stages(registry, modules, host_roles, runs_if=None, roles_dir=ROLES_DIR):
    """The install stages a host takes part in, in order: those of its roles (host_roles)
    that are in the collection and whose condition (runs_if, templated for the host: a GPU
    found) holds. install.yml groups each host by them, so a stage's play runs only on the
    hosts with something to do in it (a play costs every host in it a few steps)."""
    conditions = runs_if or {}
    placed = set(host_roles or [])
    stages = set()
    for module, role in _enabled_roles(registry, modules):
        if role in placed and role_present(role, roles_dir) and _holds(conditions.get(role, True)):
            stages.add(role_stage(module, role))
    return [stage for stage in STAGES if stage in stages]


def role_modules(registry):
    """{role: module} for every role of the registry (a role's tasks are tagged with both)."""
    out = {}
    for name, module in registry.items():
        for role in module.get("roles", []):
            out.setdefault(role, name)
    return out


def roles_with(roles, task_file, roles_dir=ROLES_DIR):
    """Those of the roles that have tasks/<task_file> (preflight.yml, uninstall.yml)."""
    return [r for r in roles if os.path.isfile(os.path.join(roles_dir, r, "tasks", task_file))]


def role_checks(registry, modules, group_names, roles_dir=ROLES_DIR):
    """Roles of these modules, in registry order, that have a tasks/preflight.yml and
    run on one of group_names: the checks install.yml's first play runs on a host."""
    return roles_with(host_roles(registry, modules, group_names), "preflight.yml", roles_dir)


def module_settings(registry, modules):
    """What the enabled modules set for other modules' roles (each module's `sets`),
    merged in registry order: the only way one module changes another's role."""
    out = {}
    for name, module in registry.items():
        if name in modules:
            out.update(module.get("sets") or {})
    return out


def container_groups(registry, modules):
    """Groups whose hosts run containers for these modules (each module's `containers_on`):
    where the container runtime is installed."""
    out = []
    for name, module in registry.items():
        if name in modules:
            out += [g for g in module.get("containers_on") or [] if g not in out]
    return out


def _switched_off(service):
    """`enabled` (optional, templated by the role): false for a service the role's
    settings leave out on this host (the model seed of a lab with one Ollama host)."""
    value = service.get("enabled", True)
    if isinstance(value, str):
        return value.strip().lower() in ("false", "no", "off", "0", "")
    return not value


def host_services(declared, role, group_names):
    """The role's declared services whose group this host is in (and that its settings
    do not switch off), each with its name and role."""
    out = {}
    for name, service in (declared or {}).items():
        if service.get("group") in group_names and not _switched_off(service):
            entry = dict(service)
            # unit: a systemd service (a distribution package) instead of a container;
            # clients: who may reach its ports (the firewall's rules).
            entry.setdefault("unit", "")
            entry.setdefault("clients", [])
            entry.update(name=name, role=role)
            out[name] = entry
    return out


def merge_services(per_role):
    """One {service: declaration} from each role's host_services, in the roles' order."""
    out = {}
    for services in per_role:
        for name, service in (services or {}).items():
            if name in out:
                raise RegistryError(
                    "service %s is declared by both the %s and the %s role"
                    % (name, out[name].get("role"), service.get("role"))
                )
            out[name] = service
    return out


def ordered_services(services, names=None, reverse=False):
    """The host's services (all, or those named) in start order, or stop order."""
    chosen = [s for n, s in (services or {}).items() if not names or n in names]
    return list(reversed(chosen)) if reverse else chosen


def service_ports(services):
    """{port: [services]} for every port the host's services publish (two services on
    one port is a mistake preflight reports)."""
    out = {}
    for name, service in (services or {}).items():
        for port in service.get("ports") or []:
            out.setdefault(int(port), []).append(name)
    return out


def service_units(services):
    """The systemd units of a host's services (those run by their unit, not in a container:
    HAProxy, the model seed), for preflight's probe to read their state."""
    return sorted(
        {str(s["unit"]) for s in (services or {}).values() if isinstance(s, dict) and s.get("unit")}
    )


def port_clashes(service_ports):
    """'3080 (librechat, ollama)' for each port more than one service wants."""
    return [
        "%s (%s)" % (port, ", ".join(names))
        for port, names in sorted((int(k), v) for k, v in (service_ports or {}).items())
        if isinstance(names, list) and len(names) > 1
    ]


def host_address(hostvars, host, setting=None):
    """How the other hosts of the lab reach host: its `setting` (ollama_advertise_address)
    where its inventory gives one, else the address of its default route (its facts), else
    its ansible_host, else its name. The one place this is decided (the gateway's backends,
    LibreChat's endpoints and gateway URL)."""
    hv = hostvars[host]
    if setting and setting in hv:
        return hv[setting]
    facts = hv.get("ansible_facts") or {}
    route = facts.get("default_ipv4") or {}
    if route.get("address"):
        return route["address"]
    return hv.get("ansible_host") or host


def chat_ollama_hosts(
    chat_host, groups, scope="auto", ollama_group="llm_ollama", chat_group="llm_chat"
):
    """The Ollama hosts a chat host's LibreChat offers (the librechat role's
    librechat_ollama_scope): "all", the hosts of ollama_group; "own", only itself;
    "auto", own when the chat hosts and the Ollama hosts are the same machines (a
    classroom of all-in-one PCs, where each PC's chat uses its own Ollama), else all.
    Written once: the librechat role makes its endpoints from it, the ollama role
    decides from it whom to listen to."""
    ollama = list((groups or {}).get(ollama_group) or [])
    chat = list((groups or {}).get(chat_group) or [])
    if scope not in ("auto", "own", "all"):
        raise RegistryError("librechat_ollama_scope must be auto, own or all, not %r" % (scope,))
    if scope == "auto":
        scope = "own" if chat_host in ollama and set(chat) == set(ollama) else "all"
    return [chat_host] if scope == "own" else ollama


def role_default(role, name, roles_dir=ROLES_DIR):
    """A role's default for a setting (its defaults/main.yml), as written there: what
    a host that does not set it has, read where that host's role defaults are not in
    hostvars (a play on other hosts, a --limit run)."""
    import yaml  # controller side only: a filter's helper

    path = os.path.join(roles_dir, role, "defaults", "main.yml")
    try:
        with open(path) as handle:
            defaults = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise RegistryError("cannot read %s's defaults (%s): %s" % (role, path, exc)) from None
    if name not in defaults:
        raise RegistryError("role %s has no default for %s (%s)" % (role, name, path))
    return defaults[name]


def lab_setting(hosts, hostvars, name, role, roles_dir=ROLES_DIR):
    """Each host's value of a role's setting: its inventory's, else the role's default.
    From the inventory, so a --limit run sees every host of the lab, not only its own."""
    default = None
    out = []
    for host in hosts or []:
        variables = hostvars[host]
        if name in variables:
            out.append(variables[name])
            continue
        if default is None:
            default = role_default(role, name, roles_dir)
        out.append(default)
    return out
