#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ollama_model
short_description: Make sure an Ollama server has (or has not) a model
description:
  - Idempotent. A model already present is not pulled again; one absent is not deleted.
  - Pulls through Ollama's API, which resumes a partial download; a stalled or
    broken pull is retried.
  - Supports check mode and diff mode.
options:
  name:
    description: Model name as C(ollama pull) takes it, e.g. C(llama3.2), C(qwen2.5:7b).
    type: str
    required: true
  state:
    description: Whether the model should be on the server.
    type: str
    choices: [present, absent]
    default: present
  url:
    description: Base URL of the Ollama API.
    type: str
    default: http://127.0.0.1:11434
  timeout:
    description: Seconds without a word from Ollama before a pull counts as stalled.
    type: int
    default: 300
  stall_timeout:
    description:
      - Seconds a layer may download without a byte arriving before the pull counts as
        stalled (Ollama itself reports progress and retries without end). Default I(timeout).
      - A copy from a peer that went away mid-copy stops after this long; with I(retries=0)
        it fails at once, for the caller to copy from another source (the partial stays).
    type: int
  retries:
    description: How many times a failed or stalled pull is retried.
    type: int
    default: 3
  models_dir:
    description:
      - Ollama's models directory on this host. When given, a pull stops as soon as Ollama
        announces a layer that would not fit, leaving I(disk_reserve_mb) free.
    type: path
  disk_reserve_mb:
    description: Space to keep free in I(models_dir) after a pull.
    type: int
    default: 1024
  background:
    description:
      - Once the model is known to be missing, go on in a process of its own and return at
        once with its I(pid); the pull writes its progress and, when it ends, its result
        to I(progress_file), which M(local_llm.stack.ollama_pull_progress) reads. Unlike
        Ansible's C(async), this works the same under every strategy and connection
        (Mitogen included). A model already present is reported at once, as without it.
      - Needs I(progress_file).
    type: bool
    default: false
  source:
    description:
      - Copy the model from another Ollama host's seed server (C(host:port), see the
        ollama role's O(ollama_model_seed)) instead of pulling it from its registry.
      - Ollama pulls it from there with its own client (plain HTTP, each blob checked
        against its sha256, a C(-partial) blob resumed, blobs it has not fetched again,
        the manifest written last), then the copy gets its canonical name.
      - Before anything is fetched, the model's minimum Ollama version (the C(requires)
        field of its config) is compared with this server's; an older server is refused
        with a message saying what to upgrade.
      - In check mode, reports the bytes that would be copied.
      - Only models of the default registry (registry.ollama.ai) can be copied.
    type: str
  progress_file:
    description:
      - Where to keep the pull's progress (JSON - model, status, completed, total, done,
        failed), for a watcher such as M(local_llm.stack.ollama_pull_progress) while this
        module runs asynchronously. Written at most once a second.
    type: path
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Serve llama3.2
  local_llm.stack.ollama_model:
    name: llama3.2

- name: Copy it from another host's seed server (inside the lab)
  local_llm.stack.ollama_model:
    name: llama3.2
    source: 10.0.0.11:11435
    models_dir: /opt/llm-stack/ollama/models

- name: Remove an old model
  local_llm.stack.ollama_model:
    name: mistral:7b
    state: absent
"""

RETURN = r"""
model:
  description: The model's canonical name (with its tag).
  type: str
  returned: always
bytes:
  description: Bytes of the model's layers (pulled, or already present).
  type: int
  returned: always
attempts:
  description: Pull attempts made (0 when nothing was pulled).
  type: int
  returned: always
received:
  description:
    - Bytes of blobs this host did not have (and will not have, in check mode), fetched from
      I(source) or the registry; what a resumed C(-partial) blob already held is not counted.
      Known when I(models_dir) is given, else the model's size when it was pulled.
  type: int
  returned: always
requires:
  description: The model's minimum Ollama version from its config (with I(source)), or empty.
  type: str
  returned: always
pid:
  description: With I(background), the process that pulls (absent when nothing is to pull).
  type: int
  returned: when a background pull started
"""

import contextlib
import json
import os
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible_collections.local_llm.stack.plugins.module_utils import ollama, ollama_copy


class NoSpace(RuntimeError):
    """The model would not fit in the models directory."""


class Progress(object):
    """The pull's progress in a small JSON file, replaced atomically."""

    def __init__(self, path, model):
        self.path, self.model, self.last = path, model, 0.0
        self.state = dict(model=model, status="starting", completed=0, total=0, done=False)

    def update(self, completed=None, total=None, status=None, force=False, **extra):
        if not self.path:
            return
        if completed is not None:
            self.state.update(completed=completed, total=max(total or 0, self.state["total"]))
        if status:
            self.state["status"] = status
        self.state.update(extra)
        now = time.time()
        if force or now - self.last >= 1.0:
            self.last = now
            directory = os.path.dirname(self.path)
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            tmp = self.path + ".tmp"
            with open(tmp, "w") as handle:
                json.dump(self.state, handle)
            os.rename(tmp, self.path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            url=dict(type="str", default="http://127.0.0.1:11434"),
            timeout=dict(type="int", default=300),
            stall_timeout=dict(type="int"),
            retries=dict(type="int", default=3),
            progress_file=dict(type="path"),
            models_dir=dict(type="path"),
            disk_reserve_mb=dict(type="int", default=1024),
            source=dict(type="str"),
            background=dict(type="bool", default=False),
        ),
        required_if=[("background", True, ["progress_file"])],
        supports_check_mode=True,
    )
    name, state, url = module.params["name"], module.params["state"], module.params["url"]
    if not ollama.valid_model_name(name):
        module.fail_json(  # before any progress: the name cannot make a file name safely
            msg="%r is not a valid Ollama model name (expected model[:tag], "
            "e.g. llama3.2 or qwen2.5:7b)" % name
        )
    model = ollama.canonical(name)
    result = dict(changed=False, model=model, bytes=0, attempts=0, received=0, requires="")
    progress = Progress(None if module.check_mode else module.params["progress_file"], model)
    models_dir = module.params["models_dir"]
    source = module.params["source"]
    if models_dir and not os.path.isdir(models_dir):
        models_dir = None  # not installed yet (check mode): the API alone decides

    def fail(msg, **extra):
        result.update(extra)
        progress.update(status="failed", done=True, failed=True, error=msg, force=True)
        module.fail_json(msg=msg, **result)

    try:
        present = ollama.installed(url, timeout=30)
    except (URLError, socket.error, ValueError) as exc:
        fail("cannot reach Ollama at %s: %s" % (url, exc))

    wanted = state == "present"
    has = model in present
    if has and wanted and models_dir:
        # Listed is not enough: a blob deleted as corrupt (ollama_blobs_verify) or lost
        # must come back, and Ollama fetches only what is missing.
        local = ollama_copy.read_manifest(models_dir, model)
        has = local is not None and not ollama_copy.missing_bytes(models_dir, local)
    result.update(changed=has != wanted, bytes=present.get(model, 0))
    if module._diff:
        result["diff"] = dict(
            before={"models": sorted(present)},
            after={
                "models": sorted((set(present) | {model}) if wanted else (set(present) - {model}))
            },
        )
    if not result["changed"] or (module.check_mode and not (wanted and source)):
        progress.update(result["bytes"], result["bytes"], "already present", done=True, force=True)
        # Here already: the progress fields too, so `llm models add` shows it without a
        # watcher's poll (not in a check run that finds it missing).
        shown = dict(completed=result["bytes"], total=result["bytes"], status="already present")
        module.exit_json(**result, **({} if result["changed"] else dict(shown, done=True)))

    if not wanted:
        try:
            ollama.delete(url, model)
        except (URLError, HTTPError, socket.error) as exc:
            fail("deleting %s failed: %s" % (model, exc))
        module.exit_json(**result)

    def check_space(remaining):
        if not models_dir:
            return
        stats = os.statvfs(models_dir)
        free = stats.f_bavail * stats.f_frsize
        needed = remaining + module.params["disk_reserve_mb"] * 1024 * 1024
        if free < needed:
            raise NoSpace(
                "not enough disk: %s needs %.1f GB more (and %d MB kept free) but %s has %.1f GB"
                " free: free some space (llm models remove) or choose a smaller model"
                % (model, remaining / 1e9, module.params["disk_reserve_mb"], models_dir, free / 1e9)
            )

    def pull():
        """The copy or pull itself: in a process of its own with background."""
        pull_name, insecure, manifest = model, False, None
        if source:
            manifest = _check_source(module, url, model, source, result, fail)
            pull_name, insecure = ollama_copy.seed_name(source, model), True
            if manifest is None:  # check mode, and the source does not have it yet
                module.exit_json(**result)
            needed = (
                ollama_copy.missing_bytes(models_dir, manifest)
                if models_dir
                else dict(ollama_copy.manifest_blobs(manifest))
            )
            result["received"] = sum(needed.values())
            result["bytes"] = sum(size for _, size in ollama_copy.manifest_blobs(manifest))
            if module.check_mode:
                module.exit_json(**result)
            try:
                check_space(result["received"])
            except NoSpace as exc:
                fail(str(exc))
        elif models_dir:
            local = ollama_copy.read_manifest(models_dir, model)
            if local is not None:
                result["received"] = sum(ollama_copy.missing_bytes(models_dir, local).values())

        last_error = None
        for attempt in range(1, module.params["retries"] + 2):
            result["attempts"] = attempt
            try:
                total = ollama.pull(
                    url,
                    pull_name,
                    insecure=insecure,
                    timeout=module.params["timeout"],
                    stall=module.params["stall_timeout"],
                    on_progress=progress.update,
                    check_space=check_space,
                )
                if not source:
                    if not result["received"]:
                        result["received"] = total
                    result["bytes"] = total
                last_error = None
                break
            except NoSpace as exc:
                # Closing the stream cancels the pull; whatever Ollama kept of it goes.
                with contextlib.suppress(URLError, HTTPError, socket.error):
                    ollama.delete(url, pull_name)  # fails when nothing was kept: fine
                fail(str(exc))
            except RuntimeError as exc:
                # Ollama refused (unknown model, bad name): retrying will not help.
                fail("pulling %s%s failed: %s" % (model, " from " + source if source else "", exc))
            except HTTPError as exc:
                try:
                    detail = exc.read().decode("utf-8", "replace")
                except Exception:  # best effort to show Ollama's own words
                    detail = str(exc)
                fail(
                    "pulling %s%s failed: %s" % (model, " from " + source if source else "", detail)
                )
            except (URLError, socket.error) as exc:
                last_error = exc  # stalled or dropped: Ollama resumes where it stopped
                if attempt > module.params["retries"]:
                    break
                progress.update(status="retrying after: %s" % exc, force=True)
                time.sleep(min(2**attempt, 30))
        if last_error is not None:
            fail(
                "pulling %s%s stalled or dropped (%d attempt%s), last: %s"
                % (
                    model,
                    " from " + source if source else "",
                    result["attempts"],
                    "" if result["attempts"] == 1 else "s",
                    last_error,
                )
            )

        if source:
            try:
                ollama_copy.copy(url, pull_name, model)
                ollama_copy.delete(url, pull_name)  # its blobs stay: the canonical name uses them
            except (URLError, HTTPError, socket.error) as exc:
                fail(
                    "%s arrived as %s but naming it %s failed: %s" % (model, pull_name, model, exc)
                )
        if models_dir:
            # Ollama checked every blob it received against its digest: no need to hash them again.
            local = ollama_copy.read_manifest(models_dir, model)
            if local is not None:
                with contextlib.suppress(IOError, OSError):
                    ollama_copy.stamp_blobs(
                        models_dir, [d for d, _ in ollama_copy.manifest_blobs(local)]
                    )
        progress.update(result["bytes"], result["bytes"], "success", done=True, force=True)
        module.exit_json(**result)

    if module.params["background"] and not module.check_mode:
        _detach(module, progress, pull)
    pull()


def _detach(module, progress, work):
    """Run work() in a process of its own and return {started, pid} to the caller at once
    (never returns). In that process exit_json and fail_json write the result into the
    progress file instead (its watcher, ollama_pull_progress, hands it on)."""
    # A fresh state first: a file left by an earlier pull must not pass for this one's.
    progress.update(status="starting", force=True)
    read, write = os.pipe()
    first = os.fork()
    if first:
        os.close(write)
        with os.fdopen(read) as handle:
            pid = int(handle.read() or 0)
        os.waitpid(first, 0)
        if not pid:
            module.fail_json(
                msg="could not start the pull of %s in the background" % progress.model
            )
        module.exit_json(changed=False, started=True, pid=pid, model=progress.model)
    # Double fork: the puller is nobody's child here, in a session of its own, and holds
    # none of the connection's descriptors (nothing waits for it to close them).
    os.close(read)
    os.setsid()
    second = os.fork()
    if second:
        os.write(write, str(second).encode())
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 65536)

    def finish(failed, result):
        result = dict(result, failed=failed)
        progress.update(done=True, failed=failed, result=result, force=True)
        os._exit(1 if failed else 0)

    module.exit_json = lambda **result: finish(False, result)
    module.fail_json = lambda msg, **result: finish(True, dict(result, msg=msg))
    try:
        work()
        finish(True, dict(msg="the pull of %s ended without a result" % progress.model))
    except BaseException as exc:  # never back into the caller's code: report and end here
        what = "%s: %s" % (type(exc).__name__, exc)
        finish(True, dict(msg="the pull of %s stopped: %s" % (progress.model, what)))
    finally:
        os._exit(1)


def _check_source(module, url, model, source, result, fail):
    """The manifest the seed at `source` serves for `model`, after checking this server is
    recent enough for it. None in check mode when the source does not have it yet."""
    try:
        manifest = ollama_copy.seed_manifest(source, model)
    except HTTPError as exc:
        if exc.code == 404:
            if module.check_mode:
                result["msg"] = "%s would be copied from %s once it has it" % (model, source)
                return None
            fail(
                "%s is not on %s (its seed server answered 404): pull it on that host first"
                " (llm models add %s --limit <that host>)" % (model, source, model)
            )
        fail("reading %s's manifest from %s failed: %s" % (model, source, exc))
    except (URLError, socket.error, ValueError) as exc:
        fail(
            "cannot reach the seed server %s for %s: %s (is llm-model-seed.service running"
            " there, and its port open to this host?)" % (source, model, exc)
        )
    try:
        config = ollama_copy.seed_config(source, model, manifest)
        version = ollama_copy.server_version(url)
    except (URLError, HTTPError, socket.error, ValueError, ollama_copy.CopyError) as exc:
        fail("checking %s's minimum Ollama version failed: %s" % (model, exc))
    requires = str(config.get("requires") or "")
    result["requires"] = requires
    try:
        older = bool(requires) and ollama_copy.version_older(version, requires)
    except ValueError:
        older = False  # a requirement we cannot read: Ollama itself will judge it
    if older:
        fail(
            "%s requires Ollama %s or newer, and this host runs Ollama %s: not copied."
            " Upgrade Ollama here (set ollama_version to %s or later and run llm install)"
            " or remove the model from this host's ollama_models"
            % (model, requires, version, requires),
            refused=True,
            version=version,
        )
    return manifest


if __name__ == "__main__":
    main()
