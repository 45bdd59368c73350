"""Errors a person can act on, and the exit codes `llm` promises."""

from __future__ import annotations

EXIT_OK = 0
EXIT_HOST_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class LlmError(Exception):
    """A mistake found before Ansible ran: printed as one line, exit status 2.

    The message says what is wrong and what to do about it; no traceback.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


def utf8(raw: bytes, path: object) -> str:
    """A stack file's bytes as text, or a one-line error naming the file and the byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LlmError(
            f"{path} is not UTF-8 text (byte {exc.start + 1} cannot be read)",
            "save it as UTF-8 (e.g. with 'iconv -f latin1 -t utf-8'), or fix that character",
        ) from None
