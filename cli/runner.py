"""Run one of the collection's playbooks through ansible-runner.

Secrets never travel this way: extra vars carry only non-secret settings (the
stack directory among them) and playbooks read secrets.yml themselves with a
``no_log`` task. ``suppress_env_files`` keeps runner from writing env/ files,
Ansible's environment holds none of the caller's secrets (cli.child_env), and
the run directory's artifacts are rotated.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from cli import child_env, collection, controller, inventory, links, pending, registry, vault
from cli.errors import LlmError
from cli.secretstore import write_private
from cli.stack import StackDir

if TYPE_CHECKING:
    from cli.options import AnsibleOptions

KEEP_ARTIFACTS = 20


@dataclass
class PlaybookRun:
    """What one `llm` command asks Ansible to do."""

    playbook: str
    inventory: Path
    limit: str | None = None
    tags: list[str] = field(default_factory=list)
    check: bool = False
    diff: bool = False
    verbosity: int = 0
    extra_vars: dict[str, Any] = field(default_factory=dict)
    # None: sized to the hosts the run targets (cli.controller.size_forks).
    forks: int | None = None
    # What the run changes on several hosts ("alice's key revoked"): named, with the
    # hosts that lack it, when it does not reach them all (cli.pending); targets: the
    # hosts it is for (one that gave no result, or an interrupted run's, lacks it too).
    change: str | None = None
    targets: list[str] | None = None

    @classmethod
    def from_options(
        cls,
        playbook: str,
        inventory: Path,
        opts: AnsibleOptions,
        *,
        limit: str | None = None,
        extra_vars: dict[str, Any] | None = None,
        change: str | None = None,
        targets: list[str] | None = None,
    ) -> PlaybookRun:
        """The run a command's common options ask for (AnsibleOptions), plus its own
        variables. --check/--diff always reach Ansible: a command that cannot honour
        them refuses them first (options.refuse_check)."""
        return cls(
            playbook=playbook,
            inventory=inventory,
            limit=limit if limit is not None else opts.limit,
            tags=opts.tags,
            check=opts.check,
            diff=opts.diff,
            verbosity=opts.verbosity,
            extra_vars={**opts.extra_vars, **(extra_vars or {})},
            forks=opts.forks,
            change=change,
            targets=targets,
        )


class _Interrupt:
    """First Ctrl-C (or a SIGTERM or SIGHUP: a closed terminal, a `kill`) asks
    ansible-runner to stop Ansible cleanly, so the run's private files are removed and
    its record written; a second one aborts."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupt:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nstopping Ansible (Ctrl-C again to abort at once)...", file=sys.stderr)

    def cancel(self) -> bool:
        return self.requested


def _stack_config(stack: StackDir) -> dict[str, Any]:
    """config.yml's settings, or a one-line error."""
    from cli import config_file

    return config_file.load(stack.config)


def run_settings(stack: StackDir, extra_vars: dict[str, Any]) -> dict[str, Any]:
    """The settings a run deploys with: config.yml's, -e winning (-e llm_modules=[security])."""
    return {**_stack_config(stack), **extra_vars}


def check_settings(stack: StackDir) -> None:
    """What run() refuses before Ansible starts, for a command to call before it changes
    anything of its own (api-keys.yml, secrets.yml): a refusal then leaves nothing half-done."""
    _refuse_bad_settings(stack, _stack_config(stack))


def _refuse_bad_settings(stack: StackDir, config: dict[str, Any]) -> None:
    """A setting config.yml holds with the wrong type or a refused value stops the run
    before Ansible starts (an edit by hand skips `llm config set`'s check). Keys the
    stack does not know are left to `llm config validate` to report."""
    from cli import config_schema

    known = config_schema.options()
    problems = config_schema.validate({k: v for k, v in config.items() if k in known})
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LlmError(
            f"{stack.config}: {problems[0]}{more}",
            "fix it with 'llm config set' or 'llm config edit'; 'llm config validate' lists each",
        )


def _stack_vars_inventory(
    stack: StackDir, config: dict[str, Any], user_inventory: Path, chosen: Any = None
) -> Path:
    """The stack's config.yml as an inventory source of `all` group vars, and the groups
    that follow from the registry: llm_stack, every stack host, and a module's
    group the user's inventory leaves empty, with its default's hosts (llm_monitoring: the
    chat hosts) while the module is enabled (chosen: llm_modules as the run sees it), so
    no user edits an inventory for them.

    Listed before the user's inventory, so the user's host and group vars win.
    """
    import yaml

    groups = inventory.members(user_inventory)
    # The modules this run deploys (-e llm_modules wins over config.yml's, as in the run).
    enabled = registry.enabled(chosen, requires=False)
    found = registry.logic().inventory_groups(registry.raw_registry(), enabled, groups)
    source = {"all": {"vars": config, "children": found}}
    path = stack.runs / "inventory" / "stack_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    # In this order: the host order of the groups is the user's.
    path.write_text(yaml.safe_dump(source, sort_keys=False), encoding="utf-8")
    return path


def _ansible_bin_dir(stack: StackDir) -> Path:
    """A directory holding only a link to the ansible-playbook installed with this Python.

    Put first on PATH, it makes runner use our Ansible even when the venv is not
    activated, without redirecting anything else (python3 on a local
    connection stays the host's own).
    """
    beside = Path(sys.executable).parent / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if not found:
        raise LlmError(
            "ansible-playbook not found beside this Python or on PATH",
            "reinstall local-llm-stack with pip: it depends on ansible",
        )
    return links.point(stack.runs / "bin" / "ansible-playbook", Path(found)).parent


def _environment(stack: StackDir, color: bool, config: dict[str, Any]) -> dict[str, str]:
    """What ansible-playbook needs beyond the user's environment: our Ansible, our
    collection, connection settings for driving many hosts
    (cli.controller.connection_environment) and
    Mitogen where config.yml turns it on."""
    cfg = controller.user_ansible_cfg(os.environ, stack.runs)
    return {
        **controller.connection_environment(stack.runs, os.environ, cfg),
        **controller.mitogen_environment(
            config.get(controller.MITOGEN_SETTING),
            os.environ,
            cfg,
            unfit=registry.not_under_mitogen(config.get("llm_modules")),
        ),
        "PATH": os.pathsep.join([str(_ansible_bin_dir(stack)), os.environ.get("PATH", "")]),
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [
                str(collection.link_into(stack.runs / "collections")),
                str(Path("~/.ansible/collections").expanduser()),
                "/usr/share/ansible/collections",
            ]
        ),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORCE_COLOR": str(color),
        "ANSIBLE_NOCOLOR": str(not color),
    }


def run(stack: StackDir, job: PlaybookRun, display: Any) -> int:
    """Run the playbook; returns the `llm` exit status (0, 1 or 130)."""
    stack.runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = _stack_config(stack)
    _refuse_bad_settings(stack, config)
    settings = run_settings(stack, job.extra_vars)
    env = _environment(stack, color=display.console.is_terminal, config=settings)
    cmdline = [flag for flag, on in (("--check", job.check), ("--diff", job.diff)) if on]
    if vault.is_encrypted(stack.secrets):
        # The playbooks' include_vars decrypts secrets.yml with it.
        cmdline += ["--vault-password-file", str(vault.password_file())]
    withheld = child_env.withheld(os.environ)
    if withheld:
        click.echo(
            f"not handed to Ansible (the run's artifacts record its environment): "
            f"{', '.join(withheld)}; put such a value in the inventory, with ansible-vault",
            err=True,
        )

    if job.change or job.playbook == "install":
        pending.load(stack.runs)  # a damaged record is refused before, not after, the run
    inventories = [
        str(_stack_vars_inventory(stack, config, job.inventory, settings.get("llm_modules"))),
        str(job.inventory),
    ]
    forks = _forks(stack, job, config)

    # A secret given with -e (ansible_become_password=...) would be written into the
    # run's artifacts with the command line: it goes in a 0600 file deleted afterwards.
    private = {k: v for k, v in job.extra_vars.items() if child_env.looks_secret(k, v)}
    extravars = {
        "llm_stack_dir": str(stack.root),
        **{k: v for k, v in job.extra_vars.items() if k not in private},
    }
    private_file = stack.runs / "private-vars.yml"
    if private:
        import yaml

        write_private(private_file, yaml.safe_dump(private).encode("utf-8"))
        cmdline += ["-e", f"@{private_file}"]

    stopped_in: list[str] = []

    def on_event(event: dict[str, Any]) -> bool:
        if event.get("event") == "playbook_on_no_hosts_remaining":
            stopped_in.append(display.state.play)
        return bool(display.event(event))

    with _Interrupt() as interrupt, display, _removed(private_file):
        result = _start(
            private_data_dir=str(stack.runs),
            playbook=str(collection.playbook(job.playbook)),
            inventory=inventories,
            limit=job.limit,
            tags=",".join(job.tags) or None,
            cmdline=" ".join(cmdline) or None,
            extravars=extravars,
            envvars=env,
            verbosity=job.verbosity,
            forks=forks,
            event_handler=on_event,
            cancel_callback=interrupt.cancel,
            rotate_artifacts=KEEP_ARTIFACTS,
            suppress_env_files=True,
            quiet=True,
        )
        display.state.canceled = interrupt.requested
    if not display.state.stats_seen and result.status not in ("successful", "canceled"):
        _explain_early_failure(display, result)
    display.recap()
    unfinished = sorted(h.name for h in display.state.hosts.values() if h.status == "ok")
    if stopped_in and unfinished:
        display.console.print(
            f"Ansible stopped at the play '{stopped_in[0]}' (every host of it failed): the "
            f"plays after it did not run on {', '.join(unfinished)}",
            soft_wrap=True,
        )
    if display.quiet and not display.failures_printed:
        # The command prints its own result (--json on stdout): say on stderr which
        # hosts failed, so no run ends non-zero without a line saying why.
        for failure in display.state.failures:
            click.echo(failure.line(), err=True)
    if not job.check:
        # A check-mode run repairs nothing: it leaves the records as they were. Only
        # the install's failures and changes are recorded: a read-only run finishes nothing.
        failed, succeeded = controller.state_outcome(display.state, bool(stopped_in))
        finished = display.state.stats_seen and not display.state.canceled
        if job.change and job.targets is not None:
            # A target with no result (a --tags run that skipped it, an interrupted run)
            # did not get the change either.
            done = set(succeeded) if finished else set()
            failed = sorted(set(failed) | (set(job.targets) - done))
            succeeded = sorted(done - set(failed))
        if job.playbook == "install":
            controller.record_failed(stack.runs, job.playbook, failed, succeeded, finished=finished)
        if job.playbook == "install" or job.change:
            pending.record(
                stack.runs,
                job.playbook,
                job.change,
                failed,
                succeeded,
                finished=finished,
                whole=not job.tags,
            )
        line = pending.summary(job.playbook, job.change, failed, succeeded) if job.change else None
        if line:
            click.echo(line, err=True)
    return display.state.exit_code(result.status, result.rc)


@contextmanager
def _removed(path: Path) -> Iterator[None]:
    """The file is gone when the block ends, however it ends."""
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _start(**kwargs: Any) -> Any:
    """ansible_runner.run, with Ansible's environment stripped of the caller's secrets
    first: runner writes the environment it hands Ansible into the run's artifacts."""
    from ansible_runner.interface import init_runner  # heavy: only when a playbook runs

    started = init_runner(**kwargs)
    started.config.env = child_env.for_ansible(started.config.env, os.environ)
    started.run()
    return started


def _forks(stack: StackDir, job: PlaybookRun, config: dict[str, Any]) -> int:
    """--forks, else config.yml's llm_forks, else the user's own Ansible forks, else one
    per host the run targets (at least 5, at most 50)."""
    setting = config.get(controller.FORKS_SETTING)
    if setting is not None:
        setting = controller.check_forks(setting, str(stack.config))
    user = controller.user_forks(os.environ, controller.user_ansible_cfg(os.environ, stack.runs))
    if job.forks is not None or setting is not None or user is not None:
        return controller.size_forks(0, job.forks, setting, user)
    hosts = inventory.any_group_hosts(job.inventory, job.limit, "all")
    return controller.size_forks(len(hosts))


def _explain_early_failure(display: Any, result: Any) -> None:
    """Ansible stopped before any host ran (a syntax error, a bad variable): show why."""
    try:
        text = result.stdout.read()
    except (OSError, AttributeError):
        text = ""
    tail = "\n".join(text.strip().splitlines()[-15:])
    display.console.print(f"Ansible stopped before running any host (status {result.status}):")
    if tail:
        display.console.print(tail, markup=False, highlight=False)
