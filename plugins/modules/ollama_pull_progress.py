#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ollama_pull_progress
short_description: Read the progress of a model pull running in the background
description:
  - Reads the progress file M(local_llm.stack.ollama_model) keeps while it pulls
    in the background. Meant for an C(until) loop, whose retries carry the bytes to
    the controller (C(llm models add) draws them as progress bars).
  - Changes nothing.
options:
  path:
    description: The progress file given to M(local_llm.stack.ollama_model) as I(progress_file).
    type: path
    required: true
  pid:
    description:
      - The process of a background pull (M(local_llm.stack.ollama_model)'s I(pid) with
        I(background)). Once the pull has ended this returns its result, C(changed) as the
        pull's, or fails with the pull's C(msg) when the pull failed or its process died
        without a result.
    type: int
author:
  - local-llm-stack developers
"""

EXAMPLES = r"""
- name: Watch the pull
  local_llm.stack.ollama_pull_progress:
    path: /run/llm-stack/pull-llama3.2.json
  register: progress
  until: progress.done
  retries: 3600
  delay: 1
"""

RETURN = r"""
model:
  description: The model being pulled.
  type: str
  returned: always
completed:
  description: Bytes downloaded so far.
  type: int
  returned: always
total:
  description: Bytes of the layers seen so far.
  type: int
  returned: always
status:
  description: Ollama's last status line.
  type: str
  returned: always
done:
  description: Whether the pull ended (successfully or not).
  type: bool
  returned: always
failed_pull:
  description: Whether the pull ended in failure.
  type: bool
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule


def _running(pid):
    """Whether the process is alive (a zombie waiting to be reaped is not)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (IOError, OSError, IndexError):
        return False


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), pid=dict(type="int")),
        supports_check_mode=True,
    )
    pid = module.params["pid"]
    # Alive before the file is read: a pull that wrote its result and ended in between
    # is then read with its result, not taken for one that died without it.
    alive = bool(pid) and _running(pid)
    state = {"model": "", "completed": 0, "total": 0, "status": "starting", "done": False}
    try:
        with open(module.params["path"]) as handle:
            state.update(json.load(handle))
    except (IOError, OSError, ValueError):
        pass  # not written yet: the pull is starting
    progress = dict(
        model=state["model"],
        completed=int(state["completed"]),
        total=int(state["total"]),
        status=state["status"],
        failed_pull=bool(state.get("failed")),
    )
    if not pid:
        module.exit_json(changed=False, done=bool(state["done"]), **progress)
    result = state.get("result")
    if result is None and not alive:
        # Died without a word (killed, out of memory): a failure, not a wait without end.
        what = state["model"] or "the model"
        msg = "the pull of %s stopped without a result (its process %d ended): see the journal"
        result = dict(failed=True, msg=msg % (what, pid))
    if result is None:  # done is written a moment before the result: wait for both
        module.exit_json(changed=False, done=False, **progress)
    outcome = dict((k, v) for k, v in result.items() if k not in ("failed", "changed", "msg"))
    # A pull that failed changed nothing the recap should count.
    outcome.update(
        progress, done=True, changed=bool(result.get("changed")) and not result.get("failed")
    )
    if result.get("failed"):
        module.fail_json(msg=result.get("msg") or "the pull failed", **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
