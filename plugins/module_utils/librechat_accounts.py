# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""LibreChat's account scripts, driven from Python: their output parsed, their
questions answered one at a time.

LibreChat's config/*.js scripts (`npm run create-user` and friends, run in its
container) ask with Node's readline: a fresh readline per question takes the first
line of what it reads and drops the rest of that chunk, so every answer is written
only once its question shows (writing them all at once makes delete-user and
reset-password lose input and wait for ever). The password is always one of those
answers, never an argument: it stays out of `ps` and of the script's own output.

Pure functions here are unit-tested with the scripts' recorded output; `dialog`
does the process I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import select
import subprocess
import time

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# askQuestion (config/helpers.js) ends every question with "\n> ".
ASKED = re.compile(r"\n> $")
LIST_BALANCE = re.compile(r"^User (.*) \((.+)\) has (?:a balance of (\S+)|no balance)$")


def plain(text):
    """The scripts colour every line (console.<colour>), even into a pipe."""
    return _ANSI.sub("", text)


def parse_users(text):
    """`npm run list-users` -> [{email, username, name}] (lower-case email and username,
    as LibreChat stores them; "N/A" for a missing username or name becomes "")."""
    users, current = [], {}
    for line in plain(text).splitlines():
        line = line.strip()
        if line.startswith("-----"):
            if current.get("email"):
                users.append(current)
            current = {}
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        value = "" if value == "N/A" else value.strip()
        if key == "Email":
            current["email"] = value.lower()
        elif key == "Username":
            current["username"] = value.lower()
        elif key == "Name":
            current["name"] = value
    if current.get("email"):
        users.append(current)
    return users


def parse_balances(text):
    """`npm run list-balances` -> {email: credits or None (no balance record)}.
    Names may hold brackets: the email is the last bracketed part."""
    balances = {}
    for line in plain(text).splitlines():
        match = LIST_BALANCE.match(line.strip())
        if match:
            amount = match.group(3)
            try:
                value = int(float(amount)) if amount is not None else None
            except ValueError:
                value = None
            balances[match.group(2).lower()] = value
    return balances


class ScriptError(Exception):
    """A script failed; the message is its own last words (never an answer given)."""


def last_words(text, secrets=()):
    """The script's last meaningful line, with any secret blanked out."""
    lines = [line.strip() for line in plain(text).splitlines() if line.strip()]
    found = next(
        (line for line in reversed(lines) if line.lower().startswith(("error", "npm error"))),
        lines[-1] if lines else "no output",
    )
    for secret in secrets:
        if secret:
            found = found.replace(secret, "********")
    return found


def dialog(argv, answers, timeout=120, secrets=()):
    """Run argv; for each (pattern, answer) wait until the output since the last answer
    matches pattern (compiled regex, searched in the ANSI-free text), then write answer
    and a newline. Returns (rc, output). Raises ScriptError when the script outlives
    timeout seconds, waiting for a question or for its end (it is killed)."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out = b""
    since = 0
    deadline = time.monotonic() + timeout
    pending = list(answers)
    try:
        while True:
            if pending:
                pattern, answer = pending[0]
                if pattern.search(plain(out[since:].decode("utf-8", "replace"))):
                    proc.stdin.write((answer + "\n").encode("utf-8"))
                    proc.stdin.flush()
                    since = len(out)
                    pending.pop(0)
                    if not pending:
                        proc.stdin.close()
                    continue
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                waited = "a question" if pending else "the end"
                raise ScriptError(
                    "%s: no answer after %ds waiting for %s (last output: %s)"
                    % (" ".join(argv[-3:]), timeout, waited, last_words(out.decode(), secrets))
                )
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None and not pending:
                break
        if not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise ScriptError("%s did not end in %ds" % (" ".join(argv[-3:]), timeout)) from None
    # A script may end before its last question (delete-user finding nobody): the
    # caller judges the outcome by the exit status and the script's own words.
    return proc.returncode, out.decode("utf-8", "replace")


def script(container, name, *args):
    """argv running LibreChat's `npm run <name>` in its container (quiet npm banner)."""
    argv = ["docker", "exec", "-i", container, "npm", "run", "-s", name]
    return argv + (["--", *args] if args else [])


def plan(wanted, existing, reset, remove, balance):
    """What a sync does on one host.

    wanted: [{username, email, name, role, password, tokens}] for this host, in order
    (the teacher first); existing: parse_users' list; reset/remove: usernames;
    balance: {username: credits} to set. Returns a dict of lists: create (wanted
    accounts), conflict ([username, reason]), reset, remove ({username, email}),
    balance ([username, email, credits]), unchanged (usernames)."""
    by_email = dict((u["email"], u) for u in existing)
    by_username = dict((u.get("username"), u) for u in existing if u.get("username"))
    result = {
        "create": [], "conflict": [], "reset": [], "remove": [], "balance": [], "unchanged": [],
    }  # fmt: skip
    present = {}
    for account in wanted:
        email, username = account["email"].lower(), account["username"].lower()
        same_email, same_name = by_email.get(email), by_username.get(username)
        if same_email is None and same_name is None:
            result["create"].append(account)
            present[username] = email
        elif same_email is not None and same_email.get("username") == username:
            present[username] = email
            if username not in reset and username not in balance:
                result["unchanged"].append(username)
        else:
            holder = same_email or same_name
            result["conflict"].append(
                [username, "LibreChat already has %s with username %r and email %s"
                 % ("this email" if same_email else "this username",
                    holder.get("username") or "", holder["email"])]
            )  # fmt: skip
    for username in reset:
        if username in present:
            result["reset"].append({"username": username, "email": present[username]})
    for username in sorted(balance):
        if username in present:
            result["balance"].append([username, present[username], int(balance[username])])
    for username in remove:
        found = by_username.get(username.lower())
        if found is not None:
            result["remove"].append({"username": found["username"], "email": found["email"]})
    return result
