"""Audits: a case (optionally one of its periods) scored on a stored instrument, item by item.

An audit names its case, period, instrument version, a label (e.g. "2026 spring") and a date.
Each rater gives each item at most one score on the instrument's scale, with evidence: ids of
codings of the audited case, documents (file names or references as text; ``document:ID`` names a
document stored with the case's interviews and is checked) and a note. Starting an audit
freezes the instrument version it uses (:func:`casestudy.panel.instrument_store.freeze`).

Summaries (:func:`audit_summary`) are exact (fractions) and unrounded: per item the mean over its
raters; per level the mean of its items' means (items with no score left out and counted); overall
the mean over all scored items. :func:`compare_audits` sets audits of one instrument side by side
(repeated audits, or one audit per period). Agreement between raters is computed in
:mod:`casestudy.reports.rater_agreement` (with the reports' one ICC and alpha).
"""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import periods as case_periods
from casestudy.errors import UserError
from casestudy.models import (
    AuditScore,
    Case,
    CasePeriod,
    Coding,
    InstrumentAudit,
    Interview,
    StoredInstrument,
    Study,
    utcnow,
)
from casestudy.panel import instrument_store
from casestudy.panel.instruments import Instrument, Item

MAX_NOTE = 5000
MAX_DOCUMENTS = 50


def new_audit(session: Session, study: Study, case: Case, instrument_name: str, version: str | None = None,
              period: str | None = None, label: str = "", held_on: dt.date | None = None, note: str = "") -> InstrumentAudit:
    """Start an audit of ``case`` (and ``period``, by name) on a stored instrument (a shipped one
    is stored on first use); the instrument version is frozen from now on."""
    stored = instrument_store.stored_or_shipped(session, study, instrument_name, version)
    period_row = case_periods.get_period(session, case, period) if period else None
    label = (label or "").strip() or f"{case.public_label} {held_on or dt.date.today()}" + (f" {period_row.name}" if period_row else "")
    if any(a.label.casefold() == label.casefold() for a in list_audits(session, study)):
        raise UserError(f"an audit labelled {label!r} exists already; give this one another label")
    audit = InstrumentAudit(study_id=study.id, case_id=case.id, period_id=period_row.id if period_row else None,
                            instrument_id=stored.id, label=label, held_on=held_on, note=(note or "").strip())
    session.add(audit)
    session.flush()
    instrument_store.freeze(session, stored, f"audit {audit.label}")
    return audit


def list_audits(session: Session, study: Study, case: Case | None = None) -> list[InstrumentAudit]:
    query = select(InstrumentAudit).where(InstrumentAudit.study_id == study.id)
    if case is not None:
        query = query.where(InstrumentAudit.case_id == case.id)
    return sorted(session.scalars(query), key=lambda a: (a.held_on or dt.date.max, a.id))


def get_audit(session: Session, study: Study, ref: str | int) -> InstrumentAudit:
    """An audit by id or label (case ignored)."""
    text = str(ref).strip()
    for audit in list_audits(session, study):
        if (text.isdigit() and audit.id == int(text)) or audit.label.casefold() == text.casefold():
            return audit
    known = ", ".join(f"{a.id} ({a.label})" for a in list_audits(session, study)) or "none yet"
    raise UserError(f"no audit {ref!r}; audits: {known}")


def instrument_for(session: Session, audit: InstrumentAudit) -> Instrument:
    return instrument_store.instrument_of(session.get(StoredInstrument, audit.instrument_id))


def find_item(instrument: Instrument, ref: str) -> Item:
    """The instrument's item by key or text, or a UserError listing the keys."""
    item = instrument.find_item(ref)
    if item is None:
        raise UserError(f"{instrument.name} has no item {ref!r}; items: {', '.join(i.key for i in instrument.items)}")
    return item


def _coding_ids(session: Session, audit: InstrumentAudit, ids) -> list[int]:
    clean = []
    for value in ids or []:
        text = str(value).strip().removeprefix("coding:")
        if not text:
            continue
        if not re.fullmatch(r"\d+", text):
            raise UserError(f"evidence coding {value!r} is not a coding id (a whole number)")
        clean.append(int(text))
    clean = list(dict.fromkeys(clean))
    if clean:
        found = dict(session.execute(select(Coding.id, Interview.case_id).join(Interview, Interview.id == Coding.interview_id)
                                     .where(Coding.id.in_(clean), Coding.study_id == audit.study_id)).all())
        missing = [str(i) for i in clean if i not in found]
        if missing:
            raise UserError(f"no coding {', '.join(missing)} in this study (see 'casestudy codings list')")
        elsewhere = [str(i) for i in clean if found[i] != audit.case_id]
        if elsewhere:
            raise UserError(f"coding {', '.join(elsewhere)} is not of {session.get(Case, audit.case_id).public_label}, the case this audit is about")
    return clean


DOCUMENT_REFERENCE = re.compile(r"document:(\d+)", re.IGNORECASE)


def _documents(session: Session, audit: InstrumentAudit, documents) -> list[str]:
    """The documents named as evidence; a ``document:ID`` must be a document of the audited case."""
    docs = [d.strip() for d in documents or [] if d and d.strip()]
    if len(docs) > MAX_DOCUMENTS:
        raise UserError(f"at most {MAX_DOCUMENTS} documents per score")
    for doc in docs:
        if match := DOCUMENT_REFERENCE.fullmatch(doc):
            found = session.get(Interview, int(match.group(1)))
            if found is None or found.kind != "document" or found.case_id != audit.case_id:
                raise UserError(f"{doc} is not a document of {session.get(Case, audit.case_id).public_label} (see 'casestudy interviews list')")
    return docs


def score_item(session: Session, audit: InstrumentAudit, item_ref: str, rater: str, score: int | None,
               coding_ids=(), documents=(), note: str = "") -> AuditScore:
    """Record (or replace) ``rater``'s score of one item with its evidence; ``score`` None clears
    the score but keeps the evidence. The score must lie on the instrument's scale."""
    instrument = instrument_for(session, audit)
    item = find_item(instrument, item_ref)
    rater = (rater or "").strip()
    if not rater:
        raise UserError("a score needs its rater (a name or pseudonym)")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, int):
            raise UserError(f"a score is a whole number from {instrument.scale.min} to {instrument.scale.max}")
        if not instrument.scale.contains(score):
            raise UserError(f"score {score} lies outside the scale {instrument.scale.text()} of {instrument.name}")
    docs = _documents(session, audit, documents)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise UserError(f"a note may have at most {MAX_NOTE} characters")
    codings = _coding_ids(session, audit, coding_ids)
    row = session.scalar(select(AuditScore).where(AuditScore.audit_id == audit.id, AuditScore.item_key == item.key,
                                                  AuditScore.rater == rater))
    if row is None:
        row = AuditScore(audit_id=audit.id, item_key=item.key, rater=rater)
        session.add(row)
    row.score, row.coding_ids, row.documents, row.note, row.updated_at = score, codings, docs, note, utcnow()
    session.flush()
    return row


def scores_of(session: Session, audit: InstrumentAudit) -> list[AuditScore]:
    query = select(AuditScore).where(AuditScore.audit_id == audit.id).execution_options(populate_existing=True)
    return sorted(session.scalars(query), key=lambda s: s.id)


def _mean(values):
    values = [Fraction(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _number(value):
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(value)


def audit_summary(session: Session, audit: InstrumentAudit) -> dict:
    """The audit as plain data: its case, period, instrument (with legend), raters, per item the
    scores by rater with evidence and their mean, per level and overall the mean of the item means
    (unrounded), and per rater the items still to score."""
    instrument = instrument_for(session, audit)
    stored = session.get(StoredInstrument, audit.instrument_id)
    period = session.get(CasePeriod, audit.period_id) if audit.period_id else None
    rows = scores_of(session, audit)
    raters = list(dict.fromkeys(r.rater for r in rows))
    by_item: dict[str, list[AuditScore]] = {}
    for row in rows:
        by_item.setdefault(row.item_key, []).append(row)
    items, level_means = [], {}
    for level in instrument.levels:
        means = []
        for item in level.items:
            scored = by_item.get(item.key, [])
            mean = _mean(r.score for r in scored)
            if mean is not None:
                means.append(mean)
            items.append({"key": item.key, "level": item.level, "text": item.text,
                          "scores": {r.rater: r.score for r in scored},
                          "evidence": {r.rater: {"codings": r.coding_ids, "documents": r.documents, "note": r.note} for r in scored
                                       if r.coding_ids or r.documents or r.note},
                          "mean": _number(mean)})
        level_means[level.name] = {"mean": _number(_mean(means)), "n_items": len(means), "of": len(level.items)}
    scored_means = [_mean(r.score for r in by_item.get(i.key, [])) for i in instrument.items]
    scored_means = [m for m in scored_means if m is not None]
    missing = {rater: [i.key for i in instrument.items if not any(r.rater == rater and r.score is not None for r in by_item.get(i.key, []))]
               for rater in raters}
    case = session.get(Case, audit.case_id)
    return {
        "id": audit.id, "label": audit.label, "case": case.public_label, "period": period.name if period else None,
        "held_on": audit.held_on, "note": audit.note,
        "instrument": {"name": instrument.name, "version": instrument.version, "title": instrument.title,
                       "legend": instrument.scale.legend(), "points": instrument_store.legend_rows(instrument), "stored_id": stored.id},
        "raters": raters, "items": items, "levels": level_means,
        "overall": {"mean": _number(_mean(scored_means)), "n_items": len(scored_means), "of": len(instrument.items)},
        "missing": missing,
    }


def compare_audits(session: Session, audits: list[InstrumentAudit]) -> dict:
    """Audits of one instrument side by side: per item the mean of each audit, per level and
    overall the audits' means; warns when the audits use different versions of the instrument."""
    if len(audits) < 2:
        raise UserError("compare at least two audits")
    summaries = [audit_summary(session, a) for a in audits]
    names = {s["instrument"]["name"] for s in summaries}
    if len(names) > 1:
        raise UserError(f"these audits use different instruments ({', '.join(sorted(names))}); compare audits of one instrument")
    warnings = []
    versions = {s["instrument"]["version"] for s in summaries}
    if len(versions) > 1:
        warnings.append(f"the audits use versions {', '.join(sorted(versions))} of the instrument; items are matched by key")
    columns = [s["label"] + (f" ({s['period']})" if s["period"] else "") for s in summaries]
    keys = list(dict.fromkeys(item["key"] for s in summaries for item in s["items"]))
    texts = {item["key"]: (item["level"], item["text"]) for s in summaries for item in s["items"]}
    items = [{"key": key, "level": texts[key][0], "text": texts[key][1],
              "means": {column: next((i["mean"] for i in s["items"] if i["key"] == key), None) for column, s in zip(columns, summaries)}}
             for key in keys]
    levels = list(dict.fromkeys(level for s in summaries for level in s["levels"]))
    return {
        "instrument": summaries[0]["instrument"], "audits": columns, "items": items,
        "levels": {level: {column: s["levels"].get(level, {}).get("mean") for column, s in zip(columns, summaries)} for level in levels},
        "overall": {column: s["overall"]["mean"] for column, s in zip(columns, summaries)},
        "warnings": warnings,
    }
