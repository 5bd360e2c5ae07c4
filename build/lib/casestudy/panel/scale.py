"""The rating scale: one :class:`Scale` (min, max, a label per point) for questionnaires, the
expert's form, CSV ratings, table legends, notes and figures.

Every wording of a scale comes from here: :meth:`Scale.legend` ("Scale 0-5: 0 = ...; 5 = ...."),
:meth:`Scale.label_text` ("0 = ...; 5 = ..." as in table notes), :meth:`Scale.point_label`
("5 (completely confirmed in this case)") and :meth:`Scale.text` ("0-5").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from casestudy.errors import UserError
from casestudy.text import collapse_spaces

#: A questionnaire's scale has at most this many points.
MAX_POINTS = 11


@dataclass(frozen=True)
class Scale:
    """An integer rating scale from ``min`` to ``max``; ``labels`` maps points to their wording.

    Constructing one checks that ``max > min`` and that every labelled point lies on the scale;
    :meth:`defined` adds the rules for a questionnaire's own scale.
    """

    min: int = 0
    max: int = 5
    labels: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.max <= self.min:
            raise UserError(f"invalid scale {self.min}-{self.max}: the maximum must exceed the minimum")
        for point in self.labels:
            if not self.min <= point <= self.max:
                raise UserError(f"scale label for {point} lies outside the scale {self.min}-{self.max}")

    @classmethod
    def defined(cls, low: int, high: int, labels: Mapping | None) -> Scale:
        """A questionnaire's scale as a researcher defines it: at most :data:`MAX_POINTS` points,
        label keys that are whole numbers on the scale (text keys as stored in JSON are accepted),
        blank labels dropped, and both ends labelled. UserError names the first problem."""
        if high <= low:
            raise UserError(f"invalid scale {low}-{high}: the maximum must exceed the minimum")
        if high - low + 1 > MAX_POINTS:
            raise UserError(f"a rating scale has at most {MAX_POINTS} points")
        clean: dict[int, str] = {}
        for point, label in (labels or {}).items():
            try:
                value = int(point)
            except (TypeError, ValueError):
                raise UserError(f"scale label key {point!r} is not a whole number")
            if not low <= value <= high:
                raise UserError(f"scale label for {value} lies outside the scale {low}-{high}")
            if collapse_spaces(label):
                clean[value] = collapse_spaces(label)
        if low not in clean or high not in clean:
            raise UserError("label at least both ends of the scale, e.g. 0 = clearly contradicted, 5 = completely confirmed")
        return cls(low, high, dict(sorted(clean.items())))

    @property
    def points(self) -> int:
        return self.max - self.min + 1

    def contains(self, score: int) -> bool:
        return self.min <= score <= self.max

    def text(self) -> str:
        """'MIN-MAX', e.g. '0-5'."""
        return f"{self.min}-{self.max}"

    def label_text(self) -> str:
        """Every labelled point in order: '0 = clearly contradicted; 5 = completely confirmed'."""
        return "; ".join(f"{point} = {self.labels[point]}" for point in sorted(self.labels))

    def legend(self) -> str:
        """The one wording of the scale under the expert form and every table: 'Scale 0-5: ...'."""
        return f"Scale {self.text()}: {self.label_text()}."

    def point_label(self, point: int) -> str:
        """'5 (completely confirmed in this case)', or '3' for an unlabelled point."""
        label = self.labels.get(point)
        return f"{point} ({label})" if label else str(point)

    def stored_labels(self) -> dict[str, str]:
        """The labels as a questionnaire stores them (JSON object keys are text)."""
        return {str(point): label for point, label in sorted(self.labels.items())}


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
