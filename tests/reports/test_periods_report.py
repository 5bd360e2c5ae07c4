"""The periods of a case side by side (reports.periods): sources and codings tied to each period,
audits and focus-group consensus per period, blind coding, the CLI and the page."""

from __future__ import annotations

import json

import pytest

from casestudy import access, users
from casestudy import study as studies
from casestudy.coding import blinding, spans
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.models import Coding
from casestudy.panel import audits
from casestudy.reports import periods as period_reports

ADMIN = access.Principal("researcher", 0, "admin", role="admin")


def _case_b(session):
    study = studies.get_study(session)
    case = studies.get_case(session, study, "Case B")
    manager, therapist = [i for i in interviews_store.list_interviews(session, study) if i.case_id == case.id]
    return study, case, manager, therapist


def _tie_demo(store) -> dict:
    """Case B's manager interview in PRE-REORG, one of the therapist's codings in REORG, a REORG audit."""
    with store.write("tester") as session:
        study, case, manager, therapist = _case_b(session)
        interviews_store.set_interview_period(session, study, manager.id, "PRE-REORG")
        coding = session.query(Coding).filter_by(interview_id=therapist.id).order_by(Coding.id).first()
        spans.set_coding_period(session, coding.id, "REORG", study)
        audit = audits.new_audit(session, study, case, "mbt-adherence-audit", period="REORG", label="spring")
        for key, alice, bob in (("1", 2, 3), ("2", 4, 4), ("11", 1, 2)):
            audits.score_item(session, audit, key, "alice", alice)
            audits.score_item(session, audit, key, "bob", bob)
        counts = {i.id: session.query(Coding).filter_by(interview_id=i.id).count() for i in (manager, therapist)}
        return {"manager": manager.id, "therapist": therapist.id, "coding": coding.id, "counts": counts}


def test_periods_side_by_side_on_the_demo(demo_store):
    tied = _tie_demo(demo_store)
    with demo_store.read() as session:
        study, case, _, _ = _case_b(session)
        result = period_reports.compare_periods(session, study, case, ADMIN)
    by_name = {p["period"]: p for p in result["periods"]}
    assert list(by_name) == ["PRE-REORG", "REORG", period_reports.NO_PERIOD]
    pre, reorg, untied = by_name["PRE-REORG"], by_name["REORG"], by_name[period_reports.NO_PERIOD]
    assert (pre["from"], pre["to"], pre["interviews"], reorg["interviews"], untied["interviews"]) == ("2004-08", "2007-12", 1, 0, 1)
    # every coding of the manager speaks about PRE-REORG (its interview's); one of the therapist's names REORG
    assert pre["codings"] == tied["counts"][tied["manager"]]
    assert (reorg["codings"], untied["codings"]) == (1, tied["counts"][tied["therapist"]] - 1)
    assert sum(pre["codings_by_level"].values()) == pre["codings"]
    # the audit held for REORG: mean of the item means (2.5, 4, 1.5) overall
    [audit] = reorg["audits"]
    assert (audit["label"], audit["mean"], audit["n_items"]) == ("spring", pytest.approx(8 / 3), 3)
    assert pre["audits"] == []
    # the focus group's consensus: Table 4's published means (PRE 129/21, REORG 51.5/21 by the midpoint rule)
    [pre_group], [reorg_group] = pre["focus_groups"], reorg["focus_groups"]
    assert pre_group["mean"] == pytest.approx(129 / 21) and reorg_group["mean"] == pytest.approx(51.5 / 21)
    assert (pre_group["min"], pre_group["max"], reorg_group["min"], reorg_group["max"], pre_group["split_rule"]) == (4, 7, 1, 4, "midpoint")
    assert "interim" in result["exclusion_note"]
    columns, rows = period_reports.period_grid(result)
    assert columns == ["measure", "PRE-REORG", "REORG", period_reports.NO_PERIOD]
    grid = {r["measure"]: r for r in rows}
    assert grid["audit spring: overall mean"]["REORG"] == pytest.approx(8 / 3) and grid["audit spring: overall mean"]["PRE-REORG"] == ""
    assert grid["interviews"] == {"measure": "interviews", "PRE-REORG": 1, "REORG": 0, period_reports.NO_PERIOD: 1}


def test_blind_coding_counts_only_the_coders_own_codings_and_a_case_needs_periods(demo_store):
    _tie_demo(demo_store)
    with demo_store.write("tester") as session:
        blinding.set_blind_coding(session, studies.get_study(session), ADMIN, True)
    with demo_store.read() as session:
        study, case, manager, _ = _case_b(session)
        coder = access.researcher(users.get_user(session, "coder1"))
        own = session.query(Coding).filter_by(interview_id=manager.id, coder_id=spans.get_coder(session, "coder1").id).count()
        result = period_reports.compare_periods(session, study, case, coder)
        assert result["periods"][0]["codings"] == own
        with pytest.raises(UserError, match="Case A has no periods to compare"):
            period_reports.compare_periods(session, study, studies.get_case(session, study, "Case A"), ADMIN)


def test_cli_report_periods(demo_store, cli):
    _tie_demo(demo_store)
    db = ("--db", demo_store.url)
    answer = json.loads(cli(*db, "report", "periods", "--case", "Case B", "--format", "json").out)
    assert [p["period"] for p in answer["periods"]] == ["PRE-REORG", "REORG", "(no period)"]
    table = cli(*db, "report", "periods", "--case", "Case B")
    assert table.code == 0 and "audit spring: overall mean" in table.out and "left out:" in table.err
    refused = cli(*db, "report", "periods", "--case", "Case A")
    assert refused.code == 2 and "error: Case A has no periods to compare" in refused.err


def test_the_focus_group_page_shows_the_periods_side_by_side(demo_store, app_env):
    from tests.panel.test_ui_audits import _app, _errors, _focus_page

    _tie_demo(demo_store)
    at = _app(demo_store, app_env, _focus_page).run()
    at.selectbox(key="focus_case").set_value("Case B").run()
    assert not _errors(at)
    frame = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    assert list(frame.columns) == ["measure", "PRE-REORG", "REORG", "(no period)"]
    row = frame[frame["measure"] == "audit spring: overall mean"].iloc[0]
    assert (row["PRE-REORG"], row["REORG"]) == ("", "2.67")  # two decimals on screen
    assert frame[frame["measure"] == "consensus: mean"].iloc[0]["PRE-REORG"] == "6.14"
