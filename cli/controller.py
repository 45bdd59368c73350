"""What the controller does to drive a whole lab at once: forks sized to the run, SSH
connection reuse and pipelining, and a record of the hosts that failed last time.

Pure functions over paths and mappings, so tests need no Ansible run.
"""

from __future__ import annotations

import configparser
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import LlmError, utf8

if TYPE_CHECKING:
    from cli.events import RunState

# Forks: one per host the run targets, between these bounds. Ansible's own default
# is 5, so 30 machines go 5 at a time. The cap (benchmarks/controller_scale.py, the
# install's first play over SSH): a host costs the controller about 2 CPU seconds per
# 30 tasks (0.07 per task) while each task takes the host 0.3-1 s, so one core keeps
# roughly 5-15 forks busy; 50 forks fill a 4-8 core controller, and more only queue for
# its CPU. Memory is no limit: about 18 MB per fork. --forks or llm_forks go past it.
MIN_FORKS = 5
DEFAULT_MAX_FORKS = 50
FORKS_RANGE = (1, 500)
FORKS_SETTING = "llm_forks"

# The ControlPath ssh builds is <dir>/<40-hex %C hash>, and while creating the
# master it binds <path>.<16 random characters> first: all of it must fit in
# sun_path (108 bytes, one of them the terminating NUL).
_SOCKET_PATH_MAX = 107
_CONTROL_NAME_LEN = 1 + 40 + 17
CONTROL_PERSIST = "300s"


def size_forks(
    hosts: int,
    requested: int | None = None,
    setting: int | None = None,
    user_ansible: int | None = None,
) -> int:
    """The forks for a run: --forks, else config.yml's llm_forks, else the user's own
    Ansible setting (ANSIBLE_FORKS or ansible.cfg), else one per targeted host between
    MIN_FORKS and DEFAULT_MAX_FORKS."""
    for chosen in (requested, setting, user_ansible):
        if chosen is not None:
            return chosen
    return max(MIN_FORKS, min(DEFAULT_MAX_FORKS, hosts))


def check_forks(value: object, where: str) -> int:
    """A forks value from config.yml, as an int in FORKS_RANGE, or a one-line error."""
    low, high = FORKS_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise LlmError(
            f"{where}: {FORKS_SETTING} is {value!r}, not a number of forks from {low} to {high}",
            f"fix it with 'llm config set {FORKS_SETTING} N'",
        )
    return value


def user_ansible_cfg(environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The ansible.cfg ansible-playbook will read, in Ansible's own order."""
    candidates = []
    if environ.get("ANSIBLE_CONFIG"):
        given = Path(environ["ANSIBLE_CONFIG"]).expanduser()
        candidates.append(given / "ansible.cfg" if given.is_dir() else given)
    home = environ.get("HOME")
    candidates += [cwd / "ansible.cfg"]
    if home:
        candidates.append(Path(home) / ".ansible.cfg")
    candidates.append(Path("/etc/ansible/ansible.cfg"))
    return next((path for path in candidates if path.is_file()), None)


def _cfg_has(cfg: Path | None, section_keys: Iterable[tuple[str, str]]) -> bool:
    if cfg is None:
        return False
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(cfg, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return False
    return any(parser.has_option(section, key) for section, key in section_keys)


def _cfg_forks(cfg: Path | None) -> int | None:
    if cfg is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(cfg, encoding="utf-8")
        return parser.getint("defaults", "forks", fallback=None)
    except (configparser.Error, UnicodeDecodeError, OSError, ValueError):
        return None


def user_forks(environ: Mapping[str, str], cfg: Path | None) -> int | None:
    """Forks the user set for Ansible themselves (ANSIBLE_FORKS, then ansible.cfg)."""
    raw = environ.get("ANSIBLE_FORKS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return _cfg_forks(cfg)


def control_path_dir(runs: Path) -> Path | None:
    """<stack>/runs/cp (0700) for ssh's control sockets, or None when the path is too long
    for a socket (Ansible then keeps its default, ~/.ansible/cp)."""
    path = runs / "cp"
    if len(str(path)) + _CONTROL_NAME_LEN > _SOCKET_PATH_MAX:
        return None
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def connection_environment(
    runs: Path, environ: Mapping[str, str], cfg: Path | None
) -> dict[str, str]:
    """Ansible's connection settings for a lab, each only where the user has not chosen
    one (their environment, their ansible.cfg; inventory variables such as
    ansible_ssh_args win over both anyway).

    - Pipelining, for every connection that can (ssh, docker, local): a module runs
      through the connection's stdin instead of being copied to a temporary file first,
      so a task costs one round trip (one `docker exec`, one command on the open SSH
      session) instead of four: make a temporary directory, copy the module, run it,
      remove it (docs/performance.md has the figures). With become, pipelining needs
      sudo without `requiretty`: Debian and Ubuntu never set it, RHEL 8 and later no
      longer do (RHEL 7's sudoers did).
    - ControlMaster/ControlPersist: one SSH connection per host reused by every task
      for 5 minutes, instead of a new handshake per task. No -C (Ansible's default
      has it): module payloads are zip-compressed already and on a LAN compressing
      60 streams costs the controller CPU for nothing.
    - ControlPath directory: short, private (0700), under the stack's runs directory,
      so 60 sockets with their %C names stay within the socket path limit.
    """
    env: dict[str, str] = {}
    pipelining_set = any(
        name in environ for name in ("ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING")
    ) or _cfg_has(
        cfg,
        [
            ("defaults", "pipelining"),
            ("connection", "pipelining"),
            ("ssh_connection", "pipelining"),
        ],
    )
    if not pipelining_set:
        env["ANSIBLE_PIPELINING"] = "True"
    if "ANSIBLE_SSH_ARGS" not in environ and not _cfg_has(cfg, [("ssh_connection", "ssh_args")]):
        env["ANSIBLE_SSH_ARGS"] = f"-o ControlMaster=auto -o ControlPersist={CONTROL_PERSIST}"
    dir_set = any(
        name in environ for name in ("ANSIBLE_SSH_CONTROL_PATH_DIR", "ANSIBLE_SSH_CONTROL_PATH")
    ) or _cfg_has(cfg, [("ssh_connection", "control_path_dir"), ("ssh_connection", "control_path")])
    if not dir_set:
        directory = control_path_dir(runs)
        if directory is not None:
            env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(directory)
    return env


MITOGEN_SETTING = "llm_mitogen"


def mitogen_environment(
    enabled: object,
    environ: Mapping[str, str],
    cfg: Path | None = None,
    unfit: Iterable[str] = (),
) -> dict[str, str]:
    """Ansible's settings for Mitogen's strategy (docs/performance.md) when config.yml's
    llm_mitogen is on and the user chose no strategy of their own. Mitogen runs tasks of
    the ssh, local and docker connections (by those short names) through one Python
    interpreter per host kept open for the run, instead of a new one per task. Not where
    an enabled role cannot run under it (``unfit``: why, from the registry's
    not_under_mitogen)."""
    if enabled is not True or "ANSIBLE_STRATEGY" in environ:
        return {}
    reasons = list(unfit)
    if reasons:
        import click

        click.echo(f"{MITOGEN_SETTING} set aside for this run: {reasons[0]}", err=True)
        return {}
    if _cfg_has(cfg, [("defaults", "strategy")]):
        return {}  # their ansible.cfg's strategy: an environment variable would override it
    import importlib.util

    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        raise LlmError(
            f"{MITOGEN_SETTING} is on but Mitogen is not installed beside llm",
            f"pip install mitogen (into llm's environment), or 'llm config set {MITOGEN_SETTING}"
            " false'",
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(package / "plugins" / "strategy"),
        "ANSIBLE_STRATEGY": "mitogen_linear",
    }


# Hosts that failed last time, per playbook.


def failed_record(runs: Path, playbook: str) -> Path:
    return runs / "last-failed" / f"{playbook}.txt"


def read_failed(runs: Path, playbook: str) -> list[str]:
    """The hosts recorded as failed or unreachable by the last run of playbook."""
    path = failed_record(runs, playbook)
    try:
        lines = utf8(path.read_bytes(), path).splitlines()
    except FileNotFoundError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def updated_failed(
    before: Iterable[str], failed: Iterable[str], succeeded: Iterable[str]
) -> list[str]:
    """The record after a run: the hosts it failed on, plus those that failed before
    and this run did not finish (a --limit or --retry-failed run leaves the others)."""
    after = (set(before) - set(succeeded)) | set(failed)
    return sorted(after)


def record_failed(
    runs: Path,
    playbook: str,
    failed: Iterable[str],
    succeeded: Iterable[str],
    *,
    finished: bool,
) -> list[str]:
    """Update runs/last-failed/<playbook>.txt after a run; returns the hosts it holds.

    An unfinished run (interrupted, or stopped before Ansible's recap) only adds the
    hosts it saw fail: a host that had not finished cannot be taken off the list.
    """
    before = read_failed(runs, playbook)
    hosts = updated_failed(before, failed, succeeded if finished else ())
    path = failed_record(runs, playbook)
    if not hosts:
        path.unlink(missing_ok=True)
        return hosts
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
    header = (
        f"# Hosts that failed or were unreachable when '{playbook}' last ran on them "
        f"(updated {stamp}).\n# 'llm install --retry-failed' runs only these.\n"
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(header + "".join(f"{h}\n" for h in hosts), encoding="utf-8")
    tmp.replace(path)
    return hosts


def retry_hosts(recorded: Iterable[str], in_scope: Iterable[str]) -> list[str]:
    """The recorded hosts that are still in the inventory and within the user's --limit
    (in_scope: the hosts the inventory and that --limit select), in recorded order."""
    scope = set(in_scope)
    return [host for host in recorded if host in scope]


def state_outcome(state: RunState, stopped_early: bool = False) -> tuple[list[str], list[str]]:
    """(hosts to retry, hosts that finished ok) from the run's display state.

    stopped_early: Ansible ended the playbook because every host of one play failed
    (its linear strategy does that, printing NO MORE HOSTS LEFT): the later plays ran
    on no host, so the hosts that were fine so far have not finished either.
    """
    failed = {h.name for h in state.hosts.values() if h.status != "ok"}
    failed |= {f.host for f in state.failures}
    if stopped_early:
        return sorted(failed | set(state.hosts)), []
    succeeded = {h.name for h in state.hosts.values() if h.status == "ok"} - failed
    return sorted(failed), sorted(succeeded)
