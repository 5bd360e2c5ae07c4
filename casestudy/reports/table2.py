"""Table 2: descriptive statistics of expert ratings per case x item, exact and stated.

Per cell: n (non-missing ratings), mean, SD (sample, n-1 denominator), median, first and third
quartile with a NAMED method, min and max. Means, medians and quartiles are computed exactly with
fractions; formatted values are rounded with :mod:`decimal` (half-up by default, half-even
available), so 4.25 -> 4.3 (half-up) or 4.2 (half-even) and never a binary-float surprise.

Quartiles and the IQR come from :mod:`casestudy.quantiles` (the one definition, with its named
methods).

The average column is either the mean of the case means (every case weighs the same) or the
pooled mean of all ratings of the item (every rating weighs the same); they differ when cells have
different n. Which one is shown is stated in the table note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

from casestudy.errors import UserError
from casestudy.quantiles import iqr, quantile  # noqa: F401  (re-exported)
from casestudy.panel.results import Rating
from casestudy.panel.scale import PANEL_SCALE, Scale
from casestudy.reports.constants import (  # also re-exported
    AVERAGES,
    QUARTILE_METHODS,
    ROUNDINGS,
    round_decimal,
)


def rounding_text(rounding: str, scale: Scale | None = None) -> str:
    """'half up' as a note states it; on a scale reaching below zero with what the rule does there."""
    text = rounding.replace("-", " ")
    if scale is not None and scale.min < 0:
        text += (" (ties away from zero, symmetrically for negative values: -2.5 -> -3, -2.25 -> -2.3)"
                 if rounding == "half-up" else " (ties to the even digit, also for negative values: -2.5 -> -2, -2.25 -> -2.2)")
    return text


def range_text(low: int, high: int) -> str:
    """A printed range: '4-5'; with a negative end '-3 to -2' so that no minus sign reads as a dash."""
    return f"{low} to {high}" if low < 0 or high < 0 else f"{low}-{high}"


def distinguishing_places(a, b, places: int, rounding: str = "half-up", most: int = 12) -> int:
    """The fewest decimals (at least ``places``) at which ``a`` and ``b`` print differently."""
    while places < most and round_decimal(a, places, rounding) == round_decimal(b, places, rounding):
        places += 1
    return places


def fmt(value, places: int = 1, rounding: str = "half-up") -> str:
    if value is None:
        return ""
    return str(round_decimal(value, places, rounding))


def fmt_int(value) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else str(float(value))


@dataclass
class CellStats:
    item: str
    case: str
    n: int
    mean: Fraction | None
    sd: float | None
    median: Fraction | None
    q1: Fraction | None
    q3: Fraction | None
    min: int | None
    max: int | None
    scores: list[int] = field(default_factory=list, repr=False)

    @property
    def iqr(self) -> Fraction | None:
        return None if self.q1 is None else self.q3 - self.q1

    def as_json(self) -> dict:
        f = lambda v: None if v is None else float(v)  # noqa: E731
        return {"item": self.item, "case": self.case, "n": self.n, "mean": f(self.mean), "sd": self.sd,
                "median": f(self.median), "q1": f(self.q1), "q3": f(self.q3), "min": self.min, "max": self.max}


def describe(scores: Sequence[int], item: str = "", case: str = "", method: str = "linear") -> CellStats:
    xs = sorted(s for s in scores if s is not None)
    n = len(xs)
    if not n:
        return CellStats(item, case, 0, None, None, None, None, None, None, None, [])
    total = sum(xs)
    mean = Fraction(total, n)
    sd = None
    if n > 1:
        # exact: (n * sum x^2 - (sum x)^2) / (n (n - 1)), integers only
        variance = Fraction(n * sum(x * x for x in xs) - total * total, n * (n - 1))
        with localcontext() as ctx:
            ctx.prec = 40
            sd = float((Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt())
    return CellStats(item, case, n, mean, sd, quantile(xs, Fraction(1, 2), method, True),
                     quantile(xs, Fraction(1, 4), method, True), quantile(xs, Fraction(3, 4), method, True), xs[0], xs[-1], xs)


@dataclass
class ItemAverage:
    item: str
    mean_of_case_means: Fraction | None
    pooled_mean: Fraction | None
    n: int  # ratings pooled

    def as_json(self) -> dict:
        f = lambda v: None if v is None else float(v)  # noqa: E731
        return {"item": self.item, "mean_of_case_means": f(self.mean_of_case_means), "pooled_mean": f(self.pooled_mean), "n": self.n}


@dataclass
class Table2:
    cases: list[str]
    items: list[str]
    cells: dict[tuple[str, str], CellStats]  # (item, case)
    averages: list[ItemAverage]
    scale: Scale
    rounding: str
    average: str
    quartile_method: str
    outcome_by_case: dict[str, str]
    experts: int
    warnings: list[str]
    decimals: int = 1

    def cell(self, item: str, case: str) -> CellStats:
        return self.cells[(item, case)]

    def average_value(self, item: str) -> Fraction | None:
        avg = next(a for a in self.averages if a.item == item)
        return getattr(avg, self.average)

    def formatted_cell(self, item: str, case: str) -> str:
        """'4.8 (4-5)': mean rounded by the stated rule, then the range."""
        c = self.cell(item, case)
        if not c.n:
            return "–"
        return f"{fmt(c.mean, self.decimals, self.rounding)} ({range_text(c.min, c.max)})"

    def grid(self) -> tuple[list[str], list[list[str]]]:
        """The table as printed: header, outcome row (when known), one row per statement."""
        columns = ["Statement", *self.cases, "Average"]
        rows = []
        if any(self.outcome_by_case.get(c) for c in self.cases):
            rows.append(["Outcome", *[self.outcome_by_case.get(c, "") for c in self.cases], ""])
        for item in self.items:
            rows.append([item, *[self.formatted_cell(item, c) for c in self.cases], fmt(self.average_value(item), self.decimals, self.rounding)])
        return columns, rows

    def level_comparison(self) -> list[dict]:
        """Statements (levels) ordered by their average; with the case(s) where each scored highest
        and lowest. Exactly equal case means are a tie and are all named: 'A and C', 'A, B and C'."""
        rows = []
        for item in self.items:
            means = {c: self.cell(item, c).mean for c in self.cases if self.cell(item, c).n}
            value = self.average_value(item)
            high, low = max(means.values(), default=None), min(means.values(), default=None)
            rows.append({
                "item": item,
                "average": None if value is None else float(value),
                "formatted": fmt(value, self.decimals, self.rounding),
                "highest_case": _joined([c for c, m in means.items() if m == high]),
                "lowest_case": _joined([c for c, m in means.items() if m == low]),
            })
        order = sorted(rows, key=lambda r: -(r["average"] if r["average"] is not None else -math.inf))
        for position, row in enumerate(order, start=1):
            row["position"] = position
        return rows

    def note(self) -> str:
        return table_note(self)

    def as_json(self) -> dict:
        return {
            "cells": [self.cells[(i, c)].as_json() for i in self.items for c in self.cases],
            "averages": [a.as_json() for a in self.averages],
            "warnings": list(self.warnings),
        }


def _joined(names: Sequence[str]) -> str:
    """'A', 'A and C', 'A, B and C'; '' for none."""
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _ordered(values) -> list[str]:
    return list(dict.fromkeys(values))


def table2(
    ratings: Sequence[Rating],
    scale: Scale = PANEL_SCALE,
    case_order: Sequence[str] | None = None,
    item_order: Sequence[str] | None = None,
    outcome_by_case: dict[str, str] | None = None,
    rounding: str = "half-up",
    average: str = "mean_of_case_means",
    quartile_method: str = "linear",
    decimals: int = 1,
) -> Table2:
    """Table 2 from ratings. Cases and items default to the order of first appearance."""
    if rounding not in ROUNDINGS:
        raise UserError(f"unknown rounding {rounding!r}; use half-up or half-even")
    if average not in AVERAGES:
        raise UserError(f"unknown average {average!r}; use {' or '.join(AVERAGES)}")
    if quartile_method not in QUARTILE_METHODS:
        raise UserError(f"unknown quartile method {quartile_method!r}; choose from {', '.join(QUARTILE_METHODS)}")
    if not ratings:
        raise UserError("no ratings to aggregate")
    cases = _ordered([*(case_order or []), *(r.case for r in ratings)])
    items = _ordered([*(item_order or []), *(r.item for r in ratings)])
    scores: dict[tuple[str, str], list[int]] = {(i, c): [] for i in items for c in cases}
    warnings: list[str] = []
    for r in ratings:
        if r.score is None:
            continue
        if not scale.min <= r.score <= scale.max:
            raise UserError(f"score {r.score} of expert {r.expert} for {r.case}, {r.item!r} lies outside the scale {scale.text()}")
        scores[(r.item, r.case)].append(r.score)
    experts = len({r.expert for r in ratings})
    cells = {key: describe(values, *key, method=quartile_method) for key, values in scores.items()}
    averages = []
    for item in items:
        row = [cells[(item, c)] for c in cases]
        means = [c.mean for c in row if c.n]
        pooled = [s for c in row for s in c.scores]
        averages.append(ItemAverage(
            item,
            sum(means) / len(means) if means else None,
            Fraction(sum(pooled), len(pooled)) if pooled else None,
            len(pooled),
        ))
    for (item, case), cell in cells.items():
        if cell.n == 0:
            warnings.append(f"no ratings for case {case}, {item!r}")
        elif cell.n < experts:
            warnings.append(f"case {case}, {item!r}: {cell.n} of {experts} experts rated (missing answers)")
    for a in averages:
        if a.mean_of_case_means is not None and round_decimal(a.mean_of_case_means, decimals, rounding) != round_decimal(a.pooled_mean, decimals, rounding):
            places = distinguishing_places(a.mean_of_case_means, a.pooled_mean, decimals + 1, rounding)
            warnings.append(
                f"{a.item!r}: mean of case means {fmt(a.mean_of_case_means, places, rounding)} differs from the pooled mean "
                f"{fmt(a.pooled_mean, places, rounding)} (cells have different n); the table shows {AVERAGES[average]}"
            )
    for item in items:
        for case in cases:
            mean = cells[(item, case)].mean
            other = "half-even" if rounding == "half-up" else "half-up"
            if mean is not None and round_decimal(mean, decimals, rounding) != round_decimal(mean, decimals, other):
                warnings.append(
                    f"case {case}, {item!r}: mean {fmt(mean, decimals + 1, rounding)} is a rounding tie: {fmt(mean, decimals, rounding)} "
                    f"by {rounding}, {fmt(mean, decimals, other)} by {other}"
                )
    return Table2(cases, items, cells, averages, scale, rounding, average, quartile_method,
                  dict(outcome_by_case or {}), experts, warnings, decimals)


def table_note(t: Table2) -> str:
    ns = sorted({c.n for c in t.cells.values() if c.n})
    n_text = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}-{ns[-1]}" if ns else "n = 0"
    labels = t.scale.label_text()
    scale_text = f"a {t.scale.text()} scale" + (f" ({labels})" if labels else "")
    return (
        f"Note. Cells show the mean (range) of the expert ratings ({n_text} experts per cell) on {scale_text}. "
        f"Average = {AVERAGES[t.average]}; cells without ratings (–) are left out of it. "
        f"Means are rounded {rounding_text(t.rounding, t.scale)} to {t.decimals} "
        f"decimal{'s' if t.decimals != 1 else ''}; quartiles by {QUARTILE_METHODS[t.quartile_method][0]}."
    )


def table2_title(t: Table2) -> str:
    return f"Table 2. Expert ratings per case on a {t.scale.text()} scale: mean (range)"


def consensus(t: Table2, threshold=1, method: str | None = None) -> list[dict]:
    """A-priori consensus rule per cell: IQR <= threshold, quartiles by the named method."""
    method = method or t.quartile_method
    rows = []
    for (item, case), cell in t.cells.items():
        value = iqr(cell.scores, method) if cell.n else None
        rows.append({"item": item, "case": case, "n": cell.n, "iqr": None if value is None else float(value),
                     "method": method, "consensus": value is not None and value <= Fraction(threshold)})
    return rows
