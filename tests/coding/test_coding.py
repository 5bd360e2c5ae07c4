"""Span coding: apply/edit/remove, blind mode, retrieval, matrices, exports, import, agreement."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from casestudy.codebook import tree as codebook
from casestudy import access
from casestudy import study as studies
from casestudy import users
from casestudy.errors import UserError
from casestudy.models import Coding
from casestudy.coding import comparison as coding_comparison
from casestudy.coding import matrices as coding_matrices
from casestudy.coding import retrieval as coding_retrieval
from casestudy.interviews import store as interviews_store
from casestudy.coding import spans
from casestudy.coding import suggestions

#: An administrator: sees every coder's codings, also while the study is blind.
ADMIN = access.Principal("researcher", 0, "admin", role="admin")

TEXT_MANAGER = (
    "Interviewer: Was the start a success?\n"
    "Ann: Yes. The board supported us from day one 😀 and the budget was enough.\n"
    "Interviewer: And the team?\n"
    "Ann: The team was small. Leadership was strong.\n"
)
TEXT_THERAPIST = (
    "Interviewer: How did it go?\n"
    "Bo: The budget was tight. Café talk aside, leadership helped.\n"
)


@pytest.fixture
def setup(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Coding study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        studies.add_respondent(session, case, "Bo", "therapist")
        for name in ("coder1", "coder2"):
            users.add_user(session, name, "a long password", "coder")
        users.add_user(session, "viewer", "a long password", "viewer")
        for name in ("coder1", "coder2", "viewer"):
            studies.add_member(session, study, name)  # with their global role
        org = codebook.add_code(session, study, "Support", "organization", codable=False, origin="a priori")
        codebook.add_code(session, study, "Board support", "organization", parent=org, origin="a priori")
        codebook.add_code(session, study, "Budget", "organization", parent=org, origin="a priori")
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        items = [
            interviews_store.ImportItem("manager.txt", TEXT_MANAGER.encode(), "Case A", "Ann"),
            interviews_store.ImportItem("therapist.txt", TEXT_THERAPIST.encode(), "Case A", "Bo"),
        ]
        manager, therapist = interviews_store.import_interviews(session, study, items)
        return {"study": study.id, "manager": manager.id, "therapist": therapist.id}


def _code(session, study, path):
    return codebook.get_code(session, study, path)


def _apply(store, setup, interview_key, coder, path, needle, occurrence=0):
    with store.write(coder) as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup[interview_key])
        start = -1
        for _ in range(occurrence + 1):
            start = interview.text.index(needle, start + 1)
        return [c.id for c in spans.apply_codes(session, interview, [_code(session, study, path)], spans.get_coder(session, coder), start, start + len(needle))]


def test_apply_records_offsets_lines_and_coder(store, setup):
    (coding_id,) = _apply(store, setup, "manager", "coder1", "Support/Board support", "The board supported us from day one 😀")
    with store.read() as session:
        c = session.get(Coding, coding_id)
        assert c.interview.text[c.start : c.end] == "The board supported us from day one 😀"
        assert (c.start_line, c.end_line) == (2, 2) and c.coder.username == "coder1"
    # Applying the same code to the same span again keeps one coding.
    assert _apply(store, setup, "manager", "coder1", "Support/Board support", "The board supported us from day one 😀") == [coding_id]


@pytest.mark.parametrize(
    "start,end,message",
    [(-1, 5, "outside the text"), (5, 5, "must come after"), (10, 3, "must come after"), (0, 10_000, "outside the text")],
)
def test_bad_offsets_are_refused(store, setup, start, end, message):
    with pytest.raises(UserError, match=message):
        with store.write() as session:
            study = studies.get_study(session)
            interview = interviews_store.get_interview(session, study, setup["manager"])
            spans.apply_codes(session, interview, [_code(session, study, "Leadership")], spans.get_coder(session, "coder1"), start, end)


def test_categories_viewers_and_unknown_coders_are_refused(store, setup):
    with store.write() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["manager"])
        with pytest.raises(UserError, match="category only"):
            spans.apply_codes(session, interview, [_code(session, study, "Support")], spans.get_coder(session, "coder1"), 0, 5)
        with pytest.raises(UserError, match="viewer account"):
            spans.get_coder(session, "viewer")
        with pytest.raises(UserError, match="unknown coder"):
            spans.get_coder(session, "nobody")


def test_withdrawn_consent_blocks_coding(store, setup):
    import datetime as dt

    with store.write() as session:
        study = studies.get_study(session)
        ann = studies.get_respondent(session, studies.get_case(session, study, "Case A"), "Ann")
        studies.record_consent(session, ann, "interview", dt.date(2024, 1, 1))
        studies.withdraw_consent(session, ann, "interview", dt.date(2024, 2, 1))
    with pytest.raises(UserError, match="withdrew consent"):
        _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")


def test_edit_move_and_conflict(store, setup):
    (cid,) = _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    with store.write() as session:
        c = spans.edit_coding(session, cid, 1, end=session.get(Coding, cid).end + 1, memo="includes the full stop")
        assert c.interview.text[c.start : c.end] == "Leadership was strong." and c.version == 2
    with pytest.raises(UserError, match="someone else saved"):
        with store.write() as session:
            spans.edit_coding(session, cid, 1, memo="stale edit")
    with store.write() as session:
        study = studies.get_study(session)
        spans.edit_coding(session, cid, 2, code=_code(session, study, "Support/Budget"))
        spans.remove_coding(session, cid)
    with store.read() as session:
        assert session.get(Coding, cid) is None


def test_blind_mode_shows_only_own_codings(store, setup):
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    _apply(store, setup, "manager", "coder2", "Leadership", "Leadership")
    with store.read() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["manager"])
        coder2 = access.researcher(spans.get_coder(session, "coder2"))
        assert len(spans.codings_of(session, interview, principal=coder2)) == 2  # the study is not blind
        mine = spans.codings_of(session, interview, spans.get_coder(session, "coder2"), principal=coder2)
        assert [c.coder.username for c in mine] == ["coder2"]


def test_retrieval_filters_context_and_exports(store, setup):
    _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    _apply(store, setup, "therapist", "coder1", "Support/Budget", "The budget was tight")
    _apply(store, setup, "therapist", "coder2", "Leadership", "leadership helped")
    with store.read() as session:
        study = studies.get_study(session)
        budget = _code(session, study, "Support/Budget")
        found = coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(code_ids=[budget.id]), principal=ADMIN)
        assert [(s["respondent"], s["role"], s["text"]) for s in found] == [
            ("Ann", "manager", "the budget was enough"),
            ("Bo", "therapist", "The budget was tight"),
        ]
        assert found[0]["before"].endswith("from day one 😀 and ") and found[0]["after"].startswith(".")
        assert found[0]["code"] == "Support/Budget" and found[0]["start_line"] == 2
        assert [s["coder"] for s in coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(role="therapist"), principal=ADMIN)] == ["coder1", "coder2"]
        assert len(coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(level="team"), principal=ADMIN)) == 1
        text = coding_retrieval.export_segments(session, study, "csv", principal=ADMIN)
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert list(rows[0]) == list(coding_retrieval.SEGMENT_COLUMNS) and len(rows) == 3
        assert rows[0]["text"] == "the budget was enough"
        workbook = openpyxl.load_workbook(io.BytesIO(coding_retrieval.export_segments(session, study, "xlsx", principal=ADMIN)))
        assert workbook.active.max_row == 3 + 3  # title, blank, header + 3 rows


def test_matrices_and_role_comparison(store, setup):
    _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    _apply(store, setup, "manager", "coder1", "Support/Board support", "Yes. The board supported us")
    _apply(store, setup, "manager", "coder1", "Leadership", "The board")  # overlaps board support
    _apply(store, setup, "therapist", "coder1", "Support/Budget", "The budget was tight")
    with store.read() as session:
        study = studies.get_study(session)
        rows, columns, counts = coding_matrices.case_code_matrix(session, study, "counts", principal=ADMIN)
        assert rows[0] == "Case A" and columns == ["Leadership", "Support/Board support", "Support/Budget"]
        assert counts[0] == [2, 1, 2] and rows[1:] == []
        _, _, characters = coding_matrices.case_code_matrix(session, study, "characters", principal=ADMIN)
        assert characters[0][2] == len("the budget was enough") + len("The budget was tight")
        labels, co = coding_matrices.cooccurrence_matrix(session, study, principal=ADMIN)
        board, leadership = labels.index("Support/Board support"), labels.index("Leadership")
        assert co[board][leadership] == co[leadership][board] == 1 and co[leadership][leadership] == 2
        # The filter narrows co-occurrence like the other matrices (it once counted every coding).
        by_therapist = coding_matrices.cooccurrence_matrix(session, study, coding_retrieval.SegmentFilter(role="therapist"), principal=ADMIN)
        assert by_therapist == (["Support/Budget"], [[1]])
        _, team_columns, team_counts = coding_matrices.case_code_matrix(
            session, study, flt=coding_retrieval.SegmentFilter(role="manager", level="team"), principal=ADMIN)
        assert team_columns == ["Leadership"] and team_counts == [[2]]
        _, budget_columns, budget_counts = coding_matrices.case_code_matrix(
            session, study, flt=coding_retrieval.SegmentFilter(role="therapist", level="organization"), principal=ADMIN)
        assert budget_columns == ["Support/Budget"] and budget_counts == [[1]]
        comparison = {r["code"]: r for r in coding_matrices.role_comparison(session, study, studies.get_case(session, study, "Case A"), principal=ADMIN)}
        assert comparison["Leadership"]["only"] == "manager" and comparison["Support/Budget"]["only"] == ""
        assert comparison["Support/Budget"]["therapist"] == 1


def test_import_csv_all_or_nothing(store, setup):
    with store.read() as session:
        interview = interviews_store.get_interview(session, studies.get_study(session), setup["manager"])
        start = interview.text.index("Leadership")
    good = f"interview,coder,code,start,end,memo\nmanager.txt,coder1,Leadership,{start},{start + 10},m\n{setup['therapist']},coder2,Support/Budget,4,10,\n"
    with store.write() as session:
        assert spans.import_codings_csv(session, studies.get_study(session), good).stored == 2
    bad = (
        "interview,coder,code,start,end\n"
        f"manager.txt,coder1,Leadership,{start},{start + 10}\n"
        "nosuch.txt,coder1,Leadership,0,5\n"
        "manager.txt,ghost,Leadership,0,5\n"
        "manager.txt,coder1,No such code,0,5\n"
        "manager.txt,coder1,Leadership,9,3\n"
        "manager.txt,coder1,Leadership,0,999999\n"
    )
    with pytest.raises(UserError) as info:
        with store.write() as session:
            spans.import_codings_csv(session, studies.get_study(session), bad)
    message = info.value.message
    for expected in ("row 3: unknown interview", "row 4: unknown coder", "row 5:", "row 6:", "row 7:"):
        assert expected in message
    with store.read() as session:
        assert session.query(Coding).count() == 2
    with pytest.raises(UserError, match="lacks the column"):
        with store.write() as session:
            spans.import_codings_csv(session, studies.get_study(session), "interview,code\n")


def test_import_csv_resolves_interviews_by_name_or_id_within_the_study(store, setup):
    with store.write() as session:
        other = studies.create_study(session, "Other study")
        case = studies.add_case(session, other, "Unit 9", "Case Z")
        studies.add_respondent(session, case, "Zed", "manager")
        (foreign,) = interviews_store.import_interviews(session, other, [interviews_store.ImportItem("zed.txt", TEXT_MANAGER.encode(), "Case Z", "Zed")])
        foreign_id = foreign.id
    with pytest.raises(UserError) as info:
        with store.write() as session:
            spans.import_codings_csv(session, studies.get_study(session, setup["study"]),
                                     f"interview,coder,code,start,end\n{foreign_id},coder1,Leadership,0,5\nzed.txt,coder1,Leadership,0,5\n")
    assert "row 2: unknown interview" in info.value.message and "row 3: unknown interview" in info.value.message
    leadership = TEXT_MANAGER.index("Leadership")
    data = (f"interview,coder,code,start,end\nMANAGER.TXT,coder1,Leadership,{leadership},{leadership + 10}\n"
            f"{setup['therapist']},coder1,Leadership,0,11\n")
    with store.write() as session:
        assert spans.import_codings_csv(session, studies.get_study(session, setup["study"]), data).stored == 2
    with store.read() as session:
        stored = {(c.interview_id, c.start, c.end, c.start_line, c.end_line) for c in session.query(Coding)}
    # Line numbers as apply_codes records them (line 4 of the manager's text; line 1 of the therapist's).
    assert stored == {(setup["manager"], leadership, leadership + 10, 4, 4), (setup["therapist"], 0, 11, 1, 1)}


def test_import_csv_errors_come_in_row_order(store, setup):
    bad = ("interview,coder,code,start,end\n"
           "manager.txt,coder1,Leadership,0,999999\n"  # found in the second pass (span)
           "nosuch.txt,coder1,Leadership,0,5\n")  # found in the first pass (interview)
    with pytest.raises(UserError) as info:
        with store.write() as session:
            spans.import_codings_csv(session, studies.get_study(session), bad)
    message = info.value.message
    assert message.index("row 2:") < message.index("row 3:")


def test_import_csv_refuses_an_interview_whose_consent_was_withdrawn(store, setup):
    import datetime as dt

    data = "interview,coder,code,start,end\nmanager.txt,coder1,Leadership,0,5\ntherapist.txt,coder1,Leadership,0,5\n"
    with store.write() as session:
        study = studies.get_study(session)
        ann = studies.get_respondent(session, studies.get_case(session, study, "Case A"), "Ann")
        studies.record_consent(session, ann, "interview", dt.date(2024, 1, 1))
        studies.withdraw_consent(session, ann, "interview", dt.date(2024, 2, 1))
    with pytest.raises(UserError, match="nothing imported: manager.txt: Ann .*withdrew consent"):
        with store.write() as session:
            spans.import_codings_csv(session, studies.get_study(session), data)
    with store.read() as session:
        assert session.query(Coding).count() == 0


def test_import_csv_rechecks_consent_when_it_stores(store, setup):
    """A consent withdrawn between the check (no lock) and the move (under the lock) stores nothing."""
    import datetime as dt

    data = "interview,coder,code,start,end\nmanager.txt,coder1,Leadership,0,5\n"

    def prepare_then_withdraw(session):
        prepared = spans.prepare_codings_import(session, studies.get_study(session), data)
        with store.write() as other:
            ann = studies.get_respondent(other, studies.get_case(other, studies.get_study(other), "Case A"), "Ann")
            studies.record_consent(other, ann, "interview", dt.date(2024, 1, 1))
            studies.withdraw_consent(other, ann, "interview", dt.date(2024, 2, 1))
        return prepared

    with pytest.raises(UserError, match="nothing imported: manager.txt: .*withdrew consent"):
        store.staged_write("test", prepare_then_withdraw, spans.store_codings_import)
    with store.read() as session:
        assert session.query(Coding).count() == 0


def test_merge_moves_codings_and_collapses_duplicates(store, setup):
    _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    _apply(store, setup, "manager", "coder1", "Support/Board support", "the budget was enough")
    _apply(store, setup, "manager", "coder1", "Support/Board support", "Leadership")
    with store.write() as session:
        study = studies.get_study(session)
        codebook.merge_codes(session, _code(session, study, "Support/Board support"), _code(session, study, "Support/Budget"))
    with store.read() as session:
        study = studies.get_study(session)
        remaining = session.query(Coding).all()
        assert len(remaining) == 2 and {c.code.name for c in remaining} == {"Budget"}


def test_emergent_code_and_memos(store, setup):
    with store.write() as session:
        study = studies.get_study(session)
        coder = spans.get_coder(session, "coder1")
        code = spans.create_emergent_code(session, study, "Team size", "team", coder)
        assert code.origin == "emergent" and code.origin_by == "coder1"
        spans.add_memo(session, study, "case", studies.get_case(session, study, "Case A").id, coder, "Both mention the budget.")
        interview = interviews_store.get_interview(session, study, setup["manager"])
        spans.apply_codes(session, interview, [code], coder, 0, 5, memo="first words")
        with pytest.raises(UserError, match="attached to"):
            spans.add_memo(session, study, "planet", 1, coder, "x")
    with store.read() as session:
        study = studies.get_study(session)
        found = spans.memos(session, study)
        assert {(m["kind"], m["text"]) for m in found} == {("case", "Both mention the budget."), ("coding", "first words")}
        assert [m["kind"] for m in spans.memos(session, study, text="budget")] == ["case"]


def test_agreement_from_database(store, setup):
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    _apply(store, setup, "manager", "coder2", "Leadership", "Leadership was strong")
    _apply(store, setup, "manager", "coder2", "Support/Budget", "the budget was enough")
    with store.read() as session:
        study = studies.get_study(session)
        report = coding_comparison.agreement_report(session, study, ["coder1", "coder2"], "sentence", principal=ADMIN)
        leadership = next(c for c in report.per_code if c.code == "Leadership")
        assert leadership.percent_agreement == 1.0 and leadership.alpha == pytest.approx(1.0)
        budget = next(c for c in report.per_code if c.code == "Support/Budget")
        assert budget.coded_units == {"coder1": 0, "coder2": 1}
        assert [d.code for d in report.disagreements] == ["Support/Budget"]


def test_suggestions_are_proposed_then_accepted_or_rejected(store, setup):
    lines = "\n".join(
        [f"Ann: Our leadership team led meeting {i} with strong leadership." for i in range(10)]
        + [f"Ann: The canteen served soup on day {i}." for i in range(10)]
        + ["Ann: Strong leadership from the team leader again.", "Ann: Soup in the canteen again."]
    )
    with store.write() as session:
        study = studies.get_study(session)
        (interview,) = interviews_store.import_interviews(session, study, [interviews_store.ImportItem("long.txt", lines.encode(), "Case A", "Ann")])
        leadership = _code(session, study, "Leadership")
        coder = spans.get_coder(session, "coder1")
        for sentence in interviews_store.sentences_of(session, interview)[:20]:
            text = interview.text[sentence.start : sentence.end]
            if "leadership" in text and "again" not in text:
                spans.apply_codes(session, interview, [leadership], coder, sentence.start, sentence.end)
        interview_id = interview.id
    with store.read() as session:
        study = studies.get_study(session)
        model = suggestions.train_suggestions(session, study)
        quality = suggestions.suggestion_quality(model)
        found = suggestions.suggest_for(session, study, model, interviews_store.get_interview(session, study, interview_id), threshold=0.25)
    assert any(q["cv_recall"] is not None and q["cv_recall"] > 0.8 for q in quality)
    # Few examples give modest probabilities; the ranking still puts the right sentence alone on top.
    assert [s["text"] for s in found] == ["Strong leadership from the team leader again."]
    with store.write() as session:
        study = studies.get_study(session)
        created = suggestions.decide_suggestion(session, study, found[0]["sentence_id"], _code(session, study, "Leadership"), spans.get_coder(session, "coder2"), True, found[0]["confidence"])
        assert created.origin == "suggestion"
    with store.read() as session:
        study = studies.get_study(session)
        again = suggestions.suggest_for(session, study, model, interviews_store.get_interview(session, study, interview_id), threshold=0.25)
    assert again == []
