"""The member-check state machine, privacy of the respondent functions, offline answers, exports."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from docx import Document

from casestudy import access
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import AuditEvent, ConsentRecord
from casestudy.reconstruction import documents
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.reconstruction import narrative as reconstruction_narrative

TEXT_1 = "# Case A\n\nThe programme started in spring.\n\nThe team was small [[coding:4]].\n\nIt stopped after two years.\n"
TEXT_2 = TEXT_1.replace("small", "small and cohesive")
GIVEN = dt.date(2024, 1, 10)


@pytest.fixture
def mc_store(store):
    with store.write("tester") as session:
        study = studies.create_study(session, "Test study")
        for internal, public in (("Unit 1", "Case A"), ("Unit 2", "Case B")):
            case = studies.add_case(session, study, internal, public)
            for name, role in ((f"{public} manager", "manager"), (f"{public} therapist", "therapist")):
                respondent = studies.add_respondent(session, case, name, role)
                studies.record_consent(session, respondent, "member_check", GIVEN)
    return store


def _case(session, label="Case A"):
    return studies.get_case(session, studies.get_study(session), label)


def _principal(session, case_label="Case A", role="manager") -> Principal:
    respondent = next(r for r in _case(session, case_label).respondents if r.role == role)
    return Principal(access.RESPONDENT, respondent.id, f"respondent {respondent.id}", study_id=respondent.case.study_id)


def _send(store, text=TEXT_1, note="") -> reconstruction_membercheck.SendResult:
    with store.write("alice") as session:
        case = _case(session)
        latest = reconstruction_narrative.latest_version(session, case)
        if latest is None or latest.text != text:
            reconstruction_narrative.save_version(session, case, text, "alice", note)
        return reconstruction_membercheck.send_to_member_check(session, case, "alice", base_url="http://x")


def test_send_opens_round_and_issues_one_working_link_per_respondent(mc_store):
    result = _send(mc_store)
    assert (result.round, result.version, len(result.links)) == (1, 1, 2)
    secret = result.links[0].link.split("token=")[1]
    principal = access.resolve_token(mc_store, secret)
    assert principal.kind == access.RESPONDENT
    with mc_store.read() as session:
        view = reconstruction_membercheck.review_for(session, principal)
        state = reconstruction_membercheck.case_state(session, _case(session))
    assert view.state == "open" and view.case == "Case A" and view.version == 1
    assert view.paragraphs[2] == "The team was small."  # evidence references hidden from respondents
    assert (state.state, state.round, state.answered) == ("under review", 1, 0)
    with pytest.raises(UserError, match="already under review in round 1"):
        _send(mc_store)


def test_send_needs_version_respondents_and_member_check_consent(mc_store):
    with mc_store.write("alice") as session:
        case = _case(session)
        with pytest.raises(UserError, match="no saved version"):
            reconstruction_membercheck.send_to_member_check(session, case, "alice")
        reconstruction_narrative.save_version(session, case, TEXT_1, "alice")
        reconstruction_narrative.save_version(session, case, TEXT_2, "alice")
        with pytest.raises(UserError, match="only the latest version"):
            reconstruction_membercheck.send_to_member_check(session, case, "alice", version_number=1)
        studies.add_respondent(session, case, "New Person", "other")
        with pytest.raises(UserError, match="missing for: New Person"):
            reconstruction_membercheck.send_to_member_check(session, case, "alice")


def test_autosaved_comments_survive_and_agreement_locks_version_with_consent(mc_store):
    _send(mc_store)
    with mc_store.write("respondent") as session:
        manager = _principal(session)
        reconstruction_membercheck.save_comment(session, manager, 1, "It started in late spring.")
        reconstruction_membercheck.save_general_comment(session, manager, "Fine overall.")
    with mc_store.read() as session:  # a "reload": everything comes back from the store
        view = reconstruction_membercheck.review_for(session, _principal(session))
    assert view.comments == {1: "It started in late spring."} and view.general_comment == "Fine overall."
    with mc_store.write("respondent") as session:
        assert reconstruction_membercheck.submit_decision(session, _principal(session), "agree", view.content_hash) == "under review"
        with pytest.raises(UserError, match="already been submitted"):
            reconstruction_membercheck.save_comment(session, _principal(session), 0, "late change")
        assert reconstruction_membercheck.submit_decision(session, _principal(session, role="therapist"), "agree") == "agreed"
    with mc_store.read() as session:
        case = _case(session)
        version = reconstruction_membercheck.agreed_version(session, case)
        assert version is not None and version.locked and version.number == 1
        finals = [c for r in case.respondents for c in r.consents if c.scope == "final_text"]
        assert len(finals) == 2 and all(version.content_hash in c.note for c in finals)
        assert reconstruction_membercheck.review_for(session, _principal(session)).state == "agreed"
        assert reconstruction_membercheck.stage_status(session, case).summary == "agreed (version 1)"
        source = reconstruction_membercheck.masking_source(session, case)
        assert source["source_ref"] == f"reconstruction_version:{version.id}" and source["version"] == 1
        assert "[[coding" not in source["text"] and "The team was small." in source["text"]
        assert source["content_hash"] == version.content_hash
        assert session.query(AuditEvent).filter_by(entity="reconstruction_version", action="agreed").count() == 1
    with pytest.raises(UserError, match="already agreed"):
        _send(mc_store)


def test_cannot_agree_to_superseded_version_and_new_version_resets_round(mc_store):
    first = _send(mc_store)
    with mc_store.write("respondent") as session:
        reconstruction_membercheck.submit_decision(session, _principal(session), "agree")
        old_hash = reconstruction_membercheck.review_for(session, _principal(session, role="therapist")).content_hash
    with mc_store.write("alice") as session:
        reconstruction_narrative.save_version(session, _case(session), TEXT_2, "alice", "wording")
        state = reconstruction_membercheck.case_state(session, _case(session))
        assert (state.state, state.version) == ("draft", 2)
        assert reconstruction_narrative.get_version(session, _case(session), 1).status == "superseded"
    with mc_store.write("respondent") as session:
        therapist = _principal(session, role="therapist")
        assert reconstruction_membercheck.review_for(session, therapist).state == "waiting"
        with pytest.raises(UserError, match="no version open"):
            reconstruction_membercheck.submit_decision(session, therapist, "agree", old_hash)
    second = _send(mc_store, TEXT_2)
    assert (second.round, second.version) == (2, 2) and first.round == 1
    with mc_store.write("respondent") as session:
        # the manager's agreement to version 1 does not carry over: a new round starts empty
        view = reconstruction_membercheck.review_for(session, _principal(session))
        assert (view.state, view.decision, view.round) == ("open", "none", 2)
        with pytest.raises(UserError, match="text changed"):
            reconstruction_membercheck.submit_decision(session, _principal(session, role="therapist"), "agree", old_hash)
        reconstruction_membercheck.submit_decision(session, _principal(session, role="therapist"), "agree")
        assert reconstruction_membercheck.case_state(session, _case(session)).state == "under review"
        reconstruction_membercheck.submit_decision(session, _principal(session), "agree")
        assert reconstruction_membercheck.agreed_version(session, _case(session)).number == 2


def test_superseded_round_refuses_an_agreement_in_flight(mc_store):
    """A respondent page opened on version 1 cannot agree after version 2 replaced it."""
    _send(mc_store)
    with mc_store.write("x") as session:
        case = _case(session)
        round_ = reconstruction_membercheck.open_round(session, case)
        respondent = case.respondents[0]
        response = reconstruction_membercheck._response(session, round_, respondent)
        reconstruction_narrative.save_version(session, case, TEXT_2, "alice")
        with pytest.raises(UserError, match="superseded"):
            reconstruction_membercheck._decide(session, round_, respondent, response, "agree", None)


def test_changes_needed_requires_a_comment_then_dashboard_and_processing(mc_store):
    _send(mc_store)
    with mc_store.write("respondent") as session:
        therapist = _principal(session, role="therapist")
        with pytest.raises(UserError, match="say what should change"):
            reconstruction_membercheck.submit_decision(session, therapist, "changes_needed")
        reconstruction_membercheck.save_comment(session, therapist, 2, "We were four people, not three.")
        with pytest.raises(UserError, match="no paragraph 10"):
            reconstruction_membercheck.save_comment(session, therapist, 9, "x")
        assert reconstruction_membercheck.submit_decision(session, therapist, "changes_needed") == "changes requested"
    with mc_store.write("alice") as session:
        board = reconstruction_membercheck.dashboard(session, _case(session))
        assert (board["round"], board["version"], board["state"]) == (1, 1, "changes requested")
        assert [(a["respondent"], a["decision"]) for a in board["answers"]] == [("Case A manager", "none"), ("Case A therapist", "changes_needed")]
        [comment] = board["open_comments"]
        assert (comment["paragraph"], comment["text"]) == (3, "We were four people, not three.")
        with pytest.raises(UserError, match="say how"):
            reconstruction_membercheck.mark_processed(session, _case(session), comment["id"], "", "alice")
        with pytest.raises(UserError, match="no comment"):
            reconstruction_membercheck.mark_processed(session, _case(session, "Case B"), comment["id"], "x", "alice")
        reconstruction_membercheck.mark_processed(session, _case(session), comment["id"], "team size corrected in paragraph 3", "alice")
        board = reconstruction_membercheck.dashboard(session, _case(session))
    assert board["open_comments"] == [] and board["comments"][0]["processed_by"] == "alice"


def _both_agree(store) -> None:
    _send(store)
    with store.write("respondent") as session:
        reconstruction_membercheck.submit_decision(session, _principal(session), "agree")
        reconstruction_membercheck.submit_decision(session, _principal(session, role="therapist"), "agree")


@pytest.mark.parametrize("scope", ["member_check", "final_text"])
def test_withdrawing_consent_reopens_an_agreed_case(mc_store, scope):
    _both_agree(mc_store)
    with mc_store.write("alice") as session:
        case = _case(session)
        assert reconstruction_membercheck.case_state(session, case).state == "agreed"
        studies.withdraw_consent(session, case.respondents[1], scope, dt.date.today())
    with mc_store.read() as session:
        case = _case(session)
        state = reconstruction_membercheck.case_state(session, case)
        assert state.state == "reopened" and f"withdrew {scope} consent" in state.detail
        assert reconstruction_membercheck.agreed_version(session, case) is None
        assert reconstruction_membercheck.stage_status(session, case).summary == "reopened"
        with pytest.raises(UserError, match="no agreed reconstruction"):
            reconstruction_membercheck.require_agreed_version(session, case)
        with pytest.raises(UserError, match="no agreed reconstruction"):
            reconstruction_membercheck.masking_source(session, case)


def test_new_respondent_reopens_and_agreement_needs_everyone(mc_store):
    _both_agree(mc_store)
    with mc_store.write("alice") as session:
        case = _case(session)
        late = studies.add_respondent(session, case, "Late Colleague", "other")
        assert reconstruction_membercheck.case_state(session, case).state == "reopened"
        view = reconstruction_membercheck.review_for(session, Principal(access.RESPONDENT, late.id, "late", study_id=case.study_id))
        assert view.state == "waiting" and view.paragraphs == []


def test_privacy_respondent_sees_only_own_case_and_comments(mc_store):
    _send(mc_store)
    with mc_store.write("alice") as session:
        reconstruction_narrative.save_version(session, _case(session, "Case B"), "Case B secret narrative.", "alice")
        reconstruction_membercheck.send_to_member_check(session, _case(session, "Case B"), "alice")
    with mc_store.write("respondent") as session:
        reconstruction_membercheck.save_comment(session, _principal(session), 0, "manager private note")
        reconstruction_membercheck.save_general_comment(session, _principal(session), "manager general")
    with mc_store.read() as session:
        view = reconstruction_membercheck.review_for(session, _principal(session, role="therapist"))
        other_case = reconstruction_membercheck.review_for(session, _principal(session, "Case B"))
    dumped = json.dumps(view.__dict__, default=str)
    assert "manager private note" not in dumped and "manager general" not in dumped
    assert view.comments == {} and view.case == "Case A"
    assert "secret narrative" not in dumped and "Case B secret narrative." in other_case.paragraphs
    assert "spring" not in json.dumps(other_case.__dict__, default=str)
    with mc_store.read() as session:
        researcher = Principal(access.RESEARCHER, 1, "admin", role="admin")
        expert = Principal(access.EXPERT, 1, "expert 1", study_id=1)
        for principal in (researcher, expert, None):
            with pytest.raises(AccessDenied):
                reconstruction_membercheck.review_for(session, principal)
        foreign = Principal(access.RESPONDENT, _case(session).respondents[0].id, "x", study_id=999)
        with pytest.raises(AccessDenied):
            reconstruction_membercheck.review_for(session, foreign)
    with mc_store.write("x") as session, pytest.raises(AccessDenied):
        reconstruction_membercheck.save_comment(session, expert, 0, "sneaky")


def test_withdrawn_member_check_consent_hides_the_text(mc_store):
    _send(mc_store)
    with mc_store.write("alice") as session:
        studies.withdraw_consent(session, _case(session).respondents[0], "member_check", dt.date.today())
    with mc_store.write("respondent") as session:
        view = reconstruction_membercheck.review_for(session, _principal(session))
        assert view.state == "withdrawn" and view.paragraphs == []
        with pytest.raises(UserError, match="withdrew"):
            reconstruction_membercheck.save_comment(session, _principal(session), 0, "x")


def test_offline_response_docx_and_history(mc_store):
    _send(mc_store)
    with mc_store.write("alice") as session:
        case = _case(session)
        data = documents.version_docx(session, case)
        text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        assert "[3] The team was small." in text and "coding" not in text
        comments = reconstruction_membercheck.parse_comments("2: Late spring, not early.\nAnd with two groups.\n3: fine")
        assert comments == {2: "Late spring, not early.\nAnd with two groups.", 3: "fine"}
        with pytest.raises(UserError, match="which paragraph"):
            reconstruction_membercheck.parse_comments("no number here")
        manager, therapist = case.respondents
        response = reconstruction_membercheck.record_offline_response(session, case, manager, "changes_needed", "See notes.", comments)
        assert response.channel == "offline" and len(response.comments) == 2
        with pytest.raises(UserError, match="already answered"):
            reconstruction_membercheck.record_offline_response(session, case, manager, "agree")
        with pytest.raises(UserError, match="not a respondent"):
            reconstruction_membercheck.record_offline_response(session, case, _case(session, "Case B").respondents[0], "agree")
    _send(mc_store, TEXT_2, "spring corrected")
    with mc_store.write("alice") as session:
        case = _case(session)
        for respondent in case.respondents:
            reconstruction_membercheck.record_offline_response(session, case, respondent, "agree")
        markdown = documents.history_markdown(session, case)
        docx_text = "\n".join(p.text for p in Document(io.BytesIO(documents.history_docx(session, case))).paragraphs)
    for needle in ("## Version 1", "## Version 2", "Change note: spring corrected", "## Member-check round 2",
                   "Paragraph 2: Late spring, not early.", "small{+ and cohesive+} [[coding:4]]", "final_text given", "State: agreed"):
        assert needle in markdown
    assert "Member-check round 1" in docx_text and "Late spring" in docx_text


def test_status_all(mc_store):
    _send(mc_store)
    with mc_store.read() as session:
        states = reconstruction_membercheck.status_all(session, studies.get_study(session))
    assert [(s.case, s.state) for s in states] == [("Case A", "under review"), ("Case B", "no version")]
    assert ConsentRecord.__tablename__ == "consent_record"
