"""Periods on interviews and codings: tying and untying, retrieval and matrices by period, the
periods of a case side by side, a period in use kept, and the CLI."""

from __future__ import annotations

import json

import pytest

from casestudy import access
from casestudy import periods as case_periods
from casestudy import study as studies
from casestudy.coding import matrices
from casestudy.coding import retrieval
from casestudy.coding import spans
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.models import Coding

ADMIN = access.Principal("researcher", 0, "admin", role="admin")


def _case_b_codings(session):
    study = studies.get_study(session)
    manager, therapist = [i for i in interviews_store.list_interviews(session, study) if i.case.public_label == "Case B"]
    by_interview = {i.id: sorted(c.id for c in session.query(Coding).filter_by(interview_id=i.id)) for i in (manager, therapist)}
    return study, manager, therapist, by_interview


def test_codings_follow_their_interview_unless_they_name_a_period(demo_store):
    with demo_store.write("tester") as session:
        study, manager, therapist, codings = _case_b_codings(session)
        interviews_store.set_interview_period(session, study, manager.id, "pre-reorg")  # case ignored
        spans.set_coding_period(session, codings[therapist.id][0], "REORG", study)
        with pytest.raises(UserError, match="has no period 'LATER'; its periods: PRE-REORG, REORG"):
            spans.set_coding_period(session, codings[therapist.id][1], "LATER", study)
        other_case = next(i for i in interviews_store.list_interviews(session, study) if i.case.public_label == "Case A")
        with pytest.raises(UserError, match="Case A has no period 'REORG'"):
            interviews_store.set_interview_period(session, study, other_case.id, "REORG")
    with demo_store.read() as session:
        study = studies.get_study(session)
        pre = retrieval.segments(session, study, retrieval.SegmentFilter(periods=["PRE-REORG"]), principal=ADMIN)
        reorg = retrieval.segments(session, study, retrieval.SegmentFilter(periods=["reorg"]), principal=ADMIN)
        untied = retrieval.segments(session, study, retrieval.SegmentFilter(periods=[retrieval.NO_PERIOD]), principal=ADMIN)
        every = retrieval.segments(session, study, principal=ADMIN)
        _, manager, therapist, _ = _case_b_codings(session)
        records = {r["id"]: r["period"] for r in interviews_store.interview_records(session, [manager, therapist])}
    assert sorted(s["coding_id"] for s in pre) == codings[manager.id] and {s["period"] for s in pre} == {"PRE-REORG"}
    assert [s["coding_id"] for s in reorg] == [codings[therapist.id][0]]
    assert len(pre) + len(reorg) + len(untied) == len(every)
    assert records == {manager.id: "PRE-REORG", therapist.id: ""}
    # the export carries the period as its last column
    with demo_store.read() as session:
        text = retrieval.export_segments(session, studies.get_study(session), "csv", retrieval.SegmentFilter(periods=["REORG"]), principal=ADMIN)
    assert text.splitlines()[0].endswith(",memo,period,elicitation") and ",REORG," in text.splitlines()[1]  # then its elicitation


def test_matrix_sets_the_periods_of_a_case_side_by_side(demo_store):
    with demo_store.write("tester") as session:
        study, manager, therapist, codings = _case_b_codings(session)
        interviews_store.set_interview_period(session, study, manager.id, "PRE-REORG")
        interviews_store.set_interview_period(session, study, therapist.id, "REORG")
    with demo_store.read() as session:
        study = studies.get_study(session)
        flat = matrices.code_matrix(session, study, principal=ADMIN, flt=retrieval.SegmentFilter(case_ids=[manager.case_id]))
        split = matrices.code_matrix(session, study, principal=ADMIN, by_period=True,
                                     flt=retrieval.SegmentFilter(case_ids=[manager.case_id]))
    assert "Case B · PRE-REORG" in split.rows and "Case B · REORG" in split.rows
    pre, reorg = split.rows.index("Case B · PRE-REORG"), split.rows.index("Case B · REORG")
    case_b = flat.rows.index("Case B")
    # every code's passages in Case B are the sum of its two periods (the two interviews do not overlap)
    for column, name in enumerate(split.columns):
        total = split.matrix[pre][column] + split.matrix[reorg][column]
        assert total == flat.matrix[case_b][flat.columns.index(name)], name
    assert sum(split.matrix[pre]) > 0 and sum(split.matrix[reorg]) > 0


def test_a_period_in_use_by_codings_cannot_be_removed(demo_store):
    with demo_store.write("tester") as session:
        study, manager, therapist, codings = _case_b_codings(session)
        spans.set_coding_period(session, codings[manager.id][0], "REORG", study)
    with demo_store.write("tester") as session, pytest.raises(UserError, match="used by .*codings"):
        case_periods.remove_period(session, studies.get_case(session, studies.get_study(session), "Case B"), "REORG")
    with demo_store.write("tester") as session:
        study, manager, _, codings = _case_b_codings(session)
        assert spans.set_coding_period(session, codings[manager.id][0], None, study).period_id is None


def test_cli_ties_periods_and_filters_by_them(demo_store, cli):
    db = ("--db", demo_store.url)
    with demo_store.read() as session:
        study, manager, therapist, codings = _case_b_codings(session)
    result = cli(*db, "interviews", "period", manager.id, "PRE-REORG")
    assert result.code == 0 and f"interview {manager.id}: period PRE-REORG" in result.out
    result = cli(*db, "codings", "period", codings[therapist.id][0], "REORG")
    assert result.code == 0, result
    bad = cli(*db, "codings", "period", codings[therapist.id][1], "LATER")
    assert bad.code == 2 and "error: Case B has no period 'LATER'" in bad.err
    found = json.loads(cli(*db, "retrieve", "--period", "REORG", "--format", "json").out)
    assert [s["coding_id"] for s in found] == [codings[therapist.id][0]]
    matrix = json.loads(cli(*db, "matrix", "--by-period", "--case", "Case B", "--format", "json").out)
    assert matrix["rows"] == ["Case B · PRE-REORG", "Case B · REORG", "Case B · (no period)"]
    cleared = cli(*db, "interviews", "period", manager.id, "--clear")
    assert cleared.code == 0 and "no period" in cleared.out


def test_retrieval_page_filters_by_period_and_the_matrix_splits_by_it(demo_store, monkeypatch):
    from tests.coding.test_ui_coding import _page

    with demo_store.write("tester") as session:
        study, manager, therapist, codings = _case_b_codings(session)
        interviews_store.set_interview_period(session, study, manager.id, "PRE-REORG")
    at = _page(demo_store, monkeypatch, "casestudy.ui.pages.analysis", username="admin")
    at.run()
    assert not at.exception
    assert at.multiselect(key="ret_periods").options == ["PRE-REORG", "REORG", retrieval.NO_PERIOD]
    at.multiselect(key="ret_periods").set_value(["PRE-REORG"]).run()
    assert any(c.value.startswith(f"{len(codings[manager.id])} segment(s)") for c in at.caption)
    assert any("· period PRE-REORG" in m.value for m in at.markdown)
    at.session_state["analysis_tab"] = "Matrices"
    at.run()
    at.toggle(key="matrix_by_period").set_value(True).run()
    assert not at.exception and not at.error
    assert "Case B · PRE-REORG" in at.selectbox(key="cell_row").options


def _coder_codings(session, interview_id: int, coder: str) -> list[Coding]:
    return sorted((c for c in session.query(Coding).filter_by(interview_id=interview_id) if c.coder.username == coder), key=lambda c: c.id)


def test_several_codings_get_a_period_in_one_undoable_action(demo_store):
    from casestudy.coding import history, stripes

    with demo_store.write("coder1") as session:
        study, manager, _, _ = _case_b_codings(session)
        interviews_store.set_interview_period(session, study, manager.id, "PRE-REORG")
        coder = spans.get_coder(session, "coder1")
        first, second = [c.id for c in _coder_codings(session, manager.id, "coder1")[:2]]
        versions = {c.id: c.version for c in _coder_codings(session, manager.id, "coder1")[:2]}
        # the workbench's operation: one call of the library, the interview's period named back
        message = stripes.perform(session, study, manager, coder,
                                  {"kind": "period", "codings": [{"id": i, "version": v} for i, v in versions.items()], "period": "reorg"})
        assert message == "period reorg for 2 coding(s)"
        seen = spans.coding_periods(session, manager)
        assert seen.choices == ["PRE-REORG", "REORG"] and seen.interview == "PRE-REORG"
        assert seen.own == {first: "REORG", second: "REORG"}
        third = _coder_codings(session, manager.id, "coder1")[2].id
        assert seen.record(first) == {"period": "REORG", "own_period": "REORG"}
        assert seen.record(third) == {"period": "PRE-REORG", "own_period": ""}  # it follows its interview
        assert history.history(session, study, coder.id)[0]["what"] == "set the period of codings"
    with demo_store.write("coder1") as session:
        study = studies.get_study(session)
        result = history.undo(session, study, spans.get_coder(session, "coder1").id)
        assert result.message == "undid: set the period of codings (2 coding(s))"
        assert session.get(Coding, first).period_id is None and session.get(Coding, second).period_id is None
    with demo_store.write("coder1") as session:
        study = studies.get_study(session)
        history.redo(session, study, spans.get_coder(session, "coder1").id)
        reorg = case_periods.get_period(session, studies.get_case(session, study, "Case B"), "REORG").id
        assert {session.get(Coding, i).period_id for i in (first, second)} == {reorg}


def test_setting_periods_is_all_or_none_and_checks_versions_and_blind_coding(demo_store):
    from casestudy.coding import blinding
    from casestudy.db import EditConflict

    with demo_store.write("tester") as session:
        study, manager, _, _ = _case_b_codings(session)
        case_a = next(i for i in interviews_store.list_interviews(session, study) if i.case.public_label == "Case A")
        in_b = _coder_codings(session, manager.id, "coder1")[0]
        in_a = _coder_codings(session, case_a.id, "coder1")[0]
        b_id, a_id, b_version = in_b.id, in_a.id, in_b.version
        # Case A has no period REORG: neither coding changes
        with pytest.raises(UserError, match="Case A has no period 'REORG'"):
            spans.set_codings_period(session, study, [b_id, a_id], "REORG")
    with demo_store.read() as session:
        assert session.get(Coding, b_id).period_id is None
    with demo_store.write("tester") as session:
        study = studies.get_study(session)
        spans.set_codings_period(session, study, [b_id], "REORG")
    with demo_store.write("tester") as session, pytest.raises(EditConflict):
        spans.set_codings_period(session, studies.get_study(session), [b_id], "PRE-REORG", expected_versions={b_id: b_version})
    with demo_store.write("tester") as session:
        study = studies.get_study(session)
        blinding.set_blind_coding(session, study, ADMIN, True)
    with demo_store.write("coder2") as session, pytest.raises(UserError):
        spans.set_codings_period(session, studies.get_study(session), [b_id], None, by=spans.get_coder(session, "coder2"))
    with demo_store.read() as session:
        assert session.get(Coding, b_id).period_id is not None


def test_undo_refuses_to_restore_a_period_removed_since(demo_store):
    from casestudy.coding import history

    with demo_store.write("coder1") as session:
        study, manager, _, _ = _case_b_codings(session)
        coding_id = _coder_codings(session, manager.id, "coder1")[0].id
        coder = spans.get_coder(session, "coder1")
        case_periods.add_period(session, manager.case, "FOLLOW-UP", "2015-01", "2016-12")
        spans.set_codings_period(session, study, [coding_id], "FOLLOW-UP", by=coder)
        spans.set_codings_period(session, study, [coding_id], "", by=coder)  # back to the interview's
        case_periods.remove_period(session, manager.case, "FOLLOW-UP")  # nothing uses it now
    with demo_store.write("coder1") as session, pytest.raises(UserError, match="that period was removed"):
        history.undo(session, studies.get_study(session), spans.get_coder(session, "coder1").id)
    with demo_store.read() as session:
        assert session.get(Coding, coding_id).period_id is None


def test_cli_sets_the_period_of_several_codings_and_lists_it(demo_store, cli):
    db = ("--db", demo_store.url)
    with demo_store.write("tester") as session:
        study, manager, _, _ = _case_b_codings(session)
        interviews_store.set_interview_period(session, study, manager.id, "PRE-REORG")
        first, second = [c.id for c in _coder_codings(session, manager.id, "coder1")[:2]]
    result = cli(*db, "codings", "period", f"{first},{second}", "REORG", "--coder", "coder1", "--format", "json")
    assert result.code == 0, result
    answer = json.loads(result.out)
    assert answer["changed"] == 2
    assert answer["codings"] == [{"id": first, "interview": manager.id, "period": "REORG", "own_period": "REORG"},
                                 {"id": second, "interview": manager.id, "period": "REORG", "own_period": "REORG"}]
    listed = {row["id"]: row for row in json.loads(cli(*db, "codings", "list", manager.id, "--format", "json").out)}
    assert (listed[first]["period"], listed[first]["own_period"]) == ("REORG", "REORG")
    assert {(r["period"], r["own_period"]) for i, r in listed.items() if i not in (first, second)} == {("PRE-REORG", "")}
    # undone by the coder's undo like any coding action
    assert cli(*db, "coding", "undo", "--coder", "coder1").code == 0
    cleared = cli(*db, "codings", "list", manager.id, "--format", "json").out
    assert {row["own_period"] for row in json.loads(cleared)} == {""}
    plain_text = cli(*db, "codings", "period", str(first), "--clear")
    assert plain_text.code == 0 and f"coding {first}: no period of its own (its interview's applies: PRE-REORG)" in plain_text.out
    for argv, message in (((str(first),), "name the period"), ((str(first), "REORG", "--clear"), "either a period or --clear"),
                          (("12,x", "REORG"), "coding ids are whole numbers")):
        bad = cli(*db, "codings", "period", *argv)
        assert bad.code == 2 and message in bad.err, bad
