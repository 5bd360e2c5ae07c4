"""Retrieval of coded segments: filter by code, level, case, role, respondent and coder, with the
coded text (and its context) sliced from each transcript read once; exported as CSV or XLSX.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import tabular
from casestudy.codebook import tree as codebook
from casestudy.errors import UserError
from casestudy.models import (
    Case,
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
    "start", "end", "start_line", "end_line", "text", "memo",
)


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


def _segment_query(study: Study, flt: SegmentFilter):
    columns = [
        Coding.id, Case.public_label, Respondent.name, Respondent.role, Interview.id, Interview.file_name,
        Code.level, Code.id, User.username, Coding.start, Coding.end, Coding.start_line, Coding.end_line,
        Coding.memo,
    ]
    query = (
        select(*columns)
        .join(Interview, Coding.interview_id == Interview.id)
        .join(Case, Interview.case_id == Case.id)
        .join(Respondent, Interview.respondent_id == Respondent.id)
        .join(Code, Coding.code_id == Code.id)
        .join(User, Coding.coder_id == User.id)
    )
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
    return query.order_by(Case.public_label, Interview.id, Coding.start, Coding.id)


def _segment_rows(session: Session, study: Study, flt: SegmentFilter | None, with_context: bool):
    """(code paths, rows): Core rows (no ORM entities), the hot path of retrieval and export.

    Each row: the query's columns 0-12, then the coded text, the memo and, with context, the
    text before and after. Texts are sliced in Python from each involved transcript, read once:
    SQL substr() on a long UTF-8 text counts characters from its start for every coding.
    """
    paths = codebook.code_paths(codebook.all_codes(session, study))
    connection = session.connection()
    found = connection.execute(_segment_query(study, flt or SegmentFilter())).all()
    interview_ids = sorted({r[4] for r in found})
    texts: dict[int, str] = {}
    for chunk in range(0, len(interview_ids), 900):
        ids = interview_ids[chunk : chunk + 900]
        texts.update(connection.execute(select(Interview.id, Interview.text).where(Interview.id.in_(ids))).all())
    rows = []
    for r in found:
        text, start, end = texts[r[4]], r[9], r[10]
        row = (*r[:13], text[start:end], r[13])
        if with_context:
            row += (text[max(0, start - CONTEXT_CHARS) : start], text[end : end + CONTEXT_CHARS])
        rows.append(row)
    return paths, rows


def segments(session: Session, study: Study, flt: SegmentFilter | None = None, with_context: bool = True) -> list[dict]:
    """Coded segments with code paths, line numbers and (optionally) 120 characters of context."""
    paths, rows = _segment_rows(session, study, flt, with_context)
    result = []
    for row in rows:
        record = {
            "coding_id": row[0], "case": row[1], "respondent": row[2], "role": row[3], "interview_id": row[4],
            "interview": row[5], "level": row[6], "code": paths.get(row[7], ""), "code_id": row[7], "coder": row[8],
            "start": row[9], "end": row[10], "start_line": row[11], "end_line": row[12], "text": row[13], "memo": row[14],
        }
        if with_context:
            record["before"], record["after"] = row[15], row[16]
        result.append(record)
    return result


def export_segments(session: Session, study: Study, fmt: str = "csv", flt: SegmentFilter | None = None) -> str | bytes:
    """One row per coded segment (see SEGMENT_COLUMNS) as CSV text or XLSX bytes."""
    paths, result = _segment_rows(session, study, flt, with_context=False)
    # Columns in SEGMENT_COLUMNS order, straight from the query row (see _segment_query).
    rows = [(r[1], r[2], r[3], r[5], r[6], paths.get(r[7], ""), r[8], r[9], r[10], r[11], r[12], r[13], r[14]) for r in result]
    if fmt == "csv":
        return tabular.csv_text(SEGMENT_COLUMNS, rows)
    if fmt == "xlsx":
        return tabular.xlsx_bytes({"Coded segments": (SEGMENT_COLUMNS, rows)}, title=f"{study.title}: coded segments")
    raise UserError(f"unknown export format {fmt!r}; choose csv or xlsx")
