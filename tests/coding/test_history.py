"""Undo and redo of coding actions: the sequence, the limit, redo cleared, conflicts, bulk edits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casestudy import audit
from casestudy import study as studies
from casestudy.coding import history, spans
from casestudy.codebook import tree as codebook
from casestudy.db import EditConflict
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.models import Coding, CodingAction

from tests.coding.test_coding import _apply, setup  # noqa: F401  (fixture)


def _state(store, setup):
    """The manager interview's codings as (code path, coder, start, end), sorted."""
    with store.read() as session:
        study = studies.get_study(session)
        paths = codebook.code_paths(codebook.all_codes(session, study))
        rows = session.scalars(select(Coding).where(Coding.interview_id == setup["manager"]))
        return sorted((paths[c.code_id], c.coder.username, c.start, c.end) for c in rows)


def _undo(store, coder="coder1"):
    with store.write(coder) as session:
        return history.undo(session, studies.get_study(session), spans.get_coder(session, coder).id)


def _redo(store, coder="coder1"):
    with store.write(coder) as session:
        return history.redo(session, studies.get_study(session), spans.get_coder(session, coder).id)


def _user(session, name):
    return spans.get_coder(session, name)


def test_undo_redo_walks_apply_move_recode_remove_back_and_forth(store, setup):
    empty = _state(store, setup)
    (cid,) = _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    applied = _state(store, setup)
    with store.write("coder1") as session:
        coding = session.get(Coding, cid)
        spans.move_coding(session, cid, coding.start + 4, coding.end, coding.version, by=_user(session, "coder1"))
    moved = _state(store, setup)
    with store.write("coder1") as session:
        study = studies.get_study(session)
        spans.recode_codings(session, study, [cid], codebook.get_code(session, study, "Support/Board support"), by=_user(session, "coder1"))
    recoded = _state(store, setup)
    with store.write("coder1") as session:
        spans.remove_coding(session, cid, by=_user(session, "coder1"))
    assert _state(store, setup) == empty
    assert [r["kind"] for r in _history(store)] == ["remove", "recode", "move", "apply"]

    result = _undo(store)
    assert result.kind == "remove" and result.undone and [c["id"] for c in result.codings] == [cid]
    assert _state(store, setup) == recoded
    assert _undo(store).kind == "recode" and _state(store, setup) == moved
    assert _undo(store).kind == "move" and _state(store, setup) == applied
    last = _undo(store)
    assert last.kind == "apply" and last.removed_ids == [cid] and not last.can_undo and last.can_redo
    assert _state(store, setup) == empty
    with pytest.raises(UserError, match="nothing to undo"):
        _undo(store)

    assert _redo(store).kind == "apply" and _state(store, setup) == applied
    assert _redo(store).kind == "move" and _state(store, setup) == moved
    assert _redo(store).kind == "recode" and _state(store, setup) == recoded
    redone = _redo(store)
    assert redone.kind == "remove" and not redone.can_redo and _state(store, setup) == empty
    with pytest.raises(UserError, match="nothing to redo"):
        _redo(store)
    with store.read() as session:
        logged = [(e.action, e.detail["kind"]) for e in audit.events(session, entity="coding_action") if e.action in ("undo", "redo")]
    assert logged[:2] == [("redo", "remove"), ("redo", "recode")] and len(logged) == 8


def _history(store, coder="coder1"):
    with store.read() as session:
        return history.history(session, studies.get_study(session), spans.get_coder(session, coder).id)


def test_a_new_action_clears_redo(store, setup):
    _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    _undo(store)
    assert [r["undone"] for r in _history(store)] == [True, False]
    _apply(store, setup, "manager", "coder1", "Leadership", "The team was small")
    assert [r["undone"] for r in _history(store)] == [False, False]
    with pytest.raises(UserError, match="nothing to redo"):
        _redo(store)


def test_only_the_last_50_actions_are_kept_per_coder(store, setup):
    with store.write("coder1") as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["manager"])
        code = codebook.get_code(session, study, "Leadership")
        coder = _user(session, "coder1")
        for start in range(55):
            spans.apply_codes(session, interview, [code], coder, start, start + 3)
    rows = _history(store)
    assert len(rows) == history.LIMIT and rows[0]["seq"] == 55 and rows[-1]["seq"] == 6
    for _ in range(history.LIMIT):
        _undo(store)
    with pytest.raises(UserError, match="nothing to undo"):
        _undo(store)
    assert len(_state(store, setup)) == 5  # the first five are out of reach


def test_undo_is_refused_when_another_coder_changed_the_coding_since(store, setup):
    (cid,) = _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    with store.write("coder2") as session:
        coding = session.get(Coding, cid)
        spans.edit_coding(session, cid, coding.version, memo="coder2 was here", by=_user(session, "coder2"))
    before = _state(store, setup)
    with pytest.raises(EditConflict, match="someone else saved this item"):
        _undo(store)
    assert _state(store, setup) == before  # nothing changed
    # coder2 undoes their own edit; then coder1's apply can be undone again
    assert _undo(store, "coder2").kind == "edit"
    assert _undo(store).kind == "apply" and _state(store, setup) == []


def test_undo_of_a_coding_removed_by_someone_else_is_a_conflict(store, setup):
    (cid,) = _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    with store.write("coder2") as session:
        spans.remove_coding(session, cid, by=_user(session, "coder2"))
    with pytest.raises(EditConflict, match="was removed since"):
        _undo(store)


def test_bulk_remove_and_recode_are_one_step_each(store, setup):
    ids = [
        *_apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong"),
        *_apply(store, setup, "manager", "coder1", "Leadership", "The team was small"),
        *_apply(store, setup, "manager", "coder1", "Support/Budget", "Leadership was strong"),
    ]
    start = _state(store, setup)
    with store.write("coder1") as session:
        study = studies.get_study(session)
        result = spans.recode_codings(session, study, ids, codebook.get_code(session, study, "Support/Budget"), by=_user(session, "coder1"))
    # the first Leadership coding's span already had Budget: merged into it
    assert result.merged == [ids[0]] and result.recoded == [ids[1]]
    assert _state(store, setup) == sorted([("Support/Budget", "coder1", *s[2:]) for s in start if s[0] == "Leadership"])
    assert _undo(store).kind == "bulk_recode" and _state(store, setup) == start
    with store.write("coder1") as session:
        assert spans.remove_codings(session, studies.get_study(session), ids, by=_user(session, "coder1")) == 3
    assert _state(store, setup) == []
    result = _undo(store)
    assert result.kind == "bulk_remove" and len(result.codings) == 3 and _state(store, setup) == start
    with store.read() as session:
        assert session.scalar(select(CodingAction.kind).order_by(CodingAction.seq.desc()).limit(1)) == "bulk_remove"


def test_bulk_operations_are_all_or_nothing(store, setup):
    (cid,) = _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    with store.write("coder1") as session, pytest.raises(UserError, match="no coding 999"):
        spans.remove_codings(session, studies.get_study(session), [cid, 999], by=_user(session, "coder1"))
    assert len(_state(store, setup)) == 1
    with store.write("coder1") as session, pytest.raises(UserError, match="category only"):
        study = studies.get_study(session)
        spans.recode_codings(session, study, [cid], codebook.get_code(session, study, "Support"), by=_user(session, "coder1"))
