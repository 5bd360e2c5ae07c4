"""Elicitation marks on codings: suggested when a coding is made or moved, set by hand per coding
and per turn (versioned, kept by later suggestions, blind coding respected), kept by undo/redo,
and filtered in retrieval, matrices and exports; the `codings elicitation` commands."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as codebook
from casestudy.coding import elicitation, history, matrices, retrieval, spans
from casestudy.db import EditConflict
from casestudy.errors import UserError
from casestudy.interviews import guide as guides
from casestudy.interviews import store as interviews_store
from casestudy.models import AuditEvent, Coding

ADMIN = access.Principal("researcher", 0, "admin", role="admin")

GUIDE = {
    "title": "Guide",
    "topics": [
        {"key": "OPEN", "title": "Open", "questions": ["Looking back, was the programme a success?"]},
        {"key": "ORG", "title": "Organisation", "probes": [{"key": "BOARD", "text": "How was the support from the board?", "level": "organization"}]},
    ],
}
TEXT = (
    "Interviewer: Looking back, was the programme a success?\n"   # turn 0 (open question)
    "Ann: No. The budget ran out.\n"                               # turn 1 spontaneous
    "Interviewer: How was the support from the board?\n"           # turn 2 (probe)
    "Ann: The board support was weak. The budget was cut.\n"      # turn 3 after a probe
    "Interviewer: Go on.\n"                                        # turn 4
    "Ann: Leadership in the team was weak too.\n"                  # turn 5 after a probe (probe stage)
)


@pytest.fixture
def setup(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Elicitation study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        for name in ("coder1", "coder2"):
            users.add_user(session, name, "a long password", "coder")
            studies.add_member(session, study, name)
        codebook.add_code(session, study, "Budget", "organization", origin="a priori")
        codebook.add_code(session, study, "Board support", "organization", origin="a priori")
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        guides.store_guide(session, study, guides.build_guide(GUIDE))
        (interview,) = interviews_store.import_interviews(session, study, [interviews_store.ImportItem("ann.txt", TEXT.encode(), "Case A", "Ann")])
        return {"interview": interview.id}


def code_text(store, setup, coder: str, code: str, needle: str, occurrence: int = 0) -> int:
    with store.write(coder) as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["interview"])
        start = -1
        for _ in range(occurrence + 1):
            start = interview.text.index(needle, start + 1)
        (coding,) = spans.apply_codes(session, interview, [codebook.get_code(session, study, code)], spans.get_coder(session, coder),
                                      start, start + len(needle))
        return coding.id


def marks(store) -> dict[int, tuple[str, bool, int]]:
    with store.read() as session:
        return {c.id: (c.elicitation, c.elicitation_manual, c.version) for c in session.scalars(select(Coding))}


@pytest.fixture
def coded(store, setup):
    return {
        "budget1": code_text(store, setup, "coder1", "Budget", "The budget ran out."),
        "board": code_text(store, setup, "coder1", "Board support", "The board support was weak."),
        "budget3": code_text(store, setup, "coder2", "Budget", "The budget was cut."),
        "leader": code_text(store, setup, "coder2", "Leadership", "Leadership in the team was weak too."),
    }


def test_new_codings_get_the_suggestion(store, coded):
    found = marks(store)
    assert [found[coded[k]][:2] for k in ("budget1", "board", "budget3", "leader")] == [
        ("spontaneous", False), ("probe", False), ("probe", False), ("probe", False)]


def test_moving_a_coding_marks_it_again(store, setup, coded):
    with store.write("coder1") as session:
        study = studies.get_study(session)
        text = interviews_store.get_interview(session, study, setup["interview"]).text
        start = text.index("The board support")
        moved = spans.move_coding(session, coded["board"], text.index("The budget ran out."), text.index("The budget ran out.") + 5,
                                  marks(store)[coded["board"]][2], by=spans.get_coder(session, "coder1"))
        assert moved.elicitation == "spontaneous" and start > 0


def test_by_hand_per_coding_is_versioned_audited_and_kept(store, setup, coded):
    before = marks(store)[coded["board"]]
    with store.write("coder1") as session:
        study = studies.get_study(session)
        assert elicitation.set_elicitation(session, study, [coded["board"]], "spontaneous", by=spans.get_coder(session, "coder1")) == 1
    after = marks(store)[coded["board"]]
    assert after == ("spontaneous", True, before[2] + 1)
    with store.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "coding", AuditEvent.entity_id == coded["board"],
                                                               AuditEvent.action == "update")))
        assert events and events[-1].detail["elicitation"] == ["probe", "spontaneous"]
    with store.write("cli") as session:
        counts = elicitation.suggest(session, studies.get_study(session))
    assert counts == {"spontaneous": 1, "probe": 2, "unmarked": 0, "kept": 1}
    assert marks(store)[coded["board"]][:2] == ("spontaneous", True)
    with store.write("cli") as session:
        assert elicitation.suggest(session, studies.get_study(session), overwrite_manual=True)["kept"] == 0
    assert marks(store)[coded["board"]][:2] == ("probe", False)


def test_suggestions_do_not_change_versions(store, coded):
    before = marks(store)
    with store.write("cli") as session:
        elicitation.suggest(session, studies.get_study(session))
    assert {k: v[2] for k, v in marks(store).items()} == {k: v[2] for k, v in before.items()}


def test_back_to_the_suggestion_and_stale_versions(store, coded):
    with store.write("cli") as session:
        study = studies.get_study(session)
        elicitation.set_elicitation(session, study, [coded["budget1"]], "probe", by=None)
    assert marks(store)[coded["budget1"]][:2] == ("probe", True)
    with store.write("cli") as session:
        elicitation.set_elicitation(session, studies.get_study(session), [coded["budget1"]], "suggested", by=None)
    assert marks(store)[coded["budget1"]][:2] == ("spontaneous", False)
    with pytest.raises(EditConflict), store.write("cli") as session:
        elicitation.set_elicitation(session, studies.get_study(session), [coded["budget1"]], "probe", by=None,
                                    expected_versions={coded["budget1"]: 1})
    with pytest.raises(UserError, match="unknown elicitation 'maybe'"), store.write("cli") as session:
        elicitation.set_elicitation(session, studies.get_study(session), [coded["budget1"]], "maybe", by=None)


def test_bulk_per_turn_and_blind_coding(store, setup, coded):
    with store.write("coder1") as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["interview"])
        assert [c.id for c in elicitation.codings_in_turn(session, interview, 3)] == [coded["board"], coded["budget3"]]
        assert elicitation.set_turn_elicitation(session, study, interview, 3, "spontaneous", by=spans.get_coder(session, "coder1")) == 2
    assert marks(store)[coded["budget3"]][:2] == ("spontaneous", True)
    with store.write("setup") as session:
        studies.get_study(session).blind_coding = True
    with store.write("coder1") as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["interview"])
        # Blind: coder1 changes only their own coding in the turn.
        assert elicitation.set_turn_elicitation(session, study, interview, 3, "probe", by=spans.get_coder(session, "coder1")) == 1
        with pytest.raises(UserError, match="turn 5 of interview .* has no codings of yours"):
            elicitation.set_turn_elicitation(session, study, interview, 5, "probe", by=spans.get_coder(session, "coder1"))
        with pytest.raises(UserError):
            elicitation.set_elicitation(session, study, [coded["leader"]], "probe", by=spans.get_coder(session, "coder1"))
    assert (marks(store)[coded["board"]][0], marks(store)[coded["budget3"]][0]) == ("probe", "spontaneous")


def test_undo_and_redo_keep_the_mark(store, coded):
    with store.write("coder2") as session:
        study = studies.get_study(session)
        coder = spans.get_coder(session, "coder2")
        elicitation.set_elicitation(session, study, [coded["leader"]], "spontaneous", by=coder)
        spans.remove_codings(session, study, [coded["leader"]], by=coder)
        history.undo(session, study, coder.id)
    assert marks(store)[coded["leader"]][:2] == ("spontaneous", True)


def test_retrieval_matrices_and_exports_filter_by_it(store, coded):
    with store.read() as session:
        study = studies.get_study(session)
        spontaneous = retrieval.segments(session, study, retrieval.SegmentFilter(elicitation="spontaneous"), principal=ADMIN)
        assert [(s["coding_id"], s["elicitation"]) for s in spontaneous] == [(coded["budget1"], "spontaneous")]
        probed = retrieval.segments(session, study, retrieval.SegmentFilter(elicitation="probe"), principal=ADMIN)
        assert sorted(s["coding_id"] for s in probed) == sorted([coded["board"], coded["budget3"], coded["leader"]])
        assert retrieval.segments(session, study, retrieval.SegmentFilter(elicitation="unmarked"), principal=ADMIN) == []
        exported = retrieval.export_segments(session, study, "csv", retrieval.SegmentFilter(elicitation="probe"), principal=ADMIN)
        lines = exported.strip().splitlines()
        assert lines[0].endswith(",memo,period,elicitation") and len(lines) == 4 and all(line.endswith(",probe") for line in lines[1:])
        matrix = matrices.code_matrix(session, study, "counts", retrieval.SegmentFilter(elicitation="spontaneous"), principal=ADMIN)
        assert (matrix.rows, matrix.columns, matrix.matrix) == (["Case A"], ["Budget"], [[1]])
        labels, cooccurrence = matrices.cooccurrence_matrix(session, study, retrieval.SegmentFilter(elicitation="probe"), principal=ADMIN)
        assert labels == ["Board support", "Budget", "Leadership"] and cooccurrence[0][0] == 1
        case = studies.get_case(session, study, "Case A")
        rows = matrices.role_comparison(session, study, case, principal=ADMIN, elicitation="spontaneous")
        assert rows == [{"code": "Budget", "manager": 1, "only": "manager"}]
        with pytest.raises(UserError, match="unknown elicitation 'asked'; choose one of: spontaneous, probe, unmarked"):
            retrieval.segments(session, study, retrieval.SegmentFilter(elicitation="asked"), principal=ADMIN)


def test_turn_view_lists_suggestion_reason_and_marks(store, setup, coded):
    with store.read() as session:
        study = studies.get_study(session)
        view = elicitation.turn_view(session, study, interviews_store.get_interview(session, study, setup["interview"]), principal=ADMIN)
    assert [(t["turn"], t["suggested"], [c["id"] for c in t["codings"]]) for t in view] == [
        (1, "spontaneous", [coded["budget1"]]), (3, "probe", [coded["board"], coded["budget3"]]), (5, "probe", [coded["leader"]])]
    assert view[1]["reason"].startswith("after probe BOARD (turn 2)")


def test_cli_show_set_turn_suggest_and_filters(store, setup, coded, cli):
    db = ("--db", store.url)
    shown = json.loads(cli(*db, "codings", "elicitation", "show", setup["interview"], "--format", "json").out)
    assert [t["turn"] for t in shown] == [1, 3, 5]
    result = cli(*db, "codings", "elicitation", "set", coded["budget1"], "--value", "probe", "--coder", "coder1")
    assert result.code == 0 and result.out.strip() == "set 1 coding(s) to probe"
    result = cli(*db, "codings", "elicitation", "turn", setup["interview"], "5", "--value", "spontaneous", "--coder", "coder2")
    assert result.code == 0 and result.out.strip() == "set 1 coding(s) of turn 5 to spontaneous"
    suggested = json.loads(cli(*db, "codings", "elicitation", "suggest", "--format", "json").out)
    assert suggested == {"spontaneous": 0, "probe": 2, "unmarked": 0, "kept": 2}
    retrieved = json.loads(cli(*db, "retrieve", "--elicitation", "spontaneous", "--format", "json").out)
    assert [r["coding_id"] for r in retrieved] == [coded["leader"]]
    matrix = json.loads(cli(*db, "matrix", "--elicitation", "probe", "--format", "json").out)
    assert matrix["columns"] == ["Board support", "Budget"] and matrix["matrix"] == [[1, 2]]
    exported = cli(*db, "codings", "export", "--elicitation", "probe")
    assert exported.code == 0 and len(exported.out.strip().splitlines()) == 4
    bad = cli(*db, "codings", "elicitation", "turn", setup["interview"], "4", "--value", "probe")
    assert bad.code == 2 and "turn 4 of interview 1 has no codings" in bad.err
