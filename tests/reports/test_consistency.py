"""The consistency check flags the published reference tables' known errors."""

from __future__ import annotations

from pathlib import Path

from casestudy.reports import consistency as cc
from casestudy.reports.table2 import table2
from casestudy.panel.scale import PANEL_SCALE, Scale
from casestudy.reports.inputs import load_ratings
from casestudy.panel.results import Rating

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


def test_average_flagged_only_when_no_exact_case_means_give_it():
    # A = 4,4,4,5 (4.25 -> 4.3) and B = 4,4,4,4 (4.0): average 4.125 -> 4.1, although (4.3 + 4.0)/2 = 4.15
    ratings = [Rating(f"e{i}", "A", "x", s) for i, s in enumerate([4, 4, 4, 5])] + [Rating(f"e{i}", "B", "x", 4) for i in range(4)]
    t = table2(ratings, PANEL_SCALE)
    assert t.grid()[1] == [["x", "4.3 (4-5)", "4.0 (4-4)", "4.1"]]
    published = cc.table2_as_published(t)
    assert [f for f in cc.check_tables(published, scale=PANEL_SCALE, n=4) if f.check == "average"] == []
    assert [f for f in cc.check_tables(published, scale=PANEL_SCALE) if f.check == "average"] == []
    # truly impossible: exact means in [4.25, 4.35) and [3.95, 4.05) average in [4.1, 4.2), never 4.3
    wrong = cc.parse_table2("statement,A,B,average\nx,4.3 (4-5),4.0 (4-4),4.3\n")
    for n in (4, None):
        found = [f for f in cc.check_tables(wrong, scale=PANEL_SCALE, n=n) if f.check == "average"]
        assert len(found) == 1 and "4.3 is not the mean" in found[0].message
    # with n = 4 the only exact values are 17/4 and 16/4: their mean 4.125 prints 4.1, so 4.2 is impossible
    # (without n, 4.2 is reachable: e.g. 4.34 and 4.04 average 4.19)
    four = cc.parse_table2("statement,A,B,average\nx,4.3 (4-5),4.0 (4-4),4.2\n")
    assert [f.check for f in cc.check_tables(four, scale=PANEL_SCALE, n=4)] == ["average"]
    assert cc.check_tables(four, scale=PANEL_SCALE) == []


def test_average_uses_the_stated_rounding_rule():
    # n = 4: A 4.5 is 18/4, B 3.8 is 15/4 = 3.75; the mean of case means 33/8 = 4.125 prints 4.13 half up, 4.12 half even
    def flagged(average: str, rounding: str) -> bool:
        grid = cc.parse_table2(f"statement,A,B,average\nx,4.5 (4-5),3.8 (3-4),{average}\n")
        return any(f.check == "average" for f in cc.check_tables(grid, scale=PANEL_SCALE, n=4, rounding=rounding))
    assert not flagged("4.13", "half-up") and flagged("4.12", "half-up")
    assert not flagged("4.12", "half-even") and flagged("4.13", "half-even")


def test_own_empty_mark_and_negative_ranges_are_read():
    ratings = [Rating("e1", "A", "x", -3), Rating("e2", "A", "x", -2), Rating("e1", "B", "y", 1), Rating("e2", "B", "y", 2)]
    scale = Scale(-3, 3)
    t = table2(ratings, scale)
    columns, rows = t.grid()
    assert rows == [["x", "-2.5 (-3 to -2)", "–", "-2.5"], ["y", "–", "1.5 (1-2)", "1.5"]]
    assert cc.check_tables(cc.table2_as_published(t), scale=scale, n=2) == []  # no 'format' warning for '–'
    assert cc.CELL.match("-2.5 (-3 to -2)").group("low", "high") == ("-3", "-2")


def test_a_range_of_one_point_fixes_the_case_mean():
    # n = 20: '4.0 (4-4)' means all twenty rated 4 (S = 80, not 79 = 3.95); A '4.3' is 85/20 or 86/20,
    # so the mean of case means is 4.125 or 4.15 and an average printed 4.10 is impossible (4.1 is fine)
    grid = "statement,A,B,average\nx,4.3 (4-5),4.0 (4-4),{}\n"
    assert [f.check for f in cc.check_tables(cc.parse_table2(grid.format("4.10")), scale=PANEL_SCALE, n=20)] == ["average"]
    assert cc.check_tables(cc.parse_table2(grid.format("4.1")), scale=PANEL_SCALE, n=20) == []
