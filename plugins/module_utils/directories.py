# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Making the stack's directories (mkdir -p, the stack's marker in each one it makes,
attributes set, system directories refused), shared by the modules that make them:
local_llm.stack.directories, and local_llm.stack.files and local_llm.stack.compose_project,
which make a concern's directories in the same round trip as its files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.local_llm.stack.plugins.module_utils import settings

# The argument spec of one directory (doc fragment: local_llm.stack.directories).
OPTIONS = {
    "path": {"type": "path", "required": True},
    "mode": {"type": "raw"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "owned": {"type": "bool", "default": True},
}


def _role_place(path):
    normal = os.path.normpath(path)
    return any(normal == p or normal.startswith(p + "/") for p in settings.ROLE_PLACES)


def refuse_system_directory(module, path):
    """Fail on a path that is, or resolves to, a system directory or lies in the system's
    own trees (/etc/ssh, /var/lib/dpkg, a user's home), the roles' own fixed places
    (/etc/haproxy/llm) excepted: a setting templated there is refused here too."""
    real = os.path.realpath(path)
    for candidate in dict.fromkeys((os.path.normpath(path), real)):
        problem = settings.directory_problem(candidate, setting=not _role_place(candidate))
        if problem:
            shown = (
                path
                if candidate != real or real == os.path.normpath(path)
                else ("%s (through a link: %s)" % (path, real))
            )
            module.fail_json(msg="%s %s" % (shown, problem), path=path)


def write_marker(path):
    real = os.path.realpath(path)
    with open(os.path.join(path, settings.MARKER), "w") as handle:
        handle.write(settings.marker_text(real))
    os.chmod(os.path.join(path, settings.MARKER), 0o644)


def make(module, path, owned):
    """mkdir -p path; each directory made gets the stack's marker when owned."""
    missing = []
    walk = path
    while not os.path.lexists(walk):
        missing.append(walk)
        walk = os.path.dirname(walk)
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                module.fail_json(
                    msg="cannot create %s: %s" % (directory, exc.strerror), path=directory
                )
            continue  # made by someone else meanwhile: not the stack's to mark
        # A system directory made as a parent (/opt on a minimal host) is never marked.
        if owned and not settings.directory_problem(directory, setting=False):
            write_marker(directory)


def ensure(module, entry):
    """Make one directory as described; True when something changed."""
    path = entry["path"]
    refuse_system_directory(module, path)
    changed = False
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg="%s exists and is not a directory" % path, path=path)
    if not os.path.isdir(path):
        changed = True
        if not module.check_mode:
            make(module, path, entry["owned"])
    if module.check_mode and changed:
        return True
    file_args = {
        "path": path,
        "mode": entry.get("mode"),
        "owner": entry.get("owner"),
        "group": entry.get("group"),
        "secontext": None,
        "attributes": None,
    }
    return module.set_fs_attributes_if_different(file_args, changed, expand=False)


def ensure_all(module, entries):
    """Make each directory as described, in order; the paths that changed."""
    return [entry["path"] for entry in entries or [] if ensure(module, entry)]
