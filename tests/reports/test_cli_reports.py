"""`python -m casestudy report ...`: exact JSON shapes, every format, bad input -> error + exit 2."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RATINGS = str(EXAMPLES / "reference-ratings.csv")
DETERMINANTS = str(EXAMPLES / "reference-determinants.csv")


def test_table2_json_shape(cli):
    result = cli("report", "table2", "--ratings", RATINGS, "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert set(data) == {"cells", "averages", "warnings"}
    assert len(data["cells"]) == 28
    assert set(data["cells"][0]) == {"item", "case", "n", "mean", "sd", "median", "q1", "q3", "min", "max"}
    assert set(data["averages"][0]) == {"item", "mean_of_case_means", "pooled_mean", "n"}
    first = data["cells"][0]
    assert (first["case"], first["n"], first["mean"], first["min"], first["max"]) == ("A", 12, 4.75, 4, 5)  # unrounded
    assert data["averages"][0]["n"] == 84


@pytest.mark.parametrize("fmt, marker", [("csv", "Statement,A,B,C,D,E,F,G,Average"), ("md", "| 4.8 (4-5) |"), ("tex", "\\toprule")])
def test_table2_text_formats(cli, fmt, marker):
    result = cli("report", "table2", "--ratings", RATINGS, "--format", fmt)
    assert result.code == 0 and marker in result.out


def test_table2_binary_formats_need_output(cli, tmp_path):
    result = cli("report", "table2", "--ratings", RATINGS, "--format", "xlsx")
    assert result.code == 2 and "error: xlsx output is binary: pass --output FILE" in result.err
    for fmt in ("xlsx", "docx"):
        path = tmp_path / f"t2.{fmt}"
        assert cli("report", "table2", "--ratings", RATINGS, "--format", fmt, "--output", str(path)).code == 0
        assert zipfile.is_zipfile(path)
    from docx import Document

    document = Document(str(tmp_path / "t2.docx"))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Table 2" and texts[1].startswith("Expert ratings per case")
    assert any(t.startswith("Note.") and "n = 12" in t for t in texts)
    assert document.tables[0].rows[1].cells[1].text == "4.8 (4-5)"
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "t2.xlsx")["Table 2"]
    assert sheet["A1"].value.startswith("Table 2.") and sheet["B4"].value == "4.8 (4-5)"


def test_rounding_option(cli):
    up = cli("report", "table2", "--ratings", RATINGS, "--format", "csv").out
    even = cli("report", "table2", "--ratings", RATINGS, "--format", "csv", "--rounding", "half-even").out
    assert "3.3 (3-4)" in up.splitlines()[4] and "3.2 (3-4)" in even.splitlines()[4]


@pytest.mark.parametrize("body, message", [
    ("E1,A,x,6", "error: ratings CSV, row 2: score 6 lies outside the scale 0-5"),
    ("E1,A,x,2.5", "error: ratings CSV, row 2: score '2.5' is not a whole number"),
    ("E1,A,x,2\nE1,A,x,3", "error: ratings CSV, row 3: duplicate rating"),
])
def test_table2_bad_rows(cli, tmp_path, body, message):
    path = tmp_path / "r.csv"
    path.write_text("expert,case,item,score\n" + body + "\n", encoding="utf-8")
    result = cli("report", "table2", "--ratings", str(path), "--format", "json")
    assert result.code == 2 and message in result.err and "Traceback" not in result.err


def test_scale_option_and_missing_columns(cli, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("expert,case,item,score\nE1,A,x,0\n", encoding="utf-8")
    result = cli("report", "table2", "--ratings", str(path), "--scale", "1-5", "--format", "json")
    assert result.code == 2 and "row 2: score 0 lies outside the scale 1-5" in result.err
    path.write_text("expert,case,score\nE1,A,3\n", encoding="utf-8")
    result = cli("report", "table2", "--ratings", str(path), "--format", "json")
    assert result.code == 2 and "row 1 (header): missing column(s) item" in result.err


def test_without_ratings_reads_the_panel(cli, demo_store, tmp_path):
    # The demo panel's submitted answers equal the reference ratings file.
    result = cli("--db", demo_store.url, "report", "table2", "--format", "json")
    assert result.code == 0, result
    from_file = cli("--db", demo_store.url, "report", "table2", "--ratings", RATINGS, "--format", "json")
    assert json.loads(result.out) == json.loads(from_file.out)
    # A study without panel answers points to --ratings (a second database: on PostgreSQL the
    # fixtures share one, so the empty study lives in a SQLite file here).
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert cli("--db", empty, "init", "--title", "Empty study").code == 0
    result = cli("--db", empty, "report", "table2", "--format", "json")
    assert result.code == 2
    assert "error: no expert-panel answers are in the database yet; pass --ratings" in result.err


def test_rankings_json_shape(cli, tmp_path):
    result = cli("report", "rankings", "--determinants", DETERMINANTS, "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert set(data) == {"experts", "ranking", "singletons", "additional", "kendall_w", "kendall_n", "kendall_m"}
    assert data["experts"] == 12
    assert set(data["ranking"][0]) == {"rank", "determinant", "n_experts", "percent", "borda", "mean_rank"}
    assert [r["n_experts"] for r in data["ranking"]] == [8, 7, 7, 5, 5, 3, 3, 2]
    assert [r["rank"] for r in data["ranking"]] == [1, 2, 2, 4, 4, 6, 6, 8]
    assert set(data["additional"][0]) == {"determinant", "n_experts"} and len(data["additional"]) == 7
    mapping = tmp_path / "m.csv"
    mapping.write_text("determinant,canonical\nTeam Size,budget\n", encoding="utf-8")
    data = json.loads(cli("report", "rankings", "--determinants", DETERMINANTS, "--mapping", str(mapping), "--experts", "20", "--format", "json").out)
    assert data["experts"] == 20
    budget = next(r for r in data["ranking"] if r["determinant"] == "budget")
    assert budget["n_experts"] == 5 and budget["percent"] == 25.0


def test_rankings_csv_and_bad_input(cli, tmp_path):
    out = cli("report", "rankings", "--determinants", DETERMINANTS, "--format", "csv").out
    assert out.splitlines()[0] == "list,rank,determinant,n_experts,percent,borda,mean_rank"
    path = tmp_path / "d.csv"
    path.write_text("expert,task,rank,determinant\nE1,other,1,x\n", encoding="utf-8")
    result = cli("report", "rankings", "--determinants", str(path), "--format", "json")
    assert result.code == 2 and "determinants CSV, row 2: task 'other'" in result.err


def test_mapping_confirm_and_export(cli, demo_store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("determinant,canonical\n  Team   SIZE ,size of the team\n", encoding="utf-8")
    assert cli("--db", demo_store.url, "report", "mapping-confirm", "--mapping", str(path)).code == 0
    out = cli("--db", demo_store.url, "report", "mapping-export", "--format", "csv").out
    lines = out.splitlines()
    assert lines[0] == "determinant,canonical" and "team size,size of the team" in lines
    # the demo's other confirmed mappings keep each ranked determinant as written (they carry its code)
    assert all(left == right for left, right in (line.split(",") for line in lines[1:] if not line.startswith("team size")))


def test_reliability_check_table1_methods(cli, demo_store):
    data = json.loads(cli("report", "reliability", "--ratings", RATINGS, "--bootstrap", "50", "--format", "json").out)
    assert [a["metric"] for a in data["alpha"]] == ["ordinal", "interval"] and len(data["icc"]) == 6
    result = cli("report", "check", "--table2", str(EXAMPLES / "reference-published-table2.csv"), "--table1",
                 str(EXAMPLES / "reference-published-table1.csv"), "--text", str(EXAMPLES / "reference-published-text.txt"),
                 "--n", "12", "--format", "json", "--strict")
    assert result.code == 1
    checks = {f["check"] for f in json.loads(result.out)}
    assert {"outcome-label", "scale-legend", "decimal-comma", "average", "percentages"} <= checks
    table1 = json.loads(cli("--db", demo_store.url, "report", "table1", "--format", "json").out)
    assert [r["case"] for r in table1] == [f"Case {c}" for c in "ABCDEFG"]
    assert table1[0]["programme"] and table1[0]["outcome"].startswith("Negative")
    text = cli("report", "methods", "--invited", "20", "--returned", "12", "--median-minutes", "90", "--ratings", RATINGS).out
    assert "Of the 20 experts invited, 12 returned the questionnaire (response rate 60%)" in text
    assert "median completion time was 90 minutes" in text


def test_plot_html_and_svg(cli, tmp_path):
    html = cli("report", "plot", "heatmap", "--ratings", RATINGS)
    assert html.code == 0 and "plotly" in html.out.lower()
    result = cli("report", "plot", "ranking", "--determinants", DETERMINANTS, "--format", "svg")
    assert result.code == 2 and "--output" in result.err


def test_check_uses_the_stated_rounding(cli, tmp_path):
    # n = 4: A 4.5 can only be 18/4, B 3.8 only 15/4 = 3.75; their mean 33/8 = 4.125 prints 4.13 half up, 4.12 half even
    path = tmp_path / "t2.csv"
    def check(average: str, rounding: str) -> list[str]:
        path.write_text(f"statement,A,B,average\nx,4.5 (4-5),3.8 (3-4),{average}\n", encoding="utf-8")
        result = cli("report", "check", "--table2", str(path), "--n", "4", "--rounding", rounding, "--format", "json")
        return [f["check"] for f in json.loads(result.out) if f["check"] == "average"]
    assert check("4.13", "half-up") == [] and check("4.12", "half-up") == ["average"]
    assert check("4.12", "half-even") == [] and check("4.13", "half-even") == ["average"]
