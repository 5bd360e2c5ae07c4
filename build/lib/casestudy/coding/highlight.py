"""Cutting a text into segments for display with overlapping highlights.

Used by every page that shows coded text: the segments carry code-point offsets, so a selection
made in the browser maps back exactly to offsets in the stored text.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """One highlighted span: [start, end) in code points, with an id and a colour."""

    id: int
    start: int
    end: int
    colour: str = "#ffe08a"
    label: str = ""


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    marks: tuple[int, ...]  # ids of the marks covering this segment, outermost first


def segments(length: int, marks: Iterable[Mark]) -> list[Segment]:
    """Split [0, length) at every mark boundary; each piece lists the marks covering it."""
    ordered = sorted((m for m in marks if m.end > m.start), key=lambda m: (m.start, -m.end, m.id))
    cuts = {0, length}
    for mark in ordered:
        cuts.add(max(0, min(length, mark.start)))
        cuts.add(max(0, min(length, mark.end)))
    points = sorted(cuts)
    result = []
    # Sweep: marks are few relative to text; an active list is fast enough for thousands.
    active: list[Mark] = []
    index = 0
    for left, right in zip(points, points[1:]):
        while index < len(ordered) and ordered[index].start <= left:
            active.append(ordered[index])
            index += 1
        active = [m for m in active if m.end > left]
        result.append(Segment(left, right, tuple(m.id for m in active if m.start <= left)))
    return result


@functools.lru_cache(maxsize=8)
def cached_html(text: str, marks: tuple[Mark, ...]) -> str:
    """:func:`to_html`, remembered for the last few (text, marks) pairs: reruns reuse it."""
    return to_html(text, marks)


def to_html(text: str, marks: Sequence[Mark]) -> str:
    """Escaped HTML: one <span data-o=OFFSET> per segment; marked segments get data-m ids.

    ``data-o`` is the code-point offset of the segment's first character, which lets the
    browser side turn a DOM selection back into exact offsets.
    """
    by_id = {m.id: m for m in marks}
    parts = []
    for segment in segments(len(text), marks):
        piece = html.escape(text[segment.start : segment.end])
        if not segment.marks:
            parts.append(f'<span data-o="{segment.start}">{piece}</span>')
            continue
        innermost = by_id[segment.marks[-1]]
        depth = len(segment.marks)
        title = html.escape("; ".join(by_id[i].label for i in segment.marks if by_id[i].label), quote=True)
        ids = ",".join(str(i) for i in segment.marks)
        style = f"background:{innermost.colour};" + (f"box-shadow:inset 0 -{2 * (depth - 1)}px 0 #0005;" if depth > 1 else "")
        parts.append(f'<span data-o="{segment.start}" data-m="{ids}" class="mk" title="{title}" style="{style}">{piece}</span>')
    return "".join(parts)
