"""`llm users import|list|remove|reset-password|handout`: LibreChat accounts from a roster.

Accounts are made on the chat hosts by LibreChat's own scripts in its container
(playbooks/users.yml, the librechat role's `accounts` tasks). The controller keeps
what it made in the stack's accounts.yml (0600, with the initial passwords), so a
second import of the same roster changes nothing and generates no new password.
Passwords travel to the playbook in a 0600 file it reads with no_log, never on
the command line, in extra vars or in the output; the teacher gets them in a
handout file (0600), never on the terminal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from cli import accounts, inventory, prompts, runner
from cli.errors import EXIT_OK, LlmError
from cli.playbook_command import Target, playbook_command
from cli.secretstore import write_private
from cli.stack import StackDir


@click.group()
def users() -> None:
    """Make, list and remove LibreChat accounts (a class from a roster CSV)."""


def _chat_hosts(target: Target) -> tuple[list[str], list[str]]:
    """Every chat host in the inventory, and those this run touches (--limit)."""
    limit = target.opts.limit
    every = inventory.group_hosts(target.inventory, None, "llm_chat")
    chosen = inventory.group_hosts(target.inventory, limit, "llm_chat")
    if not chosen:
        where = f" matching --limit {limit!r}" if limit else ""
        raise LlmError(
            f"no chat host (group llm_chat){where} in {target.inventory}",
            "accounts live in LibreChat on the llm_chat hosts: add one to the inventory",
        )
    return every, chosen


def _run(
    target: Target,
    action: str,
    *,
    present: Sequence[accounts.StoredAccount] = (),
    reset: Iterable[str] = (),
    remove: Iterable[str] = (),
    balance: Mapping[str, int] | None = None,
    change: str | None = None,
) -> tuple[int, dict[str, dict[str, Any]], list[str]]:
    """Run playbooks/users.yml; returns the exit status, each host's report and the hosts
    that failed or could not be reached.

    The accounts (with passwords) go in a 0600 file the playbook reads with
    no_log; it is deleted when the run ends, whatever happens.
    """
    from cli.display import RunDisplay

    stack = target.stack
    run_file = stack.runs / "users-run.yml"
    stack.runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    import yaml

    payload = {
        "llm_users_accounts": [
            {"username": a.username, **{k: v for k, v in a.to_yaml().items() if k != "generated"}}
            for a in present
        ],
        "llm_users_reset": sorted(set(reset)),
        "llm_users_remove": sorted(set(remove)),
        "llm_users_balance": dict(balance or {}),
    }
    write_private(run_file, yaml.safe_dump(payload, allow_unicode=True).encode())
    try:
        display = RunDisplay(verbose=target.opts.verbosity > 0, quiet=action == "list")
        code = target.run(
            "users",
            display,
            extra_vars={"llm_users_action": action, "llm_users_file": str(run_file)},
            change=change,
            targets=_chat_hosts(target)[1] if change else None,
        )
    finally:
        run_file.unlink(missing_ok=True)
    reports = {
        name: host.report
        for name, host in display.state.hosts.items()
        if isinstance(host.report, dict) and host.report
    }
    failed = sorted(h.name for h in display.state.hosts.values() if h.status != "ok")
    return code, reports, failed


def _print_changes(reports: Mapping[str, Mapping[str, Any]], check: bool) -> None:
    verb = "would change" if check else "changed"
    for host in sorted(reports):
        report = reports[host]
        parts = [
            f"{len(report.get(key) or [])} {word}"
            for key, word in (
                ("created", "created"),
                ("updated", "updated"),
                ("removed", "removed"),
                ("unchanged", "unchanged"),
            )
        ]
        click.echo(f"{host}: {', '.join(parts)}")
    total = sum(
        len(r.get(k) or []) for r in reports.values() for k in ("created", "updated", "removed")
    )
    click.echo(f"accounts {verb}: {total}")


def _slips(
    chosen: Iterable[accounts.StoredAccount],
    reports: Mapping[str, Mapping[str, Any]],
    hosts: Sequence[str],
) -> list[Any]:
    from cli.handout import Slip

    urls = {host: str(r.get("url") or "") for host, r in reports.items()}
    slips = []
    for account in chosen:
        if account.host:
            url = urls.get(account.host) or account.host
        elif len(hosts) == 1:
            url = urls.get(hosts[0]) or hosts[0]
        else:  # on every chat host: a classroom PC's own chat
            example = next((urls[h] for h in hosts if urls.get(h)), hosts[0])
            url = f"the chat on any classroom PC, e.g. {example}"
        slips.append(
            Slip(
                url=url,
                name=account.name,
                username=account.username,
                email=account.email,
                password=account.password,
                role=account.role,
            )
        )
    return slips


def _handout_path(stack: StackDir, explicit: Path | None) -> Path:
    if explicit:
        return explicit
    stack.handouts.mkdir(mode=0o700, parents=True, exist_ok=True)
    return stack.handouts / f"handout-{time.strftime('%Y%m%d-%H%M%S')}.txt"


@users.command(name="import")
@click.argument("roster", type=click.Path(path_type=Path))
@click.option(
    "--prune",
    is_flag=True,
    help="Also remove accounts imported before that the roster no longer lists.",
)
@click.option("-y", "--yes", is_flag=True, help="Do not ask before pruning.")
@click.option(
    "--handout",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the slips of new accounts (default: the stack's handouts/).",
)
@playbook_command()
def import_(target: Target, roster: Path, prune: bool, yes: bool, handout: Path | None) -> int:
    """Make (or update) an account for every row of ROSTER, a CSV with a header:
    email, name, username; optional password, tokens, host, role (student or teacher).

    Every row is checked first and all problems are listed with their line numbers
    before anything changes. Missing passwords are generated; the new accounts'
    slips (chat address, username, password) go to a handout file, never to the
    terminal. A second import of the same roster changes nothing.
    """
    from cli import roster as roster_module

    opts, stack = target.opts, target.stack
    every, _ = _chat_hosts(target)
    rows = roster_module.read_roster(roster, every)
    stored = accounts.load(stack.accounts)
    plan = accounts.plan(rows, stored, prune=prune)

    for planned in plan.update:
        if "name" in planned.changed:
            click.echo(
                f"note: {planned.username}: LibreChat's scripts cannot change an account's "
                "name; recorded here, the student can change it in LibreChat's settings"
            )
    pruned = [gone.username for gone in plan.remove] if prune else []
    if pruned and not opts.check:
        listed = ", ".join(pruned[:10]) + (
            f" and {len(pruned) - 10} more" if len(pruned) > 10 else ""
        )
        prompts.confirm(
            f"Remove {len(pruned)} account(s) no longer in the roster ({listed}), "
            "with their conversations?",
            f"--prune would remove {len(pruned)} account(s): {listed}",
            yes,
        )

    new_state = accounts.apply(plan, stored)
    if not opts.check:
        # Kept before the run (with the pruned ones until they are gone), so a failed
        # run is finished by the next import with the same passwords.
        runner.check_settings(stack)  # a refused run must not follow a rewritten record
        accounts.save(stack.accounts, {**new_state, **{n: stored[n] for n in pruned}})
    present = sorted(new_state.values(), key=lambda a: (a.role != "teacher", a.username))
    password_changed = [p.username for p in plan.update if "password" in p.changed]
    balance = {
        p.username: p.account.tokens
        for p in (*plan.create, *(u for u in plan.update if "tokens" in u.changed))
        if p.account.tokens is not None
    }
    code, reports, _ = _run(
        target,
        "sync",
        present=present,
        reset=password_changed,
        remove=pruned,
        balance=balance,
        change=f"the roster {roster.name} imported",
    )
    if not opts.check and code == EXIT_OK and pruned:
        accounts.save(stack.accounts, new_state)
    _print_changes(reports, opts.check)

    # Slips for what the hosts really made (a run that failed earlier is finished
    # now, with the passwords recorded then) and for the passwords really reset.
    created = {u for r in reports.values() for u in (r.get("created") or [])}
    updated = {u for r in reports.values() for u in (r.get("updated") or [])}
    made = (created | (updated & set(password_changed))) & set(new_state)
    if not opts.check and made:
        path = _handout_path(stack, handout)
        chosen = [
            new_state[u] for u in sorted(made, key=lambda u: (new_state[u].role != "teacher", u))
        ]
        from cli.handout import html_path, write_handout

        write_handout(path, _slips(chosen, reports, every))
        click.echo(
            f"handout with {len(chosen)} slip(s) (initial passwords): {path} "
            f"and {html_path(path).name} (mode 0600; print it, then delete it)"
        )
    return code


@users.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print {host: [account, ...]} as JSON.")
@playbook_command()
def list_users(target: Target, as_json: bool) -> int:
    """Show the accounts LibreChat has on every chat host, with their token balance."""
    _chat_hosts(target)
    code, reports, failed = _run(target, "list")
    by_host: dict[str, Any] = {host: r.get("accounts") or [] for host, r in reports.items()}
    # A host that did not answer is named too: null (its reason is on stderr).
    by_host = dict(sorted({**{host: None for host in failed}, **by_host}.items()))
    if as_json:
        click.echo(json.dumps(by_host, indent=2, sort_keys=True))
        return code
    for host, listed in by_host.items():
        if listed is None:
            click.echo(f"{host}: not read (see above)")
            continue
        click.echo(f"{host}: {len(listed)} account(s)")
        for entry in listed:
            balance = entry.get("balance")
            click.echo(
                f"  {entry.get('username', ''):<24} {entry.get('name', ''):<28} "
                f"{entry.get('email', ''):<32} {entry.get('role', ''):<6} "
                f"{'' if balance is None else balance}"
            )
    return code


@users.command()
@click.argument("usernames", nargs=-1, required=True, metavar="USERNAME...")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@playbook_command()
def remove(target: Target, usernames: tuple[str, ...], yes: bool) -> int:
    """Delete accounts (and their conversations) from every chat host (or --limit)."""
    opts, stack = target.opts, target.stack
    _chat_hosts(target)
    names = [u.lower() for u in dict.fromkeys(usernames)]
    if not opts.check:
        what = f"delete the account(s) {', '.join(names)} and their conversations"
        prompts.confirm(f"{what[0].upper()}{what[1:]}?", f"this would {what}", yes)
    code, reports, _ = _run(
        target, "remove", remove=names,
        change=f"account(s) {', '.join(sorted(names))} removed",
    )  # fmt: skip
    _print_changes(reports, opts.check)
    missing = sorted(set(names) - {u for r in reports.values() for u in (r.get("removed") or [])})
    if missing and reports and not opts.check:
        click.echo(f"not found on any chat host: {', '.join(missing)}")
    if not opts.check and code == EXIT_OK:
        stored = accounts.load(stack.accounts)
        if any(n in stored for n in names):
            accounts.save(stack.accounts, {k: v for k, v in stored.items() if k not in names})
    return code


@users.command(name="reset-password")
@click.argument("usernames", nargs=-1, required=True, metavar="USERNAME...")
@click.option(
    "--handout",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new slips (default: the stack's handouts/).",
)
@playbook_command(no_check="the new password is recorded before it is set")
def reset_password(target: Target, usernames: tuple[str, ...], handout: Path | None) -> int:
    """Give accounts a new generated password; their slips go to a handout file."""
    from cli.passwords import easy_password

    stack = target.stack
    every, _ = _chat_hosts(target)
    stored = accounts.load(stack.accounts)
    names = [u.lower() for u in dict.fromkeys(usernames)]
    unknown = [n for n in names if n not in stored]
    if unknown:
        raise LlmError(
            f"not imported by 'llm users import': {', '.join(unknown)}",
            "only accounts in the stack's accounts.yml can be reset here; see 'llm users list'",
        )
    changed = {n: replace(stored[n], password=easy_password(), generated=True) for n in names}
    runner.check_settings(stack)  # a refused run must not follow new recorded passwords
    accounts.save(stack.accounts, {**stored, **changed})
    code, reports, _ = _run(
        target, "reset", present=list(changed.values()), reset=names,
        change=f"new password(s) for {', '.join(sorted(names))}",
    )  # fmt: skip
    done = {u for r in reports.values() for u in (r.get("updated") or [])}
    if done:
        from cli.handout import write_handout

        path = _handout_path(stack, handout)
        write_handout(path, _slips([changed[n] for n in names if n in done], reports, every))
        click.echo(f"new password(s) for {', '.join(sorted(done))} in the handout {path} (0600)")
    return code
