"""The teacher's handout: one slip per account to cut out and give to each student.

Written as plain text (``handout.txt``-style, cut lines between slips) and, beside
it, a printable HTML page with the same slips (same name, ``.html``; each slip in a
dashed box that a page break never splits). Both are mode 0600 from the moment
they exist, and replace an older handout. The passwords are in these files only:
never print them to the terminal or a log.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cli.secretstore import write_private

CUT = "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -  cut here  - - -"
NOTE = "Sign in with your email address and this password, then change the password."


@dataclass(frozen=True)
class Slip:
    """One slip; repr and str never show the password."""

    url: str
    name: str
    username: str
    email: str
    password: str = field(repr=False)
    role: str = "student"


def _rows(slip: Slip) -> list[tuple[str, str]]:
    rows = [
        ("Chat", slip.url),
        ("Name", slip.name),
        ("Email", slip.email),
        ("Username", slip.username),
        ("Password", slip.password),
    ]
    if slip.role != "student":
        rows.insert(2, ("Role", slip.role))
    return rows


def render_text(slips: Sequence[Slip]) -> str:
    parts = [CUT]
    for slip in slips:
        rows = _rows(slip)
        width = max(len(label) for label, _ in rows) + 1
        parts.extend(f"  {label + ':':<{width}} {value}" for label, value in rows)
        parts.extend(["", f"  {NOTE}", CUT])
    return "\n".join(parts) + "\n"


_STYLE = """\
body { font-family: sans-serif; margin: 1cm; }
.slip { border: 1px dashed #555; padding: 0.4cm 0.6cm; margin: 0 0 0.5cm;
        break-inside: avoid; page-break-inside: avoid; }
th { text-align: left; padding-right: 1em; font-weight: normal; color: #444; }
td { font-family: monospace; font-size: 1.2em; }
p { margin: 0.3cm 0 0; font-size: 0.9em; }
"""


def render_html(slips: Sequence[Slip]) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>Chat accounts</title>',
        f"<style>\n{_STYLE}</style></head><body>",
    ]
    for slip in slips:
        out.append('<div class="slip"><table>')
        out.extend(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in _rows(slip)
        )
        out.append(f"</table><p>{html.escape(NOTE)}</p></div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_handout(path: Path, slips: Sequence[Slip]) -> Path:
    """Write the text handout at path and the HTML one beside it (0600); return path.

    The HTML file is path with the suffix .html (handout.txt -> handout.html).
    """
    write_private(path, render_text(slips).encode("utf-8"))
    write_private(html_path(path), render_html(slips).encode("utf-8"))
    return path


def html_path(path: Path) -> Path:
    return (
        path.with_suffix(".html") if path.suffix != ".html" else path.with_name(path.name + ".html")
    )
