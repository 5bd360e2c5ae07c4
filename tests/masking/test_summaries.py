"""Case summaries: versioned with the reconstruction, masked and released through the same gate as
the narratives, shown outside the team only when released, exported as the study's appendix; the
full reconstruction is released on request only, and every release is logged."""

from __future__ import annotations

import io
import json

import pytest

from casestudy import access, audit, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.errors import UserError
from casestudy.masking import summaries, workflow
from casestudy.models import AuditEvent, MaskedText
from casestudy.reconstruction import case_summary, membercheck, narrative

ADMIN = access.Principal("researcher", 0, "admin", role="admin")


def test_summary_warnings():
    assert case_summary.summary_warnings("") == ["no summary yet: write about a paragraph that an appendix can print"]
    assert case_summary.summary_warnings(" ".join(["word"] * 60)) == []
    assert "has 5 words" in case_summary.summary_warnings("Too short to print anything.")[0]
    assert "shorten it" in case_summary.summary_warnings(" ".join(["word"] * 200))[0]
    two = " ".join(["word"] * 40) + "\n\n" + " ".join(["word"] * 40)
    assert case_summary.summary_warnings(two) == ["the summary has 2 paragraphs; an appendix summary is one paragraph"]


def test_the_summary_is_versioned_with_the_reconstruction(demo_store):
    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case A")
        latest = narrative.latest_version(session, case)
        changed = narrative.save_version(session, case, latest.text, "admin", "summary sharpened", "A new one-paragraph summary.")
        assert changed.number == latest.number + 1 and changed.summary == "A new one-paragraph summary."
        assert narrative.get_version(session, case, latest.number).summary == latest.summary  # the old one stays frozen
        with pytest.raises(UserError, match="nothing changed"):
            narrative.save_version(session, case, latest.text, "admin", "", "A new one-paragraph summary.")
        # a changed summary is a new version: it goes through the member check before it can be masked again
        with pytest.raises(UserError, match="no agreed reconstruction yet: version 3 not sent yet"):
            summaries.generate_summary(session, study, ADMIN, case)
    with demo_store.read() as session:  # the summary released from the agreed version 2 stays released
        released = {s["case"]: s for s in summaries.released_summaries_for(session, ADMIN, studies.get_study(session))}
        assert "caught between the care and cure divisions" in released["Case A"]["text"]


def test_demo_summaries_masked_from_the_agreed_versions_and_released(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        overview = {r["case"]: r for r in summaries.summary_overview(session, study, ADMIN)}
        assert overview["Case G"]["masked_status"] == "no agreed version yet" and not overview["Case G"]["released"]
        for label in "ABCDEF":
            row = overview[f"Case {label}"]
            assert row["released"] and row["released_version_id"] == row["agreed_version_id"] and row["warnings"] == []
        masked = [m for m in workflow.list_masked(session, study) if m.text_kind == "summary"]
        assert len(masked) == 6 and all(workflow.leak_scan(session, m) == [] for m in masked)
        names = [r.name for c in studies.list_cases(session, study) for r in c.respondents]
        names += [c.internal_label for c in studies.list_cases(session, study)]
        for item in summaries.released_summaries_for(session, ADMIN, study):
            assert not any(name in item["text"] for name in names)
        with pytest.raises(UserError, match="Case G has no agreed reconstruction"):
            summaries.generate_summary(session, study, ADMIN, studies.get_case(session, study, "Case G"))


def test_a_summary_passes_the_same_release_gate(demo_store):
    """A register name, another case's internal label and public label in a summary."""
    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case A")
        text = "Marleen Verhoef led the programme, which later copied the plan of Unit 7 (Case C)."
        row = workflow.generate_masked(session, case, text, "reconstruction_summary:test", text_kind="summary")
        assert "Marleen Verhoef" not in row.masked_text and "Unit 7" not in row.masked_text
        workflow.accept_all(session, row.id)
        findings = workflow.open_findings(session, row)
        assert {f.kind for f in findings} == {"public label"} and {f.term for f in findings} == {"Case C"}
        with pytest.raises(UserError, match="linkage finding"):
            workflow.release(session, row.id, "admin")
        workflow.mask_finding(session, row.id, "public label", "Case C", "[another case]")
        released = workflow.release(session, row.id, "admin")
        assert released.status == "released" and released.text_kind == "summary"
        assert "[another case]" in released.masked_text


def test_only_released_summaries_leave_the_team_and_refusals_are_logged(demo_store, cli):
    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        users.add_user(session, "outsider", "a long password", "coder")
        case = studies.get_case(session, study, "Case B")
        draft = summaries.generate_summary(session, study, ADMIN, case)  # a newer draft: not shown
        draft.masked_text = "DRAFT TEXT"
        study_id = study.id
    expert = access.Principal(access.EXPERT, 1, "expert 1", study_id=study_id)
    with demo_store.read() as session:
        study = studies.get_study(session)
        shown = summaries.released_summaries_for(session, expert)
        assert [s["case"] for s in shown] == [f"Case {c}" for c in "ABCDEF"]
        assert all("DRAFT" not in s["text"] for s in shown)
        # the panel's case texts stay the narratives: no summary among them
        summary_texts = {s["text"] for s in shown}
        assert not summary_texts & {t["text"] for t in workflow.released_texts_for(session, expert)}
        assert summaries.released_summaries_for(session, access.Principal(access.EXPERT, 1, "e", study_id=study_id + 1)) == []
        for intruder in (None, access.Principal(access.RESPONDENT, 1, "respondent 1", study_id=study_id),
                         access.Principal(access.PARTICIPANT, 1, "participant 1", study_id=study_id)):
            with pytest.raises(AccessDenied):
                summaries.released_summaries_for(session, intruder, study)
        outsider = access.researcher(users.get_user(session, "outsider"))
        with pytest.raises(AccessDenied) as refused:
            summaries.released_summaries_for(session, outsider, study)
    access.log_refusal(demo_store, refused.value.principal, "summaries", refused.value.what)
    result = cli("--db", demo_store.url, "--user", "outsider", "summary", "released")
    assert result.code == 2 and "not a member" in result.err
    with demo_store.read() as session:
        events = [e for e in audit.events(session, entity="access") if e.action == "refused"]
        assert len(events) >= 2 and all(e.actor == "outsider" for e in events[:2])


def test_full_reconstruction_only_on_request_and_logged(demo_store):
    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        users.add_user(session, "reader", "a long password", "viewer")
        studies.add_member(session, study, "reader")
        case = studies.get_case(session, study, "Case A")
        with pytest.raises(UserError, match="name who asked"):
            case_summary.release_on_request(session, study, ADMIN, case, " ", "review")
        with pytest.raises(UserError, match="reason"):
            case_summary.release_on_request(session, study, ADMIN, case, "reviewer 2", "")
        release = case_summary.release_on_request(session, study, ADMIN, case, "reviewer 2", "journal review", 1)
        assert release["version"] == 1 and "[[" not in release["text"]
        assert case_summary.release_markdown(release).startswith("# Case A: full reconstruction, version 1")
    with demo_store.read() as session:
        study = studies.get_study(session)
        reader = access.researcher(users.get_user(session, "reader"))
        with pytest.raises(AccessDenied):  # a viewer may read the log, not hand texts out
            case_summary.release_on_request(session, study, reader, studies.get_case(session, study, "Case A"), "x", "y")
        log = case_summary.releases(session, study, reader)
        assert log == [{"at": log[0]["at"], "actor": "admin", "case": "Case A", "number": 1, "requested_by": "reviewer 2",
                        "reason": "journal review", "hash": narrative.get_version(session, studies.get_case(session, study, "Case A"), 1).content_hash}]
        assert session.query(AuditEvent).filter(AuditEvent.action == case_summary.RELEASE_ACTION).count() == 1


def test_appendix_document(demo_store):
    from docx import Document

    with demo_store.read() as session:
        study = studies.get_study(session)
        md = summaries.appendix_document(session, study, ADMIN, "md")
        docx = summaries.appendix_document(session, study, ADMIN, "docx")
        with pytest.raises(UserError, match="md or docx"):
            summaries.appendix_document(session, study, ADMIN, "pdf")
        released = summaries.released_summaries_for(session, ADMIN, study)
    assert md.startswith("# Appendix. Summaries of the cases\n\n## Case A\n\n" + released[0]["text"])
    assert md.rstrip().endswith("_Not yet released: Case G._")
    paragraphs = [p.text for p in Document(io.BytesIO(docx)).paragraphs]
    assert paragraphs[:3] == ["Appendix. Summaries of the cases", "Case A", released[0]["text"]]
    assert "Unit 4" not in md and "Veldhoven" not in md


def test_summary_cli(demo_store, cli, tmp_path):
    db = ("--db", demo_store.url)
    rows = json.loads(cli(*db, "summary", "list", "--format", "json").out)
    assert [r["masked_status"] for r in rows][-1] == "no agreed version yet"
    result = cli(*db, "summary", "mask", "Case A")
    assert result.code == 0 and "masked summary" in result.out
    assert cli(*db, "summary", "mask", "Case G").code == 2
    out = tmp_path / "appendix.docx"
    assert cli(*db, "summary", "appendix", "--format", "docx", "--output", str(out)).code == 0 and out.read_bytes()[:2] == b"PK"
    assert "## Case F" in cli(*db, "summary", "appendix").out
    released = json.loads(cli(*db, "summary", "released", "--format", "json").out)
    assert len(released) == 6
    result = cli(*db, "summary", "release", "Case B", "--to", "a reviewer", "--reason", "peer review", "--format", "json")
    assert result.code == 0 and json.loads(result.out)["requested_by"] == "a reviewer"
    assert "a reviewer" in cli(*db, "summary", "releases").out
    assert cli(*db, "summary", "release", "Case B", "--to", "x", "--reason", " ").code == 2
    with demo_store.read() as session:
        assert session.query(MaskedText).filter(MaskedText.text_kind == "summary").count() == 7


def test_a_released_summary_alone_does_not_put_a_case_before_the_experts(demo_store):
    """A new Case H has no released narrative; releasing a summary for it must not add it to the panel."""
    from casestudy.panel import answers
    from casestudy.panel import members as panel_members

    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        case = studies.add_case(session, study, "Unit 9", "Case H")
        row = workflow.generate_masked(session, case,
                                       "A programme that kept its outpatient groups running.", "reconstruction_summary:test", text_kind="summary")
        workflow.release(session, row.id, "admin", allow_open_candidates=True)
        member = panel_members.get_member(session, study, "E17")
        expert = access.Principal(access.EXPERT, member.id, f"expert {member.id}", study_id=study.id)
        view = answers.expert_view(session, expert)
        assert "Case H" not in [c.label for c in view.cases] and len(view.cases) == 7
        assert "Case H" not in answers.released_positions(session, member)
        assert "Case H" in [s["case"] for s in summaries.released_summaries_for(session, expert)]
