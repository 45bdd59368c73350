# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Writing a file the stack's way, shared by the modules that write files
(local_llm.stack.files, local_llm.stack.nft_table, local_llm.stack.compose_project):
atomically, checked first when asked, its attributes set, nothing written in check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import tempfile


def read(path):
    """The file's bytes, or None when there is none."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def place(module, path, content, mode, owner="root", group="root", check=None, backup=False):
    """Write content to path (atomically, with mode, owner and group), after check(tmp)
    when given, keeping the file it replaces when backup.

    Returns (changed, previous bytes or None, backup file or None); changed is True
    for new content or attributes alone. In check mode nothing is written."""
    data = content.encode("utf-8")
    previous = read(path)
    changed = previous != data
    backup_file = None
    if changed and not module.check_mode:
        directory = os.path.dirname(path) or "/"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if check:
                check(tmp)
            if backup and previous is not None:
                backup_file = module.backup_local(path)
            module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    args = module.load_file_common_arguments(dict(path=path, mode=mode, owner=owner, group=group))
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(args, changed, expand=False)
    return changed, previous, backup_file


def diff(path, previous, content):
    """Ansible's diff of a file: previous bytes (None: a new file) against its new content."""
    return dict(
        before_header=path,
        after_header=path,
        before=(previous or b"").decode("utf-8", "replace"),
        after=content,
    )


def validator(module, path, command, written):
    """A check for place(): the command on the temporary file (%s names it), failing the
    run when refused, with the files written so far."""

    def check(tmp):
        if "%s" not in command:
            module.fail_json(msg="validate for %s must name the file as %%s: %s" % (path, command))
        argv = [part.replace("%s", tmp) for part in shlex.split(command)]
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(
                msg="%s was not written: `%s` refused it: %s"
                % (path, command, (err or out).strip()),
                written=written,
            )

    return check
