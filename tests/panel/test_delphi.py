"""Delphi rounds: the quartile method against numpy and pandas, the stopping rules, opening and
closing rounds, feedback that holds only aggregates, revisions that need a reason, refusals."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from casestudy import access, quantiles
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.masking import workflow as masking_workflow
from casestudy.models import AuditEvent
from casestudy.panel import answers as panel_answers
from casestudy.panel import delphi
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire
from casestudy.panel import responses as panel_responses

ACTOR = "tester"
ADMIN = Principal(kind="researcher", subject_id=0, name="tester", role="admin")
ITEMS = ("combination", "organization", "team", "therapist")


def _study(store, n_cases=2):
    with store.write(ACTOR) as session:
        study = studies.create_study(session, "Delphi study")
        for k in range(n_cases):
            case = studies.add_case(session, study, f"Unit {k + 1}", f"Case {'ABC'[k]}", f"Kliniek {k + 1}")
            row = masking_workflow.generate_masked(session, case, f"Case number {k + 1} ran for two years.")
            masking_workflow.accept_all(session, row.id)
            masking_workflow.release(session, row.id, ACTOR, allow_open_candidates=True)
        panel_questionnaire.create_default_questionnaire(session, study)
        return study.id


def _expert(store, study_id, name) -> Principal:
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        member = panel_members.add_member(session, study, name, f"{name.lower()}@example.org")
        secret = panel_members.invite(session, study, member, "http://app")["link"].split("token=")[1]
    return access.resolve_token(store, secret)


def _round_one(store, principal, scores: dict[str, int]):
    """Answer round 1: ``scores`` per statement key, the same for every case, and submit."""
    with store.write(principal.actor) as session:
        panel_answers.open_questionnaire(session, principal)
    with store.read() as session:
        view = panel_answers.expert_view(session, principal)
    with store.write(principal.actor) as session:
        for case in view.cases:
            for key in ITEMS:
                panel_answers.save_answer(session, principal, key, scores.get(key, 3), case.label)
        panel_answers.save_answer(session, principal, "recurring", ["leadership"])
        panel_answers.save_answer(session, principal, "recurring_order", ["leadership"])
        panel_answers.submit(session, principal)


def _panel(store, team_scores=(1, 3, 4, 5)):
    """Four experts through round 1; their 'team' answers differ, the rest are all 3."""
    study_id = _study(store)
    experts = [_expert(store, study_id, name) for name in ("Ann", "Bob", "Cyd", "Dee")]
    for principal, team in zip(experts, team_scores):
        _round_one(store, principal, {"team": team})
    return study_id, experts


def _do(store, fn, *args, **kwargs):
    with store.write(ACTOR) as session:
        return fn(session, studies.get_study(session, args[0]), *args[1:], **kwargs)


# --- the quartile method ------------------------------------------------------------------------
@pytest.mark.parametrize("method", list(quantiles.QUARTILE_METHODS))
def test_quartiles_equal_numpy_for_every_named_method(method):
    rng = np.random.default_rng(17)
    for n in (1, 2, 3, 4, 5, 7, 12, 13):
        data = [int(v) for v in rng.integers(0, 6, n)]
        stats = delphi.item_stats(data, method)
        expected = np.percentile(data, [25, 50, 75], method=method)
        assert [float(stats.q1), float(stats.median), float(stats.q3)] == pytest.approx(list(expected))
        assert float(stats.iqr) == pytest.approx(expected[2] - expected[0])


def test_the_default_linear_method_equals_pandas():
    data = [3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5]
    series = pd.Series(data)
    stats = delphi.item_stats(data, delphi.StoppingRule().quartile_method)
    assert float(stats.q1) == series.quantile(0.25, interpolation="linear")
    assert float(stats.q3) == series.quantile(0.75, interpolation="linear")
    assert stats.iqr == Fraction(1, 2)  # and 1.5 by Weibull (SPSS): the method matters
    assert delphi.item_stats(data, "weibull").iqr == Fraction(3, 2)
    assert "Hyndman-Fan type 7" in delphi.StoppingRule().text()


# --- the stopping rule ------------------------------------------------------------------------
def test_stopping_rules_per_item():
    rule = delphi.StoppingRule("consensus")
    assert rule.met(True, None) and not rule.met(False, True)
    rule = delphi.StoppingRule("stability")
    assert rule.met(False, True) and not rule.met(True, None) and not rule.met(True, False)
    rule = delphi.StoppingRule("either")
    assert rule.met(True, False) and rule.met(False, True) and not rule.met(False, False)
    assert delphi.StoppingRule("either", Fraction(1), Fraction(1, 4)).text().startswith(
        "consensus (the IQR is at most 1) or stability (at most 25 % changed")


def test_rule_is_checked_and_fixed_when_round_one_closes(store):
    study_id, _ = _panel(store)
    with pytest.raises(UserError, match="unknown stopping rule"):
        _do(store, delphi.set_stopping_rule, study_id, "vote")
    with pytest.raises(UserError, match="share from 0 to 1"):
        _do(store, delphi.set_stopping_rule, study_id, "stability", change_max="15")
    with pytest.raises(UserError, match="unknown quartile method"):
        _do(store, delphi.set_stopping_rule, study_id, "consensus", quartile_method="guess")
    rule = _do(store, delphi.set_stopping_rule, study_id, "either", iqr_max="1", change_max="0.25", quartile_method="weibull")
    assert (rule.rule, rule.iqr_max, rule.change_max, rule.quartile_method) == ("either", 1, Fraction(1, 4), "weibull")
    _do(store, delphi.close_round, study_id)
    with pytest.raises(UserError, match="fixed when round 1 closed"):
        _do(store, delphi.set_stopping_rule, study_id, "consensus")


# --- rounds -----------------------------------------------------------------------------------
def test_round_one_is_frozen_once_closed(store):
    study_id, experts = _panel(store)
    late = _expert(store, study_id, "Eve")
    with pytest.raises(UserError, match="round 1 is still open"):
        _do(store, delphi.open_round, study_id)
    closed = _do(store, delphi.close_round, study_id)
    assert closed.number == 1 and closed.closed_at is not None
    with pytest.raises(UserError, match="closed already"):
        _do(store, delphi.close_round, study_id)
    _round_one(store, late, {"team": 0})  # a late round-1 answer is kept but does not count
    with store.write(ACTOR) as session, pytest.raises(UserError, match="answers are frozen"):
        study = studies.get_study(session, study_id)
        panel_members.reopen(session, panel_members.get_member(session, study, "E01"))
    with store.write(ACTOR) as session, pytest.raises(UserError, match="answers are frozen"):
        panel_responses.import_responses(session, studies.get_study(session, study_id), "expert,case,item,score\nE05,A,team,3\n")
    with store.read() as session:
        study = studies.get_study(session, study_id)
        counted = delphi.round_answers(session, study, delphi.list_rounds(session, study)[0])
        assert sorted(counted) == ["E01", "E02", "E03", "E04"]
        assert delphi.delphi_results(session, study, ADMIN).rounds[0]["experts"] == 4
    _do(store, delphi.open_round, study_id)
    assert _view(store, late) is None  # not invited to round 2


def test_open_round_two_copies_the_rating_statements(store):
    study_id, experts = _panel(store)
    _do(store, delphi.close_round, study_id)
    opened = _do(store, delphi.open_round, study_id)
    with store.read() as session:
        study = studies.get_study(session, study_id)
        q = session.get(panel_questionnaire.Questionnaire, opened.questionnaire_id)
        assert [i.key for i in q.items] == list(ITEMS) and q.frozen_at is not None
        # the round's copy is not a version of the panel's questionnaire
        assert panel_questionnaire.current_questionnaire(session, study).number == 1
        status = delphi.round_status(session, study, ADMIN)
    assert [(r["round"], r["status"], r["invited"]) for r in status["rounds"]] == [(1, "closed", 4), (2, "open", 4)]
    assert status["rule_fixed"] and "close it" in status["next"]
    with pytest.raises(UserError, match="round 2 is still open"):
        _do(store, delphi.open_round, study_id)


# --- the expert in round 2 ----------------------------------------------------------------------
def _round_two(store):
    study_id, experts = _panel(store)
    _do(store, delphi.close_round, study_id)
    _do(store, delphi.open_round, study_id)
    return study_id, experts


def _view(store, principal):
    with store.read() as session:
        return delphi.expert_round_view(session, principal)


def test_feedback_shows_group_median_iqr_and_own_previous_answer_only(store):
    study_id, experts = _round_two(store)
    view = _view(store, experts[0])
    assert view.number == 2 and view.cases == ["Case A", "Case B"] and not view.locked
    team = next(i for i in view.items if i.key == "team" and i.case == "Case A")
    # team answers 1, 3, 4, 5: linear quartiles 2.5 and 4.25, median 3.5
    assert team.feedback == {"n": 4, "median": 3.5, "q1": 2.5, "q3": 4.25, "iqr": 1.75}
    assert team.previous == 1 and team.value is None
    # Blind to each other: nothing in the view names another expert or holds their answers.
    text = json.dumps([vars(i) for i in view.items]) + json.dumps(vars(view), default=str)
    for other in ("E02", "E03", "E04", "Bob", "Cyd", "Dee"):
        assert other not in text
    assert set(team.feedback) == {"n", "median", "q1", "q3", "iqr"}


def test_a_revision_needs_a_reason_and_untouched_items_are_kept(store):
    study_id, experts = _round_two(store)
    ann = experts[0]
    with store.write(ann.actor) as session, pytest.raises(UserError, match="give a short reason"):
        delphi.save_revision(session, ann, "team", "Case A", 3)
    with store.write(ann.actor) as session, pytest.raises(UserError, match="give a short reason"):
        delphi.save_revision(session, ann, "team", "Case A", 3, "   ")
    with store.write(ann.actor) as session:
        saved = delphi.save_revision(session, ann, "team", "Case A", 3, "the case text shows the team held together")
        kept = delphi.save_revision(session, ann, "organization", "Case A", 3)  # the same value: no reason needed
    assert saved["revised"] and saved["previous"] == 1 and not kept["revised"]
    with store.write(ann.actor) as session, pytest.raises(UserError, match="outside the scale"):
        delphi.save_revision(session, ann, "team", "Case B", 9, "x")
    with store.write(ann.actor) as session:
        delphi.submit_round(session, ann)
    view = _view(store, ann)
    assert view.locked
    assert all(i.value is not None for i in view.items)  # untouched ones kept the previous answer
    with store.write(ann.actor) as session, pytest.raises(UserError, match="submitted and locked"):
        delphi.save_revision(session, ann, "team", "Case A", 4, "again")


def test_results_show_consensus_stability_and_movement(store):
    study_id, experts = _round_two(store)
    for principal, value in zip(experts, (3, 3, 4, 4)):  # team answers 1,3,4,5 -> 3,3,4,4 on Case A
        with store.write(principal.actor) as session:
            if value != (1, 3, 4, 5)[experts.index(principal)]:
                delphi.save_revision(session, principal, "team", "Case A", value, "read the case again")
            delphi.submit_round(session, principal)
    _do(store, delphi.close_round, study_id)
    with store.read() as session:
        results = delphi.delphi_results(session, studies.get_study(session, study_id), ADMIN)
    data = results.as_json()
    team_a = next(i for i in data["items"] if (i["item"], i["case"]) == ("team", "Case A"))
    first, second = team_a["rounds"]
    assert (first["iqr"], first["consensus"], first["changed"]) == (1.75, False, None)
    assert (second["median"], second["iqr"], second["consensus"], second["changed"], second["compared"]) == (3.5, 1.0, True, 2, 4)
    assert team_a["first_met"] == 2
    team_b = next(i for i in data["items"] if (i["item"], i["case"]) == ("team", "Case B"))
    assert team_b["rounds"][1]["changed"] == 0 and team_b["first_met"] is None
    assert [(r["round"], r["items"], r["consensus"], r["met"]) for r in data["rounds"]] == [(1, 8, 6, 6), (2, 8, 7, 7)]
    assert [(r["expert"], r["from"], r["to"], r["reason"]) for r in data["revisions"]] == [
        ("E01", 1, 3, "read the case again"), ("E04", 5, 4, "read the case again")]


def test_stability_rule_counts_the_share_of_changed_answers(store):
    study_id, experts = _panel(store)
    _do(store, delphi.set_stopping_rule, study_id, "stability", change_max="0.25")
    _do(store, delphi.close_round, study_id)
    _do(store, delphi.open_round, study_id)
    with store.write(experts[0].actor) as session:  # one of four changes 'team' on Case A: 25 % <= 25 %
        delphi.save_revision(session, experts[0], "team", "Case A", 2, "closer to the others")
    for principal in experts:
        with store.write(principal.actor) as session:
            delphi.submit_round(session, principal)
    with store.read() as session:
        data = delphi.delphi_results(session, studies.get_study(session, study_id), ADMIN).as_json()
    team_a = next(i for i in data["items"] if (i["item"], i["case"]) == ("team", "Case A"))
    assert team_a["rounds"][0]["rule_met"] is False  # stability is never met in round 1
    assert (team_a["rounds"][1]["changed_share"], team_a["rounds"][1]["stable"], team_a["rounds"][1]["rule_met"]) == (0.25, True, True)


# --- privacy ----------------------------------------------------------------------------------
def test_experts_are_refused_the_results_and_rounds_they_are_not_in(store):
    study_id, experts = _panel(store)
    outsider = _expert(store, study_id, "Eve")  # invited, never submitted round 1
    _do(store, delphi.close_round, study_id)
    _do(store, delphi.open_round, study_id)
    with store.read() as session:
        study = studies.get_study(session, study_id)
        with pytest.raises(AccessDenied) as refused:
            delphi.delphi_results(session, study, experts[0])
        with pytest.raises(AccessDenied):
            delphi.round_status(session, study, experts[0])
    access.log_refusal(store, refused.value.principal, "delphi results", refused.value.what)
    assert _view(store, outsider) is None
    with store.write(outsider.actor) as session, pytest.raises(AccessDenied) as not_in:
        delphi.save_revision(session, outsider, "team", "Case A", 3, "x")
    access.log_refusal(store, not_in.value.principal, "delphi revision", not_in.value.what)
    with store.read() as session:
        refusals = [e.detail for e in session.query(AuditEvent).filter_by(entity="access", action="refused")]
    assert {r["where"] for r in refusals} >= {"delphi results", "delphi revision"}
    assert any(r["kind"] == "expert" for r in refusals)
