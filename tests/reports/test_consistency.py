"""The consistency check flags the published reference tables' known errors."""

from __future__ import annotations

from pathlib import Path

from casestudy.reports import consistency as cc
from casestudy.reports.table2 import table2
from casestudy.panel.scale import PANEL_SCALE, Scale
from casestudy.reports.inputs import load_ratings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def published_findings():
    t2 = cc.parse_table2((EXAMPLES / "reference-published-table2.csv").read_text(encoding="utf-8"))
    t1 = cc.parse_table1((EXAMPLES / "reference-published-table1.csv").read_text(encoding="utf-8"))
    text = (EXAMPLES / "reference-published-text.txt").read_text(encoding="utf-8")
    return cc.check_tables(t2, t1, PANEL_SCALE, 12, {"results": text})


def test_published_tables_known_errors_are_flagged():
    findings = published_findings()
    by_check = {}
    for f in findings:
        by_check.setdefault(f.check, []).append(f)
    assert any("cases F and G" in f.where and "swapped" in f.message for f in by_check["outcome-label"])
    assert any("1-5" in f.message and "0-5" in f.message for f in by_check["scale-legend"])
    assert [f.where for f in by_check["decimal-comma"]] == ["Table 2, 'Team factors contributed', case B"]
    average = by_check["average"]
    assert len(average) == 1 and "4.49" in average[0].message and "(4.47)" in average[0].message
    assert [f.message.split()[0] for f in by_check["decimals"]] == ["4.49"]
    assert "29% + 29% + 43% = 101%" in by_check["percentages"][0].message
    # nothing else: every published mean is possible for 12 ratings and consistent with its range
    assert set(by_check) == {"outcome-label", "scale-legend", "decimal-comma", "average", "decimals", "percentages"}


def test_generated_reference_table_is_clean():
    t = table2(load_ratings(EXAMPLES / "reference-ratings.csv"), PANEL_SCALE,
               outcome_by_case={"A": "negative", "B": "positive", "C": "negative", "D": "negative", "E": "mixed", "F": "positive", "G": "mixed"})
    t1 = cc.parse_table1((EXAMPLES / "reference-published-table1.csv").read_text(encoding="utf-8"))
    assert cc.check_tables(cc.table2_as_published(t), t1, PANEL_SCALE, 12) == []


def test_impossible_mean_and_range():
    grid = "statement,A,B,C,D,average\nx,4.5 (4-5),2.0 (3-5),4.9 (1-5),4.7 (3-5),\n"
    findings = cc.check_tables(cc.parse_table2(grid), scale=Scale(1, 5), n=3)
    messages = [(f.check, f.where.split(", ")[-1]) for f in findings]
    assert ("impossible-mean", "case A") in messages  # 3 ratings: 13/3, 14/3 -> 4.3, 4.7; never 4.5
    assert ("range", "case B") in messages  # mean outside its range
    assert ("range", "case C") in messages  # a 1 among 3 ratings caps the mean at 11/3
    assert ("impossible-mean", "case D") not in messages  # 14/3 = 4.67 rounds to 4.7 (e.g. 4, 5, 5) ...
    assert ("range", "case D") in messages  # ... but with a 3 among them the mean is at most 13/3


def test_outcome_synonyms_and_legend_points():
    assert cc.outcome_classes("Positive for IOP; mixed for PH") == ["positive", "mixed"]
    assert cc.outcome_classes("Failure") == ["negative"]
    assert cc.legend_points("1. Strongly disagree; 2. Disagree; 3; Neither; 4: Agree; 5: Strongly agree") == [1, 2, 3, 4, 5]
    assert cc.check_percentages("two (50%) and two (50%)") == []
