"""Coding stripes: colours per code, lanes for overlapping codings, word snapping, workbench edits.

The coding workbench (``casestudy/ui/components/coding_workbench.js``) draws one vertical bar per
coding beside the text, NVivo-style. The rules for that picture live here so that the CLI and the
tests use the same ones: :func:`code_colour` (a colour-blind-safe palette, stable per code id),
:func:`assign_lanes` (overlapping codings side by side) and :func:`snap_to_word` (moving a
boundary lands on a word edge). The browser mirrors :func:`assign_lanes` and :func:`snap_to_word`
for its instant preview; the server's answer (:func:`workbench_marks`) is authoritative, and a
browser test checks that both agree.

:func:`perform` is the one entry point for an edit made in the workbench (apply, move, recode,
remove, memo, period): it validates and writes through :mod:`casestudy.coding.spans` inside the caller's
transaction, so a multi-coding action is all or nothing, and an edit conflict is the library's
single definition (:func:`casestudy.db.apply_edit`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.errors import UserError
from casestudy.models import Coding, Interview, Study, User

#: Paul Tol's "muted" scheme: nine colours told apart under the common colour-vision deficiencies.
PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")

#: Small markers for a code's level (by the level's position in the study's level list).
LEVEL_MARKERS = ("●", "▲", "■", "◆", "★", "✚")


def code_colour(code_id: int, explicit: str | None = None) -> str:
    """A code's stripe colour: its own colour if the codebook sets one, else a palette entry.

    The palette entry depends only on the code id, so adding or removing other codes never
    changes a code's colour; neighbouring ids (siblings added together) get different colours.
    """
    if explicit:
        return explicit
    return PALETTE[code_id % len(PALETTE)]


def level_marker(level: str, levels: Sequence[str]) -> str:
    """The marker drawn on a stripe for ``level`` (unknown levels share the last marker)."""
    index = list(levels).index(level) if level in levels else len(LEVEL_MARKERS) - 1
    return LEVEL_MARKERS[min(index, len(LEVEL_MARKERS) - 1)]


def assign_lanes(codings: Iterable[tuple[int, int, int]]) -> dict[int, int]:
    """{coding id: lane} for ``(id, start, end)`` spans: overlapping spans never share a lane.

    Greedy interval colouring in order of (start, longest first, id): each span takes the
    lowest lane whose last span has ended (a span ending where the next begins does not
    overlap it). This uses the fewest lanes possible (the maximum overlap depth).
    """
    lane_ends: list[int] = []
    lanes: dict[int, int] = {}
    for coding_id, start, end in sorted(codings, key=lambda c: (c[1], -c[2], c[0])):
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start:
                lane_ends[lane] = end
                lanes[coding_id] = lane
                break
        else:
            lanes[coding_id] = len(lane_ends)
            lane_ends.append(end)
    return lanes


def _is_word_char(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LNM"


def snap_to_word(text: str, offset: int, edge: str) -> int:
    """``offset`` moved to the nearest word edge: a start moves left, an end moves right.

    A boundary inside a word (a word character on both sides) moves to the beginning
    (``edge="start"``) or the end (``edge="end"``) of that word; a boundary already between
    words stays. Offsets are code points; the result is clamped to ``[0, len(text)]``.
    """
    if edge not in ("start", "end"):
        raise ValueError("edge is 'start' or 'end'")
    offset = max(0, min(len(text), offset))
    if edge == "start":
        while 0 < offset < len(text) and _is_word_char(text[offset - 1]) and _is_word_char(text[offset]):
            offset -= 1
    else:
        while 0 < offset < len(text) and _is_word_char(text[offset - 1]) and _is_word_char(text[offset]):
            offset += 1
    return offset


def workbench_marks(session: Session, interview_id: int, principal: Principal, coder_id: int | None = None) -> list[list]:
    """The interview's codings as compact rows ``[id, code_id, coder, start, end, version, lane, memo]``.

    Compact because the browser receives this list after every edit (not the text). Only the
    codings ``principal`` may see (blind coding); ``coder_id`` limits them to one coder. Lanes
    are :func:`assign_lanes` over the rows returned.
    """
    return _marks(spans.coding_rows(session, interview_id, coder_id, principal=principal))


def _marks(rows: Sequence[spans.CodingRow]) -> list[list]:
    lanes = assign_lanes((r.id, r.start, r.end) for r in rows)
    return [[r.id, r.code_id, r.coder, r.start, r.end, r.version, lanes[r.id], r.memo] for r in rows]


#: The most codings the workbench is sent at once. A transcript with more (49,000 codings sent
#: 100 MB to the browser and took 11 s to open) is shown passage by passage, each passage holding
#: at most this many codings that start in it, or narrowed to one code or one coder.
MAX_MARKS = 500


@dataclass(frozen=True)
class MarkWindow:
    """The marks the workbench draws for one passage of an interview (all of it when small).

    ``total`` codings match the filter; ``passages`` are ``(start, end)`` character ranges that
    each hold at most :data:`MAX_MARKS` of their starts (one ``(0, len(text))`` when ``total`` is
    at most that); ``marks`` are the rows of :func:`workbench_marks` that overlap passage
    ``passage``, with lanes assigned among them.
    """

    marks: list[list]
    total: int
    passages: list[tuple[int, int]]
    passage: int
    coders: tuple[str, ...]  # who made the codings of the interview this principal may see

    @property
    def paged(self) -> bool:
        return len(self.passages) > 1


def passages_of(starts: Sequence[int], length: int, limit: int | None = None) -> list[tuple[int, int]]:
    """Character ranges covering ``[0, length)``, each holding at most ``limit`` (default
    :data:`MAX_MARKS`) of the sorted coding ``starts`` (more only when more than that start on
    one character: a boundary never separates codings that start together)."""
    limit = MAX_MARKS if limit is None else limit
    bounds, count, previous = [0], 0, None
    for start in starts:
        if count >= limit and start != previous:
            bounds.append(start)
            count = 0
        count += 1
        previous = start
    end = max(length, starts[-1] + 1 if starts else 0)
    bounds.append(max(end, bounds[-1] + 1))
    return list(zip(bounds, bounds[1:]))


def workbench_window(session: Session, interview_id: int, principal: Principal, *, coder_id: int | None = None,
                     code_id: int | None = None, passage: int = 0, at: int | None = None) -> MarkWindow:
    """The marks of one passage (see :class:`MarkWindow`), optionally of one coder or one code.

    ``at`` (a character offset, e.g. a linked passage, or where the coder scrolled to) picks the
    passage holding it instead of ``passage``; a passage number out of range is clamped. Blind
    coding applies as in :func:`workbench_marks` (narrowing to a coder one may not see shows
    nothing). Only the passage's rows are read: the rest of a dense interview is counted and
    paged from its starts (:func:`casestudy.coding.spans.coding_starts`).
    """
    length = session.scalar(select(func.length(Interview.text)).where(Interview.id == interview_id)) or 0
    starts = spans.coding_starts(session, interview_id, coder_id, principal=principal, code_id=code_id)
    passages = passages_of(starts, length)
    if at is not None:
        passage = next((i for i, (low, high) in enumerate(passages) if low <= at < high), len(passages) - 1)
    passage = max(0, min(passage, len(passages) - 1))
    shown = spans.coding_rows(session, interview_id, coder_id, principal=principal, code_id=code_id, narrow=True,
                              overlapping=passages[passage] if len(passages) > 1 else None)
    coders = spans.coding_coders(session, interview_id, principal=principal)
    return MarkWindow(_marks(shown), len(starts), passages, passage, coders)


# --- edits from the workbench -------------------------------------------------------------
OPERATIONS = ("apply", "move", "recode", "remove", "memo", "period")


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{what} must be a whole number")
    return value


def _targets(op: dict) -> list[dict]:
    items = op.get("codings")
    if not isinstance(items, list) or not items:
        raise UserError("choose at least one coding")
    for item in items:
        if not isinstance(item, dict):
            raise UserError("a coding is given as {id, version}")
        _int(item.get("id"), "a coding id")
        _int(item.get("version"), "a coding version")
    return items


def _owned(session: Session, interview: Interview, coding_id: int) -> None:
    if spans.get_coding(session, coding_id).interview_id != interview.id:
        raise UserError(f"coding {coding_id} belongs to another interview")


def perform(session: Session, study: Study, interview: Interview, coder: User, op: dict) -> str:
    """Carry out one workbench edit ``op`` in the caller's transaction; returns what was done.

    ``op["kind"]`` is one of :data:`OPERATIONS`:

    - ``apply``: ``codes`` (ids), ``start``, ``end`` (code points), optional ``memo``;
    - ``move``: ``codings`` = ``[{id, version}]`` (one), new ``start``/``end``; with
      ``snap`` true the boundaries snap to word edges (:func:`snap_to_word`);
    - ``recode``: ``codings`` (one or more) and ``code`` (id): each gets that code;
    - ``remove``: ``codings`` (one or more);
    - ``memo``: ``codings`` (one) and ``memo``;
    - ``period``: ``codings`` (one or more) and ``period``, a period name of the case, or "" (or
      none) for the interview's period (:func:`casestudy.coding.spans.set_codings_period`).

    ``version`` is the coding's version the user saw: a coding saved by someone else in
    between refuses the whole edit (:func:`casestudy.db.check_version`). Every edit is one
    undoable action of ``coder`` (:mod:`casestudy.coding.history`) and obeys blind coding.
    Raises :class:`UserError`.
    """
    kind = op.get("kind")
    if kind not in OPERATIONS:
        raise UserError(f"unknown coding action {kind!r}; expected one of {', '.join(OPERATIONS)}")
    if kind == "apply":
        code_ids = op.get("codes")
        if not isinstance(code_ids, list) or not code_ids:
            raise UserError("choose at least one code to apply")
        codes = [codebook.get_code(session, study, _int(c, "a code id")) for c in code_ids]
        memo = op.get("memo") or ""
        created = spans.apply_codes(session, interview, codes, coder, _int(op.get("start"), "start"), _int(op.get("end"), "end"), str(memo))
        return f"applied {len(created)} code(s)"
    targets = _targets(op)
    for item in targets:
        _owned(session, interview, item["id"])
    versions = {item["id"]: item["version"] for item in targets}
    if kind == "move":
        if len(targets) != 1:
            raise UserError("move one coding at a time")
        start, end = _int(op.get("start"), "start"), _int(op.get("end"), "end")
        if op.get("snap"):
            start, end = snap_to_word(interview.text, start, "start"), snap_to_word(interview.text, end, "end")
        spans.move_coding(session, targets[0]["id"], start, end, targets[0]["version"], by=coder)
        return f"moved to {start}-{end}"
    if kind == "memo":
        if len(targets) != 1:
            raise UserError("write the memo of one coding at a time")
        spans.edit_coding(session, targets[0]["id"], targets[0]["version"], memo=str(op.get("memo") or ""), by=coder)
        return "memo saved"
    if kind == "period":
        period = op.get("period") or ""
        if not isinstance(period, str):
            raise UserError("a period is given by its name")
        changed = spans.set_codings_period(session, study, list(versions), period, by=coder, expected_versions=versions)
        where = f"period {period.strip()}" if period.strip() else "the interview's period"
        return f"{where} for {len(versions)} coding(s)" + ("" if changed == len(versions) else f" ({changed} changed)")
    if kind == "recode":
        code = codebook.get_code(session, study, _int(op.get("code"), "the code id"))
        return spans.recode_codings(session, study, list(versions), code, by=coder, expected_versions=versions).summary(code.name)
    removed = spans.remove_codings(session, study, list(versions), by=coder, expected_versions=versions)
    return f"removed {removed} coding(s)"


def recent_codes(session: Session, study_id: int, coder_id: int, limit: int = 9) -> list[int]:
    """The codes this coder applied most recently in the study (newest first, each once)."""
    newest = func.max(Coding.id)
    query = (select(Coding.code_id).where(Coding.study_id == study_id, Coding.coder_id == coder_id)
             .group_by(Coding.code_id).order_by(newest.desc()).limit(limit))
    return list(session.scalars(query))
