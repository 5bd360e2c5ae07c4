"""Periods of a case: named stretches of its history (e.g. before and during a reorganisation).

A period has a name (unique within its case, ignoring case), a start and an end written as ISO
dates: ``YYYY-MM`` for a whole month or ``YYYY-MM-DD`` for a day; ``2004-08`` starts on 1 August
2004 and ``2007-12`` ends on 31 December 2007. The end may not lie before the start. Two periods
of one case may not overlap, unless the one being added says so explicitly (``overlap_allowed``;
e.g. a follow-up period that deliberately includes an earlier one). A case also keeps one
exclusion note: who or what falls between or outside its periods and is left out (patients who
started in the interim). Ratings, audits, focus groups, interviews and codings refer to periods by id.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import (
    Case,
    CasePeriod,
    CasePeriodNote,
    Coding,
    Interview,
    FocusConsensus,
    FocusRating,
    InstrumentAudit,
    utcnow,
)
from casestudy.text import collapse_spaces

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MAX_NAME = 100


@dataclass(frozen=True)
class Bound:
    """A period bound as entered (``text``) and the first and last day it covers."""

    text: str
    first: dt.date
    last: dt.date


def parse_bound(text: str, what: str = "date") -> Bound:
    """'2004-08' (a month) or '2004-08-15' (a day) -> :class:`Bound`; anything else UserError."""
    text = (text or "").strip()
    try:
        if match := MONTH.match(text):
            year, month = int(match.group(1)), int(match.group(2))
            return Bound(text, dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))
        if DAY.match(text):
            day = dt.date.fromisoformat(text)
            return Bound(text, day, day)
    except ValueError:
        pass
    raise UserError(f"invalid {what} {text!r}: write a month as YYYY-MM (e.g. 2004-08) or a day as YYYY-MM-DD")


def span(period: CasePeriod) -> tuple[dt.date, dt.date]:
    """(first day, last day) the period covers."""
    return parse_bound(period.starts).first, parse_bound(period.ends).last


def list_periods(session: Session, case: Case) -> list[CasePeriod]:
    """The case's periods in time order (then by name)."""
    periods = list(session.scalars(select(CasePeriod).where(CasePeriod.case_id == case.id)))
    return sorted(periods, key=lambda p: (span(p), p.name.casefold()))


def period_names(session: Session, study_id: int) -> list[str]:
    """The distinct period names of a study's cases (first spelling kept), sorted: what a filter
    by period offers (a name such as PRE-REORG stands for that period in every case)."""
    rows = session.scalars(select(CasePeriod.name).join(Case, Case.id == CasePeriod.case_id).where(Case.study_id == study_id))
    names: dict[str, str] = {}
    for name in rows:
        names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


def find_period(session: Session, case: Case, name: str) -> CasePeriod | None:
    wanted = collapse_spaces(name).casefold()
    return next((p for p in list_periods(session, case) if p.name.casefold() == wanted), None)


def get_period(session: Session, case: Case, name: str) -> CasePeriod:
    """The case's period ``name`` (case ignored), or a UserError naming the known ones."""
    period = find_period(session, case, name)
    if period is None:
        known = ", ".join(p.name for p in list_periods(session, case)) or "none yet"
        raise UserError(f"{case.public_label} has no period {name!r}; its periods: {known}")
    return period


def period_id_for(session: Session, case: Case, name: str | None) -> int | None:
    """The id of the case's period ``name`` (case ignored), None for no name (None or blank):
    how a coding, an interview or a document is tied to a period, or untied. An unknown name is
    a UserError naming the case's periods (:func:`get_period`)."""
    return get_period(session, case, name).id if (name or "").strip() else None


def add_period(session: Session, case: Case, name: str, starts: str, ends: str, description: str = "",
               allow_overlap: bool = False) -> CasePeriod:
    """Add a period to ``case``, checked: a name (unique in the case), valid bounds, end not before
    start, and no overlap with another period of the case unless ``allow_overlap``."""
    name = collapse_spaces(name)
    if not name:
        raise UserError("a period needs a name, e.g. PRE-REORG")
    if len(name) > MAX_NAME:
        raise UserError(f"a period name may have at most {MAX_NAME} characters")
    start, end = parse_bound(starts, "start"), parse_bound(ends, "end")
    if end.last < start.first:
        raise UserError(f"period {name!r} ends ({end.text}) before it starts ({start.text})")
    existing = list_periods(session, case)
    if any(p.name.casefold() == name.casefold() for p in existing):
        raise UserError(f"{case.public_label} already has a period named {name!r}")
    if not allow_overlap:
        for other in existing:
            first, last = span(other)
            if start.first <= last and first <= end.last:
                raise UserError(
                    f"period {name!r} ({start.text} to {end.text}) overlaps {other.name!r} ({other.starts} to {other.ends}) "
                    f"of {case.public_label}; change the dates or allow the overlap explicitly (--allow-overlap)"
                )
    period = CasePeriod(case_id=case.id, name=name, starts=start.text, ends=end.text,
                        description=(description or "").strip(), overlap_allowed=allow_overlap)
    session.add(period)
    session.flush()
    return period


def remove_period(session: Session, case: Case, name: str) -> CasePeriod:
    """Remove a period that nothing refers to yet; otherwise a UserError saying what uses it."""
    period = get_period(session, case, name)
    users = []
    if session.scalar(select(InstrumentAudit.id).where(InstrumentAudit.period_id == period.id).limit(1)) is not None:
        users.append("audits")
    if session.scalar(select(FocusRating.id).where(FocusRating.period_id == period.id).limit(1)) is not None:
        users.append("focus-group ratings")
    if session.scalar(select(FocusConsensus.id).where(FocusConsensus.period_id == period.id).limit(1)) is not None:
        users.append("consensus scores")
    if session.scalar(select(Interview.id).where(Interview.period_id == period.id).limit(1)) is not None:
        users.append("interviews")
    if session.scalar(select(Coding.id).where(Coding.period_id == period.id).limit(1)) is not None:
        users.append("codings")
    if users:
        raise UserError(f"period {period.name!r} of {case.public_label} is used by {' and '.join(users)}; it cannot be removed")
    session.delete(period)
    session.flush()
    return period


def exclusion_note(session: Session, case: Case) -> str:
    """The case's note on what its periods leave out ('' when none)."""
    note = session.scalar(select(CasePeriodNote).where(CasePeriodNote.case_id == case.id))
    return note.exclusion if note is not None else ""


def set_exclusion_note(session: Session, case: Case, text: str) -> str:
    """Set (or with '' clear) the case's exclusion note, e.g. 'six patients who started between
    January and August 2008 are left out'."""
    text = (text or "").strip()
    note = session.scalar(select(CasePeriodNote).where(CasePeriodNote.case_id == case.id))
    if note is None:
        note = CasePeriodNote(case_id=case.id, exclusion=text)
        session.add(note)
    elif note.exclusion != text:
        note.exclusion = text
        note.updated_at = utcnow()
    session.flush()
    return text


def period_record(period: CasePeriod) -> dict:
    """The period as plain data (id, name, from, to, description, overlap_allowed)."""
    return {"id": period.id, "name": period.name, "from": period.starts, "to": period.ends,
            "description": period.description, "overlap_allowed": period.overlap_allowed}
