"""Elicitation of coded passages: did the respondent raise it spontaneously, or after a probe?

The reference study interviewed in two stages (open questions, then hypothesis-driven probes per
level) so that it could tell determinants the respondents raised themselves from those they
confirmed when asked: a check against confirmation bias. Each coding carries that mark
(``Coding.elicitation``: "spontaneous", "probe" or "" when unmarked, e.g. in a document).

* **Suggested**: from the turn the coding starts in, by
  :func:`casestudy.interviews.guide.turn_elicitation` (the interviewer turn before it matched
  with the guide's probes and open questions, else the turn's position after the first probe).
  New codings are marked as they are made (:func:`mark_new`, called by
  :func:`casestudy.coding.spans.apply_codes` and when a coding moves);
  :func:`suggest` marks again all codings of some interviews (e.g. after a new guide version).
  A suggestion is a plain column write: it does not change a coding's version (no edit conflict
  for a coder holding it) and is logged as one ``coding`` ``elicitation suggested`` event.
* **Set by hand** per coding (:func:`set_elicitation`) or for every coding of a turn at once
  (:func:`set_turn_elicitation`): a versioned, audited edit, kept from then on
  (``elicitation_manual``) until it is set back to the suggestion (value ``"suggested"``).
  With blind coding a coder changes only their own codings.

Retrieval, matrices and exports filter by it (:class:`casestudy.coding.retrieval.SegmentFilter`,
``elicitation``); :mod:`casestudy.reports.elicitation` counts determinants per case and level.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casestudy import audit, db
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding
from casestudy.errors import UserError
from casestudy.interviews import guide as guides
from casestudy.interviews import segment
from casestudy.interviews.constants import ELICITATIONS
from casestudy.interviews.store import turns_of
from casestudy.models import Coding, Interview, Study, User

#: The values :func:`set_elicitation` accepts: a mark, or back to the suggestion.
SETTABLE = (*ELICITATIONS, "suggested")


def turn_suggestions(session: Session, interview: Interview) -> list[guides.TurnElicitation]:
    """The suggestion for every turn of an interview (none for a document), from the guide it
    followed (:func:`casestudy.interviews.guide.guide_for`) and its start of the probes."""
    if interview.kind != "interview":
        return []
    stored = guides.guide_for(session, interview)
    guide = guides.guide_of(stored) if stored is not None else None
    role = interview.respondent.role if interview.respondent is not None else None
    return guides.turn_elicitation(turns_of(session, interview), interview.text, guide, role, interview.probe_start_turn)


class _TurnLocator:
    """Which turn an offset lies in (the last turn starting at or before it)."""

    def __init__(self, session: Session, interview: Interview):
        self.turns = turns_of(session, interview)
        self.starts = [t.start for t in self.turns]

    def turn_at(self, offset: int) -> int | None:
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.turns[index].ordinal if index >= 0 else None


def _suggested_values(session: Session, interview: Interview, codings: Iterable[Coding]) -> dict[int, str]:
    """coding id -> suggested mark ("" when nothing can be told or the coding lies before the first turn)."""
    by_turn = {s.turn: s.value for s in turn_suggestions(session, interview)}
    if not by_turn:
        return {c.id: "" for c in codings}
    locator = _TurnLocator(session, interview)
    return {c.id: by_turn.get(locator.turn_at(c.start), "") for c in codings}


def _write_marks(session: Session, marks: dict[int, str]) -> Counter:
    """Write suggested marks (one UPDATE per value; versions untouched, see the module docstring)."""
    by_value: dict[str, list[int]] = {}
    for coding_id, value in marks.items():
        by_value.setdefault(value, []).append(coding_id)
    for value, ids in by_value.items():
        for chunk in range(0, len(ids), 900):
            session.execute(update(Coding).where(Coding.id.in_(ids[chunk : chunk + 900]))
                            .values(elicitation=value).execution_options(synchronize_session="fetch"))
    return Counter({value or "unmarked": len(ids) for value, ids in by_value.items()})


def mark_new(session: Session, interview: Interview, codings: Sequence[Coding]) -> None:
    """Give codings just made or moved (not set by hand) their suggested mark; flushed first."""
    pending = [c for c in codings if not c.elicitation_manual]
    if not pending:
        return
    session.flush()
    _write_marks(session, _suggested_values(session, interview, pending))


def suggest(session: Session, study: Study, interview_ids: Sequence[int] | None = None, *,
            overwrite_manual: bool = False) -> dict[str, int]:
    """Mark the codings of the given interviews (default: all of the study) with their suggestion.

    Codings set by hand keep their mark unless ``overwrite_manual`` (then they become suggested
    again). Returns how many codings got each mark (``spontaneous``, ``probe``, ``unmarked``) and
    how many hand-set ones were kept (``kept``)."""
    query = select(Interview).where(Interview.study_id == study.id)
    if interview_ids is not None:
        query = query.where(Interview.id.in_(list(interview_ids)))
    counts: Counter = Counter()
    interviews = list(session.scalars(query.order_by(Interview.id)))
    for interview in interviews:
        codings = list(session.scalars(select(Coding).where(Coding.interview_id == interview.id)))
        kept = [c for c in codings if c.elicitation_manual and not overwrite_manual]
        counts["kept"] += len(kept)
        pending = [c for c in codings if c not in kept]
        if overwrite_manual:
            manual = [c.id for c in pending if c.elicitation_manual]
            for chunk in range(0, len(manual), 900):
                session.execute(update(Coding).where(Coding.id.in_(manual[chunk : chunk + 900]))
                                .values(elicitation_manual=False).execution_options(synchronize_session="fetch"))
        counts.update(_write_marks(session, _suggested_values(session, interview, pending)))
    result = {key: counts.get(key, 0) for key in (*ELICITATIONS, "unmarked", "kept")}
    audit.record(session, "coding", "elicitation suggested", None, study.id, interviews=[i.id for i in interviews],
                 overwrite_manual=overwrite_manual, **result)
    return result


def _check_value(value: str) -> str:
    value = (value or "").strip().lower()
    if value in ("after a probe", "after probe", "probed"):
        value = "probe"
    if value not in SETTABLE:
        raise UserError(f"unknown elicitation {value!r}; choose one of: {', '.join(SETTABLE)}")
    return value


def set_elicitation(session: Session, study: Study, coding_ids: Sequence[int], value: str, *, by: User | None,
                    expected_versions: dict[int, int] | None = None) -> int:
    """Set the mark of several codings by hand, all or none (``value`` from :data:`SETTABLE`;
    "suggested" hands them back to the suggestion). ``by`` is checked against blind coding; a
    coding changed since the version shown (``expected_versions``) is an edit conflict. Returns
    how many codings changed."""
    value = _check_value(value)
    ids = list(dict.fromkeys(int(i) for i in coding_ids))
    if not ids:
        raise UserError("choose at least one coding")
    rows = []
    for coding_id in ids:
        row = session.get(Coding, coding_id, populate_existing=True)
        if row is None or row.study_id != study.id:
            raise UserError(f"no coding {coding_id} in this study")
        if by is not None:
            blinding.require_may_change(study, by, row)
        rows.append(row)
    changed = 0
    for row in rows:
        expected = (expected_versions or {}).get(row.id, row.version)
        if value == "suggested":
            if row.elicitation_manual or expected != row.version:
                db.apply_edit(session, Coding, row.id, expected, elicitation_manual=False)
                changed += 1
            continue
        if row.elicitation != value or not row.elicitation_manual or expected != row.version:
            db.apply_edit(session, Coding, row.id, expected, elicitation=value, elicitation_manual=True)
            changed += 1
    session.flush()
    if value == "suggested":
        by_interview: dict[int, list[Coding]] = {}
        for row in rows:
            by_interview.setdefault(row.interview_id, []).append(row)
        for interview_id, group in by_interview.items():
            mark_new(session, session.get(Interview, interview_id), group)
    return changed


def codings_in_turn(session: Session, interview: Interview, turn: int) -> list[Coding]:
    """The codings of an interview that start inside turn ``turn`` (by ordinal)."""
    found = next((t for t in turns_of(session, interview) if t.ordinal == turn), None)
    if found is None:
        raise UserError(f"interview {interview.id} has no turn {turn}")
    return list(session.scalars(select(Coding).where(Coding.interview_id == interview.id, Coding.start >= found.start,
                                                     Coding.start < max(found.end, found.start + 1)).order_by(Coding.start, Coding.id)))


def set_turn_elicitation(session: Session, study: Study, interview: Interview, turn: int, value: str, *, by: User | None) -> int:
    """Set the mark of every coding that starts in turn ``turn`` at once (with blind coding only
    ``by``'s own); returns how many changed. Refused when the turn has no such coding."""
    rows = codings_in_turn(session, interview, turn)
    if by is not None and study.blind_coding:
        rows = [r for r in rows if r.coder_id == by.id]
    if not rows:
        raise UserError(f"turn {turn} of interview {interview.id} has no codings{' of yours' if by is not None and study.blind_coding else ''}")
    return set_elicitation(session, study, [r.id for r in rows], value, by=by)


def turn_view(session: Session, study: Study, interview: Interview, *, principal: Principal) -> list[dict]:
    """Per turn that holds visible codings: ordinal, line, speaker, role, the suggestion with its
    reason, and the codings (id, code, coder, mark, set by hand, version, text) ``principal``
    may see; the page and ``codings elicitation show`` list it."""
    coder_ids = blinding.coder_filter(session, study, principal, None)
    query = select(Coding).where(Coding.interview_id == interview.id)
    if coder_ids is not None:
        query = query.where(Coding.coder_id.in_(coder_ids))
    codings = list(session.scalars(query.order_by(Coding.start, Coding.id)))
    suggestions = {s.turn: s for s in turn_suggestions(session, interview)}
    locator = _TurnLocator(session, interview)
    index = segment.line_index(interview.text)
    paths = codebook.code_paths(codebook.all_codes(session, study))
    by_turn: dict[int | None, list[Coding]] = {}
    for coding in codings:
        by_turn.setdefault(locator.turn_at(coding.start), []).append(coding)
    turns = {t.ordinal: t for t in locator.turns}
    rows = []
    for ordinal, group in sorted(by_turn.items(), key=lambda item: -1 if item[0] is None else item[0]):
        turn = turns.get(ordinal)
        suggestion = suggestions.get(ordinal)
        rows.append({
            "turn": ordinal, "line": index.line_of(turn.start) if turn else 1, "speaker": turn.speaker if turn else "",
            "role": turn.role if turn else "", "suggested": suggestion.value if suggestion else "",
            "reason": suggestion.reason if suggestion else "", "asked_turn": suggestion.asked_turn if suggestion else None,
            "codings": [{"id": c.id, "code": paths.get(c.code_id, ""), "coder": c.coder.username, "elicitation": c.elicitation,
                         "manual": c.elicitation_manual, "version": c.version, "text": interview.text[c.start : c.end]}
                        for c in group],
        })
    return rows
