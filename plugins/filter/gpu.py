# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Filters that turn facts and settings into GPU driver plans (see module_utils/gpu_plan)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.local_llm.stack.plugins.module_utils.gpu_plan import (
    nvidia_plan,
    reboot_decision,
    rocm_plan,
)


def nvidia_driver_plan(facts, settings, device_ids=()):
    """ansible_facts | local_llm.stack.nvidia_driver_plan(settings, device_ids)"""
    return nvidia_plan(facts, settings, device_ids)


def rocm_driver_plan(facts, settings):
    """ansible_facts | local_llm.stack.rocm_driver_plan(settings)"""
    return rocm_plan(facts, settings)


def gpu_reboot_decision(gpu, installed_version="", allowed=False, local=False, load_error=None):
    """llm_gpu | local_llm.stack.gpu_reboot_decision(installed, allowed, local[, load_error])"""
    return reboot_decision(gpu, installed_version or "", bool(allowed), bool(local), load_error)


class FilterModule(object):
    def filters(self):
        return {
            "nvidia_driver_plan": nvidia_driver_plan,
            "rocm_driver_plan": rocm_driver_plan,
            "gpu_reboot_decision": gpu_reboot_decision,
        }
