"""Modules on the lab: what `llm modules list` finds installed.

The install's last play, which removes the services of a disabled module and
keeps the data, is tested with a real module in test_security.py (enabled,
then disabled: the gateway goes, the chat data stays); it used to be driven
here through a made-up registry, a reinstall the CI budget now spends there.
"""

from __future__ import annotations

import json

from lab import llm
from team import OLLAMA_HOSTS


def test_modules_list_says_where_core_is_installed():
    result = llm("modules", "list", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["module"]: row for row in json.loads(result.stdout)}
    assert rows["core"]["installed_on"] == ["chat", *OLLAMA_HOSTS]
    assert rows["core"]["groups"] == {"llm_ollama": 2, "llm_chat": 1}
    assert rows["security"]["state"] == "disabled" and not rows["security"]["installed_on"]
