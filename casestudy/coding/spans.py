"""Span coding: apply, edit and remove codings; memos; import of codings from CSV.

Offsets are code points into ``Interview.text``, half-open ``[start, end)``. A coding records
its coder; blind mode shows a coder only their own codings. Every write goes through the
caller's transaction, so a batch (an import, a suggestion accept) is all-or-nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import audit, bulk, db, seams
from casestudy.codebook import tree as codebook
from casestudy.errors import UserError
from casestudy.interviews import segment, store
from casestudy.models import (
    MEMO_TARGETS,
    Case,
    Code,
    Coding,
    Interview,
    Memo,
    Sentence,
    Study,
    User,
)
from casestudy.text import decode_utf8


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
    index = segment.line_index(interview.text)
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
    store.require_analysable(interview)
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


# --- import ---------------------------------------------------------------------------------
IMPORT_COLUMNS = ("interview", "coder", "code", "start", "end")


@dataclass(frozen=True)
class CodingImport:
    """What a codings import stored, row for row.

    ``rows`` = ``stored`` + ``merged_in_file`` + ``already_stored``: a row that repeats an earlier
    row of the file exactly (interview, code, coder, start, end) is merged into it, a row equal to
    a coding already in the study adds nothing; in both cases a different memo is kept (appended
    to the coding's memo, counted in ``memos_added``).
    """

    rows: int
    stored: int
    merged_in_file: int
    already_stored: int
    memos_added: int

    def summary(self, source: str) -> str:
        parts = [f"read {self.rows} row(s) from {source}: stored {self.stored} new coding(s)"]
        if self.merged_in_file:
            parts.append(f"{self.merged_in_file} row(s) repeated an earlier row exactly and were merged into it")
        if self.already_stored:
            parts.append(f"{self.already_stored} row(s) matched a coding already stored and added no coding")
        if self.memos_added:
            parts.append(f"{self.memos_added} memo(s) of merged rows appended to the coding's memo")
        return "; ".join(parts)


def _with_memo(memo: str, extra: str) -> tuple[str, bool]:
    """``memo`` with ``extra`` appended (on a new paragraph) unless empty or already there."""
    extra = extra.strip()
    if not extra or extra in memo:
        return memo, False
    return (f"{memo}\n\n{extra}" if memo else extra), True


def import_codings_csv(session: Session, study: Study, data: bytes | str, source: str = "codings.csv") -> CodingImport:
    """Codings from CSV (``interview,coder,code,start,end[,memo]``), all or nothing.

    ``interview`` is an id or a file name; ``code`` a code path. Every bad row is reported and
    nothing is stored. Exact duplicates are merged, keeping their memos; the result says exactly
    what was stored. New codings go in with one bulk insert and one summary audit event.
    """
    if isinstance(data, bytes):
        data = decode_utf8(source, data, retry="try again")
    reader = csv.DictReader(io.StringIO(data))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{source} lacks the column(s) {', '.join(missing)}; expected interview,coder,code,start,end[,memo]")
    by_name = {i.file_name.lower(): i for i in session.scalars(select(Interview).where(Interview.study_id == study.id))}
    coders: dict[str, User] = {}
    codes: dict[str, Code] = {}
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
            code_ref = (row["code"] or "").strip()
            if code_ref not in codes:
                codes[code_ref] = codebook.get_code(session, study, code_ref)
            code = codes[code_ref]
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
    for interview in {i.id: i for i, *_ in pending}.values():
        try:
            store.require_analysable(interview)
        except UserError as exc:
            raise UserError(f"nothing imported: {interview.file_name}: {exc.message}")
    # One entry per distinct coding, in file order; later exact duplicates only add their memo.
    distinct: dict[tuple, list] = {}
    merged = memos_added = 0
    for interview, code, coder, start, end, memo in pending:
        key = (interview.id, code.id, coder.id, start, end)
        if key in distinct:
            merged += 1
            distinct[key][5], added = _with_memo(distinct[key][5], memo)
            memos_added += added
        else:
            distinct[key] = [interview, code, coder, start, end, memo.strip()]
    # The codings already stored for these interviews, read once (not one query per row).
    interview_ids = sorted({key[0] for key in distinct})
    existing: dict[tuple, int] = {}
    for chunk in range(0, len(interview_ids), 900):
        existing.update(
            ((r.interview_id, r.code_id, r.coder_id, r.start, r.end), r.id)
            for r in session.execute(select(Coding.id, Coding.interview_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                                     .where(Coding.interview_id.in_(interview_ids[chunk : chunk + 900])))
        )
    line_indexes: dict[int, segment.LineIndex] = {}
    new_rows = []
    already = 0
    for key, (interview, code, coder, start, end, memo) in distinct.items():
        if key in existing:
            already += 1
            if memo:
                coding = session.get(Coding, existing[key])
                coding.memo, added = _with_memo(coding.memo or "", memo)
                memos_added += added
            continue
        index = line_indexes.get(interview.id) or line_indexes.setdefault(interview.id, segment.line_index(interview.text))
        new_rows.append({
            "study_id": study.id, "interview_id": interview.id, "code_id": code.id, "coder_id": coder.id, "start": start, "end": end,
            "start_line": index.line_of(start), "end_line": index.line_of(max(start, end - 1)), "memo": memo, "origin": "import",
        })
    stored = bulk.bulk_insert(session, Coding, new_rows, audit_event=False)
    report = CodingImport(len(pending), stored, merged, already, memos_added)
    session.flush()
    audit.record(session, "coding", "import", study_id=study.id, source=source, rows=report.rows, stored=stored,
                 merged_in_file=merged, already_stored=already, memos_added=memos_added)
    return report


# --- codebook integration -------------------------------------------------------------------
def move_codings(session: Session, source_id: int, target_id: int, reference_ids: Sequence[int] | None) -> int:
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


def list_codings(session: Session, code_id: int) -> list:
    rows = session.execute(
        select(Coding.id, Interview.file_name, Coding.start, Coding.end, func.substr(Interview.text, Coding.start + 1, 60))
        .join(Interview, Coding.interview_id == Interview.id)
        .where(Coding.code_id == code_id)
        .order_by(Interview.id, Coding.start)
    )
    return [(cid, f"{name} {start}-{end}: {snippet}") for cid, name, start, end, snippet in rows]


def count_codings(session: Session, study_id: int) -> dict:
    return dict(session.execute(select(Coding.code_id, func.count(Coding.id)).where(Coding.study_id == study_id).group_by(Coding.code_id)).all())


#: The codings as the codebook's merge and split see them (:mod:`casestudy.seams`).
CODE_REFERENCES = seams.CodeReferences("codings", move_codings, list_codings, count_codings)


def stage_status(session: Session, case: Case) -> str | None:
    total, coders = session.execute(
        select(func.count(Coding.id), func.count(func.distinct(Coding.coder_id)))
        .join(Interview, Coding.interview_id == Interview.id)
        .where(Interview.case_id == case.id)
    ).one()
    return f"{total} codings by {coders} coder(s)" if total else None
