"""Reporting checklists: the shipped items, what each is filled with from the study, answers by
hand, and the Markdown and DOCX exports."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from docx import Document

from casestudy import access, ethics, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.db import EditConflict
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.reports import checklists

OPERATOR = access.Principal(access.RESEARCHER, 0, "cli", role="admin")
TEXT = "Interviewer: How did it start?\nAnn: Leadership was strong and we reached saturation.\n"


def test_the_shipped_checklists_have_32_and_21_items_in_their_domains():
    coreq, srqr = checklists.definition("coreq"), checklists.definition("srqr")
    assert len(coreq.items) == 32 and len(srqr.items) == 21
    assert list(dict.fromkeys(i["domain"] for i in coreq.items)) == [
        "Research team and reflexivity", "Study design", "Analysis and findings"]
    assert [i["key"] for i in srqr.items] == [f"S{n}" for n in range(1, 22)]
    assert {i["fill"] for i in coreq.items + srqr.items if i.get("fill")} <= set(checklists.FILLERS)
    with pytest.raises(UserError, match="unknown checklist"):
        checklists.definition("consort")


def _facts(**values) -> checklists.StudyFacts:
    facts = checklists.StudyFacts("A study", "", ["organization", "team"])
    for key, value in values.items():
        setattr(facts, key, value)
    return facts


def _item(checklist, key):
    return next(i for i in checklist.items if i.key == key)


def test_items_are_filled_from_the_facts_with_source_and_what_is_missing():
    facts = _facts(cases=["Case A", "Case B"], respondents=3, roles=Counter(manager=1, therapist=2), interviews=3,
                   interviews_per_respondent=Counter({1: 1, 2: 1, 3: 1}), interviewers=["ann"], observers=["bo"], observed=2,
                   durations=[45, 60, 75], recorded=3, coders=["c1", "c2"], codings=40, codes=5,
                   codes_by_level=Counter(team=5), cases_sent=2, cases_agreed=1)
    coreq = checklists.fill(checklists.definition("coreq"), facts)
    assert (_item(coreq, "1").value, _item(coreq, "1").source) == ("interviews conducted by ann", "the interviews' records")
    assert _item(coreq, "12").value == "3 respondents in 2 cases (1 manager, 2 therapist)" and _item(coreq, "12").status == "filled"
    assert _item(coreq, "15").missing == "1 interviews have no observer recorded" and _item(coreq, "15").status == "partly filled"
    assert _item(coreq, "19").value == "3 of 3 interviews have an audio recording" and _item(coreq, "19").status == "filled"
    assert _item(coreq, "21").value == "45-75 minutes (median 60)"
    assert _item(coreq, "23").value.startswith("the reconstructions of 2 of 2 cases were returned to their respondents (member check)")
    assert _item(coreq, "24").value == "2 coders (c1, c2); 40 codings"
    assert _item(coreq, "17").status == "missing" and "no interview guide" in _item(coreq, "17").missing
    assert _item(coreq, "22").status == "missing" and _item(coreq, "2").missing == "to be completed by hand"
    assert _item(checklists.fill(checklists.definition("coreq"), _facts(saturation_memos=2)), "22").value == "2 memos on saturation"


def test_ethics_fills_srqr_item_9():
    approved = ethics.Ethics("approved", "METC", "NL-1", dt.date(2024, 5, 6))
    item = _item(checklists.fill(checklists.definition("srqr"), _facts(ethics=approved)), "S9")
    assert item.value.startswith("The study was approved by METC (reference NL-1) on 6 May 2024.") and item.status == "filled"
    assert _item(checklists.fill(checklists.definition("srqr"), _facts()), "S9").status == "missing"


@pytest.fixture
def study_store(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Checklist study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann Secret", "manager")
        users.add_user(session, "cody", "a long password", "coder")
        users.add_user(session, "vera", "a long password", "viewer")
        studies.add_member(session, study, "cody", "coder")
        studies.add_member(session, study, "vera", "viewer")
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        (interview,) = interviews_store.import_interviews(
            session, study, [interviews_store.ImportItem("ann.txt", TEXT.encode(), "Case A", "Ann Secret")])
        interview.interviewer, interview.duration_minutes, interview.audio_ref = "cody", 50, "audio/ann.m4a"
        start = interview.text.index("Leadership")
        spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")], spans.get_coder(session, "cody"),
                          start, start + 10)
        spans.add_memo(session, study, "interview", interview.id, users.get_user(session, "cody"), "no new codes after interview 5", "Saturation")
    return store


def test_a_study_fills_its_checklist_and_names_no_respondent_or_organisation(study_store):
    with study_store.read() as session:
        coreq = checklists.study_checklist(session, studies.get_study(session), OPERATOR, "coreq")
        text = checklists.export(coreq, "md")
    assert _item(coreq, "1").value == "interviews conducted by cody"
    assert _item(coreq, "19").value == "1 of 1 interviews have an audio recording"
    assert _item(coreq, "21").value == "50 minutes"
    assert _item(coreq, "22").value == "1 memo on saturation"
    assert _item(coreq, "24").value == "1 coder (cody); 1 coding"
    assert "Ann Secret" not in text and "Unit 1" not in text and "| 24 | Number of data coders (Data analysis) | 1 coder" in text


def test_answers_by_hand_are_stored_edited_and_cleared(study_store):
    with study_store.write("cody") as session:
        study = studies.get_study(session)
        cody = access.researcher(users.get_user(session, "cody"))
        row = checklists.save_answer(session, study, cody, "coreq", "2", "PhD, psychologist")
        first_version = row.version
        checklists.save_answer(session, study, cody, "coreq", "2", "PhD, clinical psychologist", first_version)
        with pytest.raises(EditConflict):
            checklists.save_answer(session, study, cody, "coreq", "2", "MSc", first_version)
        with pytest.raises(UserError, match="no item"):
            checklists.save_answer(session, study, cody, "srqr", "S22", "x")
        checklists.save_answer(session, study, cody, "srqr", "s20", "none")  # item keys case-insensitively
    with study_store.write("vera") as session, pytest.raises(AccessDenied, match="needs the role coder"):
        checklists.save_answer(session, studies.get_study(session), access.researcher(users.get_user(session, "vera")), "coreq", "3", "x")
    with study_store.read() as session:
        study = studies.get_study(session)
        item = _item(checklists.study_checklist(session, study, OPERATOR, "coreq"), "2")
        assert (item.status, item.answer, item.as_json()["missing"]) == ("by hand", "PhD, clinical psychologist", "")
        assert _item(checklists.study_checklist(session, study, OPERATOR, "srqr"), "S20").answer == "none"
    with study_store.write("cody") as session:
        checklists.save_answer(session, studies.get_study(session), access.researcher(users.get_user(session, "cody")), "coreq", "2", "")
    with study_store.read() as session:
        assert _item(checklists.study_checklist(session, studies.get_study(session), OPERATOR, "coreq"), "2").status == "missing"


def test_the_docx_export_has_the_methods_paragraph_and_one_table_per_domain(study_store):
    with study_store.read() as session:
        coreq = checklists.study_checklist(session, studies.get_study(session), OPERATOR, "coreq")
    data = checklists.export(coreq, "docx", "The study was approved by METC (reference 1) on 1 May 2024.")
    document = Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "COREQ checklist (32 items)" and texts[1].startswith("The study was approved")
    assert len(document.tables) == 3 and sum(len(t.rows) - 1 for t in document.tables) == 32
    with pytest.raises(UserError, match="md or docx"):
        checklists.export(coreq, "xlsx")


def test_the_demo_fills_these_coreq_items(demo_store):
    with demo_store.read() as session:
        coreq = checklists.study_checklist(session, studies.get_study(session), OPERATOR, "coreq")
    filled = [i.key for i in coreq.items if i.status == "filled"]
    partly = [i.key for i in coreq.items if i.status == "partly filled"]
    # 8, 15, 19, 21: the interview sessions (observer, audio, duration); 17: the guide, piloting unknown
    assert filled == ["8", "12", "15", "16", "18", "19", "21", "23", "24", "25", "27", "28"]
    assert partly == ["1", "9", "10", "13", "14", "17", "26"]
    guide_item = next(i for i in coreq.items if i.key == "17")
    assert "version 1: 5 open questions and 10 probes over 5 topics" in guide_item.value and guide_item.missing == "whether the guide was piloted"
