"""Regenerate the Table 4 examples (deterministic): the reference study's consensus scores.

* ``reference-table4-scores.csv`` (``item,level,period,score``): the cells of the reference
  study's Table 4 as published, on the shipped checklist ``mbt-focus-group-checklist`` (21 items:
  7 organisation, 11 team, 3 therapist; 1-7). Computed under the midpoint rule they give
  PRE-REORG 6.14 (range 4-7), which prints as the published 6.1, and REORG 2.45 (1-4), which
  prints as 2.5, not the published 2.4 (no split rule and no rounding rule gives 2.4; rounding
  down would).
* ``reference-published-table4.csv``: the same cells as printed (one column per period) with
  the published summary row ``mean`` (6.1 (4-7), 2.4 (1-4)), the legend (1-7) and the scale the
  methods name (5-point), the input of ``report check --table4``.
* ``constructed-table4-scores.csv``: a constructed set (our own, not the study's cells) whose
  midpoint means print as the published figures, PRE-REORG 6.1 (4-7) and REORG 2.4 (1-4).

Run from the checkout: ``python examples/make_table4_data.py``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from casestudy.panel.instruments import load_shipped  # noqa: E402

PERIODS = ("PRE-REORG", "REORG")
# Per item of the checklist in its order (O1-O7, T1-T11, P1-P3): PRE-REORG, REORG.
PUBLISHED = [
    ("7", "4"), ("6", "2/3"), ("7", "4"), ("7", "2/3"), ("6", "2"), ("5", "3"), ("7", "1"),
    ("6", "2/3"), ("6", "1"), ("6", "3"), ("7", "2"), ("6", "2/3"), ("6/7", "2/3"), ("5/6", "2/3"),
    ("6", "2/3"), ("6", "2/3"), ("6", "2"), ("6", "2"),
    ("4", "2"), ("6", "2/3"), ("7", "3"),
]
CONSTRUCTED = [
    ("7", "4"), ("6", "2/3"), ("6/7", "3"), ("7", "2"), ("6", "2"), ("5", "3"), ("7", "1"),
    ("6", "2/3"), ("6", "1"), ("6", "3"), ("7", "2"), ("5/6", "2/3"), ("6", "2"), ("6", "2/3"),
    ("6", "2"), ("6", "3"), ("6", "2"), ("6", "2"),
    ("4", "2"), ("6", "3"), ("7", "3"),
]
PUBLISHED_SUMMARY = ("6.1 (4-7)", "2.4 (1-4)")
PUBLISHED_LEGEND = "1 = very poor; 2 = poor; 3 = acceptable; 4 = adequate; 5 = good; 6 = very good; 7 = excellent"
METHODS_SCALE = "5-point scale (very poor to very good)"


def _write(name: str, header, rows) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    items = load_shipped("mbt-focus-group-checklist").items
    assert len(items) == len(PUBLISHED) == len(CONSTRUCTED) == 21
    for name, cells in (("reference-table4-scores.csv", PUBLISHED), ("constructed-table4-scores.csv", CONSTRUCTED)):
        _write(name, ["item", "level", "period", "score"],
               [[item.text, item.level, period, score] for period_index, period in enumerate(PERIODS)
                for item, scores in zip(items, cells) for score in [scores[period_index]]])
    _write("reference-published-table4.csv", ["item", "level", *PERIODS], [
        *([item.text, item.level, *scores] for item, scores in zip(items, PUBLISHED)),
        ["mean", "", *PUBLISHED_SUMMARY],
        ["legend", PUBLISHED_LEGEND],
        ["scale", METHODS_SCALE],
    ])


if __name__ == "__main__":
    main()
