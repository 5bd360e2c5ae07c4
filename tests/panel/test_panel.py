"""Expert panel: funnel state machine, Williams orders, freezing, autosave, validation, imports, privacy."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest

from casestudy import access
from casestudy.reports import table2 as aggregation
from casestudy.panel import design
from casestudy.masking import workflow as masking_workflow
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import Answer, MaskedText
from casestudy.reports import inputs
from casestudy.panel import answers as panel_answers
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire
from casestudy.panel import responses as panel_responses
from casestudy.panel import results as panel_results
from casestudy.panel import scale as panel_scale
from casestudy.panel import results

ROOT = Path(__file__).resolve().parents[2]
ACTOR = "tester"


# --- helpers --------------------------------------------------------------------------------
def _study(store, n_cases: int = 3, release: int | None = None, title: str = "Panel study"):
    """A study with n cases (Unit k / Case X, organisation 'Kliniek k'), texts released for the first ``release``."""
    release = n_cases if release is None else release
    with store.write(ACTOR) as session:
        study = studies.create_study(session, title)
        for k in range(n_cases):
            case = studies.add_case(session, study, f"Unit {k + 1}", f"Case {'ABCDEFG'[k]}", f"Kliniek Noordhorn {k + 1}")
            row = masking_workflow.generate_masked(session, case, f"The programme of case number {k + 1} ran for two years.\n\nThe team stayed.")
            if k < release:
                masking_workflow.accept_all(session, row.id)
                masking_workflow.release(session, row.id, ACTOR, allow_open_candidates=True)
        panel_questionnaire.create_default_questionnaire(session, study)
        return study.id


def _member(store, study_id, name, invite=True):
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        member = panel_members.add_member(session, study, name, f"{name.replace(' ', '.').lower()}@example.org", "Some Org")
        secret = None
        if invite:
            secret = panel_members.invite(session, study, member, "http://app")["link"].split("token=")[1]
        return member.id, secret


def _principal(store, secret) -> Principal:
    return access.resolve_token(store, secret)


def _open(store, principal):
    with store.write(principal.actor) as session:
        panel_answers.open_questionnaire(session, principal)


def _save(store, principal, key, value, case=None):
    with store.write(principal.actor) as session:
        return panel_answers.save_answer(session, principal, key, value, case)


def _view(store, principal):
    with store.read() as session:
        return panel_answers.expert_view(session, principal)


def _complete(store, principal, score=4):
    view = _view(store, principal)
    for case in view.cases:
        for key in ("combination", "organization", "team", "therapist"):
            _save(store, principal, key, score, case.label)
    _save(store, principal, "recurring", ["leadership", "budget"])
    _save(store, principal, "recurring_order", ["budget", "leadership"])


# --- demo reproduces the reference data --------------------------------------------------------
def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_demo_answers_reproduce_reference_files_exactly(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        ratings, mentions, _ = results.answers_rows(session, study)
        assert _rows(results.ratings_csv(ratings)) == _rows((ROOT / "examples/reference-ratings.csv").read_text(encoding="utf-8"))
        assert _rows(results.determinants_csv(mentions)) == _rows((ROOT / "examples/reference-determinants.csv").read_text(encoding="utf-8"))
        # The reports stage reads the same answers through the provider registry.
        assert inputs.study_ratings(session, study) == ratings
        assert inputs.study_determinants(session, study) == mentions
        figures = inputs.study_panel_figures(session, study)
        assert (figures.invited, figures.returned, figures.response_rate) == (20, 12, 0.6)
        assert 80 <= figures.median_minutes <= 100
        q = panel_questionnaire.current_questionnaire(session, study)
        legend = panel_questionnaire.scale_legend(q)
        assert panel_questionnaire.study_scale(session, study) == panel_scale.PANEL_SCALE
    assert legend == "Scale 0-5: 0 = clearly contradicted in this case; 5 = completely confirmed in this case."
    # Table 2 cells from the panel equal the published ones (mean to one decimal, range).
    table = aggregation.table2(ratings, panel_scale.PANEL_SCALE)
    first = table.items[0]
    assert table.formatted_cell(first, "A") == "4.8 (4-5)"
    assert table.formatted_cell("Therapist factors contributed", "A") == "2.4 (1-4)"


def test_demo_funnel(demo_store):
    with demo_store.read() as session:
        result = panel_members.funnel(session, studies.get_study(session))
    assert result.response_rate == "12 of 20, 60 %"
    assert result.counts == {"new": 0, "invited": 2, "opened": 2, "in_progress": 2, "submitted": 12, "declined": 2}
    assert result.reached == {"invited": 20, "opened": 16, "started": 14, "submitted": 12, "declined": 2}
    positions = [m["position"] for m in result.members]
    assert positions == list(range(20))
    assert all(m["declined_at"] for m in result.members if m["status"] == "declined")
    assert not any(m["link_active"] for m in result.members if m["status"] == "declined")


def test_rate_text():
    assert panel_members.rate_text(12, 20) == "12 of 20, 60 %"
    assert panel_members.rate_text(1, 3) == "1 of 3, 33.3 %"
    assert panel_members.rate_text(0, 0) == "nobody invited yet"


# --- state machine --------------------------------------------------------------------------
def test_state_machine(store):
    study_id = _study(store)
    member_id, secret = _member(store, study_id, "Ann Expert", invite=False)
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        member = panel_members.get_member(session, study, "E01")
        assert member.status == "new" and member.position is None
        with pytest.raises(UserError, match="cannot change to submitted"):
            panel_members.set_status(member, "submitted")
        with pytest.raises(UserError, match="has not submitted"):
            panel_members.reopen(session, member)
        secret = panel_members.invite(session, study, member, "http://app")["link"].split("token=")[1]
        assert member.status == "invited" and member.invited_at and member.position == 0
    principal = _principal(store, secret)
    _open(store, principal)
    assert _view(store, principal).status == "opened"
    _save(store, principal, "combination", 3, "Case B")
    assert _view(store, principal).status == "in_progress"
    with pytest.raises(UserError, match="before you submit"):
        with store.write(ACTOR) as session:
            panel_answers.submit(session, principal)
    _complete(store, principal)
    with store.write(ACTOR) as session:
        member = panel_answers.submit(session, principal)
        assert member.status == "submitted" and member.submitted_at and member.opened_at and member.started_at
    with pytest.raises(UserError, match="locked"):
        _save(store, principal, "combination", 1, "Case B")
    with store.write(ACTOR) as session:
        member = panel_members.reopen(session, panel_members.get_member(session, studies.get_study(session, study_id), "E01"))
        assert member.status == "in_progress" and member.submitted_at is None
    _save(store, principal, "combination", 1, "Case B")
    with store.write(ACTOR) as session:
        panel_members.decline(session, panel_members.get_member(session, studies.get_study(session, study_id), "E01"))
    with pytest.raises(AccessDenied):  # declining revokes the link
        _principal(store, secret)


def test_new_link_revokes_old_one_and_keeps_answers(store):
    study_id = _study(store)
    _, secret = _member(store, study_id, "Ann Expert")
    principal = _principal(store, secret)
    _save(store, principal, "team", 5, "Case A")
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        rows = panel_members.reminder_links(session, study, "http://app")
    assert [r["pseudonym"] for r in rows] == ["E01"] and rows[0]["mailto"].startswith("mailto:ann.expert@example.org?subject=Reminder")
    with pytest.raises(AccessDenied):
        _principal(store, secret)
    fresh = _principal(store, rows[0]["link"].split("token=")[1])
    assert _view(store, fresh).answers == {"team|Case A": 5}
    with store.write(ACTOR) as session:
        assert panel_members.revoke_links(session, panel_members.get_member(session, studies.get_study(session, study_id), "E01")) == 1


# --- Williams assignment ----------------------------------------------------------------------
def test_williams_orders_follow_invitation_order_and_positions_are_stored(store):
    study_id = _study(store, n_cases=4)
    secrets = [_member(store, study_id, f"Expert {k}")[1] for k in range(5)]
    with store.read() as session:
        study = studies.get_study(session, study_id)
        labels = [c.public_label for c in studies.list_cases(session, study)]
    for position, secret in enumerate(secrets):
        principal = _principal(store, secret)
        view = _view(store, principal)
        assert [c.label for c in view.cases] == design.order_for(position, labels)
        assert [c.position for c in view.cases] == [1, 2, 3, 4]
        second = view.cases[1]
        _save(store, principal, "organization", 2, second.label)
        with store.read() as session:
            answer = session.query(Answer).filter(Answer.member_id == principal.subject_id).one()
            assert answer.shown_position == 2 and answer.case_id == second.case_id
    # Each case appears once in each position across the first four experts (a Latin square).
    firsts = {design.order_for(p, labels)[0] for p in range(4)}
    assert firsts == set(labels)


# --- freezing ---------------------------------------------------------------------------------
def test_questionnaire_frozen_once_opened_and_new_version(store):
    study_id = _study(store)
    _, first = _member(store, study_id, "Ann Expert")
    with store.write(ACTOR) as session:
        q = panel_questionnaire.require_questionnaire(session, studies.get_study(session, study_id))
        panel_questionnaire.update_item(session, q, "comment", text="Anything else?")  # editable before anyone opened it
        with pytest.raises(UserError, match="not frozen yet"):
            panel_questionnaire.new_version(session, studies.get_study(session, study_id))
    _open(store, _principal(store, first))
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        q = panel_questionnaire.require_questionnaire(session, study)
        assert q.frozen_at is not None
        with pytest.raises(UserError, match="frozen"):
            panel_questionnaire.update_item(session, q, "comment", text="changed")
        with pytest.raises(UserError, match="frozen"):
            panel_questionnaire.update_questionnaire(session, q, scale_max=7, scale_labels={"0": "no", "7": "yes"})
        v2 = panel_questionnaire.new_version(session, study)
        panel_questionnaire.update_questionnaire(session, v2, scale_min=1, scale_max=5, scale_labels={"1": "not at all", "5": "fully"})
        panel_questionnaire.add_item(session, v2, "open_comment", "extra", "One more remark?", required=False)
        with pytest.raises(UserError, match="both ends"):
            panel_questionnaire.update_questionnaire(session, v2, scale_labels={"1": "only one end"})
    _, second = _member(store, study_id, "Bob Expert")
    old, new = _view(store, _principal(store, first)), _view(store, _principal(store, second))
    assert old.questionnaire["version"] == 1 and new.questionnaire["version"] == 2
    assert new.questionnaire["legend"] == "Scale 1-5: 1 = not at all; 5 = fully."
    with pytest.raises(UserError, match="outside the scale 1-5"):
        _save(store, _principal(store, second), "team", 0, "Case A")
    _save(store, _principal(store, first), "team", 0, "Case A")  # version 1 keeps its 0-5 scale


def test_builder_items(store):
    study_id = _study(store)
    with store.write(ACTOR) as session:
        q = panel_questionnaire.require_questionnaire(session, studies.get_study(session, study_id))
        with pytest.raises(UserError, match="unknown item kind"):
            panel_questionnaire.add_item(session, q, "slider", "x", "text")
        with pytest.raises(UserError, match="already"):
            panel_questionnaire.add_item(session, q, "free_list", "recurring", "text")
        with pytest.raises(UserError, match="ordered by another item"):
            panel_questionnaire.remove_item(session, q, "recurring")
        panel_questionnaire.move_item(session, q, "comment", -1)
        assert [i.key for i in q.items][-2:] == ["comment", "additional"]
        panel_questionnaire.remove_item(session, q, "comment")
        assert [i.ordinal for i in q.items] == list(range(1, len(q.items) + 1))


# --- validation and autosave ------------------------------------------------------------------
def test_validation_lists_missing_ratings_by_case(store):
    study_id = _study(store)
    _, secret = _member(store, study_id, "Ann Expert")
    principal = _principal(store, secret)
    view = _view(store, principal)
    first = view.cases[0].label
    _save(store, principal, "combination", 4, first)
    _save(store, principal, "team", 4, first)
    with store.read() as session:
        missing = panel_answers.validate(session, principal)
    assert missing[0] == f"{first}: statements 2, 4 not rated yet"
    assert missing[1] == f"{view.cases[1].label}: statements 1, 2, 3, 4 not rated yet"
    assert any(m.startswith("Recurring determinants:") for m in missing)
    assert any("order of importance" in m for m in missing)
    assert not any("Additional" in m or "Comment" in m for m in missing)  # optional items
    assert _view(store, principal).done == 2 and _view(store, principal).total == 3 * 4 + 2
    for bad, message in ((6, "outside the scale"), ("x", "whole number"), (True, "whole number")):
        with pytest.raises(UserError, match=message):
            _save(store, principal, "team", bad, first)
    with pytest.raises(UserError, match="no case"):
        _save(store, principal, "team", 3, "Case Z")
    with pytest.raises(UserError, match="once for all cases"):
        _save(store, principal, "recurring", ["a"], first)
    _save(store, principal, "team", None, first)  # clearing a rating
    assert "team|" + first not in {k for k, v in _view(store, principal).answers.items() if v is not None}


def test_ordered_list_follows_the_free_list(store):
    study_id = _study(store)
    _, secret = _member(store, study_id, "Ann Expert")
    principal = _principal(store, secret)
    _save(store, principal, "recurring", "leadership\n\n budget \nLeadership\ntraining")
    assert _view(store, principal).answers["recurring"] == ["leadership", "budget", "training"]
    with pytest.raises(UserError, match="not in your list"):
        _save(store, principal, "recurring_order", ["money"])
    _save(store, principal, "recurring_order", ["training", "leadership", "budget"])
    _save(store, principal, "recurring", ["leadership", "training"])  # budget removed: it leaves the order too
    assert _view(store, principal).answers["recurring_order"] == ["training", "leadership"]


def test_reload_continues_and_time_is_recorded(store):
    study_id = _study(store)
    _, secret = _member(store, study_id, "Ann Expert")
    principal = _principal(store, secret)
    label = _view(store, principal).cases[0].label
    _save(store, principal, "therapist", 2, label)
    with store.write(ACTOR) as session:
        panel_answers.record_time(session, principal, label, 30)
        panel_answers.record_time(session, principal, label, 12.5)
        panel_answers.record_time(session, principal, label, -5)
    again = _principal(store, secret)  # a new device: the same link, the same answers
    view = _view(store, again)
    assert view.answers == {f"therapist|{label}": 2} and view.seconds == {label: 42.5}


def test_concurrent_autosaves_lose_nothing(store):
    study_id = _study(store, n_cases=2)
    principals = [_principal(store, _member(store, study_id, f"Expert {k}")[1]) for k in range(6)]
    errors = []

    def work(principal):
        try:
            view = _view(store, principal)
            for case in view.cases:
                for score, key in enumerate(("combination", "organization", "team", "therapist")):
                    _save(store, principal, key, score + 1, case.label)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in principals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read() as session:
        assert session.query(Answer).count() == 6 * 2 * 4


def test_printable_copy_holds_the_answers(store):
    study_id = _study(store)
    _, secret = _member(store, study_id, "Ann Expert")
    principal = _principal(store, secret)
    _complete(store, principal, score=3)
    _save(store, principal, "comment", "<script>alert(1)</script>")
    with store.write(ACTOR) as session:
        panel_answers.submit(session, principal)
    with store.read() as session:
        copy = panel_answers.printable_copy(session, principal)
    assert "Submitted on" in copy and "<ol><li>budget</li><li>leadership</li></ol>" in copy
    assert "<script>" not in copy and "&lt;script&gt;" in copy
    assert panel_questionnaire.scale_legend(panel_scale.PANEL_SCALE) in copy


# --- privacy ----------------------------------------------------------------------------------
def test_expert_sees_only_released_texts_and_own_answers(store):
    study_id = _study(store, n_cases=3, release=2)
    _, first = _member(store, study_id, "Ann Expert")
    _, second = _member(store, study_id, "Bob Expert")
    ann, bob = _principal(store, first), _principal(store, second)
    view = _view(store, ann)
    assert sorted(c.label for c in view.cases) == ["Case A", "Case B"]  # Case C's text is only a draft
    with pytest.raises(UserError, match="no case"):
        _save(store, ann, "team", 3, "Case C")
    _save(store, ann, "team", 5, "Case A")
    assert _view(store, bob).answers == {}
    blob = json.dumps(panel_questionnaire.questionnaire_record, default=str) + repr(_view(store, ann)) + repr(_view(store, bob))
    for secret_text in ("Unit 1", "Unit 2", "Unit 3", "Kliniek Noordhorn", "Ann Expert", "Bob Expert", "bob.expert@example.org"):
        assert secret_text not in blob
    # Someone else's link, a researcher or a respondent cannot use the expert functions.
    other_study = _study(store, title="Other study")
    with store.write(ACTOR) as session:
        _, stray = access.issue_token(session, other_study, "expert", "panel_member", ann.subject_id)
    stray_principal = _principal(store, stray)
    with pytest.raises(AccessDenied):
        _view(store, stray_principal)
    for intruder in (Principal("researcher", 1, "admin", role="admin"), Principal("respondent", 1, "r", study_id=study_id)):
        with pytest.raises(AccessDenied):
            _save(store, intruder, "team", 3, "Case A")
        with pytest.raises(AccessDenied):
            _view(store, intruder)


def test_demo_expert_view_contains_no_identities(demo_store):
    with demo_store.write(ACTOR) as session:
        study = studies.get_study(session)
        member = panel_members.get_member(session, study, "E17")
        secret = panel_members.invite(session, study, member, "http://app")["link"].split("token=")[1]
        names = [m.name for m in panel_members.list_members(session, study)]
        register = [e.term for e in masking_workflow.list_entries(session, study)]
        internal = [c.internal_label for c in studies.list_cases(session, study)]
        orgs = sorted({c.organisation.name for c in studies.list_cases(session, study) if c.organisation})
        released = session.query(MaskedText).filter(MaskedText.status == "released", MaskedText.text_kind == "narrative").count()
    assert released == 7
    principal = _principal(demo_store, secret)
    _complete(demo_store, principal)
    with demo_store.write(ACTOR) as session:
        panel_answers.submit(session, principal)
    with demo_store.read() as session:
        blob = repr(panel_answers.expert_view(session, principal)) + panel_answers.printable_copy(session, principal)
    for text in names + register + internal + orgs:
        assert text not in blob, text


# --- imports ------------------------------------------------------------------------------------
def test_import_responses_all_or_nothing_reports_every_bad_row(store):
    study_id = _study(store)
    for name in ("Ann Expert", "Bob Expert"):
        _member(store, study_id, name, invite=False)
    ratings = (
        "expert,case,item,score\n"
        "E01,A,Team factors contributed,4\n"
        "E01,Z,Team factors contributed,4\n"  # unknown case
        "E01,B,team,9\n"  # outside the scale
        "E01,A,team,3\n"  # duplicate of row 2 (key and label name the same item)
        "E09,A,team,3\n"  # unknown expert
        "E02,A,Mood of the moon,3\n"  # unknown item
    )
    determinants = "expert,task,rank,determinant\nE01,recurring,1,budget\nE01,sideways,,x\nE02,recurring,zero,y\n"
    with pytest.raises(UserError) as caught:
        with store.write(ACTOR) as session:
            panel_responses.import_responses(session, studies.get_study(session, study_id), ratings, determinants)
    message = caught.value.message
    for expected in ("row 3: unknown case 'Z'", "row 4: score 9 lies outside the scale 0-5", "row 5: duplicate rating of expert E01",
                     "row 6: unknown expert 'E09'", "row 7: unknown item 'Mood of the moon'", "determinants CSV, row 3: task 'sideways'",
                     "determinants CSV, row 4: rank 'zero'"):
        assert expected in message
    assert message.startswith("nothing imported; 7 problem(s)")
    with store.read() as session:
        assert session.query(Answer).count() == 0
        assert {m.status for m in panel_members.list_members(session, studies.get_study(session, study_id))} == {"new"}
    good = "expert,case,item,score\n" + "".join(f"E02,{c},{k},3\n" for c in "ABC" for k in ("combination", "organization", "team", "therapist"))
    with store.write(ACTOR) as session:
        result = panel_responses.import_responses(session, studies.get_study(session, study_id), good, "expert,task,rank,determinant\nE02,recurring,,budget\n")
    assert result["members"] == ["E02"] and result["ratings"] == 12
    with store.read() as session:
        ratings, mentions, _ = results.answers_rows(session, studies.get_study(session, study_id))
    assert len(ratings) == 12 and mentions == [panel_results.DeterminantMention("E02", "recurring", None, "budget")]


def test_import_members_csv_all_or_nothing(store):
    study_id = _study(store)
    bad = "name,email,organisation,expertise\nAnn,ann@example.org,Org,managing programmes\n,x@example.org,,\nCid,not-an-email,,\nDee,,,astrology\n"
    with pytest.raises(UserError) as caught:
        with store.write(ACTOR) as session:
            panel_members.import_members_csv(session, studies.get_study(session, study_id), bad)
    assert all(f"row {n}" in caught.value.message for n in (3, 4, 5)) and "row 2" not in caught.value.message
    with store.write(ACTOR) as session:
        study = studies.get_study(session, study_id)
        assert panel_members.list_members(session, study) == []
        added = panel_members.import_members_csv(session, study, "name,email,expertise\nAnn,ann@example.org,managing;treating\nBo,,\n")
        assert [(m.pseudonym, m.expertise) for m in added] == [("E01", ["managing programmes", "treating the target population"]), ("E02", [])]


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_panel(store, cli, tmp_path):
    study_id = _study(store)
    db = ("--db", store.url, "--study", str(study_id))
    assert cli(*db, "panel", "members", "add", "Ann Expert", "--email", "ann@example.org", "--expertise", "managing programmes").code == 0
    members = tmp_path / "members.csv"
    members.write_text("name,email\nBob Expert,bob@example.org\n", encoding="utf-8")
    assert "E02" in cli(*db, "panel", "members", "import", members).out
    listed = json.loads(cli(*db, "panel", "members", "list", "--format", "json").out)
    assert [m["pseudonym"] for m in listed] == ["E01", "E02"]
    invited = cli(*db, "panel", "invite", "--all-new", "--base-url", "https://panel.example", "--format", "json")
    links = json.loads(invited.out)
    assert [r["pseudonym"] for r in links] == ["E01", "E02"] and links[0]["link"].startswith("https://panel.example/?token=")
    funnel = json.loads(cli(*db, "panel", "funnel", "--format", "json").out)
    assert funnel["response_rate"] == "0 of 2, 0 %" and funnel["reached"]["invited"] == 2
    shown = json.loads(cli(*db, "panel", "questionnaire", "show", "--format", "json").out)
    assert shown["scale"] == {"min": 0, "max": 5, "labels": {"0": "clearly contradicted in this case", "5": "completely confirmed in this case"}}
    assert cli(*db, "panel", "questionnaire", "new-version").code == 2  # not frozen yet
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("expert,case,item,score\nE01,A,team,7\nE01,Q,team,1\n", encoding="utf-8")
    bad = cli(*db, "panel", "responses", "import", "--ratings", ratings)
    assert bad.code == 2 and "row 2" in bad.err and "row 3" in bad.err
    ratings.write_text("expert,case,item,score\nE01,A,team,4\n", encoding="utf-8")
    assert cli(*db, "panel", "responses", "import", "--ratings", ratings).code == 0
    exported = cli(*db, "panel", "answers", "export", "ratings")
    assert _rows(exported.out) == [["expert", "case", "item", "score"], ["E01", "A", "Team factors contributed", "4"]]
    assert "Ann" not in exported.out
    assert cli(*db, "panel", "revoke", "E02").out.startswith("revoked 1 link")
    assert cli(*db, "panel", "members", "decline", "E02").code == 0
    reminded = json.loads(cli(*db, "panel", "remind", "--format", "json").out)
    assert reminded == []  # E01 submitted by import, E02 declined


# --- pages (AppTest) ----------------------------------------------------------------------------
def _researcher_page(store, app_env, page="panel"):
    from casestudy import users

    with store.read() as session:
        admin = next(u for u in users.list_users(session) if u.role == "admin")
    app_env(store)  # points the app at this store
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "page_app.py"), default_timeout=30)
    at.query_params["page"] = page
    at.session_state["_principal"] = access.researcher(admin)
    return at


def test_researcher_page(demo_store, app_env):
    at = _researcher_page(demo_store, app_env)
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Invited": "20", "Opened": "16", "Started": "14", "Submitted": "12", "Declined": "2", "Response rate": "60 %"}
    assert any(c.value == "Response rate: 12 of 20, 60 %" for c in at.caption)
    assert at.dataframe[0].value["pseudonym"].tolist()[:2] == ["E01", "E02"]
    # Add a member through the form, then invite every new member: one copyable link each.
    at.text_input(key="panel_member_name").input("Vera Nieuwkoop")
    at.text_input(key="panel_member_email").input("vera@example.org")
    at.button(key="FormSubmitter:panel_add_member-Add member").click().run()
    assert any("Added E21" in s.value for s in at.success)
    at.button(key="panel_invite_new").click().run()
    assert not at.exception
    assert len(at.code) == 1 and "/?token=" in at.code[0].value
    # fresh state: the funnel and the member list count the invitation without navigating away
    assert {m.label: m.value for m in at.metric}["Invited"] == "21"
    assert at.dataframe[0].value.set_index("pseudonym").loc["E21", "status"] == "invited"
    assert at.button(key="panel_invite_new").disabled
    # The questionnaire is frozen (experts opened it): preview shows the legend, a new version is offered.
    assert any(c.value == "Scale 0-5: 0 = clearly contradicted in this case; 5 = completely confirmed in this case." for c in at.caption)
    at.button(key="panel_q_new_version").click().run()
    assert not at.exception and not at.error
    with demo_store.read() as session:
        # version 2 is the demo's Delphi round-2 copy of the rating statements, so the new version is 3
        assert panel_questionnaire.current_questionnaire(session, studies.get_study(session)).number == 3


def test_expert_page(demo_store, app_env):
    with demo_store.write(ACTOR) as session:
        study = studies.get_study(session)
        secret = panel_members.invite(session, study, panel_members.get_member(session, study, "E17"), "http://app")["link"].split("token=")[1]
    at = app_env(demo_store)({"token": secret})
    at.run()
    assert not at.exception and at.title[0].value == "Expert panel"
    principal = _principal(demo_store, secret)
    view = _view(demo_store, principal)
    assert view.status == "opened"
    steps = at.radio(key="expert_step").options
    assert steps == [f"{c.position}. {c.label}" for c in view.cases] + ["Determinants", "Check and submit"]
    first = view.cases[0].label
    at.radio(key=f"rate|team|{first}").set_value(5).run()
    assert _view(demo_store, principal).answers == {f"team|{first}": 5}
    assert "1 of 30" in at.get("progress")[0].proto.text
    at.radio(key="expert_step").set_value("Check and submit").run()
    assert f"- {first}: statements 1, 2, 4 not rated yet" in at.warning[0].value
    at.button(key="expert_submit").click().run()
    assert any("before you submit" in e.value for e in at.error)
    _complete(demo_store, principal)
    at.radio(key="expert_step").set_value("Determinants").run()
    assert [b.label for b in at.button][:2] == ["Move up", "Move down"]
    at.radio(key="expert_step").set_value("Check and submit").run()
    assert any("Everything required is answered" in s.value for s in at.success)
    at.button(key="expert_submit").click().run()
    assert not at.exception
    assert any("submitted" in s.value for s in at.success)
    assert _view(demo_store, principal).status == "submitted"
    assert at.get("download_button")  # the printable copy
