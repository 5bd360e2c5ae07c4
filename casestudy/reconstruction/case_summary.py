"""The short case summary (about a paragraph, Appendix style) and the full reconstruction "on request".

The summary is part of every reconstruction version (``ReconstructionVersion.summary``, frozen
with the text, so it is versioned with it and goes through the member check with it). It is
masked and released like the narrative (:mod:`casestudy.masking.summaries`); only released masked
summaries leave the research team, as the study's appendix. The full reconstruction stays with
the researchers: :func:`release_on_request` hands one version out to a named requester and logs
every such release in the audit log (:func:`releases`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy import study as studies
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Case, Study
from casestudy.reconstruction import narrative, references

# "About a paragraph": one block of prose of roughly this many words.
SUMMARY_WORDS = (30, 180)
RELEASE_ENTITY = "reconstruction_version"
RELEASE_ACTION = "released on request"


def summary_warnings(text: str) -> list[str]:
    """What makes ``text`` more or less than a short one-paragraph summary (empty when it fits)."""
    text = (text or "").strip()
    if not text:
        return ["no summary yet: write about a paragraph that an appendix can print"]
    warnings = []
    if len(narrative.paragraphs(text)) > 1:
        warnings.append(f"the summary has {len(narrative.paragraphs(text))} paragraphs; an appendix summary is one paragraph")
    words = narrative.word_count(text)
    low, high = SUMMARY_WORDS
    if words < low:
        warnings.append(f"the summary has {words} words; about a paragraph is {low}-{high} words")
    elif words > high:
        warnings.append(f"the summary has {words} words; shorten it to about a paragraph ({low}-{high} words)")
    return warnings


def case_summaries(session: Session, study: Study, principal: Principal) -> list[dict]:
    """Per case the summary of its latest version (unmasked: the research team only), the
    version number and status, word count and warnings."""
    access.require_study_role(principal, study, "viewer")
    rows = []
    for case in studies.list_cases(session, study):
        version = narrative.latest_version(session, case)
        text = version.summary if version else ""
        rows.append({
            "case": case.public_label, "version": version.number if version else None,
            "status": version.status if version else "no version", "summary": text,
            "words": narrative.word_count(text), "warnings": summary_warnings(text) if version else ["no version saved yet"],
        })
    return rows


def release_on_request(session: Session, study: Study, principal: Principal, case: Case, requested_by: str, reason: str,
                       number: int | None = None) -> dict:
    """The full text of a version (the latest without ``number``; evidence references removed)
    for a named requester, logged in the audit log with who released it, to whom, why and the
    version's hash. Coders and owners of the study only."""
    principal = access.require_study_role(principal, study, "coder")
    if case.study_id != study.id:
        raise UserError(f"{case.public_label} is not a case of this study")
    requested_by, reason = " ".join((requested_by or "").split()), " ".join((reason or "").split())
    if not requested_by:
        raise UserError("name who asked for the full reconstruction (e.g. 'reviewer 2 of the journal')")
    if not reason:
        raise UserError("give the reason of the request; it is kept in the audit log")
    version = narrative.get_version(session, case, number)
    audit.record(session, RELEASE_ENTITY, RELEASE_ACTION, entity_id=version.id, study_id=study.id, case=case.public_label,
                 number=version.number, hash=version.content_hash, requested_by=requested_by, reason=reason, by=principal.actor)
    return {"case": case.public_label, "version": version.number, "hash": version.content_hash, "status": version.status,
            "text": references.strip_references(version.text), "requested_by": requested_by, "reason": reason}


def release_markdown(release: dict) -> str:
    return (f"# {release['case']}: full reconstruction, version {release['version']}\n\n"
            f"_Released on request to {release['requested_by']} ({release['reason']}); fingerprint {release['hash'][:12]}._\n\n"
            + release["text"].strip() + "\n")


def releases(session: Session, study: Study, principal: Principal) -> list[dict]:
    """Every release on request of the study, newest first (from the audit log)."""
    access.require_study_role(principal, study, "viewer")
    events = session.query(AuditEvent).filter(AuditEvent.study_id == study.id, AuditEvent.entity == RELEASE_ENTITY,
                                              AuditEvent.action == RELEASE_ACTION).order_by(AuditEvent.id.desc())
    return [{"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, **{k: e.detail.get(k) for k in
             ("case", "number", "requested_by", "reason", "hash")}} for e in events]
