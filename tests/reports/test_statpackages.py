"""SPSS .sav and Stata .dta exports: written, read back with pyreadstat, values and labels compared."""

from __future__ import annotations

import math
from pathlib import Path

import pyreadstat
import pytest

from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.coding import matrices, retrieval
from casestudy.errors import UserError
from casestudy.panel.results import Rating
from casestudy.panel.scale import Scale
from casestudy.reports import inputs, statpackages

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RATINGS = EXAMPLES / "reference-ratings.csv"
SCALE = Scale(1, 5, {1: "strongly disagree", 3: "neither", 5: "strongly agree"})
ADMIN = Principal(kind="researcher", subject_id=0, name="test", role="admin")


def read_back(written: statpackages.StatFile, fmt: str, tmp_path):
    path = tmp_path / f"back.{fmt}"
    path.write_bytes(written.data)
    return (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(path))


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


RATINGS_SMALL = [
    Rating("E1", "A", "Staff were trained", 5), Rating("E1", "A", "Leaders supported it", 3),
    Rating("E1", "B", "Staff were trained", 1), Rating("E1", "B", "Leaders supported it", None),
    Rating("E2", "A", "Staff were trained", 4), Rating("E2", "A", "Leaders supported it", 2),
]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_ratings_long_round_trip_with_value_labels(fmt, tmp_path):
    written = statpackages.write_dataset(statpackages.ratings_long(RATINGS_SMALL, SCALE), fmt)
    frame, meta = read_back(written, fmt, tmp_path)
    assert list(frame.columns) == ["expert", "case", "item", "score"]
    assert list(frame["expert"]) == ["E1"] * 4 + ["E2"] * 2
    assert list(frame["case"]) == [1, 1, 2, 2, 1, 1]
    assert [None if is_missing(v) else int(v) for v in frame["score"]] == [5, 3, 1, None, 4, 2]
    assert meta.column_names_to_labels == {"expert": "Expert", "case": "Case", "item": "Statement", "score": "Rating (scale 1-5)"}
    assert meta.variable_value_labels["case"] == {1: "A", 2: "B"}
    assert meta.variable_value_labels["item"] == {1: "Staff were trained", 2: "Leaders supported it"}
    assert meta.variable_value_labels["score"] == {1: "strongly disagree", 3: "neither", 5: "strongly agree"}
    assert meta.file_label == "Expert ratings (long)"
    assert written.warnings == []


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_ratings_wide_one_row_per_expert_and_case(fmt, tmp_path):
    frame, meta = read_back(statpackages.write_dataset(statpackages.ratings_wide(RATINGS_SMALL, SCALE), fmt), fmt, tmp_path)
    assert list(frame.columns) == ["expert", "case", "item01", "item02"]
    rows = [(e, int(c), None if is_missing(a) else int(a), None if is_missing(b) else int(b)) for e, c, a, b in frame.itertuples(index=False)]
    assert rows == [("E1", 1, 5, 3), ("E1", 2, 1, None), ("E2", 1, 4, 2)]
    assert meta.column_names_to_labels["item01"] == "Staff were trained"
    assert meta.variable_value_labels["item02"] == {1: "strongly disagree", 3: "neither", 5: "strongly agree"}
    assert meta.variable_value_labels["case"] == {1: "A", 2: "B"}


def test_reference_ratings_every_value_survives(tmp_path):
    ratings = inputs.load_ratings(RATINGS)
    for fmt in ("sav", "dta"):
        frame, meta = read_back(statpackages.write_dataset(statpackages.ratings_long(ratings, inputs.PANEL_SCALE), fmt), fmt, tmp_path)
        items, cases = meta.variable_value_labels["item"], meta.variable_value_labels["case"]
        back = [Rating(e, cases[int(c)], items[int(i)], None if is_missing(s) else int(s)) for e, c, i, s in frame.itertuples(index=False)]
        assert back == ratings


def test_long_statement_labels_are_shortened_with_a_warning(tmp_path):
    statement = ("The programme " + "and its staff " * 13 + "worked.")[3:]  # 200 characters
    assert len(statement) == 200
    ratings = [Rating("E1", "A", statement, 4)]
    dta = statpackages.write_dataset(statpackages.ratings_wide(ratings, SCALE), "dta")
    _, meta = read_back(dta, "dta", tmp_path)
    assert len(meta.column_names_to_labels["item01"]) == 80 and meta.column_names_to_labels["item01"].endswith("…")
    assert any("label of item01 is shortened to 80 characters (Stata .dta's limit)" in w for w in dta.warnings)
    sav = statpackages.write_dataset(statpackages.ratings_wide(ratings, SCALE), "sav")
    _, meta = read_back(sav, "sav", tmp_path)
    assert meta.column_names_to_labels["item01"] == statement and sav.warnings == []  # SPSS: 256 bytes
    # the long format carries the statement as a value label: SPSS holds 120 bytes, Stata 32,000 characters
    sav_long = statpackages.write_dataset(statpackages.ratings_long(ratings, SCALE), "sav")
    _, meta = read_back(sav_long, "sav", tmp_path)
    assert len(meta.variable_value_labels["item"][1].encode()) <= 120
    assert any("value label 1 of item is shortened to 120 bytes" in w for w in sav_long.warnings)
    _, meta = read_back(statpackages.write_dataset(statpackages.ratings_long(ratings, SCALE), "dta"), "dta", tmp_path)
    assert meta.variable_value_labels["item"][1] == statement


def test_variable_names_fit_stata_and_stay_unique(tmp_path):
    long_name = "staff_recruitment_and_selection_of_therapists"  # 45 characters
    dataset = statpackages.StatDataset("t", [
        statpackages.Variable(long_name, "first", [1]),
        statpackages.Variable(long_name + "_b", "second", [2]),
        statpackages.Variable("Case", "third", [3]),
        statpackages.Variable("case", "fourth", [4]),
    ])
    written = statpackages.write_dataset(dataset, "dta")
    frame, meta = read_back(written, "dta", tmp_path)
    assert list(frame.columns) == [long_name[:32], long_name[:30] + "_2", "Case", "case_2"]
    assert all(len(name) <= 32 for name in frame.columns)
    assert [meta.column_names_to_labels[c] for c in frame.columns] == ["first", "second", "third", "fourth"]
    assert sum("longer than 32 characters" in w for w in written.warnings) == 2
    assert any("'case' is named 'case_2'" in w and "already used" in w for w in written.warnings)
    frame, _ = read_back(statpackages.write_dataset(dataset, "sav"), "sav", tmp_path)
    assert list(frame.columns)[:2] == [long_name, long_name + "_b"]  # SPSS: 64 bytes


def test_value_labels_only_on_whole_numbers():
    with pytest.raises(UserError, match="not a whole number, so it cannot carry a value label"):
        statpackages.Variable("x", "x", [1.5], value_labels={1: "one"})
    with pytest.raises(UserError, match="not a whole number"):
        statpackages.Variable("x", "x", [1], value_labels={1.5: "one and a half"})
    with pytest.raises(UserError, match="unknown statistics format"):
        statpackages.write_dataset(statpackages.ratings_long(RATINGS_SMALL, SCALE), "xpt")


def test_variable_names_from_free_text():
    assert statpackages.variable_name("Fit with the institution's mission") == "fit_with_the_institution_s_mission"
    assert statpackages.variable_name("Ärztliche Führung") == "arztliche_fuhrung"
    assert statpackages.variable_name("3 groups", "code") == "code_3_groups"
    assert statpackages.variable_name("…", "code") == "code"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_case_code_matrix_from_the_demo(demo_store, fmt, tmp_path):
    with demo_store.read() as session:
        study = studies.get_study(session)
        rows, columns, matrix = matrices.case_code_matrix(session, study, "presence", principal=ADMIN)
        written = statpackages.write_dataset(statpackages.case_code_dataset(session, study, ADMIN, "presence"), fmt)
    frame, meta = read_back(written, fmt, tmp_path)
    assert meta.variable_value_labels["case"] == dict(enumerate(rows, start=1))
    assert [meta.column_names_to_labels[c] for c in frame.columns[1:]] == [
        statpackages.LIMITS[fmt].shorten(path, statpackages.LIMITS[fmt].variable_label) for path in columns]
    assert [[int(v) for v in row[1:]] for row in frame.itertuples(index=False)] == matrix
    assert meta.variable_value_labels[frame.columns[1]] == {0: "absent", 1: "present"}
    assert all(len(c) <= statpackages.LIMITS[fmt].name for c in frame.columns)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_segments_from_the_demo(demo_store, fmt, tmp_path):
    with demo_store.read() as session:
        study = studies.get_study(session)
        found = retrieval.segments(session, study, with_context=False, principal=ADMIN)
        levels = list(study.levels)
        written = statpackages.write_dataset(statpackages.segments_dataset(session, study, ADMIN), fmt)
    frame, meta = read_back(written, fmt, tmp_path)
    assert len(frame) == len(found) > 100
    assert meta.variable_value_labels["level"] == dict(enumerate(levels, start=1))
    cases = meta.variable_value_labels["case"]
    for row, segment in zip(frame.to_dict("records"), found):
        assert cases[int(row["case"])] == segment["case"]
        assert levels[int(row["level"]) - 1] == segment["level"]
        assert (row["code"], row["coder"], row["text"], int(row["start"]), int(row["end"])) == (
            segment["code"], segment["coder"], segment["text"], segment["start"], segment["end"])


def test_study_data_sets_need_a_researcher(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        expert = Principal(kind="expert", subject_id=1, name="E01")
        for build in (statpackages.case_code_dataset, statpackages.segments_dataset):
            with pytest.raises(AccessDenied):
                build(session, study, expert)


# --- command line ---------------------------------------------------------------------------------
def test_cli_export_stats_from_a_ratings_file(cli, tmp_path):
    path = tmp_path / "ratings.dta"
    result = cli("report", "export-stats", "ratings-wide", "--ratings", RATINGS, "--format", "dta", "--output", path)
    assert result.code == 0, result
    frame, meta = pyreadstat.read_dta(str(path))
    assert len(frame) == 84 and meta.column_names_to_labels["item02"] == "Organizational factors contributed"
    assert meta.variable_value_labels["item01"] == {0: "clearly contradicted in this case", 5: "completely confirmed in this case"}


def test_cli_export_stats_refusals(cli, tmp_path):
    result = cli("report", "export-stats", "ratings-long", "--ratings", RATINGS, "--format", "sav")
    assert result.code == 2 and "error: sav output is binary: pass --output FILE.sav" in result.err
    result = cli("report", "export-stats", "ratings-long", "--ratings", RATINGS, "--format", "por", "--output", tmp_path / "x.por")
    assert result.code == 2 and "invalid choice" in result.err


def test_cli_export_stats_matrix_warns_about_shortened_names(cli, demo_store, tmp_path):
    path = tmp_path / "matrix.dta"
    result = cli("--db", demo_store.url, "report", "export-stats", "case-code-matrix", "--format", "dta", "--output", path)
    assert result.code == 0, result
    assert "warning: variable" in result.err and "in the Stata .dta file (longer than 32 characters)" in result.err
    _frame, meta = pyreadstat.read_dta(str(path))
    assert meta.variable_value_labels["case"][1].startswith("Case")
    result = cli("--db", demo_store.url, "report", "export-stats", "segments", "--format", "sav", "--output", tmp_path / "s.sav")
    assert result.code == 0, result
