"""Offsets of foreign REFI-QDA selections: which convention a file uses and how to map it.

The standard counts code points, but tools differ: NVivo counts UTF-16 code units, ATLAS.ti
counts a CRLF line end as one character, Taguette counts UTF-8 bytes. :class:`Offsets` converts
each convention to code points of the stored text; :func:`choose_mode` picks the one under which
the selections' own texts match (``auto``), else the exporting tool's habit
(:data:`ORIGIN_HINTS`), else code points.
"""

from __future__ import annotations

import re
import unicodedata

from casestudy.exchange.constants import OFFSET_HELP, OFFSET_MODES  # noqa: F401  (re-exported)
from casestudy.interviews import convert


# --- import: offsets ----------------------------------------------------------------------
class Offsets:
    """Maps a tool's offsets into code points of the source text, then into the normalised text."""

    def __init__(self, text: str):
        self.text = text
        self.normalised = convert.normalise(text)
        self._maps: dict[str, dict[int, int]] = {}
        self._norm_map: list[int] | None = None
        self._nfc_changes = False

    def _table(self, mode: str) -> dict[int, int]:
        if mode not in self._maps:
            table: dict[int, int] = {}
            units = 0
            text = self.text
            if mode == "crlf1":
                i = k = 0
                while i <= len(text):
                    table[k] = i
                    i += 2 if text.startswith("\r\n", i) else 1
                    k += 1
            else:
                size = (lambda ch: 2 if ord(ch) > 0xFFFF else 1) if mode == "utf16" else (lambda ch: len(ch.encode("utf-8", "surrogatepass")))
                for i, ch in enumerate(text):
                    table[units] = i
                    units += size(ch)
                table[units] = len(text)
            self._maps[mode] = table
        return self._maps[mode]

    def to_codepoints(self, mode: str, start: int, end: int) -> tuple[int, int] | None:
        if mode == "codepoints":
            ok = 0 <= start < end <= len(self.text)
            return (start, end) if ok else None
        table = self._table(mode)
        if start not in table or end not in table or start >= end:
            return None
        return table[start], table[end]

    def to_normalised(self, start: int, end: int) -> tuple[int, int]:
        if self.normalised == self.text:
            return start, end
        if self._norm_map is None:
            collapsed = []
            j = 0
            i = 0
            text = self.text
            while i < len(text):
                collapsed.append(j)
                if text.startswith("\r\n", i):
                    collapsed.append(j)
                    i += 2
                else:
                    i += 1
                j += 1
            collapsed.append(j)
            self._norm_map = collapsed
            self._nfc_changes = len(self.normalised) != j or unicodedata.normalize("NFC", re.sub(r"\r\n", "\n", text)) != re.sub(r"\r\n", "\n", text)
        if self._nfc_changes:
            return len(convert.normalise(self.text[:start])), len(convert.normalise(self.text[:end]))
        return self._norm_map[start], self._norm_map[end]

    def text_under(self, mode: str, start: int, end: int) -> str | None:
        span = self.to_codepoints(mode, start, end)
        return None if span is None else self.text[span[0]:span[1]]


def same_text(found: str | None, expected: str) -> bool:
    if found is None:
        return False
    a, b = " ".join(found.split()), " ".join(expected.split())
    if a == b:
        return True
    b = b.rstrip(".\u2026 ")
    return len(b) >= 20 and a.startswith(b)


# Known habits by the Project's ``origin`` attribute, used only when no selection text can be checked.
ORIGIN_HINTS = (("nvivo", "utf16"), ("atlas", "crlf1"), ("taguette", "utf8"))


def choose_mode(offsets: Offsets, selections: list[dict], requested: str, origin: str = "") -> tuple[str, str]:
    """The offset convention for one source and how it was decided."""
    modes = OFFSET_MODES[1:]
    if requested != "auto":
        return requested, "chosen"
    if not selections:
        return "codepoints", "no selections"
    named = [s for s in selections if s["name"]]
    if named:
        scores = {m: sum(same_text(offsets.text_under(m, s["start"], s["end"]), s["name"]) for s in named) for m in modes}
        best = max(modes, key=lambda m: (scores[m], -modes.index(m)))
        if scores[best]:
            return best, f"verified ({scores[best]} of {len(named)} selection texts)"
    ends = [s["end"] for s in selections]
    if ends and max(ends) > len(offsets.text):
        for mode in ("utf16", "utf8"):
            if all(offsets.to_codepoints(mode, s["start"], s["end"]) for s in selections):
                return mode, "guessed (offsets run past the text in code points)"
    simple = offsets.text.isascii() and "\r\n" not in offsets.text
    if simple:
        return "codepoints", "standard (all conventions agree on this text)"
    hint = next((mode for word, mode in ORIGIN_HINTS if word in origin.lower()), None)
    if hint and all(offsets.to_codepoints(hint, s["start"], s["end"]) for s in selections):
        return hint, f"guessed from the exporting tool ({origin}); no selection text to verify against"
    return "codepoints", "assumed (no selection text to verify against)"
