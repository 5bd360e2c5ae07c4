"""Retrieval of coded segments: filter by code, level, case, role, respondent, coder, period and
elicitation (spontaneous or after a probe, :mod:`casestudy.coding.elicitation`), with the
coded text (and its context) sliced from each transcript read once; exported as CSV or XLSX.

Every reader names who asks (``principal``): while the study is blind a coder gets only their
own codings (:func:`casestudy.coding.blinding.coder_filter`). Each segment links to its place
in the transcript (:mod:`casestudy.coding.places`). Documents (sources that are not interviews)
are retrieved like transcripts, with "" as respondent and role.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import tabular
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding
from casestudy.coding.places import passage_link
from casestudy.errors import UserError
from casestudy.coding.constants import ELICITATION_FILTERS
from casestudy.models import (
    Case,
    CasePeriod,
    Code,
    Coding,
    Interview,
    Respondent,
    Study,
    User,
)

CONTEXT_CHARS = 120
SEGMENT_COLUMNS = (
    "case", "respondent", "role", "interview", "level", "code", "coder",
    "start", "end", "start_line", "end_line", "text", "memo", "period", "elicitation",
)
NO_PERIOD = "(no period)"



# --- retrieval ----------------------------------------------------------------------------
@dataclass
class SegmentFilter:
    code_ids: Sequence[int] | None = None
    level: str | None = None
    case_ids: Sequence[int] | None = None
    respondent_ids: Sequence[int] | None = None
    role: str | None = None
    coder_ids: Sequence[int] | None = None
    interview_ids: Sequence[int] | None = None
    #: Period names (case ignored; a name such as PRE-REORG matches that period in every case);
    #: :data:`NO_PERIOD` matches codings tied to no period.
    periods: Sequence[str] | None = None
    #: "spontaneous", "probe" or "unmarked" (see :data:`ELICITATION_FILTERS`); None: all.
    elicitation: str | None = None


def effective_period_id():
    """The period a coding speaks about: its own, else its interview's (None: no period)."""
    return func.coalesce(Coding.period_id, Interview.period_id)


def check_elicitation_filter(value: str | None) -> str | None:
    """``value`` as an elicitation filter, or a UserError naming the choices."""
    if value in (None, ""):
        return None
    value = value.strip().lower()
    if value not in ELICITATION_FILTERS:
        raise UserError(f"unknown elicitation {value!r}; choose one of: {', '.join(ELICITATION_FILTERS)}")
    return value


def elicitation_condition(value: str | None):
    """The SQL condition on ``Coding`` for an elicitation filter (None: no filter)."""
    elicitation = check_elicitation_filter(value)
    if elicitation is None:
        return None
    return Coding.elicitation == ("" if elicitation == "unmarked" else elicitation)


def segment_query(study: Study, flt: SegmentFilter):
    """The segments matching ``flt`` with everything retrieval shows (see :func:`_segment_rows`
    for the column order; column 14 is the period's name or None), ordered by case label,
    interview and position."""
    columns = [
        Coding.id, Case.public_label, Respondent.name, Respondent.role, Interview.id, Interview.file_name,
        Code.level, Code.id, User.username, Coding.start, Coding.end, Coding.start_line, Coding.end_line,
        Coding.memo, CasePeriod.name, Coding.elicitation,
    ]
    # A document has no respondent: its codings come with "" as respondent and role.
    columns[2], columns[3] = func.coalesce(Respondent.name, ""), func.coalesce(Respondent.role, "")
    query = (
        select(*columns)
        .join(Interview, Coding.interview_id == Interview.id)
        .join(Case, Interview.case_id == Case.id)
        .outerjoin(Respondent, Interview.respondent_id == Respondent.id)
        .join(Code, Coding.code_id == Code.id)
        .join(User, Coding.coder_id == User.id)
        .outerjoin(CasePeriod, CasePeriod.id == effective_period_id())
    )
    return _filtered(query, study, flt).order_by(Case.public_label, Interview.id, Coding.start, Coding.id)


def span_query(study: Study, flt: SegmentFilter, with_period: bool = False):
    """The bare spans matching ``flt``: (interview id, case id, code id, coder id, start, end),
    unordered; ``with_period`` adds the period id (the coding's, else its interview's; None).
    The same filter as :func:`segment_query` with only the joins it needs, for readers of every
    coding of a study (matrices), where each join and the sort cost seconds."""
    columns = [Coding.interview_id, Interview.case_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end]
    if with_period:
        columns.append(effective_period_id())
    query = select(*columns).join(Interview, Coding.interview_id == Interview.id)
    if flt.periods is not None:
        query = query.outerjoin(CasePeriod, CasePeriod.id == effective_period_id())
    if flt.level:
        query = query.join(Code, Coding.code_id == Code.id)
    if flt.role:
        query = query.join(Respondent, Interview.respondent_id == Respondent.id)
    return _filtered(query, study, flt)


def texts_query(interview_ids: Sequence[int]):
    """(interview id, text) of the interviews ``interview_ids`` (at most 900: SQLite's limit of
    bound parameters is 999 in older builds)."""
    return select(Interview.id, Interview.text).where(Interview.id.in_(list(interview_ids)))


def _filtered(query, study: Study, flt: SegmentFilter):
    """``query`` (joining Interview, Code / Respondent when ``flt`` names a level / role, and
    CasePeriod on the effective period when it names periods) narrowed to ``study`` and ``flt``."""
    # With an interview filter, let the planner walk the interview index, not the study's codings.
    query = query.where(Interview.study_id == study.id) if flt.interview_ids is not None else query.where(Coding.study_id == study.id)
    if flt.code_ids is not None:
        query = query.where(Coding.code_id.in_(list(flt.code_ids)))
    if flt.level:
        query = query.where(Code.level == flt.level)
    if flt.case_ids is not None:
        query = query.where(Interview.case_id.in_(list(flt.case_ids)))
    if flt.respondent_ids is not None:
        query = query.where(Interview.respondent_id.in_(list(flt.respondent_ids)))
    if flt.role:
        query = query.where(Respondent.role == flt.role)
    if flt.coder_ids is not None:
        query = query.where(Coding.coder_id.in_(list(flt.coder_ids)))
    if flt.interview_ids is not None:
        query = query.where(Coding.interview_id.in_(list(flt.interview_ids)))
    if flt.periods is not None:
        names = [p.strip().casefold() for p in flt.periods if p.strip() and p.strip() != NO_PERIOD]
        wanted = func.lower(CasePeriod.name).in_(names)
        query = query.where(wanted | CasePeriod.id.is_(None) if NO_PERIOD in flt.periods else wanted)
    condition = elicitation_condition(flt.elicitation)
    if condition is not None:
        query = query.where(condition)
    return query


def visible_filter(session: Session, study: Study, flt: SegmentFilter | None, principal: Principal) -> SegmentFilter:
    """A copy of ``flt`` narrowed to the coders ``principal`` may see (blind coding)."""
    narrowed = dataclasses.replace(flt or SegmentFilter())
    narrowed.coder_ids = blinding.coder_filter(session, study, principal, flt.coder_ids if flt else None)
    return narrowed


def _segment_rows(session: Session, study: Study, flt: SegmentFilter | None, with_context: bool, principal: Principal):
    """(code paths, rows): Core rows (no ORM entities), the hot path of retrieval and export.

    Each row: the query's columns 0-12, then the coded text, the memo, the period's name ("" for
    none), the elicitation and, with context, the text before and after. Texts are sliced in
    Python from each involved transcript, read once:
    SQL substr() on a long UTF-8 text counts characters from its start for every coding.
    """
    paths = codebook.code_paths(codebook.all_codes(session, study))
    connection = session.connection()
    found = connection.execute(segment_query(study, visible_filter(session, study, flt, principal))).all()
    interview_ids = sorted({r[4] for r in found})
    texts: dict[int, str] = {}
    for chunk in range(0, len(interview_ids), 900):
        texts.update(connection.execute(texts_query(interview_ids[chunk : chunk + 900])).all())
    rows = []
    for r in found:
        text, start, end = texts[r[4]], r[9], r[10]
        row = (*r[:13], text[start:end], r[13], r[14] or "", r[15])
        if with_context:
            row += (text[max(0, start - CONTEXT_CHARS) : start], text[end : end + CONTEXT_CHARS])
        rows.append(row)
    return paths, rows


def segments(session: Session, study: Study, flt: SegmentFilter | None = None, with_context: bool = True, *,
             principal: Principal) -> list[dict]:
    """The coded segments ``principal`` may see, with code paths, line numbers, the link to their
    place (``link``) and (optionally) 120 characters of context."""
    paths, rows = _segment_rows(session, study, flt, with_context, principal)
    result = []
    for row in rows:
        record = {
            "coding_id": row[0], "case": row[1], "respondent": row[2], "role": row[3], "interview_id": row[4],
            "interview": row[5], "level": row[6], "code": paths.get(row[7], ""), "code_id": row[7], "coder": row[8],
            "start": row[9], "end": row[10], "start_line": row[11], "end_line": row[12], "text": row[13], "memo": row[14],
            "period": row[15], "elicitation": row[16], "link": passage_link(row[4], row[9], row[10]),
        }
        if with_context:
            record["before"], record["after"] = row[17], row[18]
        result.append(record)
    return result


def export_segments(session: Session, study: Study, fmt: str = "csv", flt: SegmentFilter | None = None, *,
                    principal: Principal) -> str | bytes:
    """One row per coded segment ``principal`` may see (see SEGMENT_COLUMNS) as CSV text or XLSX bytes."""
    paths, result = _segment_rows(session, study, flt, with_context=False, principal=principal)
    # Columns in SEGMENT_COLUMNS order, straight from the query row (see segment_query).
    rows = [(r[1], r[2], r[3], r[5], r[6], paths.get(r[7], ""), r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16]) for r in result]
    if fmt == "csv":
        return tabular.csv_text(SEGMENT_COLUMNS, rows)
    if fmt == "xlsx":
        return tabular.xlsx_bytes({"Coded segments": (SEGMENT_COLUMNS, rows)}, title=f"{study.title}: coded segments")
    raise UserError(f"unknown export format {fmt!r}; choose csv or xlsx")
