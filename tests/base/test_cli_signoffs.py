"""CLI: signoff (settings, require, list, sign, show), ethics (show, set) and report coreq/srqr."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from docx import Document

from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.interviews import store as interviews_store
from casestudy.models import AuditEvent
from casestudy.reconstruction import narrative

TEXT = "Interviewer: How did it start?\nAnn: Leadership was strong.\n"


@pytest.fixture
def url(store, db_url):
    with store.write("setup") as session:
        study = studies.create_study(session, "CLI rigour")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        ann = studies.add_respondent(session, case, "Ann", "manager")
        studies.record_consent(session, ann, "member_check", dt.date(2026, 1, 5))
        for name in ("olga", "coder1", "coder2"):
            users.add_user(session, name, "a long password", "coder")
        studies.add_member(session, study, "olga", "owner")
        studies.add_member(session, study, "coder1")
        studies.add_member(session, study, "coder2")
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        (interview,) = interviews_store.import_interviews(
            session, study, [interviews_store.ImportItem("ann.txt", TEXT.encode(), "Case A", "Ann")])
        start = interview.text.index("Leadership")
        spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")], spans.get_coder(session, "coder1"),
                          start, start + 10)
        narrative.save_version(session, case, "# Case A\n\nIt started.\n", "coder1")
    return db_url


def test_signoff_settings_require_and_list(cli, url):
    refused = cli("--db", url, "--user", "coder1", "signoff", "require", "reconstruction")
    assert refused.code == 2 and "needs the role owner" in refused.err
    assert cli("--db", url, "--user", "olga", "signoff", "require", "reconstruction").code == 0
    settings = json.loads(cli("--db", url, "signoff", "settings", "--format", "json").out)
    assert [s["kind"] for s in settings if s["required"]] == ["reconstruction"]
    (waiting,) = json.loads(cli("--db", url, "signoff", "list", "--format", "json").out)
    assert (waiting["kind"], waiting["case"], waiting["state"], waiting["authors"]) == (
        "reconstruction", "Case A", "awaiting sign-off", ["coder1"])


def test_the_member_check_waits_for_the_signoff_and_the_author_cannot_sign(cli, url, store):
    cli("--db", url, "--user", "olga", "signoff", "require", "reconstruction")
    sent = cli("--db", url, "membercheck", "send", "--case", "Case A")
    assert sent.code == 2 and "requires a second researcher to sign off version 1" in sent.err and "Traceback" not in sent.err
    own = cli("--db", url, "--user", "coder1", "signoff", "reconstruction", "Case A")
    assert own.code == 2 and "you wrote version 1" in own.err
    without_account = cli("--db", url, "signoff", "reconstruction", "Case A")
    assert without_account.code == 2 and "--user" in without_account.err
    with store.read() as session:  # both refusals are audited
        reasons = [e.detail["reason"] for e in session.query(AuditEvent).filter_by(entity="access", action="refused")]
    assert any("author signing off own work" in r for r in reasons) and any("without an account" in r for r in reasons)
    signed = cli("--db", url, "--user", "coder2", "signoff", "reconstruction", "Case A", "--note", "read it", "--format", "json")
    record = json.loads(signed.out)
    assert (record["signer"], record["note"], len(record["content_hash"])) == ("coder2", "read it", 64)
    shown = json.loads(cli("--db", url, "signoff", "show", "reconstruction", "Case A", "--format", "json").out)
    assert shown["state"] == "signed" and shown["signoffs"][0]["valid"] is True
    assert cli("--db", url, "membercheck", "send", "--case", "Case A").code == 0


def test_signing_codings_and_showing_an_invalidated_signoff(cli, url, store):
    with store.read() as session:
        interview_id = interviews_store.list_interviews(session, studies.get_study(session))[0].id
    assert cli("--db", url, "--user", "coder2", "signoff", "codings", interview_id).code == 0
    with store.write("coder2") as session:  # the codings change after the sign-off
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, interview_id)
        spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")], spans.get_coder(session, "coder2"), 0, 11)
    shown = json.loads(cli("--db", url, "signoff", "show", "codings", interview_id, "--format", "json").out)
    assert shown["state"] == "not required" and shown["signoffs"][0]["valid"] is False
    cli("--db", url, "--user", "olga", "signoff", "require", "codings")
    shown = json.loads(cli("--db", url, "signoff", "show", "codings", interview_id, "--format", "json").out)
    assert shown["state"] == "sign-off invalidated" and shown["authors"] == ["coder1", "coder2"]
    unknown = cli("--db", url, "--user", "olga", "signoff", "masked", "999")
    assert unknown.code == 2 and "no masked text 999" in unknown.err


def test_ethics_set_show_and_in_the_methods_paragraph(cli, url):
    missing = cli("--db", url, "--user", "olga", "ethics", "set", "--status", "approved", "--body", "METC")
    assert missing.code == 2 and "the reference, the date of approval" in missing.err
    bad_date = cli("--db", url, "--user", "olga", "ethics", "set", "--status", "approved", "--body", "METC", "--reference", "1",
                   "--date", "3 May")
    assert bad_date.code == 2 and "YYYY-MM-DD" in bad_date.err
    assert cli("--db", url, "--user", "olga", "ethics", "set", "--status", "approved", "--body", "METC Utrecht",
               "--reference", "NL-17", "--date", "2024-05-03").code == 0
    record = json.loads(cli("--db", url, "ethics", "show", "--format", "json").out)
    assert (record["status"], record["reference"], record["approved_on"]) == ("approved", "NL-17", "2024-05-03")
    methods = cli("--db", url, "report", "methods", "--invited", "10", "--returned", "5")
    assert methods.code == 0 and methods.out.strip().endswith("The study was approved by METC Utrecht (reference NL-17) on 3 May 2024.")


def test_report_coreq_and_srqr_in_every_format_and_answers_by_hand(cli, url, tmp_path):
    data = json.loads(cli("--db", url, "report", "coreq", "--format", "json").out)
    assert len(data["items"]) == 32 and sum(data["counts"].values()) == 32
    assert next(i for i in data["items"] if i["key"] == "24")["value"] == "1 coder (coder1); 1 coding"
    assert cli("--db", url, "--user", "coder2", "report", "checklist-answer", "srqr", "S21", "--text", "no funding").code == 0
    md = cli("--db", url, "report", "srqr", "--format", "md").out
    assert "| S21 | Funding | no funding | by hand |  |" in md
    target = tmp_path / "coreq.docx"
    assert cli("--db", url, "report", "coreq", "--format", "docx", "--output", target).code == 0
    assert len(Document(io.BytesIO(target.read_bytes())).tables) == 3
    binary = cli("--db", url, "report", "coreq", "--format", "docx")
    assert binary.code == 2 and "--output" in binary.err
    wrong = cli("--db", url, "report", "checklist-answer", "coreq", "40", "--text", "x")
    assert wrong.code == 2 and "COREQ has no item '40'" in wrong.err
