"""The stack directory: where `llm` keeps config, inventory, secrets and run logs.

Which directory, in order of precedence:

1. ``--dir DIR`` on the command line;
2. the ``LLM_STACK_DIR`` environment variable;
3. ``$XDG_CONFIG_HOME/llm-stack`` (``~/.config/llm-stack`` when unset).

Every command resolves it the same way, so ``llm init --dir X`` followed by
``LLM_STACK_DIR=X llm install`` works on the same stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cli.errors import LlmError

ENV_VAR = "LLM_STACK_DIR"

_INVENTORY_HEAD = """\
# Default local-llm-stack inventory: this machine runs the whole stack, in every
# group a module deploys on. For a lab, pass your own with
# `llm install --inventory lab.ini` (examples in the inventories/ folder of the project).
"""
# The system's Python, which has the OS's own bindings (python3-apt, python3-dnf).
_LOCALHOST = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3"


def default_inventory() -> str:
    """This machine in every group of the registry's modules (a new module's group too)."""
    from cli import registry

    groups = registry.stack_groups()
    sections = [f"[{g}]\n{_LOCALHOST if i == 0 else 'localhost'}\n" for i, g in enumerate(groups)]
    return _INVENTORY_HEAD + "\n".join(sections)


DEFAULT_CONFIG = """\
# local-llm-stack settings: Ansible variables for every host. An inventory's
# host or group variables override them for the hosts they name.
# Secrets are not kept here: they live in secrets.yml (mode 0600).

# Where models, databases and configuration live on each host.
llm_stack_root: /opt/llm-stack

# Models every Ollama host serves (pulled once; `ollama pull` names).
ollama_models:
  - llama3.2

# Sign-up on the chat: off, so only the accounts llm makes can log in (the install makes
# the administrator, librechat_admin_email; students: `llm users import`). Switch it on
# only where everyone who can reach the chat may use the GPUs.
librechat_allow_registration: false
librechat_admin_email: admin@llm-stack.local

# A lab's own registry mirror for every image (offline labs), e.g.:
# llm_registry: registry.lab.lan:5000
# container_runtime_insecure_registries: [registry.lab.lan:5000]
"""


def default_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llm-stack"


def resolve_dir(explicit: str | os.PathLike[str] | None) -> Path:
    """The stack directory chosen by --dir, then $LLM_STACK_DIR, then the default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return default_dir()


@dataclass(frozen=True)
class StackDir:
    """Paths inside one stack directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory.ini"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets.yml"

    @property
    def api_keys(self) -> Path:
        """`llm keys`: the API keys' names and sha256 hashes (never the keys)."""
        return self.root / "api-keys.yml"

    @property
    def accounts(self) -> Path:
        """`llm users`: the accounts imported from rosters, with their initial passwords (0600)."""
        return self.root / "accounts.yml"

    @property
    def handouts(self) -> Path:
        """`llm users`: the printable slips with students' initial passwords (0700, files 0600)."""
        return self.root / "handouts"

    @property
    def tls(self) -> Path:
        """The stack's CA and the gateways' certificates (keys 0600)."""
        return self.root / "tls"

    @property
    def runs(self) -> Path:
        """ansible-runner's private data dir; its artifacts/ are rotated."""
        return self.root / "runs"

    def exists(self) -> bool:
        return self.config.is_file()

    def require(self) -> StackDir:
        """Stop with a clear message when `llm init` has not been run here."""
        if not self.exists():
            raise LlmError(
                f"no stack found in {self.root}",
                f"run 'llm init --dir {self.root}' first, or point --dir / ${ENV_VAR} "
                "at an existing stack",
            )
        return self

    def init(self) -> list[Path]:
        """Create what is missing; never touch what exists. Returns created paths."""
        created: list[Path] = []
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.runs.mkdir(mode=0o700, exist_ok=True)
            for path, text in ((self.config, DEFAULT_CONFIG), (self.inventory, None)):
                if not path.exists():
                    path.write_text(text or default_inventory(), encoding="utf-8")
                    created.append(path)
        except OSError as exc:
            raise LlmError(
                f"cannot create the stack directory {self.root}: {exc.strerror}",
                "choose another place with --dir, or fix its permissions",
            ) from exc
        return created
