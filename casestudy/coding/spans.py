"""Span coding: apply, edit, move, recode and remove codings (one or several); memos; import of
codings from CSV.

Offsets are code points into ``Interview.text``, half-open ``[start, end)``. A coding records
its coder; while the study is blind (:mod:`casestudy.coding.blinding`) a coder sees and changes
only their own codings. Every write goes through the caller's transaction, so a batch (an
import, a suggestion accept) is all-or-nothing. A write that names the coder who acts (``by``,
or the coder of ``apply_codes``) is recorded in that coder's undo history
(:mod:`casestudy.coding.history`) in the same transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import audit, bulk, db, seams, signoffs, status
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, elicitation, history
from casestudy.coding import signoff as coding_signoff
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
from casestudy.status import StageStatus
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
    _check_offsets(interview.file_name, len(interview.text), start, end, where)


def _check_offsets(file_name: str, length: int, start: int, end: int, where: str = "") -> None:
    """:func:`_check_span` on a text of ``length`` code points (without loading the interview)."""
    prefix = f"{where}: " if where else ""
    if not isinstance(start, int) or not isinstance(end, int):
        raise UserError(f"{prefix}start and end must be whole numbers")
    if start < 0 or end > length:
        raise UserError(f"{prefix}offsets {start}-{end} lie outside the text of {file_name} (0-{length})")
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
    """Apply each code to the span; a code already applied by this coder to this span is kept once.

    The codings it creates are one undoable "apply" action of ``coder``, marked spontaneous or
    after a probe as suggested (:func:`casestudy.coding.elicitation.mark_new`)."""
    study = session.get(Study, interview.study_id)
    store.require_analysable(interview)
    _check_span(interview, start, end)
    if not codes:
        raise UserError("choose at least one code to apply")
    start_line, end_line = _lines(interview, start, end)
    created, new = [], []
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
        new.append(coding)
    session.flush()
    elicitation.mark_new(session, interview, new)
    history.record(session, study.id, coder.id, "apply", [], [history.snapshot(c) for c in new])
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
    *,
    by: User | None = None,
) -> Coding:
    """Move boundaries, change the code or the memo; refused if someone saved it in between.

    With ``by`` (the coder who acts) the change is checked against blind coding and recorded
    as one undoable action ("move", "recode" or "edit"). Recoding onto a span this coder already
    coded with that code is refused (the coding would exist twice)."""
    coding = session.get(Coding, coding_id, populate_existing=True)
    if coding is None:
        raise UserError(f"no coding {coding_id}")
    study = session.get(Study, coding.study_id)
    if by is not None:
        blinding.require_may_change(study, by, coding)
    db.check_version(coding, expected_version, ("start", "end", "code_id", "memo"))
    before = history.snapshot(coding)
    interview = coding.interview
    new_start = coding.start if start is None else start
    new_end = coding.end if end is None else end
    _check_span(interview, new_start, new_end)
    changes: dict = {}
    if (new_start, new_end) != (coding.start, coding.end):
        changes.update(start=new_start, end=new_end)
        changes["start_line"], changes["end_line"] = _lines(interview, new_start, new_end)
    if code is not None and code.id != coding.code_id:
        _check_code(code, study)
        changes["code_id"] = code.id
    if memo is not None and memo != coding.memo:
        changes["memo"] = memo
    if not changes:
        return coding
    _refuse_duplicate(session, coding, changes.get("code_id", coding.code_id), new_start, new_end)
    edited = db.apply_edit(session, Coding, coding_id, expected_version, **changes)
    session.flush()  # the version check and increment happen now, not at commit
    if "start" in changes:  # it may lie in another turn now
        elicitation.mark_new(session, interview, [edited])
    if by is not None:
        kind = "move" if set(changes) <= {"start", "end", "start_line", "end_line"} else "recode" if set(changes) == {"code_id"} else "edit"
        history.record(session, study.id, by.id, kind, [before], [history.snapshot(edited)])
    return edited


def set_coding_period(session: Session, coding_id: int, period: str | None, study: Study | None = None, *,
                      by: User | None = None, expected_version: int | None = None) -> Coding:
    """Tie one coding to a period of its case by name, or with None/"" untie it; see
    :func:`set_codings_period`."""
    coding = get_coding(session, coding_id, study)
    set_codings_period(session, study or session.get(Study, coding.study_id), [coding_id], period, by=by,
                       expected_versions=None if expected_version is None else {coding_id: expected_version})
    return coding


def set_codings_period(session: Session, study: Study, coding_ids: Sequence[int], period: str | None, *,
                       by: User | None = None, expected_versions: dict[int, int] | None = None) -> int:
    """Tie several codings to the period ``period`` of their case (by name, case ignored), or
    with None/"" untie them: each then speaks about its interview's period
    (:func:`coding_periods`). All or none: a name one of their cases lacks is a UserError naming
    that case's periods, and so is a coding changed since the version shown
    (``expected_versions``). While the study is blind a coder may change only their own codings.
    With ``by`` the change is one undoable "period" action of that coder. Returns how many
    codings changed."""
    from casestudy import periods as case_periods

    rows = _chosen_codings(session, study, coding_ids, by, expected_versions)
    targets = {}
    for row in rows:
        case = row.interview.case
        if case.id not in targets:
            targets[case.id] = case_periods.period_id_for(session, case, period)
    changed = [row for row in rows if row.period_id != targets[row.interview.case.id]]
    before = [history.snapshot(row) for row in changed]
    for row in changed:
        row.period_id = targets[row.interview.case.id]
    session.flush()
    if by is not None and changed:
        history.record(session, study.id, by.id, "period", before, [history.snapshot(row) for row in changed])
    return len(changed)


@dataclass(frozen=True)
class PeriodsOfCodings:
    """The periods a coding of one interview can speak about, and which one each does.

    ``choices`` are the names of the case's periods in time order, ``interview`` the name of the
    interview's period ("" for none), ``own`` the period name of every coding (by id) that names
    its own. A coding's period is its own, else its interview's (:meth:`of`; the same rule as
    :func:`casestudy.coding.retrieval.effective_period_id`)."""

    choices: list[str]
    interview: str
    own: dict[int, str]

    def of(self, coding_id: int) -> str:
        """The period coding ``coding_id`` speaks about ("" for none)."""
        return self.own.get(coding_id) or self.interview

    def record(self, coding_id: int) -> dict:
        """{"period": its period, "own_period": its own ("" when it follows the interview)}."""
        return {"period": self.of(coding_id), "own_period": self.own.get(coding_id, "")}


def coding_periods(session: Session, interview: Interview, coding_ids: Sequence[int] | None = None) -> PeriodsOfCodings:
    """The periods of ``interview``'s case and of its codings (all, or those of ``coding_ids``);
    see :class:`PeriodsOfCodings`."""
    from casestudy import periods as case_periods

    known = case_periods.list_periods(session, interview.case)
    names = {p.id: p.name for p in known}
    query = select(Coding.id, Coding.period_id).where(Coding.interview_id == interview.id, Coding.period_id.is_not(None))
    wanted = None if coding_ids is None else set(coding_ids)
    own = {coding_id: names.get(period_id, "") for coding_id, period_id in session.connection().execute(query)
           if wanted is None or coding_id in wanted}
    return PeriodsOfCodings([p.name for p in known], names.get(interview.period_id, ""), own)


def _refuse_duplicate(session: Session, coding: Coding, code_id: int, start: int, end: int) -> None:
    other = session.scalar(select(Coding.id).where(
        Coding.interview_id == coding.interview_id, Coding.code_id == code_id, Coding.coder_id == coding.coder_id,
        Coding.start == start, Coding.end == end, Coding.id != coding.id,
    ))
    if other is not None:
        raise UserError(f"coding {other} already codes this span with this code for this coder; remove one of them instead")


def move_coding(session: Session, coding_id: int, start: int, end: int, expected_version: int, *, by: User) -> Coding:
    """Move a coding's boundaries to [start, end) (one undoable "move" of ``by``); see :func:`edit_coding`."""
    return edit_coding(session, coding_id, expected_version, start=start, end=end, by=by)


def remove_coding(session: Session, coding_id: int, study: Study | None = None, *, by: User | None = None,
                  expected_version: int | None = None) -> None:
    """Remove one coding; with ``by`` checked against blind coding and undoable ("remove").

    ``expected_version`` (the version shown) refuses the removal when it was changed since."""
    remove_codings(session, study or session.get(Study, get_coding(session, coding_id).study_id), [coding_id], by=by,
                   expected_versions=None if expected_version is None else {coding_id: expected_version})


def _chosen_codings(session: Session, study: Study, coding_ids: Sequence[int], by: User | None,
                    expected_versions: dict[int, int] | None) -> list[Coding]:
    """The codings by id (each once, in the order given), all of ``study``, all changeable by ``by``."""
    ids = list(dict.fromkeys(int(i) for i in coding_ids))
    if not ids:
        raise UserError("choose at least one coding")
    rows = [get_coding(session, i, study) for i in ids]
    for row in rows:
        session.refresh(row)
        if by is not None:
            blinding.require_may_change(study, by, row)
        if expected_versions and row.id in expected_versions:
            db.check_version(row, expected_versions[row.id], ("start", "end", "code_id", "memo"))
    return rows


def remove_codings(session: Session, study: Study, coding_ids: Sequence[int], *, by: User | None,
                   expected_versions: dict[int, int] | None = None) -> int:
    """Remove several codings at once, all or none; with ``by`` one undoable action. Returns how many."""
    rows = _chosen_codings(session, study, coding_ids, by, expected_versions)
    before = [history.snapshot(r) for r in rows]
    for row in rows:
        session.delete(row)
    session.flush()
    if by is not None:
        history.record(session, study.id, by.id, "remove" if len(rows) == 1 else "bulk_remove", before, [])
    return len(rows)


@dataclass(frozen=True)
class Recoding:
    """What :func:`recode_codings` did: codings given the new code, and codings removed because the
    same coder had already coded the same span with it (merged into that coding)."""

    recoded: list[int]
    merged: list[int]

    def summary(self, code_name: str) -> str:
        text = f"recoded {len(self.recoded)} coding(s) to {code_name}"
        return text + (f"; {len(self.merged)} were already coded so and merged" if self.merged else "")


def recode_codings(session: Session, study: Study, coding_ids: Sequence[int], code: Code, *, by: User | None,
                   expected_versions: dict[int, int] | None = None) -> Recoding:
    """Give several codings the code ``code`` at once, all or none; with ``by`` one undoable action.

    A coding whose coder already coded the same span with ``code`` is removed (merged into it).
    """
    _check_code(code, study)
    rows = _chosen_codings(session, study, coding_ids, by, expected_versions)
    rows = [r for r in rows if r.code_id != code.id]
    before = [history.snapshot(r) for r in rows]
    recoded, merged = [], []
    for row in rows:
        duplicate = session.scalar(select(Coding.id).where(
            Coding.interview_id == row.interview_id, Coding.code_id == code.id, Coding.coder_id == row.coder_id,
            Coding.start == row.start, Coding.end == row.end,
        ))
        if duplicate is not None:
            session.delete(row)
            merged.append(row.id)
        else:
            row.code_id = code.id
            recoded.append(row)
        session.flush()
    if by is not None:
        kind = "recode" if len(rows) == 1 and recoded else "bulk_recode"
        history.record(session, study.id, by.id, kind, before, [history.snapshot(r) for r in recoded])
    return Recoding([r.id for r in recoded], merged)


def codings_of(session: Session, interview: Interview, coder: User | None = None, *, principal: Principal) -> list[Coding]:
    """An interview's codings as ``principal`` may see them (blind coding), by start; with
    ``coder`` only that coder's."""
    study = session.get(Study, interview.study_id)
    coder_ids = blinding.coder_filter(session, study, principal, None if coder is None else [coder.id])
    query = select(Coding).where(Coding.interview_id == interview.id).order_by(Coding.start, Coding.end, Coding.id)
    if coder_ids is not None:
        query = query.where(Coding.coder_id.in_(coder_ids))
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


def _visible_codings(session: Session, interview_id: int, coder_id: int | None, principal: Principal, *, narrow: bool = False):
    """The WHERE clauses of an interview's codings as ``principal`` may see them (blind coding).

    ``coder_id`` asks for one coder's codings: refused while blind if it names another coder,
    or (``narrow``) simply intersected with what ``principal`` may see (nothing for a hidden coder).
    """
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise UserError(f"no interview {interview_id}")
    study = session.get(Study, interview.study_id)
    requested = None if coder_id is None or narrow else [coder_id]
    coder_ids = blinding.coder_filter(session, study, principal, requested)
    where = [Coding.interview_id == interview_id]
    if coder_ids is not None:
        where.append(Coding.coder_id.in_(coder_ids))
    if narrow and coder_id is not None:
        where.append(Coding.coder_id == coder_id)
    return where


def coding_rows(session: Session, interview_id: int, coder_id: int | None = None, *, principal: Principal,
                code_id: int | None = None, overlapping: tuple[int, int] | None = None, narrow: bool = False) -> list[CodingRow]:
    """The codings of an interview as plain rows, by start, as ``principal`` may see them (blind
    coding); with ``coder_id`` only that coder's (``narrow``: see :func:`_visible_codings`), with
    ``code_id`` only that code's, with ``overlapping`` = ``(low, high)`` only those that overlap
    those characters. The filters run in the database: a window of a densely coded interview
    reads only its own rows."""
    where = _visible_codings(session, interview_id, coder_id, principal, narrow=narrow)
    if code_id is not None:
        where.append(Coding.code_id == code_id)
    if overlapping is not None:
        where += [Coding.start < overlapping[1], Coding.end > overlapping[0]]
    query = (
        select(Coding.id, Coding.code_id, User.username, Coding.start, Coding.end, Coding.start_line, Coding.end_line, Coding.memo, Coding.version)
        .join(User, Coding.coder_id == User.id)
        .where(*where)
        .order_by(Coding.start, Coding.end, Coding.id)
    )
    return [CodingRow(*row) for row in session.connection().execute(query)]


def coding_starts(session: Session, interview_id: int, coder_id: int | None = None, *, principal: Principal,
                  code_id: int | None = None) -> list[int]:
    """The starts of the codings :func:`coding_rows` (with ``narrow``) returns, sorted: one
    integer column, so an interview's 49,000 codings are counted and paged without loading them."""
    where = _visible_codings(session, interview_id, coder_id, principal, narrow=True)
    if code_id is not None:
        where.append(Coding.code_id == code_id)
    return list(session.connection().execute(select(Coding.start).where(*where).order_by(Coding.start)).scalars())


def coding_coders(session: Session, interview_id: int, *, principal: Principal) -> tuple[str, ...]:
    """Who made the codings of the interview that ``principal`` may see, by name."""
    where = _visible_codings(session, interview_id, None, principal)
    query = select(User.username).join(Coding, Coding.coder_id == User.id).where(*where).distinct()
    return tuple(sorted(session.connection().execute(query).scalars()))


def sentence_spans(session: Session, interview_id: int) -> list[tuple[int, int, int]]:
    """(sentence id, start, end) of an interview, in order."""
    query = select(Sentence.id, Sentence.start, Sentence.end).where(Sentence.interview_id == interview_id).order_by(Sentence.ordinal)
    return [tuple(row) for row in session.connection().execute(query)]


def create_emergent_code(session: Session, study: Study, name: str, level: str | None, coder: User, parent: Code | None = None, **fields) -> Code:
    """A new code made while coding: it enters the codebook with origin 'emergent', under
    ``parent`` (None: at the top) and at ``level`` (None: the parent's level)."""
    if level is None:
        if parent is None:
            raise UserError("choose a level for the new code (or a parent code whose level it takes)")
        level = parent.level
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


@dataclass(frozen=True)
class PreparedCodingImport:
    """A checked codings import, its new codings staged (``bulk.stage_rows``), not yet stored."""

    study_id: int
    source: str
    interview_ids: tuple[int, ...]
    staged: bulk.Staged
    memo_appends: tuple[tuple[int, str], ...]  # (stored coding id, memo of a matching row)
    rows: int
    merged_in_file: int
    already_stored: int
    memos_merged_in_file: int


def import_codings_csv(session: Session, study: Study, data: bytes | str, source: str = "codings.csv") -> CodingImport:
    """Codings from CSV (``interview,coder,code,start,end[,memo]``), all or nothing.

    ``interview`` is an id or a file name; ``code`` a code path. Every bad row is reported and
    nothing is stored. Exact duplicates are merged, keeping their memos; the result says exactly
    what was stored. New codings go in with one bulk insert and one summary audit event.

    This runs both phases in the caller's transaction. A big file is better imported with
    ``store.staged_write(actor, prepare, store_codings_import)`` (what the CLI does), which
    checks and stages in :func:`prepare_codings_import` without the write lock and holds it
    only for :func:`store_codings_import`, so that the panel and the coders keep saving.
    """
    return store_codings_import(session, prepare_codings_import(session, study, data, source))


def prepare_codings_import(session: Session, study: Study, data: bytes | str, source: str = "codings.csv") -> PreparedCodingImport:
    """Read and check a codings CSV and stage its new codings; changes no shared table.

    Raises the UserError listing every bad row (nothing is stored). Needs only a reading
    transaction (the staging table is private to the connection).
    """
    if isinstance(data, bytes):
        data = decode_utf8(source, data, retry="try again")
    reader = csv.DictReader(io.StringIO(data))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{source} lacks the column(s) {', '.join(missing)}; expected interview,coder,code,start,end[,memo]")
    # Bare columns, not Interview objects: loading every interview of a 1,000-interview study with
    # its text, respondent and consents cost more than the rest of the import. Only the coded
    # interviews' texts are read, once the rows are resolved.
    file_names: dict[int, str] = {}
    by_name: dict[str, int] = {}
    for interview_id, file_name in session.execute(select(Interview.id, Interview.file_name).where(Interview.study_id == study.id)):
        file_names[interview_id] = file_name
        by_name[file_name.lower()] = interview_id
    coders: dict[str, User] = {}
    codes: dict[str, Code] = {}
    errors: list[tuple[int, str]] = []  # (row number, message): each row reports its first fault
    resolved = []
    for number, row in enumerate(reader, start=2):
        where = f"{source} row {number}"
        try:
            ref = (row["interview"] or "").strip()
            interview_id = by_name.get(ref.lower())
            if interview_id is None and ref.isdigit() and int(ref) in file_names:
                interview_id = int(ref)
            if interview_id is None:
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
            resolved.append((number, where, interview_id, code, coders[name.lower()], start, end, (row.get("memo") or "")))
        except UserError as exc:
            errors.append((number, _row_message(exc, where)))
    texts = _texts(session, {interview_id for _, _, interview_id, *_ in resolved})
    pending = []
    for number, where, interview_id, code, coder, start, end, memo in resolved:
        try:
            _check_offsets(file_names[interview_id], len(texts[interview_id]), start, end, where)
            _check_code(code, study, where)
            pending.append((interview_id, code, coder, start, end, memo))
        except UserError as exc:
            errors.append((number, _row_message(exc, where)))
    if errors:
        messages = [message for _, message in sorted(errors)]
        shown = "; ".join(messages[:10]) + (f"; and {len(messages) - 10} more" if len(messages) > 10 else "")
        raise UserError(f"nothing imported: {shown}")
    interview_ids = sorted(texts)
    _require_analysable(session, interview_ids)
    # One entry per distinct coding, in file order; later exact duplicates only add their memo.
    distinct: dict[tuple, list] = {}
    merged = memos_added = 0
    for interview_id, code, coder, start, end, memo in pending:
        key = (interview_id, code.id, coder.id, start, end)
        if key in distinct:
            merged += 1
            distinct[key][1], added = _with_memo(distinct[key][1], memo)
            memos_added += added
        else:
            distinct[key] = [key, memo.strip()]
    # The codings already stored for these interviews, read once (not one query per row).
    existing: dict[tuple, int] = {}
    for chunk in range(0, len(interview_ids), 900):
        existing.update(
            ((r.interview_id, r.code_id, r.coder_id, r.start, r.end), r.id)
            for r in session.execute(select(Coding.id, Coding.interview_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                                     .where(Coding.interview_id.in_(interview_ids[chunk : chunk + 900])))
        )
    line_indexes: dict[int, segment.LineIndex] = {}
    new_rows, memo_appends = [], []
    already = 0
    for key, memo in distinct.values():
        if key in existing:
            already += 1
            if memo:
                memo_appends.append((existing[key], memo))
            continue
        interview_id, code_id, coder_id, start, end = key
        index = line_indexes.get(interview_id) or line_indexes.setdefault(interview_id, segment.LineIndex(texts[interview_id]))
        new_rows.append({
            "study_id": study.id, "interview_id": interview_id, "code_id": code_id, "coder_id": coder_id, "start": start, "end": end,
            "start_line": index.line_of(start), "end_line": index.line_of(max(start, end - 1)), "memo": memo, "origin": "import",
        })
    # In the order of the coding table's indexes: the final move then appends to each index
    # instead of landing all over it, which more than halves the time it holds the write lock.
    new_rows.sort(key=lambda r: (r["interview_id"], r["code_id"], r["coder_id"], r["start"], r["end"]))
    staged = bulk.stage_rows(session, Coding, new_rows)
    return PreparedCodingImport(study.id, source, tuple(interview_ids), staged, tuple(memo_appends), len(pending), merged, already,
                                memos_added)


def _row_message(exc: UserError, where: str) -> str:
    return exc.message if exc.message.startswith(where) else f"{where}: {exc.message}"


def _texts(session: Session, interview_ids: set[int]) -> dict[int, str]:
    """The texts of these interviews by id, read as bare columns."""
    ids = sorted(interview_ids)
    texts: dict[int, str] = {}
    for chunk in range(0, len(ids), 900):
        texts.update(session.execute(select(Interview.id, Interview.text).where(Interview.id.in_(ids[chunk : chunk + 900]))).all())
    return texts


def _require_analysable(session: Session, interview_ids: Sequence[int]) -> None:
    """``store.require_analysable`` for every interview of an import, with light queries."""
    for interview in store.unanalysable_interviews(session, interview_ids):
        try:
            store.require_analysable(interview)
        except UserError as exc:
            raise UserError(f"nothing imported: {interview.file_name}: {exc.message}")


def store_codings_import(session: Session, prepared: PreparedCodingImport) -> CodingImport:
    """Store a prepared import in the caller's writing transaction: short, all or nothing.

    Re-checks what may have changed since :func:`prepare_codings_import` (an interview withdrawn
    from analysis; a coding stored meanwhile makes the move clash and nothing is stored).
    """
    stored = bulk.insert_staged(session, prepared.staged, audit_event=False)  # adds only: before the lock (see db.hold_write_lock)
    db.hold_write_lock(session)
    _require_analysable(session, prepared.interview_ids)
    memos_added = prepared.memos_merged_in_file
    for coding_id, memo in prepared.memo_appends:
        coding = session.get(Coding, coding_id)
        if coding is None:
            raise UserError(f"nothing imported: coding {coding_id} was removed meanwhile; try again")
        coding.memo, added = _with_memo(coding.memo or "", memo)
        memos_added += added
    report = CodingImport(prepared.rows, stored, prepared.merged_in_file, prepared.already_stored, memos_added)
    session.flush()
    audit.record(session, "coding", "import", study_id=prepared.study_id, source=prepared.source, rows=report.rows, stored=stored,
                 merged_in_file=report.merged_in_file, already_stored=report.already_stored, memos_added=memos_added)
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


def stage_status(session: Session, case: Case) -> StageStatus:
    """Done when every interview of the case is coded by both coders (by the one coder, while the
    study has only one) and, where the study requires it, its codings are signed off by a second
    researcher; the coders of the study are those who coded any of its interviews."""
    study_coders = dict(session.execute(
        select(User.id, User.username).join(Coding, Coding.coder_id == User.id)
        .join(Interview, Coding.interview_id == Interview.id).where(Interview.study_id == case.study_id).distinct()
    ).all())
    interview_ids = list(session.scalars(select(Interview.id).where(Interview.case_id == case.id).order_by(Interview.id)))
    coded_by: dict[int, set[int]] = {i: set() for i in interview_ids}
    for interview_id, coder_id in session.execute(
        select(Coding.interview_id, Coding.coder_id).where(Coding.interview_id.in_(interview_ids)).distinct()
    ):
        coded_by[interview_id].add(coder_id)
    total = session.scalar(select(func.count(Coding.id)).where(Coding.interview_id.in_(interview_ids))) or 0
    if not total:
        return status.not_started("coding: code the transcripts", status.CODERS)
    required = min(2, len(study_coders))
    coders_here = set().union(*coded_by.values())
    summary = f"{status.plural(total, 'coding')} by {status.plural(len(coders_here), 'coder')}"
    complete = sum(1 for coders in coded_by.values() if len(coders) >= required)
    if complete == len(interview_ids):
        waiting = [t for t in coding_signoff.targets(session, session.get(Study, case.study_id), case)
                   if signoffs.state_of(session, t) in (signoffs.AWAITING, signoffs.INVALIDATED)]
        if waiting:
            return status.still_open(
                summary, f"coding: the codings of {status.plural(len(waiting), 'interview')} await a sign-off by a second researcher",
                status.SECOND_RESEARCHER,
            )
        return status.done(summary)
    missing = sorted({study_coders[c] for coders in coded_by.values() if len(coders) < required
                      for c in study_coders if c not in coders})
    by_whom = "both coders" if required == 2 else "the coder"
    return status.still_open(
        summary,
        f"coding: {complete} of {status.plural(len(interview_ids), 'interview')} coded by {by_whom}; "
        f"waiting for {status.names_and(missing)}",
        status.CODERS,
    )
