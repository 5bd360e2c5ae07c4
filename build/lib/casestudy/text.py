"""Plain-text helpers shared by every stage."""

from __future__ import annotations


def collapse_spaces(text: str | None) -> str:
    """``text`` with surrounding whitespace removed and every inner run of whitespace made one space."""
    return " ".join((text or "").split())
