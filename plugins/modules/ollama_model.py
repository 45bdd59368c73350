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
  - Idempotent: a model already present is not pulled again; one absent is not deleted.
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
    description: Seconds without progress before a pull counts as stalled.
    type: int
    default: 300
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
"""

import contextlib
import json
import os
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible_collections.local_llm.stack.plugins.module_utils import ollama


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
            retries=dict(type="int", default=3),
            progress_file=dict(type="path"),
            models_dir=dict(type="path"),
            disk_reserve_mb=dict(type="int", default=1024),
        ),
        supports_check_mode=True,
    )
    name, state, url = module.params["name"], module.params["state"], module.params["url"]
    if not ollama.valid_model_name(name):
        module.fail_json(  # before any progress: the name cannot make a file name safely
            msg="%r is not a valid Ollama model name (expected model[:tag], "
            "e.g. llama3.2 or qwen2.5:7b)" % name
        )
    model = ollama.canonical(name)
    result = dict(changed=False, model=model, bytes=0, attempts=0)
    progress = Progress(None if module.check_mode else module.params["progress_file"], model)

    def fail(msg):
        progress.update(status="failed", done=True, failed=True, error=msg, force=True)
        module.fail_json(msg=msg, **result)

    try:
        present = ollama.installed(url, timeout=30)
    except (URLError, socket.error, ValueError) as exc:
        fail("cannot reach Ollama at %s: %s" % (url, exc))

    wanted = state == "present"
    has = model in present
    result.update(changed=has != wanted, bytes=present.get(model, 0))
    if module._diff:
        result["diff"] = dict(
            before={"models": sorted(present)},
            after={
                "models": sorted((set(present) | {model}) if wanted else (set(present) - {model}))
            },
        )
    if not result["changed"] or module.check_mode:
        progress.update(result["bytes"], result["bytes"], "already present", done=True, force=True)
        module.exit_json(**result)

    if not wanted:
        try:
            ollama.delete(url, model)
        except (URLError, HTTPError, socket.error) as exc:
            fail("deleting %s failed: %s" % (model, exc))
        module.exit_json(**result)

    def check_space(remaining):
        directory = module.params["models_dir"]
        if not directory or not os.path.isdir(directory):
            return
        stats = os.statvfs(directory)
        free = stats.f_bavail * stats.f_frsize
        needed = remaining + module.params["disk_reserve_mb"] * 1024 * 1024
        if free < needed:
            raise NoSpace(
                "not enough disk: %s needs %.1f GB more (and %d MB kept free) but %s has %.1f GB"
                " free: free some space (llm models remove) or choose a smaller model"
                % (model, remaining / 1e9, module.params["disk_reserve_mb"], directory, free / 1e9)
            )

    last_error = None
    for attempt in range(1, module.params["retries"] + 2):
        result["attempts"] = attempt
        try:
            result["bytes"] = ollama.pull(
                url,
                model,
                timeout=module.params["timeout"],
                on_progress=progress.update,
                check_space=check_space,
            )
            progress.update(result["bytes"], result["bytes"], "success", done=True, force=True)
            module.exit_json(**result)
        except NoSpace as exc:
            # Closing the stream cancels the pull; whatever Ollama kept of it goes.
            with contextlib.suppress(URLError, HTTPError, socket.error):
                ollama.delete(url, model)  # fails when nothing was kept: fine
            fail(str(exc))
        except RuntimeError as exc:
            # Ollama refused (unknown model, bad name): retrying will not help.
            fail("pulling %s failed: %s" % (model, exc))
        except HTTPError as exc:
            try:
                detail = exc.read().decode("utf-8", "replace")
            except Exception:  # best effort to show Ollama's own words
                detail = str(exc)
            fail("pulling %s failed: %s" % (model, detail))
        except (URLError, socket.error) as exc:
            last_error = exc  # stalled or dropped: Ollama resumes where it stopped
            progress.update(status="retrying after: %s" % exc, force=True)
            time.sleep(min(2**attempt, 30))
    fail("pulling %s stalled %d times, last: %s" % (model, result["attempts"], last_error))


if __name__ == "__main__":
    main()
