"""Masking in the study: the register, masked versions of case texts, review, leak scan, release.

The register and every unmasked text are for researchers only. Experts reach masked texts only
through :func:`released_texts_for`, which returns released (frozen, hashed) versions of their
own study and nothing else. Besides the register, every case's internal label ("Unit 3") and
every organisation name of the study are guarded: they are masked (to the public label and "the
institution") and a release is refused while any of them, or any register term, is in the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import audit
from casestudy.masking import engine as masking
from casestudy.access import AccessDenied, Principal
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.models import Case, MaskedText, Organisation, RegisterEntry, Respondent, Study, utcnow
from casestudy.reconstruction import membercheck

GUARD_ORGANISATION_REPLACEMENT = "the institution"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- register -------------------------------------------------------------------------
def list_entries(session: Session, study: Study) -> list[RegisterEntry]:
    return list(session.scalars(select(RegisterEntry).where(RegisterEntry.study_id == study.id).order_by(RegisterEntry.id)))


def _get(session: Session, model: type, row_id: int, what: str):
    row = session.get(model, row_id)
    if row is None:
        raise UserError(f"no {what} {row_id}")
    return row


def _find_entry(session: Session, study: Study, term: str) -> RegisterEntry | None:
    return session.scalar(
        select(RegisterEntry).where(RegisterEntry.study_id == study.id, func.lower(RegisterEntry.term) == term.strip().lower())
    )


def engine_entry(row: RegisterEntry) -> masking.Entry:
    return masking.make_entry(row.term, row.replacement, row.kind, row.variants or (), row.options or {})


def add_entry(
    session: Session, study: Study, term: str, replacement: str, kind: str, variants: Sequence[str] = (), options: dict | None = None
) -> RegisterEntry:
    entry = masking.make_entry(term, replacement, kind, variants, options)
    if _find_entry(session, study, entry.term) is not None:
        raise UserError(f"the register already has {entry.term!r}")
    masking.check_register([*(engine_entry(r) for r in list_entries(session, study)), entry])
    row = RegisterEntry(
        study_id=study.id, kind=entry.kind, term=entry.term, variants=list(entry.variants), replacement=entry.replacement, options=dict(entry.options)
    )
    session.add(row)
    session.flush()
    return row


def update_entry(session: Session, entry_id: int, expected_version: int | None = None, **changes) -> RegisterEntry:
    row = _get(session, RegisterEntry, entry_id, "register entry")
    check_version(row, expected_version, changes)
    values = {"term": row.term, "replacement": row.replacement, "kind": row.kind, "variants": row.variants, "options": row.options}
    values.update({k: v for k, v in changes.items() if v is not None})
    entry = masking.make_entry(values["term"], values["replacement"], values["kind"], values["variants"] or (), values["options"] or {})
    other = _find_entry(session, session.get(Study, row.study_id), entry.term)
    if other is not None and other.id != row.id:
        raise UserError(f"the register already has {entry.term!r}")
    study = session.get(Study, row.study_id)
    masking.check_register([*(engine_entry(r) for r in list_entries(session, study) if r.id != row.id), entry])
    row.term, row.replacement, row.kind = entry.term, entry.replacement, entry.kind
    row.variants, row.options = list(entry.variants), dict(entry.options)
    session.flush()
    return row


def delete_entry(session: Session, entry_id: int) -> None:
    session.delete(_get(session, RegisterEntry, entry_id, "register entry"))
    session.flush()


def import_register_csv(session: Session, study: Study, text: str, source: str = "register") -> dict:
    """Add the CSV's entries; an entry whose term exists already is updated. All or nothing."""
    entries = masking.parse_register_csv(text, source)
    added = updated = 0
    for entry in entries:
        row = _find_entry(session, study, entry.term)
        if row is None:
            session.add(
                RegisterEntry(
                    study_id=study.id, kind=entry.kind, term=entry.term, variants=list(entry.variants),
                    replacement=entry.replacement, options=dict(entry.options),
                )
            )
            added += 1
        else:
            row.kind, row.replacement, row.variants, row.options = entry.kind, entry.replacement, list(entry.variants), dict(entry.options)
            updated += 1
    session.flush()
    masking.check_register([engine_entry(r) for r in list_entries(session, study)])
    return {"added": added, "updated": updated}


def export_register_csv(session: Session, study: Study) -> str:
    return masking.register_csv([engine_entry(r) for r in list_entries(session, study)])


def guard_entries(session: Session, study: Study) -> list[masking.Entry]:
    """Internal case labels, respondents' names and organisation names the register lacks."""
    covered = {masking.fold(r.term) for r in list_entries(session, study)}
    covered |= {masking.fold(v) for r in list_entries(session, study) for v in r.variants or ()}
    guards = []
    for case in session.scalars(select(Case).where(Case.study_id == study.id).order_by(Case.id)):
        if masking.fold(case.internal_label) not in covered:
            guards.append(masking.make_entry(case.internal_label, case.public_label, "unit", options={"endings": False}))
            covered.add(masking.fold(case.internal_label))
    respondents = session.scalars(
        select(Respondent).join(Case, Case.id == Respondent.case_id).where(Case.study_id == study.id).order_by(Respondent.id)
    )
    for respondent in respondents:
        if masking.fold(respondent.name) not in covered and respondent.name.strip():
            guards.append(masking.make_entry(respondent.name, f"[{respondent.role}]", "person"))
            covered.add(masking.fold(respondent.name))
    for organisation in session.scalars(select(Organisation).where(Organisation.study_id == study.id).order_by(Organisation.id)):
        if masking.fold(organisation.name) not in covered:
            guards.append(masking.make_entry(organisation.name, GUARD_ORGANISATION_REPLACEMENT, "organisation"))
            covered.add(masking.fold(organisation.name))
    return guards


def study_register(session: Session, study: Study) -> masking.Register:
    entries = [engine_entry(r) for r in list_entries(session, study)] + guard_entries(session, study)
    return masking.compile_register(tuple(entries))


# --- masked texts ---------------------------------------------------------------------
def generate_masked(session: Session, case: Case, source_text: str, source_ref: str = "pasted") -> MaskedText:
    """A draft masked version of ``source_text`` with every replacement and candidate listed."""
    if not source_text.strip():
        raise UserError("there is no text to mask")
    study = session.get(Study, case.study_id)
    result = study_register(session, study).mask(source_text, candidates=True, language=study.language)
    row = MaskedText(
        study_id=study.id,
        case_id=case.id,
        source_ref=source_ref.strip() or "pasted",
        source_hash=sha256(source_text),
        source_text=source_text,
        masked_text=result.masked,
        replacements=[{**r.as_dict(), "status": "proposed"} for r in result.replacements],
        candidates=[{**c.as_dict(), "status": "open"} for c in result.candidates],
        status="draft",
    )
    session.add(row)
    session.flush()
    return row


def generate_from_agreed(session: Session, case: Case) -> MaskedText:
    """A draft masked version of the case's agreed reconstruction (the member-check result).

    Only an agreed version can go on to masking; evidence references are removed first.
    """

    source = membercheck.masking_source(session, case)
    return generate_masked(session, case, source["text"], source["source_ref"])


def get_masked(session: Session, masked_id: int) -> MaskedText:
    return _get(session, MaskedText, masked_id, "masked text")


def list_masked(session: Session, study: Study, case: Case | None = None) -> list[MaskedText]:
    query = select(MaskedText).where(MaskedText.study_id == study.id).order_by(MaskedText.id)
    if case is not None:
        query = query.where(MaskedText.case_id == case.id)
    return list(session.scalars(query))


def _editable(session: Session, masked_id: int, expected_version: int | None) -> MaskedText:
    row = get_masked(session, masked_id)
    if row.status == "released":
        raise UserError(f"masked text {masked_id} is released and frozen; generate a new version to change it")
    check_version(row, expected_version, ("status",))
    return row


def _rebuild(row: MaskedText, replacements: list[dict], candidates: list[dict] | None = None) -> None:
    replacements = sorted(replacements, key=lambda r: r["start"])
    row.replacements = replacements
    if candidates is not None:
        row.candidates = candidates
    row.masked_text = masking.apply(row.source_text, replacements)


def review_replacement(
    session: Session, masked_id: int, index: int, replacement: str | None = None, expected_version: int | None = None
) -> MaskedText:
    """Accept the replacement number ``index`` (0-based), or edit its text when one is given."""
    row = _editable(session, masked_id, expected_version)
    items = [dict(r) for r in row.replacements]
    if not 0 <= index < len(items):
        raise UserError(f"masked text {masked_id} has no replacement {index}")
    if replacement is not None and replacement != items[index]["replacement"]:
        items[index]["replacement"] = replacement
        items[index]["status"] = "edited"
    else:
        items[index]["status"] = "accepted"
    _rebuild(row, items)
    session.flush()
    return row


def accept_all(session: Session, masked_id: int, expected_version: int | None = None) -> MaskedText:
    row = _editable(session, masked_id, expected_version)
    _rebuild(row, [{**r, "status": r["status"] if r["status"] != "proposed" else "accepted"} for r in row.replacements])
    session.flush()
    return row


def decide_candidate(
    session: Session, masked_id: int, index: int, action: str, replacement: str = "", expected_version: int | None = None
) -> MaskedText:
    """Candidate number ``index``: 'keep' it as it is, or 'mask' it with ``replacement``."""
    row = _editable(session, masked_id, expected_version)
    candidates = [dict(c) for c in row.candidates]
    if not 0 <= index < len(candidates):
        raise UserError(f"masked text {masked_id} has no candidate {index}")
    action = action.strip().lower()
    candidate = candidates[index]
    replacements = [dict(r) for r in row.replacements]
    if action == "mask":
        if not replacement.strip():
            raise UserError("give the replacement text for this candidate, e.g. [colleague]")
        if any(r["start"] < candidate["end"] and candidate["start"] < r["end"] for r in replacements):
            raise UserError("this candidate overlaps a replacement already")
        replacements.append(
            {"start": candidate["start"], "end": candidate["end"], "text": candidate["text"], "replacement": replacement.strip(),
             "term": candidate["text"], "kind": "other", "rule": "candidate", "status": "edited"}
        )
        candidate["status"] = "masked"
    elif action == "keep":
        candidate["status"] = "kept"
    else:
        raise UserError(f"unknown action {action!r}; use keep or mask")
    _rebuild(row, replacements, candidates)
    session.flush()
    return row


def leak_scan(session: Session, masked: MaskedText) -> list[masking.Finding]:
    """Register terms, variants, derived forms, internal labels and organisation names left."""
    study = session.get(Study, masked.study_id)
    return study_register(session, study).scan(masked.masked_text)


def release(session: Session, masked_id: int, actor: str, allow_open_candidates: bool = False) -> MaskedText:
    """Freeze the masked text with its hash; refused while the leak scan finds anything."""
    row = _editable(session, masked_id, None)
    findings = leak_scan(session, row)
    if findings:
        shown = "; ".join(f"line {f.line}, column {f.column}: {f.text!r} ({f.term})" for f in findings[:5])
        more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
        raise UserError(f"release refused: the leak scan found {len(findings)} register term(s) in the masked text: {shown}{more}")
    open_candidates = [c for c in row.candidates if c.get("status") == "open"]
    if open_candidates and not allow_open_candidates:
        raise UserError(
            f"release refused: {len(open_candidates)} candidate(s) still need a decision (keep or mask), "
            f"e.g. {open_candidates[0]['text']!r}"
        )
    row.status = "released"
    row.released_at = utcnow()
    row.released_hash = sha256(row.masked_text)
    row.released_by = actor
    session.flush()
    audit.record(session, "masked_text", "release", entity_id=row.id, study_id=row.study_id, hash=row.released_hash)
    return row


def released_texts_for(session: Session, principal: Principal, study_id: int | None = None) -> list[dict]:
    """Released masked texts of the principal's study: public case label, masked text, hash.

    Experts get their own study only; researchers may name a study. Anyone else is refused.
    Unmasked text, the register and internal labels are never part of the answer.
    """
    if principal is None or principal.kind not in (access.EXPERT, access.RESEARCHER):
        raise AccessDenied("masked case texts are only for the expert panel and the research team", principal, "masked texts")
    if principal.kind == access.EXPERT:
        study_id = principal.study_id
    if study_id is None:
        raise UserError("name the study whose released texts you want")
    rows = session.execute(
        select(MaskedText, Case.public_label)
        .join(Case, Case.id == MaskedText.case_id)
        .where(MaskedText.study_id == study_id, MaskedText.status == "released")
        .order_by(Case.public_label, MaskedText.id)
    )
    out = []
    for masked, public_label in rows:
        if sha256(masked.masked_text) != masked.released_hash:
            raise UserError(f"the released text of {public_label} does not match its hash; ask the research team")
        out.append({"case": public_label, "text": masked.masked_text, "hash": masked.released_hash, "released_at": masked.released_at})
    return out


def stage_status(session: Session, case: Case) -> str | None:
    rows = session.scalars(select(MaskedText.status).where(MaskedText.case_id == case.id)).all()
    if not rows:
        return None
    released = sum(1 for s in rows if s == "released")
    return f"{released} released" if released else f"{len(rows)} draft(s)"



