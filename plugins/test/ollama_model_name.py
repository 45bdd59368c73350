# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ollama_model_name
short_description: Is this a valid Ollama model name?
description:
  - True for names C(ollama pull) accepts, C([registry/][namespace/]model[:tag]),
    e.g. C(llama3.2), C(qwen2.5:7b), C(hf.co/org/model:Q4_K_M).
options:
  _input:
    description: The name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad model names before anything changes
  ansible.builtin.assert:
    that: ollama_models | reject('local_llm.stack.ollama_model_name') | list | length == 0
"""

RETURN = r"""
_value:
  description: Whether the name is valid.
  type: bool
"""

from ansible_collections.local_llm.stack.plugins.module_utils.ollama import valid_model_name


class TestModule(object):
    def tests(self):
        return {"ollama_model_name": valid_model_name}
