"""Query plans of retrieval and the case x code matrix (issue 20: both read codings through an index).

SQLite's plans are asserted: without ANALYZE statistics (Casestudy never gathers them) its
planner chooses by the indexes and the query alone, so a dropped or unusable index shows here.
PostgreSQL's choices depend on its statistics (with one study in the table a sequential scan is
the right plan for the matrix), so there only the plan is produced, not judged; bench/retrieval.py
prints both backends' plans at 200,000 codings.
"""

from __future__ import annotations

import pytest

from casestudy import access, bulk, db, users
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import retrieval
from casestudy.models import Coding, Interview

from tests.conftest import POSTGRES_URL

ADMIN = access.Principal("researcher", 0, "admin", role="admin")
TEXT = "The board supported us. The budget was tight. Leadership helped. " * 20


def _study(session, title: str, coder_id: int, codings_per_code: int) -> tuple[int, list[int]]:
    """A study with two interviews and four codes, each coded ``codings_per_code`` times."""
    study = studies.create_study(session, title)
    case = studies.add_case(session, study, "Unit 1", "Case A")
    respondent = studies.add_respondent(session, case, "Ann", "manager")
    codes = [codebook.add_code(session, study, f"Code {n}", "team").id for n in range(4)]
    bulk.bulk_insert(session, Interview, [
        {"study_id": study.id, "case_id": case.id, "respondent_id": respondent.id, "file_name": f"i{n}.txt",
         "sha256": f"{n:064d}", "encoding": "utf-8", "format": "txt", "text": TEXT, "language": "en"} for n in range(2)
    ], study_id=study.id)
    interview_ids = [i for (i,) in session.query(Interview.id).filter(Interview.study_id == study.id)]
    bulk.bulk_insert(session, Coding, [
        {"study_id": study.id, "interview_id": interview_id, "code_id": code_id, "coder_id": coder_id,
         "start": start, "end": start + 10, "start_line": 1, "end_line": 1}
        for interview_id in interview_ids for code_id in codes for start in range(codings_per_code)
    ], study_id=study.id)
    return study.id, codes


@pytest.fixture
def planned(store):
    """(study id, one of its code ids) beside a larger other study, as on a shared server."""
    with store.write("setup") as session:
        coder = users.add_user(session, "coder1", "a long password", "coder")
        _study(session, "Other study", coder.id, 100)
        study_id, codes = _study(session, "Planned study", coder.id, 20)
    return study_id, codes[0]


def _plans(store, planned) -> dict[str, list[str]]:
    study_id, code_id = planned
    with store.read() as session:
        study = studies.get_study(session, study_id)
        one = retrieval.visible_filter(session, study, retrieval.SegmentFilter(code_ids=[code_id]), ADMIN)
        return {"one code": db.query_plan(session, retrieval.segment_query(study, one)),
                "matrix": db.query_plan(session, retrieval.span_query(study, retrieval.visible_filter(session, study, None, ADMIN)))}


def _coding_steps(plan: list[str]) -> list[str]:
    return [step for step in plan if step.split()[:2] in (["SEARCH", "coding"], ["SCAN", "coding"])]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's plans; PostgreSQL's depend on its statistics")
def test_retrieval_and_matrix_read_codings_through_an_index(store, planned):
    plans = _plans(store, planned)
    for name, plan in plans.items():
        steps = _coding_steps(plan)
        assert len(steps) == 1 and steps[0].startswith("SEARCH coding USING "), (name, plan)
        assert "USING INDEX" in steps[0] or "USING COVERING INDEX" in steps[0], (name, plan)
    # One code: its study's codings of that code, not every coding of the study.
    assert "code_id=?" in _coding_steps(plans["one code"])[0], plans["one code"]


def test_query_plan_explains_on_each_backend(store, planned):
    for name, plan in _plans(store, planned).items():
        assert plan and any("coding" in step for step in plan), (name, plan)
