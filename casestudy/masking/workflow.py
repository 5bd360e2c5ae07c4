"""Masking in the study: the register, masked versions of case texts, review, leak scan, release.

The register and every unmasked text are for researchers only. Experts reach masked texts only
through :func:`released_texts_for`, which returns released (frozen, hashed) versions of their
own study and nothing else. Besides the register, every case's internal label ("Unit 3") and
every organisation name of the study are guarded: they are masked (to the public label and "the
institution") and a release is refused while any of them, or any register term, is in the text.

Masking also protects linkage between cases (:func:`linkage_scan`): the text of one case must not
name another case's labels or register terms, nor a proper name that the texts of another case
also carry. Register entries carry no case; the cases an entry belongs to are derived from what
the study knows of each case (:func:`entry_cases`). A release is refused while a linkage finding
is neither masked nor accepted with a reason (:func:`accept_finding`); acceptances are kept in the
masked text's candidate list (``reason`` "linkage") with who, when and why, and audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access, audit, signoffs, status
from casestudy.access import AccessDenied, Principal
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.masking import engine as masking
from casestudy.masking import linkage
from casestudy.masking import signoff as masking_signoff
from casestudy.masking.constants import ACCEPTABLE_LINKAGE_KINDS, LINKAGE_KINDS
from casestudy.models import (
    MASKED_TEXT_KINDS,
    Case,
    MaskedText,
    Organisation,
    RegisterEntry,
    Respondent,
    Study,
    utcnow,
)
from casestudy.reconstruction import membercheck
from casestudy.status import StageStatus

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
def generate_masked(session: Session, case: Case, source_text: str, source_ref: str = "pasted", text_kind: str = "narrative") -> MaskedText:
    """A draft masked version of ``source_text`` with every replacement and candidate listed.

    ``text_kind`` says what it is: the case's narrative (what the panel reads) or its short
    case summary (:mod:`casestudy.masking.summaries`); both pass the same review and release gate."""
    if text_kind not in MASKED_TEXT_KINDS:
        raise UserError(f"unknown kind of masked text {text_kind!r}; one of {', '.join(MASKED_TEXT_KINDS)}")
    if not source_text.strip():
        raise UserError("there is no text to mask")
    study = session.get(Study, case.study_id)
    result = study_register(session, study).mask(source_text, candidates=True, language=study.language)
    row = MaskedText(
        study_id=study.id,
        case_id=case.id,
        source_ref=source_ref.strip() or "pasted",
        text_kind=text_kind,
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
    if candidate.get("reason") == LINKAGE_REASON:
        raise UserError(f"candidate {index} is an accepted linkage finding; mask it as a finding (mask-finding) instead")
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
    """Freeze the masked text with its hash; refused while the leak scan finds anything, while a
    linkage finding is neither masked nor accepted, (unless allowed) while candidates are open, and
    while the study requires a second researcher's sign-off of the text as it is now and it has
    none (:mod:`casestudy.masking.signoff`)."""
    row = _editable(session, masked_id, None)
    findings = leak_scan(session, row)
    if findings:
        shown = "; ".join(f"line {f.line}, column {f.column}: {f.text!r} ({f.term})" for f in findings[:5])
        more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
        raise UserError(f"release refused: the leak scan found {len(findings)} register term(s) in the masked text: {shown}{more}")
    linkage = open_findings(session, row)
    if linkage:
        shown = "; ".join(describe_finding(f) for f in linkage[:5])
        more = f" and {len(linkage) - 5} more" if len(linkage) > 5 else ""
        raise UserError(
            f"release refused: the leak scan found {len(linkage)} linkage finding(s) that are neither masked nor accepted "
            f"with a reason: {shown}{more}"
        )
    open_candidates = [c for c in row.candidates if c.get("status") == "open"]
    if open_candidates and not allow_open_candidates:
        raise UserError(
            f"release refused: {len(open_candidates)} candidate(s) still need a decision (keep or mask), "
            f"e.g. {open_candidates[0]['text']!r}"
        )
    masking_signoff.require_before_release(session, row)
    row.status = "released"
    row.released_at = utcnow()
    row.released_hash = sha256(row.masked_text)
    row.released_by = actor
    session.flush()
    audit.record(session, "masked_text", "release", entity_id=row.id, study_id=row.study_id, hash=row.released_hash)
    return row


# --- linkage between cases -------------------------------------------------------------
LINKAGE_REASON = "linkage"  # the ``reason`` of a candidate record that accepts a linkage finding


def _case_identities(session: Session, study: Study) -> dict[int, list[str]]:
    """Per case: the names the study holds for it (internal label, organisation, respondents)."""
    out: dict[int, list[str]] = {}
    for case in session.scalars(select(Case).where(Case.study_id == study.id).order_by(Case.id)):
        names = [case.internal_label]
        if case.organisation is not None:
            names.append(case.organisation.name)
        names += [r.name for r in case.respondents if r.name.strip()]
        out[case.id] = names
    return out


def entry_cases(session: Session, study: Study) -> list[tuple[masking.Entry, tuple[int, ...]]]:
    """Every entry of the study's register (guards included) with the ids of the cases it belongs to.

    Entries carry no case, so it is derived: an entry belongs to each case whose internal label,
    organisation name or respondents' names it matches with any of its forms ("Veldhoven" belongs
    to the cases of "Zorggroep Veldhoven-Oost", "Dr. Verhoef" to the case of respondent Marleen
    Verhoef). An entry that matches no case (a study-wide term) belongs to none.
    """
    identities = _case_identities(session, study)
    out = []
    for entry in study_register(session, study).entries:
        compiled = masking.compile_register((entry,), contacts=False)
        owners = tuple(case_id for case_id, names in identities.items() if any(compiled.register_matches(n) for n in names))
        out.append((entry, owners))
    return out


def _case_texts(session: Session, study: Study) -> dict[int, list[MaskedText]]:
    """Per case: its released masked texts and its newest one (what the panel sees or will see)."""
    out: dict[int, list[MaskedText]] = {}
    for row in list_masked(session, study):
        out.setdefault(row.case_id, []).append(row)
    return {case_id: [r for r in rows if r.status == "released" or r is rows[-1]] for case_id, rows in out.items()}


def linkage_scan(session: Session, masked: MaskedText) -> list[linkage.LinkageFinding]:
    """What in the masked text points at another case of the study (accepted findings included).

    Another case's public or internal label, a register term that belongs to another case, and a
    proper name (proposed by the candidate finder) that also occurs in the masked texts of another
    case; see :func:`casestudy.masking.linkage.linkage_scan`.
    """
    study = session.get(Study, masked.study_id)
    entries = entry_cases(session, study)
    texts = _case_texts(session, study)
    others = [
        linkage.CaseMarks(
            case.public_label,
            case.internal_label,
            tuple(entry for entry, owners in entries if case.id in owners),
            tuple(t.masked_text for t in texts.get(case.id, ()) if t.id != masked.id),
        )
        for case in session.scalars(select(Case).where(Case.study_id == study.id, Case.id != masked.case_id).order_by(Case.id))
    ]
    register = study_register(session, study)
    return linkage.linkage_scan(masked.masked_text, others, register, study.language)


def accepted_findings(masked: MaskedText) -> dict[tuple[str, str], dict]:
    """(kind, folded term) -> the stored acceptance (who, when, reason) of a linkage finding."""
    return {
        (c["kind"], masking.fold(c["term"])): c
        for c in masked.candidates
        if c.get("reason") == LINKAGE_REASON and c.get("status") == "accepted"
    }


def open_findings(session: Session, masked: MaskedText) -> list[linkage.LinkageFinding]:
    """The linkage findings that still block a release (not accepted)."""
    accepted = accepted_findings(masked)
    return [f for f in linkage_scan(session, masked) if f.key not in accepted]


def describe_finding(finding: linkage.LinkageFinding) -> str:
    return (
        f"line {finding.line}, column {finding.column}: {finding.text!r} ({finding.kind} "
        f"{finding.term!r} of {', '.join(finding.cases)})"
    )


def finding_records(session: Session, masked: MaskedText) -> list[dict]:
    """Every linkage finding as a record with its decision: open, or accepted (by, at, reason)."""
    accepted = accepted_findings(masked)
    out = []
    for finding in linkage_scan(session, masked):
        decision = accepted.get(finding.key)
        out.append({
            **finding.as_dict(), "cases": ", ".join(finding.cases), "acceptable": finding.acceptable,
            "status": "accepted" if decision else "open", "reason": decision["note"] if decision else "",
            "accepted_by": decision["accepted_by"] if decision else "", "accepted_at": decision["accepted_at"] if decision else "",
        })
    return out


def _matching(session: Session, row: MaskedText, kind: str, term: str) -> list[linkage.LinkageFinding]:
    kind = (kind or "").strip().lower()
    if kind not in LINKAGE_KINDS:
        raise UserError(f"unknown kind of finding {kind!r}; choose one of: {', '.join(LINKAGE_KINDS)}")
    wanted = (kind, masking.fold(" ".join((term or "").split())))
    found = [f for f in linkage_scan(session, row) if f.key == wanted]
    if not found:
        raise UserError(f"masked text {row.id} has no {kind} finding {term!r}; run the linkage scan to see its findings")
    return found


def accept_finding(
    session: Session, masked_id: int, kind: str, term: str, reason: str, actor: str, expected_version: int | None = None
) -> MaskedText:
    """Accept every occurrence of a linkage finding with a reason; who, when and why are kept with
    the candidates and audited. Another case's internal label or register term can only be masked."""
    row = _editable(session, masked_id, expected_version)
    found = _matching(session, row, kind, term)
    if not reason or not reason.strip():
        raise UserError("give the reason for accepting this finding, e.g. 'the cases share this national network openly'")
    finding = found[0]
    if not finding.acceptable:
        raise UserError(
            f"{finding.term!r} is {'a register term' if finding.kind == 'register term' else 'an internal label'} of "
            f"{', '.join(finding.cases)}: it identifies that case and can only be masked; kinds you may accept: "
            f"{', '.join(ACCEPTABLE_LINKAGE_KINDS)}"
        )
    accepted_at = utcnow().isoformat(timespec="seconds")
    record = {
        "text": finding.text, "reason": LINKAGE_REASON, "suggestion": "", "status": "accepted", "kind": finding.kind,
        "term": finding.term, "cases": sorted({c for f in found for c in f.cases}),
        "where": [f"line {f.line}, column {f.column}" for f in found],
        "note": reason.strip(), "accepted_by": actor, "accepted_at": accepted_at,
    }
    candidates = [c for c in row.candidates if not (c.get("reason") == LINKAGE_REASON and (c["kind"], masking.fold(c["term"])) == finding.key)]
    row.candidates = [*candidates, record]
    session.flush()
    audit.record(
        session, "masked_text", "accept linkage finding", entity_id=row.id, study_id=row.study_id,
        kind=finding.kind, term=finding.term, cases=record["cases"], reason=record["note"], by=actor,
    )
    return row


def mask_finding(
    session: Session, masked_id: int, kind: str, term: str, replacement: str, expected_version: int | None = None
) -> MaskedText:
    """Mask every occurrence of a linkage finding with ``replacement``.

    An occurrence in kept text becomes a new replacement (rule "linkage"); one inside an earlier
    replacement (e.g. another case's public label that a guard wrote) edits that replacement.
    """
    row = _editable(session, masked_id, expected_version)
    found = _matching(session, row, kind, term)
    replacement = (replacement or "").strip()
    if not replacement:
        raise UserError("give the replacement text for this finding, e.g. [another case] or [a partner institution]")
    items = [dict(r) for r in row.replacements]
    masked_text, segments = masking.render(row.source_text, items)
    edited: dict[int, str] = {}
    for finding in sorted(found, key=lambda f: f.start, reverse=True):
        segment = next((g for g in segments if g.masked_start <= finding.start and finding.end <= g.masked_end), None)
        if segment is None:
            raise UserError(f"{describe_finding(finding)} runs into a replacement; edit that replacement instead")
        if segment.index is None:
            start = segment.source_start + finding.start - segment.masked_start
            end = start + finding.end - finding.start
            items.append({
                "start": start, "end": end, "text": row.source_text[start:end], "replacement": replacement,
                "term": finding.term, "kind": "other", "rule": LINKAGE_REASON, "status": "edited",
            })
        else:
            value = edited.get(segment.index, masked_text[segment.masked_start : segment.masked_end])
            offset = finding.start - segment.masked_start
            edited[segment.index] = value[:offset] + replacement + value[offset + finding.end - finding.start :]
    for index, value in edited.items():
        items[index] = {**items[index], "replacement": value, "status": "edited"}
    _rebuild(row, items)
    if any(f.key == found[0].key for f in linkage_scan(session, row)):
        raise UserError(f"the replacement {replacement!r} still contains {found[0].term!r}")
    session.flush()
    return row


def released_texts_for(session: Session, principal: Principal, study_id: int | None = None) -> list[dict]:
    """Released masked narratives of the principal's study: public case label, masked text, hash
    (released case summaries: :func:`casestudy.masking.summaries.released_summaries_for`).

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
        .where(MaskedText.study_id == study_id, MaskedText.status == "released", MaskedText.text_kind == "narrative")
        .order_by(Case.public_label, MaskedText.id)
    )
    out = []
    for masked, public_label in rows:
        if sha256(masked.masked_text) != masked.released_hash:
            raise UserError(f"the released text of {public_label} does not match its hash; ask the research team")
        out.append({"case": public_label, "text": masked.masked_text, "hash": masked.released_hash, "released_at": masked.released_at})
    return out


def stage_status(session: Session, case: Case) -> StageStatus:
    """Done once a masked text of the case is released; while its newest draft waits, what is
    left to decide in it (candidates, then proposed replacements, then the release)."""
    rows = list(session.scalars(select(MaskedText).where(MaskedText.case_id == case.id, MaskedText.text_kind == "narrative")
                                .order_by(MaskedText.id)))
    if not rows:
        return status.not_started("masking: draft the masked text from the agreed version")
    released = sum(1 for row in rows if row.status == "released")
    if released:
        return status.done(f"{released} released")
    draft = rows[-1]
    summary = status.plural(len(rows), "draft")
    candidates = sum(1 for c in draft.candidates if c.get("status") == "open" and c.get("reason") != LINKAGE_REASON)
    if candidates:
        return status.still_open(summary, f"masking: {status.plural(candidates, 'candidate')} to decide")
    proposed = sum(1 for r in draft.replacements if r.get("status") == "proposed")
    if proposed:
        return status.still_open(summary, f"masking: {status.plural(proposed, 'replacement')} to review")
    if signoffs.state_of(session, masking_signoff.target(session, draft)) in (signoffs.AWAITING, signoffs.INVALIDATED):
        return status.still_open(summary, f"masking: masked text {draft.id} awaits a sign-off by a second researcher before release",
                                 status.SECOND_RESEARCHER)
    return status.still_open(summary, "masking: run the leak check and release the masked text")



