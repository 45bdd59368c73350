# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Ollama's model names and the few API calls the stack makes, for modules and tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import socket
import time

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not a target
    Request = urlopen = None

# [registry[:port]/][namespace/]model[:tag], as `ollama pull` accepts them.
_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}"
MODEL_NAME = re.compile(
    r"^(?:(?P<registry>[A-Za-z0-9.-]+(?::[0-9]{1,5})?)/(?=[^/]+/))?"
    r"(?:(?P<namespace>" + _PART + r")/)?"
    r"(?P<model>" + _PART + r")"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}))?$"
)


def valid_model_name(name):
    return bool(MODEL_NAME.match(name or ""))


def canonical(name):
    """'llama3.2' -> 'llama3.2:latest', the form /api/tags reports."""
    match = MODEL_NAME.match(name)
    if not match:
        raise ValueError("invalid model name %r" % name)
    return name if match.group("tag") else name + ":latest"


def _call(url, method="GET", body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    request = Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    return urlopen(request, timeout=timeout)


def installed(base_url, timeout=30):
    """{canonical name: size in bytes} of the models on the server."""
    with _call(base_url.rstrip("/") + "/api/tags", timeout=timeout) as response:
        models = json.load(response).get("models") or []
    return dict((m["name"], m.get("size", 0)) for m in models)


class Stalled(socket.timeout):
    """A download that received no byte for the stall time (the server still answering)."""


def pull(
    base_url, name, timeout=300, on_progress=None, check_space=None, insecure=False, stall=None
):
    """Pull a model, reading Ollama's NDJSON progress. Returns bytes of its layers.

    on_progress(completed, total, status) is called with the bytes so far over
    every layer seen. check_space(remaining) is called as Ollama announces each
    layer, with the bytes still to download, and may raise RuntimeError to stop
    the pull before the data arrives. Raises RuntimeError with Ollama's own
    error message when the pull fails.

    timeout: seconds without a line from Ollama. stall (default: timeout): seconds
    a layer is downloading without a byte arriving. Ollama reports progress every
    60 ms whether bytes come or not, and retries a stalled part itself without end
    (server/download.go), so a source that went away mid-copy shows only as
    progress that stops growing. Raises Stalled then; closing the stream cancels
    Ollama's download, and its partial files stay for the next pull to resume.
    """
    stall = timeout if stall is None else stall
    totals = {}
    done = {}
    body = {"model": name, "stream": True}
    if insecure:  # a plain-HTTP registry: a peer's model seed (ollama_copy)
        body["insecure"] = True
    moved, last = time.monotonic(), -1
    with _call(base_url.rstrip("/") + "/api/pull", "POST", body, timeout=timeout) as response:
        for raw in response:
            if not raw.strip():
                continue
            event = json.loads(raw)
            if event.get("error"):
                raise RuntimeError(event["error"])
            if event.get("digest") and event.get("total"):
                announced = event["digest"] not in totals
                totals[event["digest"]] = event["total"]
                done[event["digest"]] = event.get("completed") or 0
                if announced and check_space is not None:
                    check_space(sum(totals.values()) - sum(done.values()))
                received = sum(done.values())
                if announced or received != last:
                    moved, last = time.monotonic(), received
                elif done[event["digest"]] < event["total"] and time.monotonic() - moved > stall:
                    raise Stalled("no byte of %s arrived for %g s" % (event["digest"][7:19], stall))
            else:
                moved = time.monotonic()  # a step that is not a download: verifying, writing
            if on_progress is not None:
                on_progress(sum(done.values()), sum(totals.values()), event.get("status", ""))
            if event.get("status") == "success":
                return sum(totals.values())
    raise RuntimeError("the pull of %s ended before Ollama reported success" % name)


def delete(base_url, name, timeout=30):
    with _call(base_url.rstrip("/") + "/api/delete", "DELETE", {"model": name}, timeout=timeout):
        return True
