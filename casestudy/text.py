"""Plain-text helpers shared by every stage."""

from __future__ import annotations

from casestudy.errors import UserError


def collapse_spaces(text: str | None) -> str:
    """``text`` with surrounding whitespace removed and every inner run of whitespace made one space."""
    return " ".join((text or "").split())


def decode_utf8(name: str, data: bytes, retry: str = "upload it again") -> str:
    """Bytes of a file as UTF-8 text (a byte-order mark removed); anything else is one UserError
    naming ``name`` and saying what to do (``retry``: "upload it again" on a page)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{name} is not UTF-8 text; save it as UTF-8 (in Excel: 'CSV UTF-8') and {retry}")
