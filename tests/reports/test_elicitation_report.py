"""report elicitation: per case and level, determinants raised spontaneously vs only after a probe."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from casestudy import access
from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as codebook
from casestudy.coding import elicitation, spans
from casestudy.interviews import store as interviews_store
from casestudy.reports import elicitation as report

ADMIN = access.Principal("researcher", 0, "admin", role="admin")
TEXT = "Interviewer: Tell me.\nAnn: Budget. Board. Leadership. Crisis.\n"


@pytest.fixture
def coded(store):
    """Two cases; marks set by hand so the counts are known exactly."""
    with store.write("setup") as session:
        study = studies.create_study(session, "Report study")
        users.add_user(session, "coder1", "a long password", "coder")
        studies.add_member(session, study, "coder1")
        codes = {name: codebook.add_code(session, study, name, level, origin="a priori")
                 for name, level in (("Budget", "organization"), ("Board", "organization"), ("Leadership", "team"), ("Crisis", "team"))}
        coder = spans.get_coder(session, "coder1")
        plan = {
            "Case A": [("Budget", "spontaneous"), ("Budget", "probe"), ("Board", "probe"), ("Leadership", "probe")],
            "Case B": [("Budget", "probe"), ("Crisis", None)],
        }
        for label, codings in plan.items():
            case = studies.add_case(session, study, f"Unit {label}", label)
            studies.add_respondent(session, case, f"Ann {label}", "manager")
            (interview,) = interviews_store.import_interviews(session, study, [
                interviews_store.ImportItem(f"{label}.txt", (TEXT + label).encode(), label, f"Ann {label}")])
            for n, (name, mark) in enumerate(codings):
                start = interview.text.index(name + ".")
                (coding,) = spans.apply_codes(session, interview, [codes[name]], coder, start + (n % 2), start + len(name))
                if mark:
                    elicitation.set_elicitation(session, study, [coding.id], mark, by=None)
        return study.id


def test_counts_per_case_and_level_and_all_cases(store, coded):
    with store.read() as session:
        found = report.elicitation_report(session, studies.get_study(session), principal=ADMIN)
    rows = [[r[c] for c in report.SUMMARY_COLUMNS] for r in found.summary]
    assert rows == [
        ["Case A", "organization", 2, 1, 1, 0, 50.0],
        ["Case A", "team", 1, 0, 1, 0, 0.0],
        ["Case B", "organization", 1, 0, 1, 0, 0.0],
        ["Case B", "team", 1, 0, 0, 1, 0.0],
        ["All cases", "organization", 2, 1, 1, 0, 50.0],
        ["All cases", "team", 2, 0, 1, 1, 0.0],
    ]
    budget_a = next(d for d in found.detail if d["case"] == "Case A" and d["code"] == "Budget")
    assert budget_a == {"case": "Case A", "level": "organization", "code": "Budget", "spontaneous_codings": 1, "probe_codings": 1,
                        "unmarked_codings": 0, "raised": "spontaneously"}


def test_one_case_and_who_may_read(store, coded):
    with store.read() as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case B")
        found = report.elicitation_report(session, study, principal=ADMIN, case_ids=[case.id])
        assert {r["case"] for r in found.summary} == {"Case B", "All cases"}
        with pytest.raises(access.AccessDenied):
            report.elicitation_report(session, study, principal=access.Principal("expert", 1, "E01"))


def test_cli_formats(store, coded, cli, tmp_path):
    db = ("--db", store.url)
    md = cli(*db, "report", "elicitation")
    assert md.code == 0, md
    assert "| Case A | organization | 2 | 1 | 1 | 0 | 50 |" in md.out
    assert "Determinants per case" not in md.out
    assert "Determinants per case" in cli(*db, "report", "elicitation", "--detail").out
    data = json.loads(cli(*db, "report", "elicitation", "--format", "json").out)
    assert set(data) == {"summary", "detail"} and len(data["detail"]) == 5
    out = tmp_path / "elicitation.xlsx"
    assert cli(*db, "report", "elicitation", "--format", "xlsx", "--output", out).code == 0
    assert openpyxl.load_workbook(io.BytesIO(out.read_bytes())).sheetnames[:2] == ["Per case and level", "Per determinant"]
    csv_out = cli(*db, "report", "elicitation", "--format", "csv", "--case", "Case A").out
    assert csv_out.splitlines()[0] == ",".join(report.SUMMARY_COLUMNS)


def test_demo_figures(demo_store):
    """The demo's guide and marks: every level has determinants raised spontaneously."""
    with demo_store.read() as session:
        found = report.elicitation_report(session, studies.get_study(session), principal=ADMIN)
    totals = {r["level"]: (r["determinants"], r["spontaneous"], r["only_after_probe"]) for r in found.summary if r["case"] == report.ALL_CASES}
    assert totals == {"organization": (5, 5, 0), "team": (5, 5, 0), "therapist": (2, 2, 0)}
    per_case = {(r["case"], r["level"]): (r["spontaneous"], r["only_after_probe"]) for r in found.summary}
    assert per_case[("Case B", "therapist")] == (0, 2) and per_case[("Case C", "team")] == (4, 0)
    assert sum(r["spontaneous"] for r in found.summary if r["case"] != report.ALL_CASES) == 53
    assert sum(r["only_after_probe"] for r in found.summary if r["case"] != report.ALL_CASES) == 21
