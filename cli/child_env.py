"""The environment Ansible runs with: what it needs, never the caller's secrets.

ansible-runner hands Ansible a copy of this process's environment and writes
that copy into every run's artifacts (``runs/artifacts/<id>/command``), so an
``OPENAI_API_KEY=llmk_...`` exported in the shell would land on disk. From the
caller's own environment only what Ansible, SSH and a debugging reader need
passes; whatever runner or `llm` set for the run stays; a value that carries a
key or a URL password never passes. ``LLM_PASS_ENV`` names more variables to
hand through (an inventory's ``lookup('env', ...)``): they are then in the
artifacts too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cli.secretstore import API_KEY_PREFIX

PASS_ENV = "LLM_PASS_ENV"

# The caller's variables Ansible and SSH use (and that say where and as whom it ran).
_KEEP_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "PWD",
        "LANG",
        "LANGUAGE",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "TZ",
        "TMPDIR",
        "SSH_AUTH_SOCK",
        "SSH_AGENT_PID",
        "VIRTUAL_ENV",
        "SUDO_USER",
        "SUDO_UID",
        "SUDO_GID",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
    }
)
_KEEP_PREFIXES = ("LC_", "XDG_", "ANSIBLE_", "LLM_", "PYTHON")
# Even among those: a name that says it holds a secret, unless it names a file.
_SECRET_NAME = re.compile(
    r"PASSW|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|COOKIE|APIKEY|PRIVATE|AUTH"
    r"|(^|_)KEYS?$|(^|_)PASS($|_)|(^|_)PW($|_)|_PWD$"
)
_PATH_NAME = re.compile(r"_(FILE|PATH|DIR|DIRS|SOCK)$")
# user:password@ in a URL (a proxy with a login).
_URL_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def _secret_value(value: str) -> bool:
    return API_KEY_PREFIX in value or bool(_URL_PASSWORD.search(value))


def _secret_name(name: str) -> bool:
    upper = name.upper()
    return bool(_SECRET_NAME.search(upper)) and not _PATH_NAME.search(upper)


def looks_secret(name: str, value: object) -> bool:
    """A variable that would put a secret on disk where it is written down: a name that
    says so (ansible_become_password), or a value holding a key or a URL password."""
    return _secret_name(name) or _secret_value(str(value))


def _passed(caller: Mapping[str, str]) -> set[str]:
    """The names LLM_PASS_ENV hands through ("NAME OTHER" or "NAME,OTHER")."""
    return set(caller.get(PASS_ENV, "").replace(",", " ").split())


def withheld(caller: Mapping[str, str]) -> list[str]:
    """The caller's ANSIBLE_* and LLM_* variables kept from Ansible for their secret
    names (said once, so a password login that needs one is not a mystery)."""
    extra = _passed(caller)
    return sorted(
        name
        for name in caller
        if name.startswith(("ANSIBLE_", "LLM_"))
        and _secret_name(name)
        and name not in extra
        and name != PASS_ENV
    )


def for_ansible(env: Mapping[str, str], caller: Mapping[str, str]) -> dict[str, str]:
    """env (what runner would hand Ansible) less the caller's variables Ansible does not need.

    caller: this process's environment; a variable env holds with another value
    than the caller's was set for the run (by runner or by `llm`) and stays.
    """
    extra = _passed(caller)
    out = {}
    for name, value in env.items():
        if _secret_value(value):
            continue
        set_for_run = caller.get(name) != value
        wanted = name in _KEEP_NAMES or name.startswith(_KEEP_PREFIXES)
        if wanted and _secret_name(name) and name != PASS_ENV:
            wanted = False
        if set_for_run or wanted or name in extra:
            out[name] = value
    return out
