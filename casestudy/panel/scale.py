"""The rating scale: one :class:`Scale` (min, max, a label per point) for questionnaires, the
expert's form, CSV ratings, table legends and notes.
"""

from __future__ import annotations

from casestudy.text import collapse_spaces

import re
from dataclasses import dataclass, field
from casestudy.errors import UserError


def _check_scale(scale_min: int, scale_max: int, labels: dict) -> dict[str, str]:
    if scale_max <= scale_min:
        raise UserError(f"invalid scale {scale_min}-{scale_max}: the maximum must exceed the minimum")
    if scale_max - scale_min > 10:
        raise UserError("a rating scale has at most 11 points")
    clean = {}
    for point, label in (labels or {}).items():
        try:
            value = int(point)
        except (TypeError, ValueError):
            raise UserError(f"scale label key {point!r} is not a whole number")
        if not scale_min <= value <= scale_max:
            raise UserError(f"scale label for {value} lies outside the scale {scale_min}-{scale_max}")
        if collapse_spaces(label):
            clean[str(value)] = collapse_spaces(label)
    if str(scale_min) not in clean or str(scale_max) not in clean:
        raise UserError("label at least both ends of the scale, e.g. 0 = clearly contradicted, 5 = completely confirmed")
    return dict(sorted(clean.items(), key=lambda kv: int(kv[0])))


@dataclass(frozen=True)
class Scale:
    """An integer rating scale from ``min`` to ``max``; ``labels`` maps points to their wording."""

    min: int = 0
    max: int = 5
    labels: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.max <= self.min:
            raise UserError(f"invalid scale {self.min}-{self.max}: the maximum must exceed the minimum")
        for point in self.labels:
            if not self.min <= point <= self.max:
                raise UserError(f"scale label for {point} lies outside the scale {self.min}-{self.max}")

    @property
    def points(self) -> int:
        return self.max - self.min + 1

    def text(self) -> str:
        return f"{self.min}-{self.max}"


#: The reference study's expert-panel scale (0 = clearly contradicted, 5 = completely confirmed).
PANEL_SCALE = Scale(0, 5, {0: "clearly contradicted in this case", 5: "completely confirmed in this case"})


def parse_scale(text: str | None, labels: dict[int, str] | None = None) -> Scale:
    """'MIN-MAX' (e.g. '0-5' or '1-5') -> Scale; None -> the panel scale 0-5."""
    if not text:
        return PANEL_SCALE
    match = re.fullmatch(r"\s*(-?\d+)\s*-\s*(-?\d+)\s*", text)
    if not match:
        raise UserError(f"invalid scale {text!r}; use MIN-MAX, e.g. 0-5")
    low, high = int(match.group(1)), int(match.group(2))
    if labels is None and (low, high) == (PANEL_SCALE.min, PANEL_SCALE.max):
        labels = PANEL_SCALE.labels
    return Scale(low, high, dict(labels or {}))
