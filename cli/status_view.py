"""Render `llm status`: one table host by service, then models and GPUs per host.

Input is the RunState of the status playbook: each host's llm_report, or the
reason it could not be read (unreachable, failed).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import registry
from cli.events import RunState


def service_ok(entry: dict[str, Any]) -> bool:
    return entry.get("state") == "running" and entry.get("health") in ("healthy", "none")


def as_dict(state: RunState) -> dict[str, Any]:
    """What --json prints: per host, the report or why there is none."""
    out: dict[str, Any] = {}
    problems = {f.host: f for f in state.failures}
    for name, host in state.hosts.items():
        if host.report is not None:
            out[name] = {"reachable": True, **host.report}
        else:
            failure = problems.get(name)
            out[name] = {
                "reachable": host.status != "unreachable",
                "error": failure.message if failure else f"no report ({host.status})",
            }
    return out


def host_ok(entry: dict[str, Any]) -> bool:
    """The host answered, runs every service the enabled modules put there, and every
    service it runs is up (healthy where checked). A host the enabled modules put nothing
    on (a gateway host before its module is enabled) is fine with nothing deployed."""
    if not entry.get("reachable") or "error" in entry:
        return False
    services = entry.get("services") or {}
    expected = entry.get("expected")
    if expected is None:  # a report without the list: at least something must run
        expected = [] if services else ["?"]
    return all(n in services for n in expected) and all(map(service_ok, services.values()))


def healthy(report: dict[str, Any]) -> bool:
    return all(host_ok(entry) for entry in report.values())


def human_bytes(size: int) -> str:
    """2019393189 -> '2.0 GB', decimal units as Ollama prints them."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def render(report: dict[str, Any], console: Console) -> None:
    table = Table(title="Services", title_justify="left")
    table.add_column("host", style="bold", no_wrap=True)
    table.add_column("service")
    table.add_column("state")
    table.add_column("health")
    table.add_column("url", overflow="fold")
    for host, entry in report.items():
        if "error" in entry:
            word = "unreachable" if not entry["reachable"] else "failed"
            table.add_row(host, "-", Text(word, style="magenta"), "", entry["error"])
            continue
        services = entry.get("services") or {}
        expected = entry.get("expected") or []
        if not services and not expected:
            table.add_row(host, "-", Text("nothing to run here", style="dim"), "", "")
        elif not services:
            table.add_row(host, "-", Text("nothing deployed", style="yellow"), "", "")
            expected = []  # one row says it
        order = list(registry.services())
        names = set(services) | set(expected)
        for name in sorted(names, key=lambda n: order.index(n) if n in order else len(order)):
            if name not in services:
                table.add_row(host, name, Text("missing", style="red"), "", "")
                continue
            s = services[name]
            style = "green" if service_ok(s) else "red"
            table.add_row(
                host, name, Text(s["state"], style=style), s.get("health", ""), s.get("url") or ""
            )
    console.print(table)
    for host, entry in report.items():
        if entry.get("models") is not None:
            models = entry["models"]
            names = ", ".join(f"{m['name']} ({human_bytes(m['size'])})" for m in models)
            console.print(Text(f"{host}: models: {names or 'none'}"), soft_wrap=True)
        for gpu in entry.get("gpus") or []:
            console.print(
                Text(
                    f"{host}: GPU {gpu['index']}: {gpu['name']}, "
                    f"{gpu['memory_used_mib']} / {gpu['memory_total_mib']} MiB used"
                ),
                soft_wrap=True,
            )
        for error in entry.get("errors") or []:
            console.print(Text(f"{host}: {error}", style="yellow"), soft_wrap=True)
