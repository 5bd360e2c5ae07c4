"""A consensus score: a whole point of a scale ("6") or a split between two adjacent points
("2/3": the group settled between 2 and 3). One definition for the focus group's round 3 and
Table 4 (:mod:`casestudy.reports.table4` counts a split by a stated rule)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from casestudy.errors import UserError
from casestudy.panel.scale import Scale

SCORE = re.compile(r"^\s*(-?\d+)\s*(?:/\s*(-?\d+)\s*)?$")


@dataclass(frozen=True)
class ConsensusScore:
    """A whole point (``low == high``) or a split between adjacent points (``high == low + 1``)."""

    low: int
    high: int

    @property
    def split(self) -> bool:
        return self.high != self.low

    @property
    def text(self) -> str:
        """As entered and printed: '6' or '2/3'."""
        return f"{self.low}/{self.high}" if self.split else str(self.low)

    def value(self, split_rule: str = "midpoint") -> Fraction:
        """The number this score counts as under ``split_rule`` (midpoint, lower or upper)."""
        if split_rule == "lower":
            return Fraction(self.low)
        if split_rule == "upper":
            return Fraction(self.high)
        return Fraction(self.low + self.high, 2)


def parse_score(text: str, scale: Scale, where: str = "") -> ConsensusScore:
    """'6' or '2/3' on ``scale``; UserError (prefixed by ``where``) for anything else."""
    prefix = f"{where}: " if where else ""
    match = SCORE.match(text or "")
    if not match:
        raise UserError(f"{prefix}score {text!r} is not a whole number or a split a/b such as 2/3")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if match.group(2) is not None and high != low + 1:
        raise UserError(f"{prefix}split score {text.strip()!r} does not join two adjacent points (a/b needs b = a + 1)")
    score = ConsensusScore(low, high)
    check_on_scale(score, scale, prefix)
    return score


def check_on_scale(score: ConsensusScore, scale: Scale, prefix: str = "") -> None:
    """UserError '<prefix>score 7/8 lies outside the scale 1-7' unless both points are on ``scale``."""
    if not (scale.contains(score.low) and scale.contains(score.high)):
        raise UserError(f"{prefix}score {score.text!r} lies outside the scale {scale.text()}")
