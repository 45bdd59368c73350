#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: directories
short_description: Make the stack's directories (marked as its own), or remove only those it made
description:
  - With O(state=present), what a loop of M(ansible.builtin.file) with C(state=directory) does,
    in one module run, so one round trip to the host instead of one per directory (most of what
    such a loop costs when nothing has to change). Missing parents are created as C(mkdir -p)
    does; only the listed directories get the attributes given. An attribute left out is left
    as it is.
  - Each directory it creates for an O(directories[].owned) entry, parents included, gets a
    marker file (C(.local-llm-stack)) naming it. Nothing else is ever marked.
  - With O(state=absent), a directory is removed only when it carries the marker written for
    it, resolves to no system directory and holds no mount point and no listed directory
    that is kept; every other one is left, with the reason in RV(kept).
  - A path that is, or resolves through a symbolic link to, a system directory (C(/),
    C(/etc), C(/var/lib), ...) is refused either way.
  - Supports check mode.
options:
  directories:
    description: The directories, in the order to create (or remove) them; this or O(paths).
    type: list
    elements: dict
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      mode:
        description: Its mode (octal string, as for M(ansible.builtin.file)).
        type: raw
      owner:
        description: Its owner.
        type: str
      group:
        description: Its group.
        type: str
      owned:
        description:
          - The stack owns it, so C(llm uninstall --purge) may delete it; a marker is written
            into it (and into each parent) when this module creates it.
          - False for shared places such as C(/etc/ansible/facts.d).
        type: bool
        default: true
  paths:
    description: Just the paths, where no attribute is given (to remove them, typically).
    type: list
    elements: path
  state:
    description: C(present) makes them; C(absent) removes those that carry the stack's marker.
    type: str
    choices: [present, absent]
    default: present
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Create the LibreChat directories
  local_llm.stack.directories:
    directories:
      - {path: /opt/llm-stack/librechat, mode: "0750", owner: root, group: root}
      - {path: /opt/llm-stack/librechat/uploads, mode: "0750", owner: root, group: root}
      - {path: /etc/ansible/facts.d, mode: "0755", owned: false}

- name: Remove them (purge), data included
  local_llm.stack.directories:
    state: absent
    paths: [/opt/llm-stack/librechat/uploads, /opt/llm-stack/librechat]
"""

RETURN = r"""
changed_paths:
  description: The directories that were (or in check mode would be) created, changed or removed.
  type: list
  elements: str
  returned: always
kept:
  description: With O(state=absent), the directories left in place, each with why.
  type: list
  elements: dict
  returned: always
  sample: [{"path": "/srv/models", "reason": "no marker of the stack: it did not make it"}]
"""

import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils import settings
from ansible_collections.local_llm.stack.plugins.module_utils.directories import (
    OPTIONS,
    ensure_all,
)


def marked(path):
    try:
        with open(os.path.join(path, settings.MARKER)) as handle:
            return settings.marker_names(os.path.realpath(path), handle.read())
    except (IOError, OSError):
        return False


def _mount_points():
    """Every mount point of this host, bind mounts included (which st_dev cannot tell)."""
    points = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) > 4:
                    # Spaces and the like are octal escapes (\040).
                    unescape = lambda m: chr(int(m.group(1), 8))  # noqa: E731
                    points.append(re.sub(r"\\([0-7]{3})", unescape, fields[4]))
    except (IOError, OSError):
        pass
    return points


def mount_point_in(path):
    """The first mount point at or under path (another file system or a bind mount), or None."""
    real = os.path.realpath(path)
    for point in _mount_points():
        if point == real or point.startswith(real.rstrip("/") + "/"):
            return point
    device = os.lstat(path).st_dev
    for top, dirs, _files in os.walk(path):
        for name in list(dirs):
            inner = os.path.join(top, name)
            if os.path.islink(inner):
                dirs.remove(name)
            elif os.lstat(inner).st_dev != device or os.path.ismount(inner):
                return inner
    return None


def why_kept(path):
    """Why path may not be removed, or None when it may."""
    if os.path.islink(path):
        return "a symbolic link, not a directory the stack made"
    if not os.path.isdir(path):
        return "not a directory"
    problem = settings.directory_problem(os.path.realpath(path), setting=False)
    if problem:
        return problem
    if not marked(path):
        return "no marker of the stack (%s): it did not make it" % settings.MARKER
    inner = mount_point_in(path)
    if inner:
        return "holds a mount point (%s)" % inner
    return None


def remove(module, entries):
    paths = [os.path.normpath(entry["path"]) for entry in entries]
    present = [path for path in dict.fromkeys(paths) if os.path.lexists(path)]
    kept = {}
    for path in present:
        reason = why_kept(path)
        if reason:
            kept[path] = reason
    # A directory that holds one that is kept stays too.
    for path in present:
        if path in kept:
            continue
        inside = [k for k in kept if k.startswith(path.rstrip("/") + "/")]
        if inside:
            kept[path] = "holds %s, which is kept" % inside[0]
    removed = []
    for path in present:
        if path in kept or not os.path.lexists(path):
            continue
        removed.append(path)
        if not module.check_mode:
            try:
                shutil.rmtree(path)
            except OSError as exc:
                module.fail_json(msg="cannot remove %s: %s" % (path, exc.strerror), path=path)
    return removed, [{"path": p, "reason": kept[p]} for p in present if p in kept]


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {
                "type": "list",
                "elements": "dict",
                "options": OPTIONS,
            },
            "paths": {"type": "list", "elements": "path"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        mutually_exclusive=[["directories", "paths"]],
        required_one_of=[["directories", "paths"]],
        supports_check_mode=True,
    )
    entries = module.params["directories"] or [
        {"path": path, "mode": None, "owner": None, "group": None, "owned": True}
        for path in module.params["paths"]
    ]
    if module.params["state"] == "absent":
        removed, kept = remove(module, entries)
        module.exit_json(changed=bool(removed), changed_paths=removed, kept=kept)
    changed_paths = ensure_all(module, entries)
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, kept=[])


if __name__ == "__main__":
    main()
