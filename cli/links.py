"""Symlinks `llm` keeps in the stack's run directory, refreshed when their target moves."""

from __future__ import annotations

from pathlib import Path


def point(link: Path, target: Path) -> Path:
    """Make ``link`` a symlink to ``target`` (replacing a stale one); returns ``link``."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.readlink() == target:
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())
    return link
