"""Interview sessions (status, observer's check) and documents that are not interviews (no
respondent: imported, listed, coded, retrieved, cited, private like transcripts)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casestudy import access, periods
from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as codebook
from casestudy.coding import retrieval, spans
from casestudy.errors import UserError
from casestudy.interviews import sessions
from casestudy.interviews import store as interviews_store
from casestudy.reconstruction import references

ADMIN = access.Principal("researcher", 0, "admin", role="admin")
TRANSCRIPT = "Interviewer: How did it start?\nAnn: The board supported us.\n"
MINUTES = (
    "Minutes of the board meeting, 12 May 2021\n"
    "Present: the director, the department manager.\n"
    "1. The budget for the day programme is cut by ten percent.\n"
    "2. Training of new staff is postponed.\n"
)


@pytest.fixture
def setup(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Sources study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        periods.add_period(session, case, "REORG", "2021-01", "2022-06")
        users.add_user(session, "coder1", "a long password", "coder")
        studies.add_member(session, study, "coder1")
        codebook.add_code(session, study, "Budget", "organization", origin="a priori")
        interview, document = interviews_store.import_interviews(session, study, [
            interviews_store.ImportItem("ann.txt", TRANSCRIPT.encode(), "Case A", "Ann", interviewer="Bea", observer="Cor"),
            interviews_store.ImportItem("minutes.txt", MINUTES.encode(), "Case A", "", kind="document",
                                        document_type="meeting minutes", period="REORG", date="2021-05-12"),
        ])
        return {"interview": interview.id, "document": document.id}


# --- sessions ----------------------------------------------------------------------------------
def test_session_record_and_status_rules(store, setup):
    with store.write("ann") as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["interview"])
        assert sessions.session_record(interview) == {
            "id": interview.id, "case": "Case A", "respondent": "Ann", "role": "manager", "file": "ann.txt", "interviewer": "Bea",
            "observer": "Cor", "date": None, "duration_minutes": None, "audio_ref": "", "status": "transcribed", "observer_note": "",
            "checked_at": None, "guide": None}
        interviews_store.update_metadata(session, interview, session_status="checked", observer_note="  probes came after the open part ",
                                         duration_minutes=55, audio_ref="audio/ann.m4a")
        record = sessions.session_record(interview)
        assert (record["status"], record["observer_note"], record["checked_at"]) == ("checked", "probes came after the open part", dt.date.today())
        interviews_store.update_metadata(session, interview, session_status="recorded")
        assert (interview.session_status, interview.checked_at) == ("recorded", None)
        interviews_store.update_metadata(session, interview, session_status="checked", checked_at="2024-03-12")
        assert interview.checked_at == dt.date(2024, 3, 12)


def test_checked_needs_an_observer_and_statuses_are_known(store, setup):
    with store.write("ann") as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["interview"])
        with pytest.raises(UserError, match="has no observer"):
            interviews_store.update_metadata(session, interview, observer="", session_status="checked")
        with pytest.raises(UserError, match="unknown session status 'done'; choose one of: recorded, transcribed, checked"):
            interviews_store.update_metadata(session, interview, session_status="done")
        with pytest.raises(UserError, match="invalid date of the check"):
            interviews_store.update_metadata(session, interview, session_status="checked", checked_at="12 March")


def test_a_document_has_no_session(store, setup):
    with store.write("ann") as session:
        document = interviews_store.get_interview(session, studies.get_study(session), setup["document"])
        with pytest.raises(UserError, match="is a document: it has no interview session"):
            interviews_store.update_metadata(session, document, observer="Cor")
        interviews_store.update_metadata(session, document, date="2021-05-13", document_type="board minutes", period="")
        assert (document.date, document.document_type, document.period_id) == (dt.date(2021, 5, 13), "board minutes", None)


def test_probe_start_must_be_a_turn(store, setup):
    with store.write("ann") as session:
        interview = interviews_store.get_interview(session, studies.get_study(session), setup["interview"])
        interviews_store.update_metadata(session, interview, probe_start_turn=1)
        assert interview.probe_start_turn == 1
        with pytest.raises(UserError, match="has no turn 9; its turns are 0-1"):
            interviews_store.update_metadata(session, interview, probe_start_turn=9)


# --- documents ---------------------------------------------------------------------------------
def test_document_is_stored_without_respondent_and_listed(store, setup):
    with store.read() as session:
        study = studies.get_study(session)
        records = {r["id"]: r for r in interviews_store.interview_records(session, interviews_store.list_interviews(session, study))}
        document = records[setup["document"]]
        assert (document["kind"], document["respondent"], document["role"], document["document_type"], document["period"]) == (
            "document", "", "", "meeting minutes", "REORG")
        assert document["session_status"] == "" and document["consent_withdrawn"] is False
        assert records[setup["interview"]]["session_status"] == "transcribed"
        labels = {label.id: label.label for label in interviews_store.interview_labels(session, study)}
        assert labels[setup["document"]] == "Case A · document: meeting minutes · minutes.txt"
        assert labels[setup["interview"]] == "Case A · Ann (manager) · ann.txt"
        case = studies.get_case(session, study, "Case A")
        assert interviews_store.stage_status(session, case).summary == "1 transcript, 1 document"


@pytest.mark.parametrize("item, message", [
    (dict(respondent="Ann", kind="document"), "a document has no respondent"),
    (dict(respondent="", kind="document", interviewer="Bea"), "a document has no interview session"),
    (dict(respondent="", kind="document", period="LATER"), "LATER"),
    (dict(respondent="Ann", document_type="minutes"), "only a document has a document type"),
    (dict(respondent="Ann", kind="report"), "unknown kind 'report'"),
])
def test_document_import_rules(store, setup, item, message):
    with store.write("ann") as session, pytest.raises(UserError, match=message):
        interviews_store.import_interviews(session, studies.get_study(session), [
            interviews_store.ImportItem("other.txt", b"Some other text.\n", "Case A", **item)])


def test_a_document_is_coded_retrieved_and_cited(store, setup):
    with store.write("coder1") as session:
        study = studies.get_study(session)
        document = interviews_store.get_interview(session, study, setup["document"])
        start = document.text.index("The budget")
        (coding,) = spans.apply_codes(session, document, [codebook.get_code(session, study, "Budget")], spans.get_coder(session, "coder1"),
                                      start, start + len("The budget for the day programme is cut by ten percent."))
        assert coding.elicitation == ""  # a document was not elicited by anyone
        coding_id = coding.id
    with store.read() as session:
        study = studies.get_study(session)
        (segment,) = retrieval.segments(session, study, principal=ADMIN)
        assert (segment["respondent"], segment["role"], segment["interview"], segment["start_line"]) == ("", "", "minutes.txt", 3)
        assert retrieval.segments(session, study, retrieval.SegmentFilter(role="manager"), principal=ADMIN) == []
        (status,) = references.resolve_references(session, f"The budget was cut {references.coding_reference(coding_id)}.")
        assert status.resolved.label == "Budget · document: meeting minutes · minutes.txt lines 3-3"
        assert status.resolved.excerpt == "The budget for the day programme is cut by ten percent."


def test_documents_are_private_like_transcripts(store, setup):
    expert = access.Principal("expert", 1, "E01")
    with store.read() as session:
        study = studies.get_study(session)
        with pytest.raises(access.AccessDenied):
            interviews_store.get_interview(session, study, setup["document"], principal=expert)
        with pytest.raises(access.AccessDenied):
            interviews_store.list_interviews(session, study, principal=expert)


# --- CLI ---------------------------------------------------------------------------------------
def test_cli_import_document_edit_session_and_list(store, setup, cli, tmp_path):
    db = ("--db", store.url)
    log = tmp_path / "incidents.md"
    log.write_text("# Incident log\n\n- 3 June: a patient harmed herself in the group.\n", encoding="utf-8")
    result = cli(*db, "interviews", "import", log, "--case", "Case A", "--kind", "document", "--document-type", "incident log")
    assert result.code == 0, result
    assert result.out.startswith("imported incidents.md as document 3: Case A, document: incident log,")
    refused = cli(*db, "interviews", "import", log, "--case", "Case A")
    assert refused.code == 2 and "an interview needs --respondent" in refused.err
    edited = cli(*db, "interviews", "edit", setup["interview"], "--status", "checked", "--observer-note", "fine", "--checked-at", "2024-03-12")
    assert edited.code == 0, edited
    rows = json.loads(cli(*db, "interviews", "sessions", "--format", "json").out)
    assert [(r["file"], r["status"], r["observer_note"], r["checked_at"]) for r in rows] == [("ann.txt", "checked", "fine", "2024-03-12")]
    listed = json.loads(cli(*db, "interviews", "list", "--format", "json").out)
    assert [(r["kind"], r["document_type"]) for r in listed] == [("interview", ""), ("document", "meeting minutes"), ("document", "incident log")]
    bad = cli(*db, "interviews", "edit", setup["interview"], "--status", "checked", "--observer", "")
    assert bad.code == 2 and "has no observer" in bad.err


def test_cli_ties_documents_and_interviews_to_a_period_at_import_and_afterwards(store, setup, cli, tmp_path):
    db = ("--db", store.url)
    transcript, log = tmp_path / "ann2.txt", tmp_path / "log.md"
    transcript.write_text("Interviewer: And later?\nAnn: The team shrank.\n", encoding="utf-8")
    log.write_text("# Incident log\n\n- 3 June: the group was cancelled.\n", encoding="utf-8")
    assert cli(*db, "interviews", "import", transcript, "--case", "Case A", "--respondent", "Ann", "--period", "reorg").code == 0
    assert cli(*db, "interviews", "import", log, "--case", "Case A", "--kind", "document", "--document-type", "incident log",
               "--period", "REORG").code == 0
    listed = {r["file"]: r for r in json.loads(cli(*db, "interviews", "list", "--format", "json").out)}
    assert (listed["ann2.txt"]["period"], listed["log.md"]["period"], listed["ann.txt"]["period"]) == ("REORG", "REORG", "")
    # a period the case lacks: refused, nothing imported
    wrong = cli(*db, "interviews", "import", transcript, "--case", "Case A", "--respondent", "Ann", "--period", "LATER")
    assert wrong.code == 2 and "Case A has no period 'LATER'; its periods: REORG" in wrong.err
    assert len(json.loads(cli(*db, "interviews", "list", "--format", "json").out)) == 4
    # afterwards: the session editor and the period command, the same rule
    assert cli(*db, "interviews", "edit", setup["interview"], "--period", "REORG").code == 0
    refused = cli(*db, "interviews", "edit", listed["log.md"]["id"], "--period", "LATER")
    assert refused.code == 2 and "has no period 'LATER'" in refused.err
    assert cli(*db, "interviews", "period", listed["ann2.txt"]["id"], "--clear").code == 0
    listed = {r["file"]: r["period"] for r in json.loads(cli(*db, "interviews", "list", "--format", "json").out)}
    assert listed == {"ann.txt": "REORG", "minutes.txt": "REORG", "ann2.txt": "", "log.md": "REORG"}


def test_manifest_rows_may_be_documents(store, setup, tmp_path):
    (tmp_path / "report.txt").write_text("Internal report on the first year.\n", encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,case,respondent,role,language,date,kind,document_type,period\n"
                        "report.txt,Case A,,,en,2021-12-01,document,internal report,REORG\n", encoding="utf-8")
    with store.write("ann") as session:
        (imported,) = interviews_store.import_manifest(session, studies.get_study(session), manifest)
        assert (imported.kind, imported.respondent_id, imported.document_type) == ("document", None, "internal report")
