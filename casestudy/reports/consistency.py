"""A check of the study's own tables as they will be printed (or as they were published).

Input is the tables as text cells, exactly as typed in the manuscript:

* Table 2 grid (CSV): header ``statement,<case>...,average``; an optional row whose first cell is
  ``outcome`` with each case's outcome label; one row per statement with cells like ``4.8 (4-5)``
  and the average; optional rows ``legend`` and ``scale`` (text in the second cell).
* Table 1 (CSV): ``case,programme,outcome,determinants``.
* Table 4 grid (CSV): header ``item,level,<period>...``; one row per item with the consensus
  scores as printed (``6``, ``2/3``); optional rows whose first cell is ``mean`` (each period's
  stated summary, ``6.1 (4-7)`` or ``6.1``), ``legend`` and ``scale`` (text in the second cell,
  e.g. the scale as the methods name it: ``5-point scale``).
* Free text (e.g. the results section) for percentages, for the number of scale points a
  paragraph about Table 4 or the consensus names, and for the period summaries it states
  (a period's name, or the part before its hyphen such as PRE for PRE-REORG, followed in the
  same sentence by ``6.1 (4-7)`` or ``6.1 (range 4-7)``), checked like the table's mean row.

Checks (each finding names the table, row and column):

``outcome-label``   outcome classes differing between Table 1 and Table 2 (with a hint when two
                    cases' labels look swapped). Synonyms: success/successful = positive,
                    failure/failed = negative, mixed.
``scale-legend``    the legend's points or the stated scale differ from the scale definition.
``impossible-mean`` a mean that no set of n integer ratings on the scale rounds to.
``range``           a mean outside its range, or one impossible given that range with n ratings
                    (at least one rating at each end).
``decimal-comma``   a decimal comma (``4,5``).
``average``         an average that no set of exact case means consistent with the printed cells
                    gives under the stated rounding rule (a pooled mean or a mistyped value).
                    Each printed mean m with d decimals stands for an exact mean in the interval
                    that rounds to m (half up: [m - h, m + h), h = 5 x 10^-(d+1)); with n known,
                    for a sum S of n integer ratings (S/n in that interval, within the cell's
                    range). The average is flagged only when no mean of such exact values rounds
                    to it: A = 4,4,4,5 and B = 4,4,4,4 print 4.3 and 4.0 with average 4.1
                    (4.125), which is not flagged although (4.3 + 4.0)/2 = 4.15.
``decimals``        a value printed with a different number of decimals than the rest of its column.
``table4-cell``     a Table 4 cell that is not a score of the scale or a split of two adjacent points.
``table4-mean``     a stated period mean (the mean row or the text) that no split rule (midpoint, lower, upper) with either
                    rounding rule (half up, half even) reproduces from the cells (an error; the
                    message says whether rounding down would); reproduced only without the
                    midpoint rule: a warning to state the rule.
``table4-range``    a stated period range that no split rule gives.
``scale-points``    a scale named "N-point" (Table 4's scale row, or a paragraph of the text about
                    Table 4 or the consensus) beside a legend or scale with another number of points.
``percentages``     percentages of one paragraph or row that look like a partition (sum 95-105)
                    but do not add up to 100 (rounding: say so, or print one more decimal).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from casestudy.errors import UserError
from casestudy.panel.scale import Scale
from casestudy.reports import table4 as consensus_table
from casestudy.reports.constants import ROUNDINGS, SPLIT_RULES
from casestudy.reports.table2 import round_decimal

OUTCOME_SYNONYMS = {
    "positive": "positive", "success": "positive", "successful": "positive", "succeeded": "positive",
    "negative": "negative", "failure": "negative", "failed": "negative", "fail": "negative",
    "mixed": "mixed",
}
CELL = re.compile(r"^\s*(?P<mean>-?\d+(?:[.,]\d+)?)\s*(?:\(\s*(?P<low>-?\d+)\s*(?:[-–]|to)\s*(?P<high>-?\d+)\s*\))?\s*$")
#: How a table marks a cell without ratings (Table 2 prints an en dash): not a malformed cell.
EMPTY_MARKS = frozenset({"", "–", "—", "-", "n/a", "na"})
NUMBER = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*$")


@dataclass
class Finding:
    check: str
    where: str
    message: str
    severity: str = "error"  # error or warning


@dataclass
class PublishedTable2:
    cases: list[str]
    outcomes: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[str, list[str], str]] = field(default_factory=list)  # statement, case cells, average
    legend: str = ""
    scale_text: str = ""


@dataclass
class PublishedTable1Row:
    case: str
    programme: str
    outcome: str
    determinants: str = ""


def _csv(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")) if any(c.strip() for c in row)]


def parse_table2(text: str) -> PublishedTable2:
    rows = _csv(text)
    if not rows:
        raise UserError("Table 2 CSV: empty")
    header = [c.strip() for c in rows[0]]
    if len(header) < 3 or header[-1].lower() not in ("average", "mean", "avg"):
        raise UserError("Table 2 CSV, row 1 (header): expected statement,<case columns>,average")
    table = PublishedTable2(header[1:-1])
    for number, row in enumerate(rows[1:], start=2):
        first = row[0].strip()
        rest = [c.strip() for c in row[1:]] + [""] * (len(header) - len(row))
        if first.lower() == "outcome":
            table.outcomes = dict(zip(table.cases, rest))
        elif first.lower() == "legend":
            table.legend = rest[0] if rest else ""
        elif first.lower() == "scale":
            table.scale_text = rest[0] if rest else ""
        else:
            if len(row) > len(header):
                raise UserError(f"Table 2 CSV, row {number}: more cells than header columns")
            table.rows.append((first, rest[: len(table.cases)], rest[len(table.cases)]))
    return table


def parse_table1(text: str) -> list[PublishedTable1Row]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [c for c in ("case", "outcome") if c not in fields]
    if missing:
        raise UserError(f"Table 1 CSV, row 1 (header): missing column(s) {', '.join(missing)}; expected case,programme,outcome,determinants")
    reader.fieldnames = fields
    return [PublishedTable1Row((r.get("case") or "").strip(), (r.get("programme") or "").strip(), (r.get("outcome") or "").strip(), (r.get("determinants") or "").strip())
            for r in reader if any((v or "").strip() for v in r.values() if isinstance(v, str))]


def outcome_classes(text: str) -> list[str]:
    """Outcome classes named in a label, in order (e.g. 'Positive for IOP; mixed for PH' -> positive, mixed)."""
    found = []
    for word in re.findall(r"[a-z]+", text.lower()):
        cls = OUTCOME_SYNONYMS.get(word)
        if cls and cls not in found:
            found.append(cls)
    return found


def _case_key(label: str) -> str:
    return re.sub(r"^(case|unit)\s+", "", label.strip(), flags=re.I).casefold()


def check_outcomes(table2: PublishedTable2, table1: list[PublishedTable1Row]) -> list[Finding]:
    t1 = {_case_key(r.case): (r.case, outcome_classes(r.outcome)) for r in table1}
    t2 = {case: outcome_classes(table2.outcomes.get(case, "")) for case in table2.cases if table2.outcomes.get(case)}
    findings = []
    bad = []
    for case, classes in t2.items():
        entry = t1.get(_case_key(case))
        if entry is None or not classes or not entry[1]:
            continue
        if classes[0] not in entry[1]:
            bad.append(case)
            findings.append(Finding("outcome-label", f"Table 2 header, case {case}",
                                    f"Table 2 labels case {case} {table2.outcomes[case]!r} but Table 1 gives {entry[0]} as {', '.join(entry[1])}"))
    for i, a in enumerate(bad):
        for b in table2.cases:
            if b == a or _case_key(b) not in t1 or b not in t2:
                continue
            if t2[a][0] in t1[_case_key(b)][1] and t2[b][0] in t1[_case_key(a)][1] and (b in bad or t2[b][0] != t2[a][0]):
                if b in bad and bad.index(b) < i:
                    continue
                findings.append(Finding("outcome-label", f"Table 2 header, cases {a} and {b}",
                                        f"the outcome labels of cases {a} and {b} in Table 2 look swapped relative to Table 1"))
    return findings


def legend_points(legend: str) -> list[int]:
    """Scale points a legend names: '1. Strongly disagree; 2: Disagree; 3; ...' -> [1, 2, 3, ...]."""
    return sorted({int(m) for m in re.findall(r"(?:^|[;,]\s*|\s)(-?\d+)\s*(?:[.:;=)]|\s*-\s*[A-Za-z])", legend)})


def check_scale(table2: PublishedTable2, scale: Scale) -> list[Finding]:
    findings = []
    defined = list(range(scale.min, scale.max + 1))
    if table2.legend:
        points = legend_points(table2.legend)
        if points and (points[0] != scale.min or points[-1] != scale.max or not set(points) <= set(defined)):
            findings.append(Finding("scale-legend", "Table 2 legend",
                                    f"the legend lists points {points[0]}-{points[-1]} ({table2.legend!r}) but the scale is defined as {scale.text()}"))
        words = " ".join(scale.labels.values()).lower()
        if scale.labels and "agree" in table2.legend.lower() and "agree" not in words:
            findings.append(Finding("scale-legend", "Table 2 legend",
                                    "the legend uses agree/disagree wording; the scale definition is "
                                    + scale.label_text(), "warning"))
    if table2.scale_text:
        m = re.search(r"(-?\d+)\s*[-–]\s*(-?\d+)", table2.scale_text)
        if m and (int(m.group(1)), int(m.group(2))) != (scale.min, scale.max):
            findings.append(Finding("scale-legend", "Table 2 title", f"the title states a {m.group(1)}-{m.group(2)} scale but the scale is defined as {scale.text()}"))
    return findings


def _decimals(text: str) -> int:
    m = re.search(r"[.,](\d+)", text)
    return len(m.group(1)) if m else 0


def _value(text: str) -> Fraction:
    return Fraction(text.strip().replace(",", "."))


def _possible_sums(mean: Fraction, places: int, n: int, low: int, high: int) -> list[int]:
    """Sums S of n integer ratings in [low*n, high*n] whose mean rounds (half-up or half-even) to ``mean``."""
    half = Fraction(1, 2 * 10 ** places)
    lo = math.ceil((mean - half) * n)
    hi = math.floor((mean + half) * n)
    return [s for s in range(max(lo, low * n), min(hi, high * n) + 1)]


def _rounds_to(value: Fraction, printed: str, rounding: str) -> bool:
    return round_decimal(value, _decimals(printed), rounding) == Decimal(printed.strip().replace(",", "."))


def _exact_interval(printed: str) -> tuple[Fraction, Fraction]:
    """The closed hull [m - h, m + h] of the exact values that round to the printed ``m``."""
    mean, half = _value(printed), Fraction(1, 2 * 10 ** _decimals(printed))
    return mean - half, mean + half


def average_possible(cells: list[tuple[str, int | None, int | None]], average: str, n: int | None,
                     scale: Scale, rounding: str = "half-up") -> tuple[bool, Fraction, Fraction]:
    """Whether some exact case means consistent with the printed ``cells`` (mean text, range low,
    high) have a mean that rounds to the printed ``average`` by ``rounding``; with the lowest and
    highest such mean of case means.

    With ``n``: each case mean is S/n for an integer sum S whose mean rounds to the printed cell
    and which fits the printed range; the achievable totals of the S form one integer interval,
    so every candidate average T/(n k) is tried. Without ``n`` the case means vary continuously
    within their rounding intervals, so the averages fill [mean of lows, mean of highs]; the
    average is possible when its own rounding interval overlaps that one (a shared end point is
    a tie that the rule sends one way, so it does not count)."""
    k = len(cells)
    if n:
        lows, highs = [], []
        for text, low, high in cells:
            mean, places = _value(text), _decimals(text)
            # a range puts at least one rating at each end (all of them when low == high)
            sums = [s for s in _possible_sums(mean, places, n, scale.min, scale.max)
                    if low is None or low * (n - 1) + high <= s <= high * (n - 1) + low]
            sums = [s for s in sums if _rounds_to(Fraction(s, n), text, rounding)]
            if not sums:  # the cell itself is impossible (reported there): judge the average without n
                return average_possible(cells, average, None, scale, rounding)
            lows.append(sums[0])
            highs.append(sums[-1])
        total_low, total_high = sum(lows), sum(highs)
        possible = any(_rounds_to(Fraction(total, n * k), average, rounding) for total in range(total_low, total_high + 1))
        return possible, Fraction(total_low, n * k), Fraction(total_high, n * k)
    bounds = [_exact_interval(text) for text, _, _ in cells]
    low = sum(b[0] for b in bounds) / k
    high = sum(b[1] for b in bounds) / k
    a_low, a_high = _exact_interval(average)
    return a_low < high and low < a_high, low, high


def check_cells(table2: PublishedTable2, scale: Scale, n: int | None, rounding: str = "half-up") -> list[Finding]:
    findings = []
    for statement, cells, average in table2.rows:
        means = []
        printed_cells = []
        for case, cell in zip(table2.cases, cells):
            where = f"Table 2, {statement!r}, case {case}"
            if cell.strip().lower() in EMPTY_MARKS:
                continue
            if re.search(r"\d,\d", cell):
                findings.append(Finding("decimal-comma", where, f"{cell!r} uses a decimal comma; write {cell.replace(',', '.')!r}"))
            m = CELL.match(cell)
            if not m:
                findings.append(Finding("format", where, f"{cell!r} is not of the form 'mean (min-max)'", "warning"))
                continue
            mean = _value(m.group("mean"))
            means.append((mean, _decimals(m.group("mean"))))
            printed_cells.append((m.group("mean").replace(",", "."), None if m.group("low") is None else int(m.group("low")),
                                  None if m.group("high") is None else int(m.group("high"))))
            places = _decimals(m.group("mean"))
            if not scale.min <= mean <= scale.max:
                findings.append(Finding("range", where, f"mean {m.group('mean')} lies outside the scale {scale.text()}"))
                continue
            if m.group("low") is not None:
                low, high = int(m.group("low")), int(m.group("high"))
                if low < scale.min or high > scale.max:
                    findings.append(Finding("range", where, f"range {low}-{high} lies outside the scale {scale.text()}"))
                if not low <= mean <= high:
                    findings.append(Finding("range", where, f"mean {m.group('mean')} lies outside its range {low}-{high}"))
                elif n and low < high:
                    sums = [s for s in _possible_sums(mean, places, n, scale.min, scale.max)
                            if low * (n - 1) + high <= s <= high * (n - 1) + low]
                    if not sums:
                        findings.append(Finding("range", where, f"no {n} integer ratings with range {low}-{high} have a mean that rounds to {m.group('mean')}"))
            if n and not _possible_sums(mean, places, n, scale.min, scale.max):
                findings.append(Finding("impossible-mean", where, f"no {n} integer ratings on {scale.text()} have a mean that rounds to {m.group('mean')}"))
        if average:
            where = f"Table 2, {statement!r}, average"
            if re.search(r"\d,\d", average):
                findings.append(Finding("decimal-comma", where, f"{average!r} uses a decimal comma"))
            if NUMBER.match(average) and printed_cells:
                places = _decimals(average)
                printed_mean = sum(m for m, _ in means) / len(means)
                possible, low, high = average_possible(printed_cells, average.replace(",", "."), n, scale, rounding)
                if not possible:
                    shown = max(places, 2)
                    findings.append(Finding("average", where,
                                            f"average {average} is not the mean of the printed case means "
                                            f"({round_decimal(printed_mean, shown, rounding)}): exact case means that round to the printed "
                                            f"cells give {round_decimal(low, shown + 1, rounding)} to {round_decimal(high, shown + 1, rounding)}; "
                                            "state whether it is a pooled mean or correct it", "warning"))
    averages = [(statement, average) for statement, _, average in table2.rows if NUMBER.match(average or "")]
    findings += _decimal_consistency("Table 2, average column", averages)
    for index, case in enumerate(table2.cases):
        column = [(statement, CELL.match(cells[index]).group("mean")) for statement, cells, _ in table2.rows
                  if index < len(cells) and CELL.match(cells[index] or "")]
        findings += _decimal_consistency(f"Table 2, case {case}", column)
    return findings


def _decimal_consistency(where: str, values: list[tuple[str, str]]) -> list[Finding]:
    if len(values) < 2:
        return []
    counts: dict[int, int] = {}
    for _, text in values:
        counts[_decimals(text)] = counts.get(_decimals(text), 0) + 1
    usual = max(counts, key=lambda d: (counts[d], -d))
    return [Finding("decimals", f"{where}, {statement!r}", f"{text} has {_decimals(text)} decimals; the others have {usual}", "warning")
            for statement, text in values if _decimals(text) != usual]


@dataclass
class PublishedTable4:
    periods: list[str]
    rows: list[tuple[str, str, list[str]]] = field(default_factory=list)  # item, level, cells per period
    means: dict[str, str] = field(default_factory=dict)  # period -> stated summary as printed
    legend: str = ""
    scale_text: str = ""


def parse_table4(text: str) -> PublishedTable4:
    """A printed Table 4 grid (see the module docstring)."""
    rows = _csv(text)
    if not rows:
        raise UserError("Table 4 CSV: empty")
    header = [c.strip() for c in rows[0]]
    if len(header) < 3 or [h.lower() for h in header[:2]] != ["item", "level"]:
        raise UserError("Table 4 CSV, row 1 (header): expected item,level,<period columns>")
    table = PublishedTable4(header[2:])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise UserError(f"Table 4 CSV, row {number}: more cells than header columns")
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        first = cells[0].lower()
        if first == "mean":
            table.means = {p: v for p, v in zip(table.periods, cells[2:]) if v}
        elif first == "legend":
            table.legend = cells[1]
        elif first == "scale":
            table.scale_text = cells[1]
        else:
            table.rows.append((cells[0], cells[1], cells[2:]))
    return table


POINTS_NAMED = re.compile(r"\b(\d+)\s*-?\s*point\b", re.I)


def _truncated(value: Fraction, places: int) -> Fraction:
    return Fraction(math.floor(value * 10 ** places), 10 ** places)


def check_table4(table4: PublishedTable4, scale: Scale, texts: dict[str, str] | None = None) -> list[Finding]:
    """Table 4 against its own cells: cells on ``scale``, stated means and ranges reproducible by
    some split rule and rounding rule, the named number of scale points against the legend."""
    findings: list[Finding] = []
    legend = legend_points(table4.legend) if table4.legend else []
    if legend and (legend[0], legend[-1]) != (scale.min, scale.max):
        findings.append(Finding("scale-legend", "Table 4 legend", f"the legend lists points {legend[0]}-{legend[-1]} but the instrument's scale is {scale.text()}"))
    points = legend[-1] - legend[0] + 1 if legend else scale.points  # a legend may label only some points
    against = f"the legend of Table 4 lists {points} points ({legend[0]}-{legend[-1]})" if legend else f"the scale is {scale.text()} ({points} points)"
    named = [("Table 4 scale", table4.scale_text)] if table4.scale_text else []
    for name, text in (texts or {}).items():
        named += [(f"{name}, paragraph {n}", p) for n, p in enumerate(re.split(r"\n\s*\n", text), start=1)
                  if re.search(r"table\s*4|consensus", p, re.I)]
    for where, text in named:
        for match in POINTS_NAMED.finditer(text):
            if int(match.group(1)) != points:
                findings.append(Finding("scale-points", where, f"a {match.group(1)}-point scale is named, but {against}"))
    values: dict[str, list[consensus_table.ConsensusScore]] = {p: [] for p in table4.periods}
    for item, _level, cells in table4.rows:
        for period, cell in zip(table4.periods, cells):
            if not cell:
                continue
            try:
                values[period].append(consensus_table.parse_score(cell, scale))
            except UserError as exc:
                findings.append(Finding("table4-cell", f"Table 4, {item!r}, {period}", exc.message))
    stated_means = [(f"Table 4, mean, {period}", period, stated) for period, stated in table4.means.items()]
    stated_means += text_period_means(texts or {}, table4.periods)
    for where, period, stated in stated_means:
        findings += _check_stated_mean(where, stated, values.get(period) or [])
    return findings


STATED_IN_TEXT = re.compile(r"(?P<mean>\d+(?:[.,]\d+)?)\s*\(\s*(?:range\s*)?(?P<low>\d+)\s*(?:[-–]|to)\s*(?P<high>\d+)\s*\)")


def text_period_means(texts: dict[str, str], periods: list[str]) -> list[tuple[str, str, str]]:
    """(where, period, 'm (a-b)') for each period summary a text states: a period's name (or the
    part before its first hyphen, e.g. PRE for PRE-REORG, when no other period starts so)
    followed within one sentence by 'm (a-b)' or 'm (range a-b)'."""
    aliases: dict[str, str] = {}
    for period in periods:
        aliases[period.casefold()] = period
        head = period.split("-")[0]
        if head != period and sum(p.split("-")[0].casefold() == head.casefold() for p in periods) == 1:
            aliases.setdefault(head.casefold(), period)
    names = sorted(aliases, key=len, reverse=True)
    if not names:
        return []
    mention = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I)
    found = []
    for name, text in texts.items():
        for number, paragraph in enumerate(re.split(r"\n\s*\n", text), start=1):
            mentions = list(mention.finditer(paragraph))
            for index, m in enumerate(mentions):
                end = mentions[index + 1].start() if index + 1 < len(mentions) else len(paragraph)
                stretch = re.split(r"(?<=[.;])\s", paragraph[m.end():end], maxsplit=1)[0]
                stated = STATED_IN_TEXT.search(stretch)
                if stated:
                    period = aliases[m.group(1).casefold()]
                    found.append((f"{name}, paragraph {number}, {period}", period,
                                  f"{stated.group('mean')} ({stated.group('low')}-{stated.group('high')})"))
    return found


def _check_stated_mean(where: str, stated: str, scores: list) -> list[Finding]:
    """A period summary as printed ('6.1 (4-7)') against the consensus cells of that period."""
    findings: list[Finding] = []
    match = CELL.match(stated)
    if not match or not scores:
        return [Finding("table4-mean", where, f"{stated!r} is not of the form 'mean (min-max)' or has no cells to check against", "warning")]
    mean, places = _value(match.group("mean")), _decimals(match.group("mean"))
    exact = {rule: sum(s.value(rule) for s in scores) / len(scores) for rule in SPLIT_RULES}
    reproduced = [(rule, rounding) for rule in SPLIT_RULES for rounding in ROUNDINGS
                  if Fraction(round_decimal(exact[rule], places, rounding)) == mean]
    computed = ", ".join(f"{rule} {float(value):.{places + 2}f} -> {round_decimal(value, places)}" for rule, value in exact.items())
    if not reproduced:
        truncating = [rule for rule, value in exact.items() if _truncated(value, places) == mean]
        hint = f"; rounding the {' or '.join(truncating)} mean down gives {match.group('mean')}" if truncating else ""
        findings.append(Finding("table4-mean", where, f"stated mean {match.group('mean')} is not reproduced from the {len(scores)} cells "
                                                      f"by any split rule and rounding rule ({computed}){hint}"))
    elif not any(rule == "midpoint" for rule, _ in reproduced):
        rules = sorted({rule for rule, _ in reproduced})
        findings.append(Finding("table4-mean", where, f"stated mean {match.group('mean')} follows only with the {' or '.join(rules)} split rule "
                                                      f"({computed}); state that rule in the note", "warning"))
    if match.group("low") is not None:
        stated_range = (int(match.group("low")), int(match.group("high")))
        ranges = {(min(s.value(rule) for s in scores), max(s.value(rule) for s in scores)) for rule in SPLIT_RULES}
        ranges.add((Fraction(min(s.low for s in scores)), Fraction(max(s.high for s in scores))))
        if stated_range not in ranges:
            shown = ", ".join(sorted(f"{float(lo):g}-{float(hi):g}" for lo, hi in ranges))
            findings.append(Finding("table4-range", where, f"stated range {stated_range[0]}-{stated_range[1]} follows from no split rule (the cells give {shown})"))
    return findings


PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def check_percentages(text: str, where: str = "text") -> list[Finding]:
    findings = []
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text), start=1):
        values = [Fraction(v.replace(",", ".")) for v in PERCENT.findall(paragraph)]
        if len(values) < 2:
            continue
        total = sum(values)
        if total != 100 and 95 <= total <= 105:
            shown = " + ".join(f"{float(v):g}%" for v in values)
            findings.append(Finding("percentages", f"{where}, paragraph {number}",
                                    f"{shown} = {float(total):g}%, not 100% (rounding); say so in a note or give one more decimal", "warning"))
    return findings


def check_tables(
    table2: PublishedTable2 | None = None,
    table1: list[PublishedTable1Row] | None = None,
    scale: Scale | None = None,
    n: int | None = None,
    texts: dict[str, str] | None = None,
    rounding: str = "half-up",
    table4: PublishedTable4 | None = None,
    table4_scale: Scale | None = None,
) -> list[Finding]:
    """Run every check that the given pieces allow; findings in table order. ``rounding`` is the
    rule the tables state (half-up or half-even); ``table4_scale`` is the scale of Table 4's
    instrument (required with ``table4``)."""
    scale = scale or Scale(0, 5)
    findings: list[Finding] = []
    if table2 is not None:
        if table1:
            findings += check_outcomes(table2, table1)
        findings += check_scale(table2, scale)
        findings += check_cells(table2, scale, n, rounding)
    if table1:
        for row in table1:
            findings += check_percentages(" ".join([row.programme, row.outcome, row.determinants]), f"Table 1, case {row.case}")
    if table4 is not None:
        if table4_scale is None:
            raise UserError("checking Table 4 needs the scale of its instrument")
        findings += check_table4(table4, table4_scale, texts)
    for name, text in (texts or {}).items():
        findings += check_percentages(text, name)
    return findings


def table2_as_published(t) -> PublishedTable2:
    """A generated :class:`casestudy.aggregation.Table2` in the printed form, to check it too."""
    columns, rows = t.grid()
    published = PublishedTable2(list(t.cases), dict(t.outcome_by_case))
    for row in rows:
        if row[0] == "Outcome" and len(rows) > len(t.items):
            continue
        published.rows.append((row[0], row[1:-1], row[-1]))
    published.legend = t.scale.label_text()
    published.scale_text = t.scale.text()
    return published
