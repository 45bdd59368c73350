"""Questions before destructive work: asked on a terminal, refused without one."""

from __future__ import annotations

import click

from cli.errors import LlmError


def confirm(question: str, consequence: str, yes: bool) -> None:
    """Go on when --yes was given or the person answers yes; otherwise stop with exit 2.

    Without a terminal nobody can answer, so the run stops and says what --yes
    would have done (consequence), rather than hanging or guessing.
    """
    if yes:
        return
    if not click.get_text_stream("stdin").isatty():
        raise LlmError(consequence, "add --yes to go ahead without a question")
    if not click.confirm(question, default=False):
        raise LlmError("cancelled: nothing was changed")
