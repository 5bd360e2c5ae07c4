"""Table 4: a focus group's consensus scores per item and period, and their summary per period.

A consensus score is a whole point of the instrument's scale ("6") or a split between two
adjacent points ("2/3": the group settled between 2 and 3). Cells are shown as entered. The
summary per period (mean and range over the items, and the mean per level) counts a split by a
stated rule (:data:`SPLIT_RULES`): ``midpoint`` (default; 2/3 counts 2.5), ``lower`` (2) or
``upper`` (3). Means are exact fractions; printed values are rounded with the reports' decimal
rounding (``half-up`` default, ``half-even``), see :func:`casestudy.reports.table2.round_decimal`.

Scores CSV: header ``item,level,period,score`` (other columns ignored), one row per item and
period. Items, levels and periods keep the order of their first appearance. A score outside the
scale, a split of points that are not adjacent, the same item and period twice, a missing
column or value: one UserError naming the row (row 1 is the header).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from casestudy.errors import UserError
from casestudy.panel.consensus import ConsensusScore, check_on_scale, parse_score  # also imported from here
from casestudy.panel.instruments import Instrument
from casestudy.panel.scale import Scale
from casestudy.reports.constants import ROUNDINGS, SPLIT_RULES  # noqa: F401  (re-exported)
from casestudy.reports.table2 import fmt, round_decimal

COLUMNS = ("item", "level", "period", "score")


@dataclass(frozen=True)
class ScoreRow:
    item: str
    level: str
    period: str
    score: ConsensusScore
    row: int = 0  # the CSV row it came from (1 = header), 0 when not from a file


def read_scores_csv(text: str, scale: Scale) -> list[ScoreRow]:
    """Rows of a scores CSV (see the module docstring), each score checked against ``scale``; a
    second score for the same item and period is refused by :func:`table4` (naming both rows)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if not header or not any(c.strip() for c in header):
        raise UserError("scores CSV, row 1 (header): the file is empty; expected item,level,period,score")
    names = [c.strip().lower() for c in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise UserError(f"scores CSV, row 1 (header): missing column(s) {', '.join(missing)}; expected item,level,period,score")
    index = {c: names.index(c) for c in COLUMNS}
    rows: list[ScoreRow] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        where = f"scores CSV, row {number}"
        values = {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}
        empty = [c for c in COLUMNS if not values[c]]
        if empty:
            raise UserError(f"{where}: no {' and no '.join(empty)}")
        rows.append(ScoreRow(values["item"], values["level"], values["period"],
                             parse_score(values["score"], scale, f"{where}, item {values['item']!r}, period {values['period']!r}"), number))
    if not rows:
        raise UserError("scores CSV: no scores below the header")
    return rows


@dataclass
class PeriodSummary:
    period: str
    mean: Fraction | None
    min: Fraction | None
    max: Fraction | None
    n_items: int
    level_means: dict[str, Fraction]

    def as_json(self) -> dict:
        return {"period": self.period, "mean": _number(self.mean), "min": _number(self.min), "max": _number(self.max),
                "n_items": self.n_items, "level_means": {level: _number(m) for level, m in self.level_means.items()}}


def _number(value: Fraction | None):
    """JSON form of an exact value: an int when whole, else the (unrounded) float."""
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(value)


def summarise(values: Sequence[tuple[str, Fraction]], period: str) -> PeriodSummary:
    """Mean, range and per-level means of (level, value) pairs."""
    numbers = [v for _, v in values]
    by_level: dict[str, list[Fraction]] = {}
    for level, value in values:
        by_level.setdefault(level, []).append(value)
    return PeriodSummary(period, sum(numbers) / len(numbers) if numbers else None, min(numbers, default=None),
                         max(numbers, default=None), len(numbers), {lv: sum(vs) / len(vs) for lv, vs in by_level.items()})


@dataclass
class Table4:
    items: list[tuple[str, str]]  # (item, level) in order of first appearance
    periods: list[str]
    scores: dict[tuple[str, str], ConsensusScore]  # (item, period)
    scale: Scale
    instrument_title: str
    split_rule: str
    rounding: str
    decimals: int
    warnings: list[str]

    @property
    def levels(self) -> list[str]:
        return list(dict.fromkeys(level for _, level in self.items))

    def summary(self, period: str, split_rule: str | None = None) -> PeriodSummary:
        """The period's summary under ``split_rule`` (default: the table's own rule)."""
        rule = split_rule or self.split_rule
        return summarise([(level, self.scores[(item, period)].value(rule)) for item, level in self.items
                          if (item, period) in self.scores], period)

    def summaries(self) -> list[PeriodSummary]:
        return [self.summary(period) for period in self.periods]

    def formatted_summary(self, s: PeriodSummary) -> str:
        """'6.1 (4-7)': the mean rounded by the stated rule, then the range."""
        if s.mean is None:
            return "–"
        return f"{fmt(s.mean, self.decimals, self.rounding)} ({_plain(s.min)}-{_plain(s.max)})"

    def grid(self) -> tuple[list[str], list[list[str]]]:
        """The table as printed: one row per item (level, item, cells), then mean (range) and the level means."""
        columns = ["Level", "Item", *self.periods]
        rows = [[level, item, *[self.scores[(item, p)].text if (item, p) in self.scores else "–" for p in self.periods]]
                for item, level in self.items]
        summaries = self.summaries()
        rows.append(["All levels", "Mean (range)", *[self.formatted_summary(s) for s in summaries]])
        for level in self.levels:
            rows.append([level, "Mean", *[fmt(s.level_means.get(level), self.decimals, self.rounding) for s in summaries]])
        return columns, rows

    def note(self) -> str:
        """Instrument, every scale point's label (:meth:`Scale.legend`), the split rule, rounding and n."""
        n_items = sorted({s.n_items for s in self.summaries()})
        n_text = f"n = {n_items[0]}" if len(n_items) == 1 else f"n = {n_items[0]}-{n_items[-1]}"
        return (
            f"Note. Consensus scores of the focus group per item and period ({self.instrument_title}). "
            f"{self.scale.legend()} A score a/b is a consensus between two adjacent points. "
            f"Mean (range) over the items of each period ({n_text} items) and the mean per level count a split score as "
            f"{SPLIT_RULES[self.split_rule]}; means are rounded {self.rounding.replace('-', ' ')} to {self.decimals} "
            f"decimal{'s' if self.decimals != 1 else ''}."
        )

    def title(self) -> str:
        return f"Table 4. Consensus scores per item and period on a {self.scale.text()} scale"

    def as_json(self) -> dict:
        """The issue's JSON: items with their scores as entered, period summaries with unrounded numbers."""
        return {
            "items": [{"item": item, "level": level, "scores": {p: self.scores[(item, p)].text for p in self.periods if (item, p) in self.scores}}
                      for item, level in self.items],
            "periods": [s.as_json() for s in self.summaries()],
            "split_rule": self.split_rule,
            "warnings": list(self.warnings),
        }


def _plain(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def table4(rows: Sequence[ScoreRow], instrument: Instrument, split_rule: str = "midpoint", rounding: str = "half-up",
           decimals: int = 1) -> Table4:
    """Table 4 from consensus scores on ``instrument`` (its scale checks every score).

    Warnings: an item that has no score in some period; an item or level not found in the
    instrument, or an item filed under another level than the instrument's; a printed period
    mean that another split rule or the other rounding rule would print differently."""
    if split_rule not in SPLIT_RULES:
        raise UserError(f"unknown split rule {split_rule!r}; use one of {', '.join(SPLIT_RULES)}")
    if rounding not in ROUNDINGS:
        raise UserError(f"unknown rounding {rounding!r}; use half-up or half-even")
    if not rows:
        raise UserError("no consensus scores")
    scale = instrument.scale
    items: dict[str, tuple[str, str]] = {}
    periods: dict[str, str] = {}
    scores: dict[tuple[str, str], ConsensusScore] = {}
    first_row: dict[tuple[str, str], int] = {}
    warnings: list[str] = []
    for row in rows:
        where = f"scores CSV, row {row.row}: " if row.row else ""
        check_on_scale(row.score, scale, f"{where}item {row.item!r}, period {row.period!r}: ")
        item, level = items.setdefault(row.item.casefold(), (row.item, row.level))
        if level.casefold() != row.level.casefold():
            raise UserError(f"{where}item {row.item!r} is filed under level {row.level!r} here but under {level!r} before")
        period = periods.setdefault(row.period.casefold(), row.period)
        if (item, period) in scores:
            first = f" (first in row {first_row[(item, period)]})" if first_row.get((item, period)) else ""
            raise UserError(f"{where}item {row.item!r} has a second score for period {row.period!r}{first}")
        scores[(item, period)] = row.score
        first_row[(item, period)] = row.row
    label = f"{instrument.title}, version {instrument.version}"
    t = Table4(list(items.values()), list(periods.values()), scores, scale, label, split_rule, rounding, decimals, warnings)
    known_levels = {lv.casefold() for lv in instrument.level_names}
    for item, level in t.items:
        found = instrument.find_item(item)
        if found is None:
            warnings.append(f"item {item!r} is not an item of {instrument.name} (by key or text)")
        elif found.level.casefold() != level.casefold():
            warnings.append(f"item {item!r} is filed under {level!r}; {instrument.name} puts it under {found.level!r}")
        missing = [p for p in t.periods if (item, p) not in scores]
        if missing:
            warnings.append(f"item {item!r} has no consensus score for period(s) {', '.join(missing)}")
    for level in t.levels:
        if level.casefold() not in known_levels:
            warnings.append(f"level {level!r} is not a level of {instrument.name} ({', '.join(instrument.level_names)})")
    other = "half-even" if rounding == "half-up" else "half-up"
    for period in t.periods:
        summary = t.summary(period)
        printed = round_decimal(summary.mean, decimals, rounding)
        if printed != round_decimal(summary.mean, decimals, other):
            warnings.append(f"period {period}: mean {fmt(summary.mean, decimals + 2, rounding)} is a rounding tie: "
                            f"{printed} by {rounding}, {fmt(summary.mean, decimals, other)} by {other}")
        others = {rule: fmt(t.summary(period, rule).mean, decimals, rounding) for rule in SPLIT_RULES if rule != split_rule}
        if any(value != str(printed) for value in others.values()):
            warnings.append(f"period {period}: mean {printed} by the {split_rule} rule; "
                            + ", ".join(f"{value} by the {rule} rule" for rule, value in others.items()))
    return t


def study_rows(session, group) -> tuple[list[ScoreRow], Instrument]:
    """The consensus scores of a stored focus group as score rows (item text, level, period
    name, score as entered), in the instrument's item order and the periods' time order, with
    the group's instrument: the same input a scores CSV of these cells gives."""
    from casestudy.panel import focus

    rows = [ScoreRow(c["text"], c["level"], c["period"], parse_score(c["score"], focus.instrument_of(session, group).scale))
            for c in focus.consensus_of(session, group)]
    if not rows:
        raise UserError(f"{group.title} has no consensus scores yet (casestudy focus consensus ...)")
    return rows, focus.instrument_of(session, group)


def scores_csv(rows: Sequence[ScoreRow]) -> str:
    """The scores CSV (``item,level,period,score``) of score rows; :func:`read_scores_csv` reads it back."""
    from casestudy import tabular

    return tabular.csv_text(COLUMNS, [[r.item, r.level, r.period, r.score.text] for r in rows])
