# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The rules every setting of the stack is held to, in one place.

The CLI applies them where a setting is set (``llm config set|edit|validate``,
``-e``), preflight to the inventory's host and group variables, and the
``directories`` module to every directory it makes or removes. Stricter than
Ansible's own conversion: a boolean is not an integer, a scalar is not a list,
a mapping is not a string.

Plain Python with no imports from Ansible or the collection: the CLI loads this
file by its path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re

# Variables of the whole stack (no role owns them); each role's own settings
# are in its meta/argument_specs.yml.
STACK_WIDE = {
    "llm_stack_root": {"type": "path", "description": "Where the stack lives on each host."},
    "llm_registry": {"type": "str", "description": "A lab registry mirror for every image."},
    "llm_allow_reboot": {"type": "bool", "description": "Let GPU hosts reboot for a new driver."},
    "llm_modules": {
        "type": "list",
        "elements": "str",
        "description": "Optional modules to deploy ('llm modules enable|disable' sets it).",
    },
    "llm_forks": {
        "type": "int",
        "description": "Hosts each llm command works on at once (default: one per host, 5 to 50).",
    },
    "llm_mitogen": {
        "type": "bool",
        "description": "Run Ansible with Mitogen: no-op re-runs 2.4x faster (docs/performance.md).",
    },
}

# Settings naming a directory the stack makes on each host (and that
# `llm uninstall --purge` may delete): absolute, and never a system directory.
HOST_DIRECTORY_SETTINGS = (
    "llm_stack_root",
    "ollama_dir",
    "ollama_models_dir",
    "librechat_dir",
    "mongodb_dir",
    "mongodb_data_dir",
)

# Settings holding Ollama model names, checked as `llm models add` checks them.
MODEL_NAME_SETTINGS = ("ollama_models", "librechat_default_models")
# Settings whose items are addresses or networks (CIDR).
NETWORK_LIST_SETTINGS = ("firewall_admin_networks",)
# The name constraints of the stack's CA: DNS:<domain> or IP:<network>/<prefix>.
NAME_CONSTRAINT_SETTINGS = ("gateway_ca_permitted_names",)
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def name_constraint_problem(entry):
    """Why entry is not a name constraint the stack's CA can carry (None when it is)."""
    kind, _, value = str(entry).partition(":")
    ok = False
    if kind == "DNS":
        # No leading dot: OpenSSL reads .school.lan as its subdomains only, not school.lan.
        ok = bool(_DNS_NAME.fullmatch(value.lower()))
    elif kind == "IP" and "/" in value:
        try:
            ok = ipaddress.ip_network(value, strict=True) is not None
        except ValueError:
            ok = False
    if ok:
        return None
    return (
        "%r is not DNS:<domain> or IP:<network>/<prefix> "
        "(like DNS:school.lan, IP:10.0.0.0/8)" % (entry,)
    )


def network_problem(entry):
    """Why entry is not an address or a network (None when it is)."""
    try:
        ipaddress.ip_network(str(entry).strip(), strict=False)
        return None
    except ValueError:
        return "%r is not an IP address or network (CIDR, like 10.0.0.0/24)" % (entry,)


# Directories of the system itself: the stack never makes, marks or deletes one,
# even through a symbolic link.
SYSTEM_DIRECTORIES = frozenset(
    """
    / /bin /boot /dev /etc /home /lib /lib32 /lib64 /libx32 /media /mnt /opt /proc
    /root /run /sbin /srv /snap /sys /tmp /usr /var
    /etc/ansible /etc/default /etc/docker /etc/systemd /etc/systemd/system
    /usr/bin /usr/include /usr/lib /usr/lib64 /usr/libexec /usr/local /usr/local/bin
    /usr/local/lib /usr/local/share /usr/sbin /usr/share /usr/src
    /var/backups /var/cache /var/lib /var/lib/docker /var/local /var/lock /var/log
    /var/mail /var/opt /var/run /var/spool /var/tmp /var/www
    """.split()  # noqa: SIM905 - a table is easier to read as one block
)
# Kernel and runtime file systems: nothing of the stack belongs under them.
_VIRTUAL_ROOTS = ("/proc/", "/sys/", "/dev/", "/run/")
# Where a directory a user names for the stack may not be either: the system's
# own trees (the roles' fixed places, such as the gateway's /etc/haproxy/llm, are
# not settings), and a user's home itself (/home/alice; /home/alice/llm is fine).
_SYSTEM_TREES = (
    *_VIRTUAL_ROOTS,
    "/etc/",
    "/usr/",
    "/boot/",
    "/bin/",
    "/sbin/",
    "/lib/",
    "/lib32/",
    "/lib64/",
    "/libx32/",
    "/snap/",
    "/root/.ssh/",
    "/var/lib/apt/",
    "/var/lib/containerd/",
    "/var/lib/docker/",
    "/var/lib/dpkg/",
    "/var/lib/systemd/",
    "/var/cache/",
    "/var/log/",
    "/var/mail/",
    "/var/spool/",
)

# The roles' own fixed places among the system's trees: the only ones there the
# directories module makes (a directory a setting names may not be there).
ROLE_PLACES = ("/etc/haproxy/llm", "/etc/ansible/facts.d")

# A marker the roles write into each directory they create; its content names
# the directory, so a copy of it elsewhere (a backup, a moved tree) marks nothing.
MARKER = ".local-llm-stack"


def marker_text(path):
    return json.dumps({"made_by": "local-llm-stack", "path": path}) + "\n"


def marker_names(path, text):
    """True when text is the marker written for path."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("path") == path


def directory_problem(path, setting=True):
    """Why path may not be one of the stack's directories, or None.

    setting: path is one a user chose (not one of the roles' fixed places): it may
    not lie in the system's own trees either. Lexical: the caller resolves symbolic
    links first where it can (on the host).
    """
    if not isinstance(path, str) or not path:
        return "is not a directory path"
    if not path.startswith("/"):
        return "is not an absolute path (write it from /, e.g. /opt/llm-stack)"
    if ".." in path.split("/"):
        return "goes up with '..' (write the directory it means)"
    normal = os.path.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if normal in SYSTEM_DIRECTORIES:
        named = "" if normal == path else " (%s)" % normal
        return "is a system directory%s: give the stack one of its own (/opt/llm-stack)" % named
    if (normal + "/").startswith(_VIRTUAL_ROOTS):
        return "is under /%s, a file system of the kernel" % normal.split("/")[1]
    if setting:
        tree = [t for t in _SYSTEM_TREES if (normal + "/").startswith(t)]
        if tree:
            return (
                "is in %s, the system's own: give the stack a directory of its own" % tree[0][:-1]
            )
        parts = normal.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "home":
            return (
                "is a user's home directory: use a directory inside it, e.g. %s/llm-stack" % normal
            )
    return None


# LibreChat's own check of a log-in (zod 3 z.string().email(), types.ts emailRegex,
# verbatim; flags: i). The roster's addresses are checked by it too (cli/roster.py).
EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$",
    re.IGNORECASE,
)
# host[:port][/path] of an image registry, as Docker takes it in an image name.
_REGISTRY = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*){0,8}$"
)

_BOOL_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")

_WANTED = {
    "int": "an integer",
    "bool": "a boolean (true or false)",
    "list": "a list",
    "dict": "a mapping",
    "str": "a string",
    "path": "a path",
    "float": "a number",
}


def _scalar(kind, value, text_scalars):
    """(ok, typed value) for one value of a scalar type.

    text_scalars: the value may be text standing for it (an INI inventory's
    group variables and ``-e key=value`` are always strings).
    """
    if kind in ("str", "path"):
        return isinstance(value, str), value
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if text_scalars and isinstance(value, str) and _INT_TEXT.match(value.strip()):
            return True, int(value)
        return False, value
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, value
        if text_scalars and isinstance(value, str):
            try:
                return True, float(value)
            except ValueError:
                return False, value
        return False, value
    if kind == "bool":
        if isinstance(value, bool):
            return True, value
        if text_scalars and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return True, _BOOL_WORDS[value.strip().lower()]
        return False, value
    if kind == "dict":
        return isinstance(value, dict), value
    if kind == "list":
        return isinstance(value, list), value
    return True, value  # raw


def _show(value):
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def check(name, value, spec, text_scalars=False, model_name_ok=None):
    """One line saying what is wrong with value for the setting name, or None.

    spec: the option's argument spec (type, elements, choices).
    model_name_ok: a callable telling a valid Ollama model name (MODEL_NAME_SETTINGS).
    """
    kind = spec.get("type") or "str"
    described = spec.get("description") or ""
    if isinstance(described, list):
        described = " ".join(described)
    about = " (%s)" % described if described else ""
    ok, typed = _scalar(kind, value, text_scalars)
    if not ok:
        hint = ""
        if kind in ("str", "path") and isinstance(value, (int, float, bool)):
            hint = ": quote it ('%s') if that is what you mean" % value
        return "%s: %s is not %s%s%s" % (name, _show(value), _WANTED.get(kind, kind), about, hint)
    if kind == "list":
        element = spec.get("elements")
        for item in typed:
            if element and element not in ("raw",):
                item_ok, _ = _scalar(element, item, text_scalars)
                if not item_ok:
                    return "%s: item %s is not %s%s" % (
                        name,
                        _show(item),
                        _WANTED.get(element, element),
                        about,
                    )
    choices = spec.get("choices")
    if choices:
        values = typed if kind == "list" else [typed]
        bad = [v for v in values if v not in choices]
        if bad:
            return "%s: %s is not %s %s" % (
                name,
                _show(bad[0]),
                "among" if kind == "list" else "one of",
                ", ".join(str(c) for c in choices),
            )
    if name.endswith("_port") and kind == "int" and not 1 <= typed <= 65535:
        return "%s: %s is not a port number (1-65535)" % (name, _show(value))
    if name.endswith("_timeout") and kind == "int" and not 1 <= typed <= 7 * 24 * 3600:
        return "%s: %s is not a number of seconds (1 to a week)" % (name, _show(value))
    if name.endswith("_registry") and kind == "str" and not _REGISTRY.match(typed):
        return "%s: %s is not a registry address (host[:port][/path], e.g. 10.0.0.5:5000)" % (
            name,
            _show(value),
        )
    if name.endswith("_email") and kind == "str" and typed and not EMAIL.fullmatch(typed):
        return "%s: %s is not an email address (like admin@school.example)" % (
            name,
            _show(value),
        )
    if name in HOST_DIRECTORY_SETTINGS:
        problem = directory_problem(typed)
        if problem:
            return "%s: %s %s" % (name, _show(value), problem)
    item_check = (
        network_problem if name in NETWORK_LIST_SETTINGS
        else name_constraint_problem if name in NAME_CONSTRAINT_SETTINGS
        else None
    )  # fmt: skip
    for item in typed if item_check and isinstance(typed, list) else []:
        problem = item_check(item)
        if problem:
            return "%s: %s" % (name, problem)
    if name in MODEL_NAME_SETTINGS and model_name_ok is not None:
        for item in typed:
            if not model_name_ok(item):
                return (
                    "%s: %s is not a valid Ollama model name "
                    "(expected model[:tag], e.g. llama3.2, qwen2.5:7b, namespace/model:tag)"
                ) % (name, _show(item))
    return None


def typed(value, spec, text_scalars=False):
    """The value as the playbooks read it (text made a number or a boolean)."""
    return _scalar(spec.get("type") or "str", value, text_scalars)[1]
