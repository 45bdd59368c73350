# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Ollama model names as Ollama lists them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.local_llm.stack.plugins.module_utils.ollama import canonical


def ollama_canonical(name):
    """'llama3.2' -> 'llama3.2:latest', the form /api/tags reports."""
    try:
        return canonical(name)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"ollama_canonical": ollama_canonical}
