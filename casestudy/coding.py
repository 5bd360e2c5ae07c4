"""Span coding: apply, edit and remove codings; memos; retrieval; matrices; exports; import.

Offsets are code points into ``Interview.text``, half-open ``[start, end)``. A coding records
its coder; blind mode shows a coder only their own codings. Every write goes through the
caller's transaction, so a batch (an import, a suggestion accept) is all-or-nothing.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from . import agreement, audit, codebook, db, interviews, study as studies, tabular
from . import suggestions as suggestions_module
from .errors import UserError
from .models import (
    MEMO_TARGETS,
    Case,
    Code,
    Coding,
    Interview,
    Memo,
    Respondent,
    Sentence,
    Study,
    SuggestionDecision,
    User,
)

CONTEXT_CHARS = 120
SEGMENT_COLUMNS = (
    "case", "respondent", "role", "interview", "level", "code", "coder",
    "start", "end", "start_line", "end_line", "text", "memo",
)


# --- helpers ----------------------------------------------------------------------------
def get_coder(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise UserError(f"unknown coder {username!r}: add an account for them first")
    if not user.active:
        raise UserError(f"the account of coder {username!r} is deactivated")
    if user.role not in ("admin", "coder"):
        raise UserError(f"{username!r} has a viewer account and cannot code")
    return user


def _check_span(interview: Interview, start: int, end: int, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if not isinstance(start, int) or not isinstance(end, int):
        raise UserError(f"{prefix}start and end must be whole numbers")
    if start < 0 or end > len(interview.text):
        raise UserError(f"{prefix}offsets {start}-{end} lie outside the text of {interview.file_name} (0-{len(interview.text)})")
    if end <= start:
        raise UserError(f"{prefix}the end ({end}) must come after the start ({start})")


def _check_code(code: Code, study: Study, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if code.study_id != study.id:
        raise UserError(f"{prefix}code {code.name!r} belongs to another study")
    if code.status != "active":
        raise UserError(f"{prefix}code {code.name!r} is {code.status} and cannot be applied")
    if not code.codable:
        raise UserError(f"{prefix}{code.name!r} is a category only; choose one of its codes")


def _lines(interview: Interview, start: int, end: int) -> tuple[int, int]:
    index = interviews.line_index(interview.text)
    return index.line_of(start), index.line_of(max(start, end - 1))


# --- coding -----------------------------------------------------------------------------
def apply_codes(
    session: Session,
    interview: Interview,
    codes: Sequence[Code],
    coder: User,
    start: int,
    end: int,
    memo: str = "",
    origin: str = "manual",
) -> list[Coding]:
    """Apply each code to the span; a code already applied by this coder to this span is kept once."""
    study = session.get(Study, interview.study_id)
    interviews.require_analysable(interview)
    _check_span(interview, start, end)
    if not codes:
        raise UserError("choose at least one code to apply")
    start_line, end_line = _lines(interview, start, end)
    created = []
    for code in codes:
        _check_code(code, study)
        existing = session.scalar(
            select(Coding).where(
                Coding.interview_id == interview.id, Coding.code_id == code.id, Coding.coder_id == coder.id,
                Coding.start == start, Coding.end == end,
            )
        )
        if existing is not None:
            created.append(existing)
            continue
        coding = Coding(
            study_id=study.id, interview_id=interview.id, code_id=code.id, coder_id=coder.id,
            start=start, end=end, start_line=start_line, end_line=end_line, memo=memo, origin=origin,
        )
        session.add(coding)
        created.append(coding)
    session.flush()
    return created


def get_coding(session: Session, coding_id: int, study: Study | None = None) -> Coding:
    coding = session.get(Coding, coding_id)
    if coding is None or (study is not None and coding.study_id != study.id):
        raise UserError(f"no coding {coding_id}")
    return coding


def edit_coding(
    session: Session,
    coding_id: int,
    expected_version: int,
    start: int | None = None,
    end: int | None = None,
    code: Code | None = None,
    memo: str | None = None,
) -> Coding:
    """Move boundaries, change the code or the memo; refused if someone saved it in between."""
    coding = get_coding(session, coding_id)
    interview = coding.interview
    new_start = coding.start if start is None else start
    new_end = coding.end if end is None else end
    _check_span(interview, new_start, new_end)
    changes: dict = {}
    if (new_start, new_end) != (coding.start, coding.end):
        changes.update(start=new_start, end=new_end)
        changes["start_line"], changes["end_line"] = _lines(interview, new_start, new_end)
    if code is not None and code.id != coding.code_id:
        _check_code(code, session.get(Study, coding.study_id))
        changes["code_id"] = code.id
    if memo is not None and memo != coding.memo:
        changes["memo"] = memo
    if not changes:
        return coding
    edited = db.apply_edit(session, Coding, coding_id, expected_version, **changes)
    session.flush()  # the version check and increment happen now, not at commit
    return edited


def remove_coding(session: Session, coding_id: int, study: Study | None = None) -> None:
    coding = get_coding(session, coding_id, study)
    session.delete(coding)
    session.flush()


def codings_of(session: Session, interview: Interview, coder: User | None = None) -> list[Coding]:
    """An interview's codings, by start; with ``coder`` (blind mode) only that coder's."""
    query = select(Coding).where(Coding.interview_id == interview.id).order_by(Coding.start, Coding.end, Coding.id)
    if coder is not None:
        query = query.where(Coding.coder_id == coder.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class CodingRow:
    """A light, read-only view of a coding for display (no ORM object per coding)."""

    id: int
    code_id: int
    coder: str
    start: int
    end: int
    start_line: int
    end_line: int
    memo: str
    version: int


def coding_rows(session: Session, interview_id: int, coder_id: int | None = None) -> list[CodingRow]:
    """The codings of an interview as plain rows, by start (blind mode: one coder's only)."""
    query = (
        select(Coding.id, Coding.code_id, User.username, Coding.start, Coding.end, Coding.start_line, Coding.end_line, Coding.memo, Coding.version)
        .join(User, Coding.coder_id == User.id)
        .where(Coding.interview_id == interview_id)
        .order_by(Coding.start, Coding.end, Coding.id)
    )
    if coder_id is not None:
        query = query.where(Coding.coder_id == coder_id)
    return [CodingRow(*row) for row in session.connection().execute(query)]


def sentence_spans(session: Session, interview_id: int) -> list[tuple[int, int, int]]:
    """(sentence id, start, end) of an interview, in order."""
    query = select(Sentence.id, Sentence.start, Sentence.end).where(Sentence.interview_id == interview_id).order_by(Sentence.ordinal)
    return [tuple(row) for row in session.connection().execute(query)]


def create_emergent_code(session: Session, study: Study, name: str, level: str, coder: User, parent: Code | None = None, **fields) -> Code:
    """A new code made while coding: it enters the codebook with origin 'emergent'."""
    return codebook.add_code(session, study, name, level=level, parent=parent, origin="emergent", origin_by=coder.username, **fields)


# --- memos --------------------------------------------------------------------------------
def add_memo(session: Session, study: Study, target_type: str, target_id: int, author: User, text: str, title: str = "") -> Memo:
    if target_type not in MEMO_TARGETS:
        raise UserError(f"a memo can be attached to: {', '.join(MEMO_TARGETS)}")
    if not text.strip():
        raise UserError("a memo needs some text")
    model = {"coding": Coding, "code": Code, "interview": Interview, "case": Case}[target_type]
    target = session.get(model, target_id)
    if target is None or getattr(target, "study_id", study.id) != study.id:
        raise UserError(f"no {target_type} {target_id} in this study")
    memo = Memo(study_id=study.id, target_type=target_type, target_id=target_id, author_id=author.id, title=title.strip(), text=text)
    session.add(memo)
    session.flush()
    return memo


def memos(session: Session, study: Study, target_type: str | None = None, author: str | None = None, text: str | None = None) -> list[dict]:
    """Every memo (coding memos included) with its target, newest first, filtered."""
    query = select(Memo, User.username).join(User, Memo.author_id == User.id).where(Memo.study_id == study.id)
    if target_type:
        query = query.where(Memo.target_type == target_type)
    if author:
        query = query.where(func.lower(User.username) == author.lower())
    rows = [
        {"kind": m.target_type, "target": m.target_id, "author": name, "title": m.title, "text": m.text, "updated": m.updated_at}
        for m, name in session.execute(query.order_by(Memo.updated_at.desc()))
    ]
    if target_type in (None, "coding"):
        coding_query = (
            select(Coding.id, Coding.memo, Coding.updated_at, User.username)
            .join(User, Coding.coder_id == User.id)
            .where(Coding.study_id == study.id, Coding.memo != "")
        )
        if author:
            coding_query = coding_query.where(func.lower(User.username) == author.lower())
        rows += [
            {"kind": "coding", "target": cid, "author": name, "title": "", "text": memo, "updated": when}
            for cid, memo, when, name in session.execute(coding_query)
        ]
    if text:
        needle = text.lower()
        rows = [r for r in rows if needle in r["text"].lower() or needle in r["title"].lower()]
    return sorted(rows, key=lambda r: r["updated"], reverse=True)


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


# --- matrices -----------------------------------------------------------------------------
MATRIX_MEASURES = ("counts", "presence", "characters")


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


# --- import ---------------------------------------------------------------------------------
IMPORT_COLUMNS = ("interview", "coder", "code", "start", "end")


def import_codings_csv(session: Session, study: Study, data: bytes | str, source: str = "codings.csv") -> int:
    """Codings from CSV (``interview,coder,code,start,end[,memo]``), all or nothing.

    ``interview`` is an id or a file name; ``code`` a code path. Every bad row is reported.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{source} is not UTF-8 text")
    reader = csv.DictReader(io.StringIO(data))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{source} lacks the column(s) {', '.join(missing)}; expected interview,coder,code,start,end[,memo]")
    by_name = {i.file_name.lower(): i for i in session.scalars(select(Interview).where(Interview.study_id == study.id))}
    coders: dict[str, User] = {}
    errors, pending = [], []
    for number, row in enumerate(reader, start=2):
        where = f"{source} row {number}"
        try:
            ref = (row["interview"] or "").strip()
            interview = by_name.get(ref.lower())
            if interview is None and ref.isdigit():
                interview = session.get(Interview, int(ref))
                interview = interview if interview is not None and interview.study_id == study.id else None
            if interview is None:
                raise UserError(f"{where}: unknown interview {ref!r}")
            name = (row["coder"] or "").strip()
            if name.lower() not in coders:
                coders[name.lower()] = get_coder(session, name)
            code = codebook.get_code(session, study, (row["code"] or "").strip())
            try:
                start, end = int(row["start"]), int(row["end"])
            except (TypeError, ValueError):
                raise UserError(f"{where}: start and end must be whole numbers")
            _check_span(interview, start, end, where)
            _check_code(code, study, where)
            pending.append((interview, code, coders[name.lower()], start, end, (row.get("memo") or "")))
        except UserError as exc:
            message = exc.message if exc.message.startswith(where) else f"{where}: {exc.message}"
            errors.append(message)
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise UserError(f"nothing imported: {shown}")
    for interview, code, coder, start, end, memo in pending:
        apply_codes(session, interview, [code], coder, start, end, memo, origin="import")
    audit.record(session, "coding", "import", study_id=study.id, source=source, rows=len(pending))
    return len(pending)


# --- agreement --------------------------------------------------------------------------------
def agreement_report(session: Session, study: Study, coder_names: Sequence[str], unit: str = "character", interview_ids: Sequence[int] | None = None) -> agreement.AgreementReport:
    """Agreement of the named coders on the chosen interviews (default: all they both coded)."""
    coders = [get_coder(session, name) for name in coder_names]
    names = {c.id: c.username for c in coders}
    query = select(Interview).where(Interview.study_id == study.id)
    if interview_ids:
        query = query.where(Interview.id.in_(list(interview_ids)))
    else:
        coded_by_all = (
            select(Coding.interview_id)
            .where(Coding.coder_id.in_(list(names)))
            .group_by(Coding.interview_id)
            .having(func.count(func.distinct(Coding.coder_id)) == len(names))
        )
        query = query.where(Interview.id.in_(coded_by_all))
    chosen = list(session.scalars(query.order_by(Interview.id)))
    if interview_ids and len(chosen) != len(set(interview_ids)):
        raise UserError("some of the chosen interviews do not exist in this study")
    paths = codebook.code_paths(codebook.all_codes(session, study))
    documents = []
    for interview in chosen:
        sentences = session.execute(select(Sentence.start, Sentence.end).where(Sentence.interview_id == interview.id).order_by(Sentence.ordinal)).all()
        spans = [
            agreement.Span(names[c.coder_id], paths.get(c.code_id, str(c.code_id)), c.start, c.end)
            for c in session.scalars(select(Coding).where(Coding.interview_id == interview.id, Coding.coder_id.in_(list(names))))
        ]
        documents.append(agreement.Document(interview.file_name, len(interview.text), [tuple(s) for s in sentences], spans))
    return agreement.compute(documents, [names[c.id] for c in coders], unit)


# --- codebook integration -------------------------------------------------------------------
def _move_codings(session: Session, source_id: int, target_id: int, reference_ids: Sequence[int] | None) -> int:
    """Merge (reference_ids None): move all, collapse duplicates; split: move the chosen ones."""
    query = select(Coding).where(Coding.code_id == source_id)
    if reference_ids is not None:
        query = query.where(Coding.id.in_(list(reference_ids)))
    moved = 0
    for coding in session.scalars(query).all():
        duplicate = session.scalar(
            select(Coding.id).where(
                Coding.interview_id == coding.interview_id, Coding.code_id == target_id,
                Coding.coder_id == coding.coder_id, Coding.start == coding.start, Coding.end == coding.end,
            )
        )
        if duplicate is not None:
            session.delete(coding)
        else:
            coding.code_id = target_id
        moved += 1
    session.flush()
    return moved


def _list_codings(session: Session, code_id: int) -> list:
    rows = session.execute(
        select(Coding.id, Interview.file_name, Coding.start, Coding.end, func.substr(Interview.text, Coding.start + 1, 60))
        .join(Interview, Coding.interview_id == Interview.id)
        .where(Coding.code_id == code_id)
        .order_by(Interview.id, Coding.start)
    )
    return [(cid, f"{name} {start}-{end}: {snippet}") for cid, name, start, end, snippet in rows]


def _count_codings(session: Session, study_id: int) -> dict:
    return dict(session.execute(select(Coding.code_id, func.count(Coding.id)).where(Coding.study_id == study_id).group_by(Coding.code_id)).all())


def _coding_stage(session: Session, case: Case) -> str | None:
    total, coders = session.execute(
        select(func.count(Coding.id), func.count(func.distinct(Coding.coder_id)))
        .join(Interview, Coding.interview_id == Interview.id)
        .where(Interview.case_id == case.id)
    ).one()
    return f"{total} codings by {coders} coder(s)" if total else None


codebook.register_code_reference("codings", _move_codings, _list_codings)
codebook.register_code_counter("codings", _count_codings)
studies.register_stage_probe("coding", _coding_stage)


# --- suggestions --------------------------------------------------------------------------------
def _sentence_rows(session: Session, study: Study, interview_ids: Sequence[int] | None = None):
    query = (
        select(Sentence.id, Sentence.interview_id, Sentence.start, Sentence.end, func.substr(Interview.text, Sentence.start + 1, Sentence.end - Sentence.start))
        .join(Interview, Sentence.interview_id == Interview.id)
        .where(Interview.study_id == study.id)
    )
    if interview_ids is not None:
        query = query.where(Sentence.interview_id.in_(list(interview_ids)))
    return session.execute(query.order_by(Sentence.interview_id, Sentence.ordinal)).all()


def _sentence_codes(session: Session, study: Study) -> dict[int, set[int]]:
    """Sentence id -> ids of the codes whose codings overlap it (any coder)."""
    rows = session.execute(
        select(Sentence.id, Coding.code_id)
        .join(Coding, and_(Coding.interview_id == Sentence.interview_id, Coding.start < Sentence.end, Coding.end > Sentence.start))
        .where(Coding.study_id == study.id)
    )
    result: dict[int, set[int]] = defaultdict(set)
    for sentence_id, code_id in rows:
        result[sentence_id].add(code_id)
    return result


def train_suggestions(session: Session, study: Study, min_examples: int = suggestions_module.MIN_EXAMPLES):
    """A model per code from the study's coded sentences (uncoded sentences are the negatives)."""
    coded = _sentence_codes(session, study)
    rows = _sentence_rows(session, study)
    texts = [r[4] for r in rows]
    labels = [{str(c) for c in coded.get(r[0], ())} for r in rows]
    return suggestions_module.train(texts, labels, min_examples)


def suggest_for(session: Session, study: Study, model, interview: Interview, threshold: float = 0.5) -> list[dict]:
    """Suggestions for the interview's uncoded sentences not decided on before."""
    coded = _sentence_codes(session, study)
    decided = set(session.execute(select(SuggestionDecision.sentence_id, SuggestionDecision.code_id).where(SuggestionDecision.study_id == study.id)).all())
    rows = [r for r in _sentence_rows(session, study, [interview.id]) if r[0] not in coded]
    by_id = {r[0]: r for r in rows}
    paths = codebook.code_paths(codebook.all_codes(session, study))
    result = []
    for found in suggestions_module.suggest(model, [(r[0], r[4]) for r in rows], threshold):
        code_id = int(found.code)
        if (found.sentence_id, code_id) in decided:
            continue
        _, _, start, end, text = by_id[found.sentence_id]
        quality = model.codes[found.code]
        result.append({
            "sentence_id": found.sentence_id, "start": start, "end": end, "text": text, "code_id": code_id,
            "code": paths.get(code_id, ""), "confidence": found.confidence,
            "cv_precision": round(quality.precision, 3), "cv_recall": round(quality.recall, 3),
        })
    return result


def decide_suggestion(session: Session, study: Study, sentence_id: int, code: Code, coder: User, accept: bool, confidence: float | None = None) -> Coding | None:
    """Accept (codes the sentence, origin 'suggestion') or reject; either way it is not offered again."""
    sentence = session.get(Sentence, sentence_id)
    if sentence is None or sentence.interview_id is None:
        raise UserError(f"no sentence {sentence_id}")
    interview = session.get(Interview, sentence.interview_id)
    if interview.study_id != study.id:
        raise UserError(f"no sentence {sentence_id} in this study")
    session.add(SuggestionDecision(
        study_id=study.id, sentence_id=sentence_id, code_id=code.id, decision="accepted" if accept else "rejected",
        confidence=confidence, decided_by=coder.id,
    ))
    if not accept:
        session.flush()
        return None
    return apply_codes(session, interview, [code], coder, sentence.start, sentence.end, origin="suggestion")[0]


def suggestion_quality(model) -> list[dict]:
    rows = [{"code_id": int(c), "coded_sentences": m.positives, "cv_precision": round(m.precision, 3), "cv_recall": round(m.recall, 3), "folds": m.folds}
            for c, m in model.codes.items()]
    rows += [{"code_id": int(c), "coded_sentences": None, "cv_precision": None, "cv_recall": None, "folds": 0, "note": why} for c, why in model.skipped.items()]
    return rows


# --- reconstruction integration ------------------------------------------------------------------
def _resolve_coding(session: Session, reference):
    """``[[coding:N]]`` in a reconstruction: the coded passage, its code and where it sits."""
    from .reconstruction import ResolvedReference

    try:
        coding_id = int(reference.params.get("id", reference.value))
    except (TypeError, ValueError):
        return None
    found = session.get(Coding, coding_id)
    if found is None:
        return None
    study = session.get(Study, found.study_id)
    path = codebook.code_paths(codebook.all_codes(session, study)).get(found.code_id, "")
    interview = found.interview
    return ResolvedReference(
        label=f"{path} · {interview.respondent.name} ({interview.respondent.role}) · {interview.file_name} lines {found.start_line}-{found.end_line}",
        excerpt=interview.text[found.start : found.end],
        target={"interview_id": interview.id, "start": found.start, "end": found.end, "coding_id": found.id},
    )


def _case_evidence(session: Session, case: Case):
    """The case's coded segments for the reconstruction editor (filterable by level and code)."""
    from .reconstruction import EvidenceItem

    study = session.get(Study, case.study_id)
    return [
        EvidenceItem(
            kind="coding",
            label=f"{s['code']} · {s['respondent']} ({s['role']}) · lines {s['start_line']}-{s['end_line']} · {s['coder']}",
            text=s["text"], reference=f"[[coding:{s['coding_id']}]]", level=s["level"], code=s["code"], source_id=s["interview_id"],
        )
        for s in segments(session, study, SegmentFilter(case_ids=[case.id]), with_context=False)
    ]


def _register_with_reconstruction() -> None:
    from . import reconstruction

    reconstruction.register_reference_resolver("coding", _resolve_coding)
    reconstruction.register_evidence_provider(_case_evidence)


_register_with_reconstruction()
