# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""The copy tree that takes a model from its sources to every Ollama host.

One hub serving N hosts costs N transfers through the hub's link. Here every
host that already has the model passes it on: in each round every sender
(the sources, then each target finished in an earlier round) sends to at most
`per_source` targets, so the number of senders grows by a factor of
(per_source + 1) each round and N targets from one source finish in
ceil(log2(N + 1)) rounds with per_source=1.

Pure and deterministic (the order given is kept, sources send first), so the
play that runs it and the unit tests see the same rounds. Runs on the
controller only (filter plugin), but keeps the collection's Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FanoutError(ValueError):
    """Inputs that cannot make a copy plan (said in words a person can act on)."""


def _unique(names, what):
    seen = []
    for name in names or []:
        if not isinstance(name, str) or not name:
            raise FanoutError("fanout_rounds: %s must be host names, got %r" % (what, name))
        if name not in seen:
            seen.append(name)
    return seen


def fanout_rounds(sources, targets, per_source=1):
    """Rounds of copies from `sources` (hosts that have the model) to `targets`.

    sources: list[str], targets: list[str], per_source: int >= 1.
    Returns list[dict[str, str]]: one dict per round, target -> the host it copies
    from. Targets already among the sources, and repeated names, are copied once
    or not at all. Within a round a sender appears at most `per_source` times and
    only hosts that had the model before the round send. Senders are taken in
    order: the sources as given, then targets in the order they finished (the
    hub carries the first copy). No targets gives []; targets with no source is
    an error.
    """
    if isinstance(per_source, bool) or not isinstance(per_source, int) or per_source < 1:
        raise FanoutError(
            "fanout_rounds: per_source must be a whole number of 1 or more, got %r" % (per_source,)
        )
    senders = _unique(sources, "sources")
    pending = [t for t in _unique(targets, "targets") if t not in senders]
    if pending and not senders:
        raise FanoutError(
            "fanout_rounds: no host has the model to copy to %s; name a hub (a source) first"
            % ", ".join(pending)
        )
    rounds = []
    while pending:
        plan = {}
        for sender in senders:
            for _ in range(per_source):
                if not pending:
                    break
                plan[pending.pop(0)] = sender
            if not pending:
                break
        rounds.append(plan)
        # Those that finished this round send from the next one on.
        senders = senders + list(plan)
    return rounds
