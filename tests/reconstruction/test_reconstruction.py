"""Reconstruction drafts, frozen versions, word diffs, evidence references, case summary, Table 1."""

from __future__ import annotations

import hashlib

import pytest

from casestudy import study as studies
from casestudy.coding import retrieval
from casestudy.errors import UserError
from casestudy.models import ReconstructionVersion
from casestudy.reconstruction import narrative
from casestudy.reconstruction import references as reconstruction_references
from casestudy.reconstruction import summary as reconstruction_summary
from casestudy.reports import progress

from tests.coding.test_coding import ADMIN


@pytest.fixture
def case_setup(store):
    with store.write("tester") as session:
        study = studies.create_study(session, "Test study")
        case = studies.add_case(session, study, "Unit 1", "Case A", "Org One", "mixed", "Mixed result.",
                                [studies.ComponentSpec("PH", 2, outcome_class="mixed"), studies.ComponentSpec("IOP", 1, outcome_class="positive")])
        studies.add_respondent(session, case, "Ann Manager", "manager")
        studies.add_respondent(session, case, "Tom Therapist", "therapist")
    return store


def _case(session):
    return studies.get_case(session, studies.get_study(session), "Case A")


def test_version_freezes_text_author_note_and_hash(case_setup):
    with case_setup.write("alice") as session:
        case = _case(session)
        version = narrative.save_version(session, case, "First paragraph.\r\n\r\nSecond one.  \n", "alice", "first draft", summary="Short.")
    assert version.number == 1 and version.status == "draft" and not version.locked
    assert version.text == "First paragraph.\n\nSecond one.\n"
    assert version.content_hash == hashlib.sha256(version.text.encode()).hexdigest()
    assert (version.author, version.change_note, version.summary) == ("alice", "first draft", "Short.")
    with case_setup.write("alice") as session:
        case = _case(session)
        with pytest.raises(UserError, match="nothing changed since version 1"):
            narrative.save_version(session, case, "First paragraph.\n\nSecond one.", "alice")
        with pytest.raises(UserError, match="needs text"):
            narrative.save_version(session, case, "   ", "alice")
        second = narrative.save_version(session, case, "First paragraph.\n\nSecond one, revised.", "bob", "after comments")
        assert second.number == 2
        assert [v.status for v in narrative.list_versions(session, case)] == ["superseded", "draft"]
        # the draft follows the frozen text; editing it does not touch the versions
        narrative.save_draft(session, case, "Edited further.", "Short.", "alice")
        assert narrative.draft_changed(session, case)
        assert narrative.get_version(session, case, 1).text == "First paragraph.\n\nSecond one.\n"
        with pytest.raises(UserError, match="no version 7"):
            narrative.get_version(session, case, 7)


def test_draft_save_refuses_stale_version(case_setup):
    with case_setup.write("a") as session:
        row = narrative.save_draft(session, _case(session), "one", "", "a")
        seen = row.version
    with case_setup.write("b") as session:
        narrative.save_draft(session, _case(session), "two", "", "b", expected_version=seen)
    with pytest.raises(UserError, match="someone else saved"):
        with case_setup.write("a") as session:
            narrative.save_draft(session, _case(session), "three", "", "a", expected_version=seen)


def test_word_diff_marks_insertions_and_deletions():
    ops = narrative.diff_ops("The team was small and cohesive.", "The team was large and cohesive, at first.")
    assert narrative.diff_plain(ops) == "The team was [-small-]{+large+} and cohesive{+, at first+}."
    html = narrative.diff_html(narrative.diff_ops("a <b> c", "a <i> <script> c"))
    assert "<del" in html and "<ins" in html and "&lt;script" in html and "<script" not in html and "<i>" not in html


def test_diff_versions_counts_words(case_setup):
    with case_setup.write("a") as session:
        case = _case(session)
        narrative.save_version(session, case, "Alpha beta gamma.", "a")
        narrative.save_version(session, case, "Alpha delta epsilon gamma.", "a")
        diff = narrative.diff_versions(session, case, 1, 2)
    assert (diff["inserted_words"], diff["deleted_words"]) == (2, 1)
    assert diff["plain"] == "Alpha [-beta-]{+delta epsilon+} gamma.\n"


def test_references_parse_strip_and_resolve(case_setup, monkeypatch):
    text = f"The manager left {reconstruction_references.coding_reference(12)}. Quote: {reconstruction_references.quote_reference(5, 100, 180)} and [[coding:99]]."
    refs = reconstruction_references.parse_references(text)
    assert [(r.kind, r.params) for r in refs] == [
        ("coding", {"id": "12"}), ("quote", {"interview": "5", "start": "100", "end": "180"}), ("coding", {"id": "99"}),
    ]
    assert reconstruction_references.strip_references(text) == "The manager left. Quote: and."
    monkeypatch.setattr(reconstruction_references, "RESOLVERS", {})
    with case_setup.read() as session:
        statuses = reconstruction_references.resolve_references(session, text)
        assert all("no resolver" in s.problem for s in statuses)
        fake = {12: "they left in spring"}
        monkeypatch.setitem(reconstruction_references.RESOLVERS, "coding", lambda s, ref: reconstruction_references.ResolvedReference(
            f"coding {ref.params['id']}", fake[int(ref.params["id"])], {"coding_id": int(ref.params["id"])}) if int(ref.params["id"]) in fake else None)
        statuses = reconstruction_references.resolve_references(session, text)
    assert statuses[0].resolved.excerpt == "they left in spring" and statuses[0].problem == ""
    assert statuses[1].problem.startswith("no resolver")
    assert statuses[2].problem == "the referenced item no longer exists"
    with pytest.raises(UserError):
        reconstruction_references.quote_reference(1, 10, 5)


def test_paragraphs_and_word_count():
    text = "# Title\n\nOne two three [[coding:1]].\n\n\n  Four five.  \n"
    assert narrative.paragraphs(text) == ["# Title", "One two three [[coding:1]].", "Four five."]
    assert narrative.word_count(text) == 6


def test_case_summary_and_table1(case_setup):
    with case_setup.write("a") as session:
        case = _case(session)
        assert reconstruction_summary.case_determinants(session, studies.get_study(session)) is None
        rows = reconstruction_summary.table1_rows(session, studies.get_study(session))
        assert rows[0]["programme"] == "PH (2 groups), IOP (1 group)"
        assert rows[0]["outcome"].startswith("Mixed (mixed for PH; positive for IOP)")
        with pytest.raises(UserError, match="polarity"):
            reconstruction_summary.save_case_summary(session, case, determinants=[{"label": "Budget", "polarity": "neutral"}])
        reconstruction_summary.save_case_summary(
            session, case, "PH (2 groups) and IOP (1 group)", "mixed", "PH runs at a loss; IOP did well.",
            [reconstruction_summary.parse_determinant("Strong co-leadership|facilitator|organization/leadership"),
             reconstruction_summary.parse_determinant("Too few referrals|barrier|17")],
            [{"component": "PH", "outcome_class": "mixed"}, {"component": "IOP", "outcome_class": "positive"}],
        )
        rows = reconstruction_summary.table1_rows(session, studies.get_study(session))
    assert rows == [{
        "case": "Case A", "programme": "PH (2 groups) and IOP (1 group)", "outcome_class": "mixed",
        "outcome": "Mixed (mixed for PH; positive for IOP): PH runs at a loss; IOP did well.",
        "component_outcomes": [{"component": "PH", "outcome_class": "mixed"}, {"component": "IOP", "outcome_class": "positive"}],
        "determinants": [
            {"label": "Strong co-leadership", "polarity": "facilitator", "code_ref": "organization/leadership"},
            {"label": "Too few referrals", "polarity": "barrier", "code_ref": 17},
        ],
    }]
    assert "Unit" not in str(rows) and "Org One" not in str(rows)
    with case_setup.read() as session:
        assert reconstruction_summary.case_determinants(session, studies.get_study(session)) == {
            "Case A": ["Strong co-leadership", "Too few referrals"]}


def test_evidence_panel_of_a_case_without_interviews(case_setup):
    with case_setup.read() as session:
        items, available = reconstruction_references.evidence_for(session, _case(session), principal=ADMIN)
    assert (items, available) == ([], False)


def test_stage_probe_reports_versions(case_setup):
    with case_setup.write("a") as session:
        case = _case(session)
        assert not narrative.stage_status(session, case).started
        narrative.save_draft(session, case, "text", "", "a")
        assert narrative.stage_status(session, case).summary == "draft"
        assert narrative.stage_status(session, case).next_action == "reconstruction: save the draft as a version"
        narrative.save_version(session, case, "text", "a")
        assert narrative.stage_status(session, case).summary == "1 version"
        assert narrative.stage_status(session, case).done
        overview = progress.overview(session, studies.get_study(session))[0]
    assert overview.stages["reconstruction"] == "1 version"
    assert session is not None and ReconstructionVersion.__tablename__ == "reconstruction_version"


def test_quote_references_resolve_against_the_interviews_stage(demo_store):
    from sqlalchemy import select

    from casestudy.models import Interview

    with demo_store.read() as session:
        study = studies.get_study(session)
        case, other = studies.get_case(session, study, "Case A"), studies.get_case(session, study, "Case B")
        interview = session.scalars(select(Interview).where(Interview.case_id == case.id).order_by(Interview.id)).first()
        phrase = " ".join(interview.text[len(interview.text) // 2:].split()[1:6])
        reference, excerpt = reconstruction_references.find_quote(session, case, interview.id, phrase.upper())
        assert " ".join(excerpt.split()).lower() == phrase.lower()
        [status] = reconstruction_references.resolve_references(session, f"As the manager said {reference}.")
        assert status.problem == "" and status.resolved.excerpt == excerpt
        assert status.resolved.target["interview_id"] == interview.id and status.resolved.target["case_id"] == case.id
        outside = reconstruction_references.quote_reference(interview.id, 0, len(interview.text) + 5)
        assert "outside the transcript" in reconstruction_references.resolve_references(session, outside)[0].problem
        assert reconstruction_references.resolve_references(session, reconstruction_references.quote_reference(999999, 0, 5))[0].problem == "the referenced item no longer exists"
        with pytest.raises(UserError, match="has no interview"):
            reconstruction_references.find_quote(session, other, interview.id, phrase)
        with pytest.raises(UserError, match="does not occur"):
            reconstruction_references.find_quote(session, case, interview.id, "zzqx never said this")
        items, available = reconstruction_references.evidence_for(session, case, principal=ADMIN)
    assert available and {i.source_id for i in items if i.kind == "interview"} >= {interview.id}


def test_coding_references_and_evidence_come_from_the_coding_stage(demo_store):
    from casestudy import study as studies

    with demo_store.read() as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case B")
        items, available = reconstruction_references.evidence_for(session, case, principal=ADMIN)
        coded = [i for i in items if i.kind == "coding"]
        assert available and coded and all(i.reference.startswith("[[coding:") for i in coded)
        first = retrieval.segments(session, study, retrieval.SegmentFilter(case_ids=[case.id]), with_context=False, principal=ADMIN)[0]
        (status,) = reconstruction_references.resolve_references(session, f"As the manager said {first_ref(first)}.")
        assert status.problem == "" and status.resolved.excerpt == first["text"]
        assert status.resolved.target["coding_id"] == first["coding_id"]
        (missing,) = reconstruction_references.resolve_references(session, "[[coding:999999]]")
        assert missing.resolved is None and missing.problem


def first_ref(segment) -> str:
    return f"[[coding:{segment['coding_id']}]]"
