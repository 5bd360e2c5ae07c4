"""Sign-offs by a second researcher: who may sign, hash invalidation, the member-check and release
gates, blind coding, and what the dashboard lists as awaiting a sign-off."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casestudy import access, signoffs, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, spans
from casestudy.coding import signoff as coding_signoff
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.masking import workflow as masking
from casestudy.models import AuditEvent, Signoff
from casestudy.reconstruction import membercheck, narrative
from casestudy.reports import progress

TEXT = "Interviewer: How did it start?\nAnn: The board supported us. Leadership was strong.\n"
STORY = "# Case A\n\nThe programme started in spring.\n\nThe team was small.\n"


@pytest.fixture
def study_store(store):
    """Olga owns the study; coder1 and coder2 code; vera views; outsider is in no study.
    coder1 coded the interview, wrote version 1 of Case A and generated a masked text."""
    with store.write("setup") as session:
        study = studies.create_study(session, "Rigour study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        ann = studies.add_respondent(session, case, "Ann", "manager")
        studies.record_consent(session, ann, "member_check", dt.date(2026, 1, 5))
        for name, role in (("olga", "coder"), ("coder1", "coder"), ("coder2", "coder"), ("vera", "viewer"), ("outsider", "coder")):
            users.add_user(session, name, "a long password", role)
        studies.add_member(session, study, "olga", "owner")
        for name in ("coder1", "coder2", "vera"):
            studies.add_member(session, study, name)
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        (interview,) = interviews_store.import_interviews(
            session, study, [interviews_store.ImportItem("ann.txt", TEXT.encode(), "Case A", "Ann")])
        interview_id = interview.id
    _code(store, "coder1", "Leadership was strong")
    with store.write("coder1") as session:
        narrative.save_version(session, _case(session), STORY, "coder1")
        masked_id = masking.generate_masked(session, _case(session), "The team of Unit 1 was small.").id
    return {"interview": interview_id, "masked": masked_id}


def _case(session):
    return studies.get_case(session, studies.get_study(session), "Case A")


def _as(session, name):
    return access.researcher(users.get_user(session, name))


def _code(store, coder, needle):
    with store.write(coder) as session:
        study = studies.get_study(session)
        interview = interviews_store.list_interviews(session, study)[0]
        start = interview.text.index(needle)
        spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")],
                          spans.get_coder(session, coder), start, start + len(needle))


def _require(store, *kinds):
    with store.write("olga") as session:
        study = studies.get_study(session)
        for kind in kinds:
            assert signoffs.set_required(session, study, _as(session, "olga"), kind, True)


def _sign(store, who, kind, target_id, note="checked"):
    with store.write(who) as session:
        study = studies.get_study(session)
        return progress.sign_off(session, _as(session, who), study, kind, target_id, note).id


def _version_id(store):
    with store.read() as session:
        return narrative.latest_version(session, _case(session)).id


def test_only_the_owner_sets_what_requires_a_signoff(store, study_store):
    with store.write("coder1") as session, pytest.raises(AccessDenied, match="needs the role owner"):
        signoffs.set_required(session, studies.get_study(session), _as(session, "coder1"), "codings", True)
    _require(store, "codings", "masked_text")
    with store.read() as session:
        assert signoffs.required_kinds(session, studies.get_study(session)) == ["codings", "masked_text"]
    with store.write("olga") as session:
        study = studies.get_study(session)
        assert signoffs.set_required(session, study, _as(session, "olga"), "codings", False)
        assert not signoffs.set_required(session, study, _as(session, "olga"), "codings", False)
        assert signoffs.required_kinds(session, study) == ["masked_text"]
        with pytest.raises(UserError, match="unknown sign-off kind"):
            signoffs.set_required(session, study, _as(session, "olga"), "tables", True)


@pytest.mark.parametrize("who,message", [
    ("coder1", "you wrote the codings of interview ann.txt"),  # the author
    ("vera", "you are a viewer of this study; only its owners and coders"),
    ("outsider", "you are not a member of this study"),
])
def test_the_author_a_viewer_and_a_non_member_cannot_sign(store, study_store, who, message):
    with pytest.raises(AccessDenied, match=message) as refused:
        _sign(store, who, "codings", study_store["interview"])
    assert refused.value.principal.study_id is not None  # the boundary logs which study
    with store.read() as session:
        assert session.scalars(select(Signoff)).all() == []


def test_the_operator_without_an_account_cannot_sign(store, study_store):
    operator = access.Principal(access.RESEARCHER, 0, "cli", role="admin")
    with store.write("cli") as session, pytest.raises(AccessDenied, match="--user"):
        progress.sign_off(session, operator, studies.get_study(session), "codings", study_store["interview"])


def test_a_signoff_records_who_when_hash_and_note_and_is_audited(store, study_store):
    signoff_id = _sign(store, "coder2", "codings", study_store["interview"], "compared with the guide")
    with store.read() as session:
        row = session.get(Signoff, signoff_id)
        interview = interviews_store.get_interview(session, studies.get_study(session), study_store["interview"])
        target = coding_signoff.target(session, interview)
        assert (row.signer.username, row.note, row.content_hash) == ("coder2", "compared with the guide", target.content_hash)
        assert len(row.content_hash) == 64 and row.signed_at is not None
        assert signoffs.state_of(session, target) == signoffs.SIGNED
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "signoff", AuditEvent.action == "sign")).all()
        assert event.actor == "coder2" and event.detail["hash"] == row.content_hash
    with pytest.raises(UserError, match="already signed off"):
        _sign(store, "coder2", "codings", study_store["interview"])


def test_a_changed_content_invalidates_the_signoff(store, study_store):
    _require(store, "codings")
    _sign(store, "coder2", "codings", study_store["interview"])
    _code(store, "olga", "The board supported us")  # another coding: the codings changed
    with store.read() as session:
        interview = interviews_store.get_interview(session, studies.get_study(session), study_store["interview"])
        target = coding_signoff.target(session, interview)
        (record,) = signoffs.signoffs_of(session, target)
        assert not record.valid and signoffs.state_of(session, target) == signoffs.INVALIDATED
        (waiting,) = progress.awaiting_signoffs(session, studies.get_study(session))
        assert (waiting.kind, waiting.state, waiting.authors) == ("codings", signoffs.INVALIDATED, ("coder1", "olga"))
        coding = progress.case_overview(session, _case(session)).statuses["coding"]
        assert coding.waiting_for == "second researcher" and "await a sign-off" in coding.next_action
    # olga is an author now; coder2 signs the new content again
    with pytest.raises(AccessDenied, match="you wrote"):
        _sign(store, "olga", "codings", study_store["interview"])
    _sign(store, "coder2", "codings", study_store["interview"])
    with store.read() as session:
        assert progress.awaiting_signoffs(session, studies.get_study(session)) == []


def test_blind_coding_keeps_a_coder_from_signing_codings_they_cannot_see(store, study_store):
    with store.write("olga") as session:
        blinding.set_blind_coding(session, studies.get_study(session), _as(session, "olga"), True)
    with pytest.raises(AccessDenied, match="blind coding is on"):
        _sign(store, "coder2", "codings", study_store["interview"])
    _sign(store, "olga", "codings", study_store["interview"])  # the owner sees every coder's


def test_member_check_is_refused_without_a_required_signoff(store, study_store):
    _require(store, "reconstruction")
    with store.write("coder1") as session, pytest.raises(UserError, match="requires a second researcher to sign off version 1"):
        membercheck.send_to_member_check(session, _case(session), "coder1")
    with store.read() as session:
        status = progress.case_overview(session, _case(session)).statuses["member check"]
        assert "awaits a sign-off" in status.next_action and status.waiting_for == "second researcher"
        (waiting,) = progress.awaiting_signoffs(session, studies.get_study(session))
        assert (waiting.kind, waiting.case, waiting.authors) == ("reconstruction", "Case A", ("coder1",))
    with pytest.raises(AccessDenied, match="you wrote version 1"):
        _sign(store, "coder1", "reconstruction", _version_id(store))
    _sign(store, "coder2", "reconstruction", _version_id(store))
    with store.write("coder1") as session:
        result = membercheck.send_to_member_check(session, _case(session), "coder1")
    assert result.round == 1
    with store.read() as session:
        assert progress.awaiting_signoffs(session, studies.get_study(session)) == []


def test_a_new_version_needs_its_own_signoff(store, study_store):
    _require(store, "reconstruction")
    _sign(store, "coder2", "reconstruction", _version_id(store))
    with store.write("coder1") as session:
        narrative.save_version(session, _case(session), STORY + "\nIt stopped.\n", "coder1")
    with store.write("coder1") as session, pytest.raises(UserError, match="sign off version 2"):
        membercheck.send_to_member_check(session, _case(session), "coder1")


def test_without_the_requirement_sending_and_releasing_need_no_signoff(store, study_store):
    with store.write("coder1") as session:
        assert membercheck.send_to_member_check(session, _case(session), "coder1").round == 1
        masking.accept_all(session, study_store["masked"])
        assert masking.release(session, study_store["masked"], "coder1").status == "released"


def test_release_is_refused_without_a_required_signoff_and_after_a_change(store, study_store):
    _require(store, "masked_text")
    masked_id = study_store["masked"]
    with store.write("coder1") as session, pytest.raises(UserError, match="releasing masked text .* requires a second researcher"):
        masking.accept_all(session, masked_id)
        masking.release(session, masked_id, "coder1")
    with pytest.raises(AccessDenied, match="you wrote masked text"):
        _sign(store, "coder1", "masked_text", masked_id)  # the masked text's audit trail names its author
    _sign(store, "coder2", "masked_text", masked_id)
    with store.write("olga") as session:  # a change after the sign-off (olga edits a replacement)
        masking.review_replacement(session, masked_id, 0, "[unit]")
    with store.write("olga") as session, pytest.raises(UserError, match="changed after it was signed off"):
        masking.release(session, masked_id, "olga")
    with store.read() as session:
        status = progress.case_overview(session, _case(session)).statuses["masking"]
        assert "awaits a sign-off" in status.next_action
    _sign(store, "coder2", "masked_text", masked_id)
    with store.write("olga") as session:
        row = masking.release(session, masked_id, "olga")
        assert row.status == "released"
    with pytest.raises(UserError, match="already released"):
        _sign(store, "olga", "masked_text", masked_id)


def test_a_target_of_another_study_is_refused(store, study_store):
    with store.write("setup") as session:
        other = studies.create_study(session, "Other study")
        studies.add_member(session, other, "coder2", "coder")
    with store.write("coder2") as session, pytest.raises(UserError, match="no interview"):
        progress.sign_off(session, _as(session, "coder2"), studies.get_study(session, "Other study"), "codings",
                          study_store["interview"])
