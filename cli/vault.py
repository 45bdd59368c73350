"""Optional ansible-vault encryption of the secrets file.

The vault password lives outside the stack directory, in a file named by
LLM_VAULT_PASSWORD_FILE (or --vault-password-file): the same file Ansible is
given to read the encrypted secrets during a run. Ansible is imported only
when a file is actually encrypted or decrypted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cli.errors import LlmError

ENV_VAR = "LLM_VAULT_PASSWORD_FILE"
HEADER = b"$ANSIBLE_VAULT;"


def is_encrypted(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(HEADER)) == HEADER
    except OSError:
        return False


def password_file(given: Path | None = None) -> Path:
    """The vault password file: --vault-password-file, else $LLM_VAULT_PASSWORD_FILE."""
    path = given or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    if path is None:
        raise LlmError(
            "the secrets file is encrypted with ansible-vault and no vault password was given",
            f"set {ENV_VAR} to the file holding the vault password",
        )
    if not path.is_file():
        raise LlmError(f"vault password file {path} not found", f"check {ENV_VAR}")
    # Absolute: Ansible runs in the stack's runs/ directory, not where llm was started.
    return path.resolve()


def _lib(password_path: Path) -> Any:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = password_path.read_bytes().strip()
    if not password:
        raise LlmError(f"vault password file {password_path} is empty")
    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password))])


def encrypt(text: str, password_path: Path) -> bytes:
    return _lib(password_path).encrypt(text.encode("utf-8"))


def decrypt(data: bytes, password_path: Path, source: Path) -> str:
    from ansible.errors import AnsibleError

    try:
        return _lib(password_path).decrypt(data).decode("utf-8")
    except AnsibleError:
        raise LlmError(
            f"cannot decrypt {source} with the password in {password_path}",
            "check the vault password file",
        ) from None
