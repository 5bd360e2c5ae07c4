"""Member-check documents: a version as DOCX, and the case's whole member-check history (versions,
rounds, decisions, comments and how each was processed) as Markdown and DOCX.
"""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy.orm import Session

from casestudy import audit
from casestudy.models import (
    Case,
)
from casestudy.reconstruction import narrative, references
from casestudy.reconstruction.membercheck import (
    DECISION_LABELS,
    case_state,
    comment_record,
    responses_of,
    rounds_of,
)


# --- documents ------------------------------------------------------------------------
def _docx_document(title: str):
    from docx import Document

    document = Document()
    document.add_heading(title, level=1)
    return document


def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def version_docx(session: Session, case: Case, number: int | None = None) -> bytes:
    """The version for offline review: numbered paragraphs and room for comments."""
    version = narrative.get_version(session, case, number)
    document = _docx_document(f"{case.public_label}: reconstruction, version {version.number}")
    document.add_paragraph(
        "Please read the text below. Write your comments with the paragraph number (e.g. '3: ...'), "
        "and tell us whether you agree with this version or whether changes are needed."
    )
    document.add_paragraph(f"Version {version.number} · fingerprint {version.content_hash[:12]}").italic = True
    for index, paragraph in enumerate(narrative.paragraphs(version.text), start=1):
        p = document.add_paragraph()
        p.add_run(f"[{index}] ").bold = True
        p.add_run(references.strip_references(paragraph).lstrip("#").strip())
    document.add_heading("Your answer", level=2)
    document.add_paragraph("☐ I agree with this version     ☐ Changes are needed")
    document.add_paragraph("General comment:")
    audit.record(session, "reconstruction_version", "exported for offline review", entity_id=version.id,
                 study_id=case.study_id, case=case.public_label, number=version.number)
    return _docx_bytes(document)


def history(session: Session, case: Case) -> dict:
    """Everything that happened to the case's reconstruction, for the audit trail."""
    by_id = {r.id: r for r in case.respondents}
    versions = narrative.list_versions(session, case)
    diffs = []
    for older, newer in zip(versions, versions[1:]):
        ops = narrative.diff_ops(older.text, newer.text)
        diffs.append({"old": older.number, "new": newer.number, "plain": narrative.diff_plain(ops)})
    rounds = []
    for round_ in rounds_of(session, case):
        responses = []
        for response in responses_of(session, round_):
            respondent = by_id.get(response.respondent_id)
            responses.append(
                {
                    "respondent": respondent.name if respondent else f"respondent {response.respondent_id}",
                    "channel": response.channel,
                    "decision": response.decision,
                    "submitted_at": response.submitted_at,
                    "general_comment": response.general_comment,
                    "comments": [comment_record(c, respondent, round_.version, round_.number) for c in response.comments if c.text],
                }
            )
        rounds.append({"number": round_.number, "version": round_.version.number, "opened_at": round_.opened_at,
                       "closed_at": round_.closed_at, "opened_by": round_.opened_by, "responses": responses})
    consents = [
        {"respondent": r.name, "scope": c.scope, "given_on": c.given_on, "withdrawn_on": c.withdrawn_on, "note": c.note}
        for r in case.respondents for c in r.consents if c.scope in ("member_check", "final_text")
    ]
    return {
        "case": case.public_label,
        "state": case_state(session, case),
        "versions": [
            {"number": v.number, "author": v.author, "created_at": v.created_at, "change_note": v.change_note,
             "content_hash": v.content_hash, "status": v.status, "locked": v.locked, "agreed_at": v.agreed_at,
             "summary": v.summary, "text": v.text}
            for v in versions
        ],
        "diffs": diffs,
        "rounds": rounds,
        "consents": consents,
    }


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else (str(value) if value else "")


def _history_sections(data: dict) -> list[tuple[str, int, list[str]]]:
    """(heading, level, paragraphs) shared by the Markdown and the DOCX history."""
    state = data["state"]
    sections = [(f"{data['case']}: reconstruction and member-check history", 1, [f"State: {state.state} ({state.detail})."])]
    for v in data["versions"]:
        meta = (f"Saved {_when(v['created_at'])} by {v['author']}; status {v['status']}"
                + (f", agreed {_when(v['agreed_at'])} (locked)" if v["agreed_at"] else "")
                + f". SHA-256 {v['content_hash']}.")
        body = [meta] + ([f"Change note: {v['change_note']}"] if v["change_note"] else [])
        body += ([f"Short summary: {v['summary']}"] if v["summary"] else []) + narrative.paragraphs(v["text"])
        sections.append((f"Version {v['number']}", 2, body))
    for d in data["diffs"]:
        sections.append((f"Changes from version {d['old']} to {d['new']}", 2, ["[-deleted-] {+inserted+}", *narrative.paragraphs(d["plain"])]))
    for r in data["rounds"]:
        body = [f"Version {r['version']}; opened {_when(r['opened_at'])} by {r['opened_by']}; "
                + (f"closed {_when(r['closed_at'])}." if r["closed_at"] else "still open.")]
        for response in r["responses"]:
            body.append(f"{response['respondent']} ({response['channel']}): {DECISION_LABELS[response['decision']]}"
                        + (f", submitted {_when(response['submitted_at'])}" if response["submitted_at"] else ", not submitted")
                        + (f". General comment: {response['general_comment']}" if response["general_comment"] else "."))
            for c in response["comments"]:
                processed = f" Processed by {c['processed_by']}: {c['processed_how']}." if c["processed"] else " Not processed yet."
                body.append(f"Paragraph {c['paragraph']}: {c['text']}{processed}")
        sections.append((f"Member-check round {r['number']}", 2, body))
    sections.append(("Consent", 2, [
        f"{c['respondent']}: {c['scope']} given {c['given_on']}" + (f", withdrawn {c['withdrawn_on']}" if c["withdrawn_on"] else "")
        + (f" ({c['note']})" if c["note"] else "") for c in data["consents"]
    ] or ["No member-check consent recorded."]))
    return sections


def history_markdown(session: Session, case: Case) -> str:
    lines = []
    for heading, level, body in _history_sections(history(session, case)):
        lines += ["#" * level + " " + heading, ""]
        for paragraph in body:
            lines += [paragraph, ""]
    audit.record(session, "case", "history exported", entity_id=case.id, study_id=case.study_id, format="markdown")
    return "\n".join(lines).rstrip() + "\n"


def history_docx(session: Session, case: Case) -> bytes:
    sections = _history_sections(history(session, case))
    document = _docx_document(sections[0][0])
    for heading, level, body in sections:
        if level > 1:
            document.add_heading(heading, level=level)
        for paragraph in body:
            document.add_paragraph(paragraph.lstrip("#").strip())
    audit.record(session, "case", "history exported", entity_id=case.id, study_id=case.study_id, format="docx")
    return _docx_bytes(document)
