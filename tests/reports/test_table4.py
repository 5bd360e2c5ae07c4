"""Table 4: consensus scores with splits, each split and rounding rule by hand, the published
figures through the CLI, every bad row named, and the consistency check of a printed Table 4."""

from __future__ import annotations

import json
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from casestudy.errors import UserError
from casestudy.panel.instruments import export, load_shipped
from casestudy.reports import consistency as cc
from casestudy.reports import table4 as t4

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONSTRUCTED = EXAMPLES / "constructed-table4-scores.csv"
PUBLISHED_CELLS = EXAMPLES / "reference-table4-scores.csv"
PUBLISHED_GRID = EXAMPLES / "reference-published-table4.csv"
CHECKLIST = load_shipped("mbt-focus-group-checklist")

# Four items on two levels; P1 has two splits, P2 one.
SMALL = """item,level,period,score
x,A,P1,3
y,A,P1,2/3
z,B,P1,1
w,B,P1,2/3
x,A,P2,1
y,A,P2,1
z,B,P2,1/2
w,B,P2,5
"""


def small_table(split="midpoint", rounding="half-up") -> t4.Table4:
    return t4.table4(t4.read_scores_csv(SMALL, CHECKLIST.scale), CHECKLIST, split, rounding)


def test_midpoint_rule_by_hand():
    t = small_table()
    p1, p2 = t.summaries()
    # P1: 3 + 2.5 + 1 + 2.5 = 9 -> 9/4 = 2.25; A: (3 + 2.5)/2 = 2.75, B: (1 + 2.5)/2 = 1.75
    assert (p1.period, p1.mean, p1.min, p1.max, p1.n_items) == ("P1", Fraction(9, 4), 1, 3, 4)
    assert p1.level_means == {"A": Fraction(11, 4), "B": Fraction(7, 4)}
    # P2: 1 + 1 + 1.5 + 5 = 8.5 -> 2.125
    assert (p2.mean, p2.min, p2.max) == (Fraction(17, 8), 1, 5)
    assert p2.level_means == {"A": 1, "B": Fraction(13, 4)}


@pytest.mark.parametrize("split, p1_mean, p1_range, a_mean, b_mean, p2_mean", [
    ("lower", Fraction(2), (1, 3), Fraction(5, 2), Fraction(3, 2), Fraction(2)),    # 3+2+1+2 = 8; 1+1+1+5 = 8
    ("upper", Fraction(5, 2), (1, 3), Fraction(3), Fraction(2), Fraction(9, 4)),    # 3+3+1+3 = 10; 1+1+2+5 = 9
])
def test_lower_and_upper_rules_by_hand(split, p1_mean, p1_range, a_mean, b_mean, p2_mean):
    p1, p2 = small_table(split).summaries()
    assert (p1.mean, (p1.min, p1.max)) == (p1_mean, p1_range)
    assert p1.level_means == {"A": a_mean, "B": b_mean}
    assert p2.mean == p2_mean


def test_rounding_rules_on_a_tie():
    # 2.25 is a tie at one decimal: half up 2.3, half even 2.2; 2.125 is not (2.1 either way)
    up, even = small_table(rounding="half-up"), small_table(rounding="half-even")
    assert [up.formatted_summary(s) for s in up.summaries()] == ["2.3 (1-3)", "2.1 (1-5)"]
    assert [even.formatted_summary(s) for s in even.summaries()] == ["2.2 (1-3)", "2.1 (1-5)"]
    assert any("P1: mean 2.250 is a rounding tie: 2.3 by half-up, 2.2 by half-even" in w for w in up.warnings)
    assert any("P1: mean 2.3 by the midpoint rule; 2.0 by the lower rule, 2.5 by the upper rule" in w for w in up.warnings)
    # the midpoint range of P1 is 1-3 (2/3 counts 2.5, inside); under lower it stays 1-3
    midpoint_grid = small_table().grid()[1]
    assert midpoint_grid[:4] == [["A", "x", "3", "1"], ["A", "y", "2/3", "1"], ["B", "z", "1", "1/2"], ["B", "w", "2/3", "5"]]
    assert midpoint_grid[4] == ["All levels", "Mean (range)", "2.3 (1-3)", "2.1 (1-5)"]
    assert midpoint_grid[5:] == [["A", "Mean", "2.8", "1.0"], ["B", "Mean", "1.8", "3.3"]]  # 2.75, 1.75, 3.25 round up


def test_json_shape_and_note(cli, tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(SMALL, encoding="utf-8")
    result = cli("report", "table4", "--scores", path, "--split", "upper", "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert set(data) == {"items", "periods", "split_rule", "warnings"}
    assert data["items"][1] == {"item": "y", "level": "A", "scores": {"P1": "2/3", "P2": "1"}}
    assert data["periods"][0] == {"period": "P1", "mean": 2.5, "min": 1, "max": 3, "n_items": 4, "level_means": {"A": 3, "B": 2}}
    assert data["periods"][1]["mean"] == 2.25 and data["split_rule"] == "upper"
    assert any("not an item of mbt-focus-group-checklist" in w for w in data["warnings"])
    md = cli("report", "table4", "--scores", path, "--format", "md")
    assert "Scale 1-7: 1 = very poor; 2 = poor; 3 = acceptable; 4 = adequate; 5 = good; 6 = very good; 7 = excellent." in md.out
    assert "the midpoint of the two points" in md.out and "(n = 4 items)" in md.out


def _period(data, name):
    return next(p for p in data["periods"] if p["period"] == name)


def test_constructed_scores_reproduce_the_published_summary(cli):
    """Our constructed 21 items give the published PRE-REORG 6.1 (4-7) and REORG 2.4 (1-4)."""
    result = cli("report", "table4", "--scores", CONSTRUCTED, "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    pre, reorg = _period(data, "PRE-REORG"), _period(data, "REORG")
    assert (pre["n_items"], reorg["n_items"]) == (21, 21)
    assert pre["mean"] == pytest.approx(128 / 21) and (pre["min"], pre["max"]) == (4, 7)
    assert reorg["mean"] == pytest.approx(50 / 21) and (reorg["min"], reorg["max"]) == (1, 4)
    assert not any("not an item" in w or "no consensus score" in w for w in data["warnings"])
    md = cli("report", "table4", "--scores", CONSTRUCTED, "--format", "md").out
    assert "| All levels | Mean (range) | 6.1 (4-7) | 2.4 (1-4) |" in md


def test_published_cells_give_6_1_but_2_5(cli):
    """The study's own cells: PRE-REORG 129/21 = 6.14 prints 6.1 as published; REORG 51.5/21 = 2.45
    prints 2.5 by the midpoint rule, where the study prints 2.4."""
    data = json.loads(cli("report", "table4", "--scores", PUBLISHED_CELLS, "--format", "json").out)
    pre, reorg = _period(data, "PRE-REORG"), _period(data, "REORG")
    assert pre["mean"] == pytest.approx(129 / 21) and (pre["min"], pre["max"]) == (4, 7)
    assert reorg["mean"] == pytest.approx(51.5 / 21) and (reorg["min"], reorg["max"]) == (1, 4)
    assert reorg["level_means"] == pytest.approx({"organization": 19 / 7, "team": 25 / 11, "therapist": 2.5})
    assert sum(1 for item in data["items"] if "/" in item["scores"]["REORG"]) == 9
    md = cli("report", "table4", "--scores", PUBLISHED_CELLS, "--format", "md").out
    assert "| All levels | Mean (range) | 6.1 (4-7) | 2.5 (1-4) |" in md
    lower = json.loads(cli("report", "table4", "--scores", PUBLISHED_CELLS, "--split", "lower", "--format", "json").out)
    assert _period(lower, "REORG")["mean"] == pytest.approx(47 / 21)  # 9 splits counted 0.5 lower


@pytest.mark.parametrize("fmt, marker", [("csv", "Level,Item,PRE-REORG,REORG"), ("tex", "\\toprule"), ("md", "| 6/7 |")])
def test_text_formats(cli, fmt, marker):
    result = cli("report", "table4", "--scores", PUBLISHED_CELLS, "--format", fmt)
    assert result.code == 0 and marker in result.out


@pytest.mark.parametrize("fmt, member", [("xlsx", "xl/workbook.xml"), ("docx", "word/document.xml")])
def test_binary_formats(cli, tmp_path, fmt, member):
    assert cli("report", "table4", "--scores", PUBLISHED_CELLS, "--format", fmt).code == 2  # binary needs --output
    target = tmp_path / f"t4.{fmt}"
    assert cli("report", "table4", "--scores", PUBLISHED_CELLS, "--format", fmt, "--output", target).code == 0
    assert member in zipfile.ZipFile(target).namelist()


@pytest.mark.parametrize("body, message", [
    ("x,A,P1,8\n", "row 2, item 'x', period 'P1': score '8' lies outside the scale 1-7"),
    ("x,A,P1,7/8\n", "row 2, item 'x', period 'P1': score '7/8' lies outside the scale 1-7"),
    ("x,A,P1,3\ny,A,P1,2/4\n", "row 3, item 'y', period 'P1': split score '2/4' does not join two adjacent points"),
    ("x,A,P1,3\ny,A,P1,3/2\n", "row 3, item 'y', period 'P1': split score '3/2' does not join two adjacent points"),
    ("x,A,P1,3\nx,A,P1,4\n", "row 3: item 'x' has a second score for period 'P1' (first in row 2)"),
    ("x,A,P1,3\nx,B,P2,4\n", "row 3: item 'x' is filed under level 'B' here but under 'A' before"),
    ("x,A,P1,3\ny,A,P1,\n", "row 3: no score"),
    ("x,A,P1,3.5\n", "row 2, item 'x', period 'P1': score '3.5' is not a whole number"),
])
def test_bad_rows_are_named(cli, tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text("item,level,period,score\n" + body, encoding="utf-8")
    result = cli("report", "table4", "--scores", path, "--format", "json")
    assert result.code == 2 and result.out == ""
    assert f"error: scores CSV, {message}" in result.err


def test_missing_column_names_the_header_and_no_scores_names_the_file(cli, tmp_path, store):
    path = tmp_path / "bad.csv"
    path.write_text("item,period,score\nx,P1,3\n", encoding="utf-8")
    result = cli("report", "table4", "--scores", path)
    assert result.code == 2 and "error: scores CSV, row 1 (header): missing column(s) level" in result.err
    assert cli("--db", store.url, "init", "--title", "Empty").code == 0
    assert "error: the study has no focus group with consensus scores: pass --scores FILE.csv" in cli("--db", store.url, "report", "table4").err
    with pytest.raises(UserError, match="unknown split rule"):
        small_table(split="average")


def test_another_instrument_scale_applies(cli, tmp_path):
    path = tmp_path / "audit.csv"
    path.write_text("item,level,period,score\n1,organization,2024-1,6\n", encoding="utf-8")
    result = cli("report", "table4", "--scores", path, "--instrument", "mbt-adherence-audit")
    assert result.code == 2 and "score '6' lies outside the scale 1-5" in result.err
    own = tmp_path / "own.yaml"  # an instrument of one's own, as a YAML file: 0-10
    own.write_text(export(load_shipped("mbt-adherence-audit"), "yaml").replace("min: 1\n  max: 5", "min: 0\n  max: 10")
                   .replace("labels:\n", "labels:\n    0: none at all\n    6: six\n    7: seven\n    8: eight\n    9: nine\n    10: complete\n"),
                   encoding="utf-8")
    result = cli("report", "table4", "--scores", path, "--instrument", own, "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out)["periods"][0]["mean"] == 6
    own.write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    result = cli("report", "table4", "--scores", path, "--instrument", own)
    assert result.code == 2 and "anchor or alias" in result.err


# --- the consistency check of a printed Table 4 -----------------------------------------------
def test_published_table4_findings(cli):
    """The published Table 4: REORG 2.4 follows from no rule (2.5 by midpoint; rounding down would
    give 2.4); PRE-REORG 6.1 does; the methods' '5-point' scale sits beside a 7-point legend."""
    result = cli("report", "check", "--table4", PUBLISHED_GRID, "--format", "json")
    assert result.code == 0, result
    findings = json.loads(result.out)
    by_check = {}
    for f in findings:
        by_check.setdefault(f["check"], []).append(f)
    assert set(by_check) == {"table4-mean", "scale-points"}
    (mean,) = by_check["table4-mean"]
    assert mean["where"] == "Table 4, mean, REORG" and mean["severity"] == "error"
    assert "stated mean 2.4 is not reproduced from the 21 cells" in mean["message"]
    assert "midpoint 2.452 -> 2.5" in mean["message"] and "rounding the midpoint mean down gives 2.4" in mean["message"]
    (points,) = by_check["scale-points"]
    assert "a 5-point scale is named, but the legend of Table 4 lists 7 points (1-7)" in points["message"]
    assert cli("report", "check", "--table4", PUBLISHED_GRID, "--strict").code == 1


def test_published_grid_holds_the_transcribed_cells():
    grid = cc.parse_table4(PUBLISHED_GRID.read_text(encoding="utf-8"))
    rows = t4.read_scores_csv(PUBLISHED_CELLS.read_text(encoding="utf-8"), CHECKLIST.scale)
    long_form = {(r.item, r.level, r.period): r.score.text for r in rows}
    wide_form = {(item, level, period): cell for item, level, cells in grid.rows for period, cell in zip(grid.periods, cells)}
    assert long_form == wide_form and len(wide_form) == 42


GRID = "item,level,P1,P2\nx,A,3,1\ny,A,2/3,1\nz,B,1,1/2\nw,B,2/3,5\n"


@pytest.mark.parametrize("means, expected", [
    ("2.3 (1-3),2.1 (1-5)", []),                                       # midpoint, half up
    ("2.2 (1-3),2.1 (1-5)", []),                                       # midpoint, half even (2.25)
    ("2.0,2.0", [("table4-mean", "warning", "P1"), ("table4-mean", "warning", "P2")]),  # lower only
    ("2.4 (1-3),2.1", [("table4-mean", "error", "P1")]),               # no rule gives 2.4
    ("2.3 (2-3),2.1 (1-4)", [("table4-range", "error", "P1"), ("table4-range", "error", "P2")]),
])
def test_stated_means_and_ranges_against_every_rule(means, expected):
    table = cc.parse_table4(GRID + f"mean,,{means}\n")
    found = [(f.check, f.severity, f.where.split(", ")[-1]) for f in cc.check_table4(table, CHECKLIST.scale)]
    assert found == expected


def test_bad_cells_legend_and_text_scale():
    table = cc.parse_table4("item,level,P1\nx,A,2/4\ny,A,9\nlegend,1 = poor; 5 = good\n")
    findings = cc.check_table4(table, CHECKLIST.scale, {"methods": "We used a 7-point scale.\n\nThe consensus used a 5-point scale."})
    found = [(f.check, f.where) for f in findings]
    assert ("table4-cell", "Table 4, 'x', P1") in found and ("table4-cell", "Table 4, 'y', P1") in found
    assert ("scale-legend", "Table 4 legend") in found  # legend 1-5 beside the instrument's 1-7
    # only the paragraph about the consensus is read; it names 5 points as the legend does
    assert not any(check == "scale-points" for check, _ in found)


def test_check_reads_the_period_summaries_stated_in_the_text(cli, tmp_path):
    """The published text's PRE 6.1 (4-7) follows from the cells; REORG 2.4 (1-4) does not."""
    text = EXAMPLES / "reference-published-table4-text.txt"
    result = cli("report", "check", "--table4", PUBLISHED_GRID, "--text", text, "--format", "json")
    assert result.code == 0, result
    from_text = [f for f in json.loads(result.out) if f["where"].startswith(text.name)]
    assert [(f["check"], f["where"]) for f in from_text] == [
        ("scale-points", f"{text.name}, paragraph 1"), ("table4-mean", f"{text.name}, paragraph 1, REORG")]
    assert "stated mean 2.4 is not reproduced" in from_text[1]["message"] and "rounding the midpoint mean down gives 2.4" in from_text[1]["message"]
    # another wording: the full period name, 'range', a wrong range, a sentence boundary before the next number
    other = tmp_path / "methods.txt"
    other.write_text("Before the reorganisation (PRE-REORG) the mean was 6.1 (range 3-7). The scores were spread. "
                     "During it (REORG) the consensus mean was 2.5 (1-4).\n", encoding="utf-8")
    findings = json.loads(cli("report", "check", "--table4", PUBLISHED_GRID, "--text", other, "--format", "json").out)
    from_other = [(f["check"], f["where"]) for f in findings if f["where"].startswith("methods.txt")]
    assert from_other == [("table4-range", "methods.txt, paragraph 1, PRE-REORG")]
