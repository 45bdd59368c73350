#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: librechat_accounts
short_description: Make, reset, fund and remove LibreChat accounts with LibreChat's own scripts
description:
  - Runs LibreChat's account scripts (C(npm run create-user), C(reset-password), C(set-balance),
    C(delete-user), C(list-users), C(list-balances)) in its container with C(docker exec), so
    accounts are made exactly as LibreChat makes them (its validation, bcrypt hash, the first
    account becoming the administrator, the start balance).
  - Answers each script's questions one at a time, as they show; passwords are answers, never
    arguments, so they stay out of the process list and of every output.
  - C(sync) compares the wanted accounts with C(list-users) and creates only the missing ones,
    so a second run changes nothing. The first account on a LibreChat without any becomes its
    administrator, so it must be a teacher.
options:
  container:
    description: LibreChat's container.
    type: str
    required: true
  action:
    description:
      - C(list) reports the accounts and their balances; C(sync) creates the missing accounts of
        O(accounts), resets the passwords of O(reset), sets the balances of O(balance) and removes
        O(remove); C(remove) and C(reset) do only that part.
    type: str
    choices: [list, sync, remove, reset]
    default: sync
  accounts:
    description: The accounts wanted on this host, the teacher first.
    type: list
    elements: dict
    default: []
    suboptions:
      username: {type: str, required: true, description: Lower-case username.}
      email: {type: str, required: true, description: Email address (the log-in).}
      name: {type: str, required: true, description: Full name.}
      role:
        type: str
        default: student
        choices: [student, teacher]
        description: Teacher or student.
      password: {type: str, required: true, no_log: true, description: Initial password.}
      tokens: {type: int, description: Token allowance (unused here; see O(balance)).}
      host: {type: str, description: The chat host it belongs on (the caller chooses; unused).}
  reset:
    description: Usernames whose password is set to their O(accounts) password.
    type: list
    elements: str
    default: []
  remove:
    description: Usernames to delete, with their conversations and transaction history.
    type: list
    elements: str
    default: []
  balance:
    description: Username to the balance (credits) to set, for accounts that exist or are made now.
    type: dict
    default: {}
  only_if_empty:
    description:
      - With C(sync), make the accounts only on a LibreChat that has none yet (the
        administrator C(llm install) makes); where accounts exist, change nothing and report
        how many there are.
    type: bool
    default: false
  record:
    description:
      - >-
        With C(sync), a file that says the sync is settled (the administrator C(llm install)
        makes once). Where it exists nothing is asked, not even whether LibreChat runs; after
        a sync that failed nothing it is written (mode 0600) as JSON, C({"made": [emails]}),
        the emails of the accounts made (none where O(only_if_empty) found accounts already).
        In C(/etc/ansible/facts.d) it is a local fact, which the next run knows from its facts.
    type: path
  parallel:
    description: Scripts run at once (after the first account, which is made alone).
    type: int
    default: 4
  timeout:
    description: Seconds one script may take.
    type: int
    default: 120
author: local-llm-stack developers
"""

EXAMPLES = r"""
- name: Make the class's accounts
  local_llm.stack.librechat_accounts:
    container: llm-librechat
    accounts:
      - username: teacher
        email: t@school.example
        name: The Teacher
        role: teacher
        password: "{{ teacher_password }}"
  no_log: true
"""

RETURN = r"""
llm_report:
  description:
    - C(accounts) (list only, with C(balance)), C(created), C(updated), C(removed),
      C(unchanged) (usernames), C(conflicts) ([username, reason]), C(failed) ([username, error]).
  returned: always
  type: dict
"""

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.local_llm.stack.plugins.module_utils import librechat_accounts as la
from ansible_collections.local_llm.stack.plugins.module_utils.files import place

_EMAIL_Q = re.compile(r"Enter user email: $")
_NEW_Q = re.compile(r"Enter new password: $")
_CONFIRM_Q = re.compile(r"Confirm new password: $")


def _read(module, container, name):
    try:
        rc, out = la.dialog(la.script(container, name), [], module.params["timeout"])
    except la.ScriptError as exc:
        module.fail_json(msg="LibreChat's %s did not answer: %s" % (name, exc))
    if rc != 0:
        module.fail_json(
            msg="LibreChat's %s failed (exit %d): %s; is LibreChat running (llm status)?"
            % (name, rc, la.last_words(out))
        )
    return out


def _create(module, container, account):
    password = account["password"]
    argv = la.script(
        container, "create-user", account["email"], account["name"], account["username"],
        "--email-verified=true",
    )  # fmt: skip
    rc, out = la.dialog(argv, [(la.ASKED, password)], module.params["timeout"], [password])
    if rc == 0 and "User created successfully" in la.plain(out):
        return None
    return la.last_words(out, [password])


def _reset(module, container, email, password):
    answers = [(_EMAIL_Q, email), (_NEW_Q, password), (_CONFIRM_Q, password)]
    rc, out = la.dialog(
        la.script(container, "reset-password"), answers, module.params["timeout"], [password]
    )
    if rc == 0 and "Password successfully reset" in la.plain(out):
        return None
    return la.last_words(out, [password])


def _set_balance(module, container, email, credits):
    argv = la.script(container, "set-balance", email, str(credits))
    rc, out = la.dialog(argv, [], module.params["timeout"])
    if rc == 0 and "New Balance" in la.plain(out):
        return None
    text = la.last_words(out)
    if "not enabled" in text:
        text += " (set librechat_balance_enabled: true and run llm install)"
    return text


def _delete(module, container, email):
    # Confirm the deletion, then also delete the transaction history.
    answers = [(la.ASKED, "y"), (la.ASKED, "y")]
    rc, out = la.dialog(
        la.script(container, "delete-user", email), answers, module.params["timeout"]
    )
    if rc == 0 and "Successfully deleted" in la.plain(out):
        return None
    return la.last_words(out)


def _each(module, work, items):
    """Run work(item) -> error or None, parallel; returns [(item, error)]."""
    if not items:
        return []

    def guarded(item):
        try:
            return work(item)
        except la.ScriptError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=max(1, module.params["parallel"])) as pool:
        errors = list(pool.map(guarded, items))
    return [(items[i], errors[i]) for i in range(len(items))]


def main():
    account_spec = dict(
        username=dict(type="str", required=True),
        email=dict(type="str", required=True),
        name=dict(type="str", required=True),
        role=dict(type="str", default="student", choices=["student", "teacher"]),
        password=dict(type="str", required=True, no_log=True),
        tokens=dict(type="int"),
        host=dict(type="str"),
    )
    module = AnsibleModule(
        argument_spec=dict(
            container=dict(type="str", required=True),
            action=dict(type="str", default="sync", choices=["list", "sync", "remove", "reset"]),
            accounts=dict(type="list", elements="dict", default=[], options=account_spec),
            reset=dict(type="list", elements="str", default=[]),
            remove=dict(type="list", elements="str", default=[]),
            balance=dict(type="dict", default={}),
            only_if_empty=dict(type="bool", default=False),
            record=dict(type="path"),
            parallel=dict(type="int", default=4),
            timeout=dict(type="int", default=120),
        ),
        supports_check_mode=True,
    )
    p = module.params
    container, action = p["container"], p["action"]
    record = p["record"] if action == "sync" else None
    if record and os.path.exists(record):
        module.exit_json(changed=False, llm_report={"created": [], "recorded": record})
    running = module.run_command(["docker", "inspect", "-f", "{{.State.Running}}", container])
    if running[0] != 0 or running[1].strip() != "true":
        module.fail_json(
            msg="LibreChat (container %s) is not running here: run llm install "
            "(or llm start librechat) first" % container
        )
    existing = la.parse_users(_read(module, container, "list-users"))

    if action == "list":
        balances = la.parse_balances(_read(module, container, "list-balances"))
        for user in existing:
            user["balance"] = balances.get(user["email"])
        module.exit_json(changed=False, llm_report={"accounts": existing})

    if action == "sync" and p["only_if_empty"] and existing:
        written = write_record(module, record, [])
        module.exit_json(changed=written, llm_report={"created": [], "existing": len(existing)})

    wanted = p["accounts"] if action in ("sync", "reset") else []
    if action == "reset":
        wanted = [a for a in wanted if a["username"] in p["reset"]]
    todo = la.plan(
        wanted,
        existing,
        p["reset"] if action in ("sync", "reset") else [],
        p["remove"] if action in ("sync", "remove") else [],
        p["balance"] if action == "sync" else {},
    )
    if action == "reset":  # only the passwords: nothing made here
        todo["create"], todo["unchanged"] = [], []
    created = [a["username"] for a in todo["create"]]
    report = {
        "created": created,
        "updated": sorted(
            set(r["username"] for r in todo["reset"])
            | set(b[0] for b in todo["balance"] if b[0] not in created)
        ),
        "removed": [r["username"] for r in todo["remove"]],
        "unchanged": todo["unchanged"],
        "conflicts": todo["conflict"],
        "failed": [],
    }
    first = todo["create"][0] if todo["create"] else None
    if first is not None and not existing and first.get("role") != "teacher":
        module.fail_json(
            msg="LibreChat in %s has no account yet and makes its first one the administrator: "
            "the roster needs a teacher row (role teacher) for this host, made first; "
            "%s would have become the administrator" % (container, first["username"]),
            llm_report=dict(report, created=[], updated=[], removed=[]),
        )
    changed = bool(created or report["updated"] or report["removed"])
    failed = []
    if changed and not module.check_mode:
        failed = _apply(module, container, todo, wanted, first if not existing else None)
    bad = set(f[0] for f in failed)
    for key in ("created", "updated", "removed"):
        report[key] = [u for u in report[key] if u not in bad]
    report["failed"] = failed
    problems = ["%s: %s" % (u, e) for u, e in failed + todo["conflict"]]
    if problems:
        module.fail_json(
            msg="%d account(s) not done in %s: %s"
            % (len(problems), container, "; ".join(problems)),
            changed=bool(report["created"] or report["updated"] or report["removed"]),
            llm_report=report,
        )
    made = [a["email"] for a in wanted if a["username"] in report["created"]]
    written = write_record(module, record, made)
    module.exit_json(changed=changed or written, llm_report=report)


def write_record(module, record, emails):
    """The record of a settled sync (None: none kept); True when written."""
    if not record or module.check_mode:
        return bool(record)
    place(module, record, json.dumps({"made": emails}) + "\n", "0600")
    return True


def _apply(module, container, todo, wanted, administrator):
    """Create, reset, fund and remove; returns [[username, error]] for what failed."""
    failed = []
    creates = list(todo["create"])
    if administrator is not None:
        # Alone, before the others: the first account LibreChat makes is its administrator.
        error = _create(module, container, administrator)
        failed += [[administrator["username"], error]] if error else []
        creates = creates[1:]
    passwords = dict((a["username"], a["password"]) for a in wanted)
    steps = [
        (creates, lambda a: _create(module, container, a), lambda a: a["username"]),
        (todo["reset"],
         lambda r: _reset(module, container, r["email"], passwords[r["username"]]),
         lambda r: r["username"]),
        (todo["balance"], lambda b: _set_balance(module, container, b[1], b[2]), lambda b: b[0]),
        (todo["remove"], lambda r: _delete(module, container, r["email"]), lambda r: r["username"]),
    ]  # fmt: skip
    for items, work, who in steps:
        failed += [[who(item), error] for item, error in _each(module, work, items) if error]
    return failed


if __name__ == "__main__":
    main()
