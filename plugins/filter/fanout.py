# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The model copy tree as a filter (see module_utils/fanout)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.local_llm.stack.plugins.module_utils import fanout as _f


def fanout_rounds(sources, targets, per_source=1):
    """sources | fanout_rounds(targets, per_source=1) -> [{target: source}, ...] per round."""
    try:
        return _f.fanout_rounds(sources, targets, per_source=per_source)
    except _f.FanoutError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"fanout_rounds": fanout_rounds}
