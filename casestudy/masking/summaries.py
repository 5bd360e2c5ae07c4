"""Masked case summaries: masked and released like the narrative, exported as the study's appendix.

A case's summary is masked from its agreed reconstruction version (the member-checked one), as a
masked text of kind "summary" (``source_ref`` ``reconstruction_summary:<version id>``). It goes
through the same review, leak scan, linkage scan and release gate as the narrative
(:mod:`casestudy.masking.workflow`: review, ``release``). Outside the research team only released,
hash-checked summaries are shown (:func:`released_summaries_for`: experts get their own study's;
respondents, focus-group participants and anonymous callers are refused); the appendix document
(:func:`appendix_document`, Markdown or DOCX, one per study) prints them under the public labels.
"""

from __future__ import annotations

import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.masking import workflow
from casestudy.models import Case, MaskedText, Study
from casestudy.reconstruction import case_summary, membercheck

SUMMARY_KIND = "summary"
SOURCE_PREFIX = "reconstruction_summary"
APPENDIX_TITLE = "Appendix. Summaries of the cases"


def summary_source(session: Session, case: Case) -> dict:
    """The summary of the case's agreed version, with its source reference; UserError while the
    case has no agreed version or that version has no summary."""
    version = membercheck.require_agreed_version(session, case)
    if not version.summary.strip():
        raise UserError(f"the agreed version {version.number} of {case.public_label} has no summary; save a version with one "
                        "and take it through the member check")
    return {"text": version.summary.strip(), "source_ref": f"{SOURCE_PREFIX}:{version.id}", "version": version.number}


def generate_summary(session: Session, study: Study, principal: Principal, case: Case) -> MaskedText:
    """A draft masked summary of the case (review and release it like a masked narrative)."""
    access.require_study_role(principal, study, "coder")
    if case.study_id != study.id:
        raise UserError(f"{case.public_label} is not a case of this study")
    source = summary_source(session, case)
    return workflow.generate_masked(session, case, source["text"], source["source_ref"], text_kind=SUMMARY_KIND)


def _summaries(session: Session, study_id: int, released_only: bool) -> list[tuple[MaskedText, str]]:
    query = (select(MaskedText, Case.public_label).join(Case, Case.id == MaskedText.case_id)
             .where(MaskedText.study_id == study_id, MaskedText.text_kind == SUMMARY_KIND).order_by(Case.public_label, MaskedText.id))
    if released_only:
        query = query.where(MaskedText.status == "released")
    return [tuple(row) for row in session.execute(query)]


def _version_of(row: MaskedText) -> int | None:
    prefix, _, version_id = row.source_ref.partition(":")
    return int(version_id) if prefix == SOURCE_PREFIX and version_id.isdigit() else None


def released_summaries_for(session: Session, principal: Principal | None, study: Study | None = None) -> list[dict]:
    """The newest released masked summary per case: public label, text, hash, release time.

    Experts get their own study's; a researcher names the study and needs a membership. Anyone
    else is refused (AccessDenied, to be logged by the boundary). Hashes are checked."""
    if principal is None or principal.kind not in (access.EXPERT, access.RESEARCHER):
        raise AccessDenied("case summaries are only for the expert panel and the research team", principal, "case summaries")
    if principal.kind == access.EXPERT:
        study_id = principal.study_id
    else:
        if study is None:
            raise UserError("name the study whose case summaries you want")
        access.require_study_role(principal, study, "viewer")
        study_id = study.id
    newest: dict[str, MaskedText] = {}
    for row, label in _summaries(session, study_id, released_only=True):
        newest[label] = row
    out = []
    for label, row in newest.items():
        if workflow.sha256(row.masked_text) != row.released_hash:
            raise UserError(f"the released summary of {label} does not match its hash; ask the research team")
        out.append({"case": label, "text": row.masked_text, "hash": row.released_hash, "released_at": row.released_at})
    return out


def summary_overview(session: Session, study: Study, principal: Principal) -> list[dict]:
    """Per case, for the research team: the agreed version's summary state and its masked summary
    (newest draft or release, and whether the release is of the agreed version)."""
    access.require_study_role(principal, study, "viewer")
    by_case: dict[int, list[MaskedText]] = {}
    for row, _ in _summaries(session, study.id, released_only=False):
        by_case.setdefault(row.case_id, []).append(row)
    overview = {row["case"]: row for row in case_summary.case_summaries(session, study, principal)}
    out = []
    for case in studies.list_cases(session, study):
        agreed = membercheck.agreed_version(session, case)
        rows = by_case.get(case.id, [])
        released = [r for r in rows if r.status == "released"]
        newest = rows[-1] if rows else None
        current = released[-1] if released else None
        out.append({
            "case": case.public_label,
            "version": overview[case.public_label]["version"],
            "words": overview[case.public_label]["words"],
            "warnings": overview[case.public_label]["warnings"],
            "masked_id": newest.id if newest else None,
            "masked_status": newest.status if newest else ("not masked" if agreed is not None else "no agreed version yet"),
            "released": current is not None,
            "released_version_id": _version_of(current) if current else None,
            "agreed_version_id": agreed.id if agreed is not None else None,
        })
    return out


def appendix_document(session: Session, study: Study, principal: Principal, fmt: str = "md") -> str | bytes:
    """The study's appendix: one heading and paragraph per case with a released masked summary,
    as Markdown or DOCX; cases still without one are named at the end. Researchers of the study."""
    summaries = released_summaries_for(session, principal, study)
    missing = [c.public_label for c in studies.list_cases(session, study) if c.public_label not in {s["case"] for s in summaries}]
    if not summaries:
        raise UserError("no case summary is released yet: mask a case's summary ('summary mask CASE' or the page Outcomes and summaries) and release it first")
    note = f"Not yet released: {', '.join(missing)}." if missing else ""
    if fmt == "md":
        parts = [f"# {APPENDIX_TITLE}", *(f"## {s['case']}\n\n{s['text'].strip()}" for s in summaries)]
        return "\n\n".join(parts + ([f"_{note}_"] if note else [])) + "\n"
    if fmt == "docx":
        from docx import Document
        from docx.shared import Pt

        document = Document()
        document.styles["Normal"].font.name = "Times New Roman"
        document.styles["Normal"].font.size = Pt(12)
        document.add_heading(APPENDIX_TITLE, level=1)
        for s in summaries:
            document.add_heading(s["case"], level=2)
            document.add_paragraph(s["text"].strip())
        if note:
            document.add_paragraph().add_run(note).italic = True
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    raise UserError(f"the appendix is written as md or docx, not {fmt!r}")
