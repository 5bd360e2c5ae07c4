"""Matrices over the retrieved segments: case x code (counts, presence or characters), code
co-occurrence (overlapping codings), and a manager vs therapist comparison per case.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy import tabular
from casestudy.codebook import tree as codebook
from casestudy.coding.constants import MATRIX_MEASURES
from casestudy.coding.retrieval import SegmentFilter
from casestudy.errors import UserError
from casestudy.models import (
    Case,
    Code,
    Coding,
    Interview,
    Respondent,
    Study,
)

# --- matrices -----------------------------------------------------------------------------


def case_code_matrix(session: Session, study: Study, measure: str = "counts", flt: SegmentFilter | None = None) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows: case public labels; columns: code paths; cells by ``measure``."""
    if measure not in MATRIX_MEASURES:
        raise UserError(f"unknown measure {measure!r}; choose one of: {', '.join(MATRIX_MEASURES)}")
    flt = flt or SegmentFilter()
    value = func.count(Coding.id) if measure != "characters" else func.sum(Coding.end - Coding.start)
    query = (
        select(Interview.case_id, Coding.code_id, value)
        .join(Interview, Coding.interview_id == Interview.id)
        .join(Respondent, Interview.respondent_id == Respondent.id)
        .join(Code, Coding.code_id == Code.id)
        .where(Coding.study_id == study.id)
        .group_by(Interview.case_id, Coding.code_id)
    )
    if flt.coder_ids is not None:
        query = query.where(Coding.coder_id.in_(list(flt.coder_ids)))
    if flt.level:
        query = query.where(Code.level == flt.level)
    if flt.role:
        query = query.where(Respondent.role == flt.role)
    cells = {(case_id, code_id): int(v or 0) for case_id, code_id, v in session.execute(query)}
    cases = studies.list_cases(session, study)
    paths = codebook.code_paths(codebook.all_codes(session, study))
    code_ids = sorted({code_id for _, code_id in cells}, key=lambda i: paths.get(i, ""))
    matrix = []
    for case in cases:
        row = [cells.get((case.id, code_id), 0) for code_id in code_ids]
        matrix.append([1 if v else 0 for v in row] if measure == "presence" else row)
    return [c.public_label for c in cases], [paths.get(i, str(i)) for i in code_ids], matrix


def cooccurrence_matrix(session: Session, study: Study, flt: SegmentFilter | None = None) -> tuple[list[str], list[list[int]]]:
    """How often two codes' codings overlap (share a character) in the same interview.

    The diagonal holds each code's number of codings. Counted per pair of codings.
    """
    flt = flt or SegmentFilter()
    query = select(Coding.interview_id, Coding.code_id, Coding.start, Coding.end).where(Coding.study_id == study.id)
    if flt.coder_ids is not None:
        query = query.where(Coding.coder_id.in_(list(flt.coder_ids)))
    if flt.interview_ids is not None:
        query = query.where(Coding.interview_id.in_(list(flt.interview_ids)))
    by_interview: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for interview_id, code_id, start, end in session.execute(query.order_by(Coding.interview_id, Coding.start)):
        by_interview[interview_id].append((start, end, code_id))
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for spans in by_interview.values():
        active: list[tuple[int, int, int]] = []
        for start, end, code_id in spans:  # sorted by start: a sweep over open spans
            active = [a for a in active if a[1] > start]
            counts[(code_id, code_id)] += 1
            for _, _, other in active:
                if other != code_id:
                    counts[(min(code_id, other), max(code_id, other))] += 1
            active.append((start, end, code_id))
    paths = codebook.code_paths(codebook.all_codes(session, study))
    code_ids = sorted({a for a, _ in counts}, key=lambda i: paths.get(i, ""))
    matrix = [[counts.get((min(a, b), max(a, b)), 0) for b in code_ids] for a in code_ids]
    return [paths.get(i, str(i)) for i in code_ids], matrix


def role_comparison(session: Session, study: Study, case: Case) -> list[dict]:
    """Per code in a case: how often each respondent role raised it, and who alone did."""
    query = (
        select(Coding.code_id, Respondent.role, func.count(Coding.id))
        .join(Interview, Coding.interview_id == Interview.id)
        .join(Respondent, Interview.respondent_id == Respondent.id)
        .where(Interview.case_id == case.id)
        .group_by(Coding.code_id, Respondent.role)
    )
    per_code: dict[int, dict[str, int]] = defaultdict(dict)
    for code_id, role, count in session.execute(query):
        per_code[code_id][role] = count
    roles = sorted({r.role for r in case.respondents})
    paths = codebook.code_paths(codebook.all_codes(session, study))
    rows = []
    for code_id, by_role in sorted(per_code.items(), key=lambda item: paths.get(item[0], "")):
        raised_by = [role for role in roles if by_role.get(role)]
        rows.append({"code": paths.get(code_id, ""), **{role: by_role.get(role, 0) for role in roles},
                     "only": raised_by[0] if len(raised_by) == 1 else ""})
    return rows


def matrix_table(rows: list[str], columns: list[str], matrix: list[list[int]], fmt: str, corner: str = "") -> str | bytes:
    header = [corner, *columns]
    body = [[label, *values] for label, values in zip(rows, matrix)]
    if fmt == "csv":
        return tabular.csv_text(header, body)
    if fmt == "xlsx":
        return tabular.xlsx_bytes({"Matrix": (header, body)})
    raise UserError(f"unknown export format {fmt!r}; choose csv or xlsx")
