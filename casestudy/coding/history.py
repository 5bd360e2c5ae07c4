"""Undo and redo of coding actions, server-side, per coder and study (the last 50 are kept).

Every coding write of :mod:`casestudy.coding.spans` that names the coder who acts (``by``)
records one :class:`~casestudy.models.CodingAction` in the same transaction: the affected
codings as they were (``before``) and as the action left them (``after``), as plain snapshots.
A new action clears what could be redone; the oldest actions beyond :data:`LIMIT` are dropped.

``undo`` brings the codings of the coder's latest action back from ``after`` to ``before``,
``redo`` the latest undone one forward again. Both are conflict-safe: when a coding of the action
was changed or removed since (by the other coder, a merge in the codebook, an import...), its
version no longer matches the snapshot and the step is refused with the project's one
edit-conflict error (:class:`casestudy.db.EditConflict`); nothing is changed. A removed coding
that is brought back keeps its id when the id is still free, otherwise it gets a new one and
the history is rewritten to it; links that pointed at the removed coding (relation evidence)
were removed with it and do not come back.

Row changes are audited by the flush hook as always; every undo and redo also logs one
``coding_action`` event (``undo`` / ``redo``) naming the action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from casestudy import audit, db
from casestudy.errors import UserError
from casestudy.interviews import segment
from casestudy.models import (
    CODING_ACTION_KINDS,
    Code,
    Coding,
    CodingAction,
    Interview,
    Study,
)

#: How many actions each coder can undo per study.
LIMIT = 50
#: The fields of a coding an action snapshots (and an undo or redo restores).
SNAPSHOT_FIELDS = ("id", "interview_id", "code_id", "coder_id", "start", "end", "start_line", "end_line", "memo", "origin", "version",
                   "period_id", "elicitation", "elicitation_manual")
RESTORED_FIELDS = ("code_id", "start", "end", "start_line", "end_line", "memo", "period_id")

KIND_LABELS = {
    "apply": "apply codes", "remove": "remove a coding", "move": "move a coding's boundaries",
    "recode": "change a coding's code", "edit": "edit a coding", "bulk_remove": "remove codings",
    "bulk_recode": "recode codings", "period": "set the period of codings",
}


def snapshot(coding: Coding) -> dict:
    """A coding as a plain dict of :data:`SNAPSHOT_FIELDS` (what an action stores)."""
    return {name: getattr(coding, name) for name in SNAPSHOT_FIELDS}


@dataclass(frozen=True)
class ActionResult:
    """What an undo or redo did.

    ``codings`` are the affected codings as they are now (snapshots, see :func:`snapshot`),
    ``removed_ids`` the codings that no longer exist after the step (a view drops their marks),
    ``interview_ids`` the interviews touched. ``can_undo`` / ``can_redo`` say whether a further
    step is possible; ``message`` says in words what happened.
    """

    kind: str
    seq: int
    undone: bool
    codings: list[dict] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    interview_ids: list[int] = field(default_factory=list)
    can_undo: bool = False
    can_redo: bool = False
    message: str = ""


# --- recording -------------------------------------------------------------------------------
def record(session: Session, study_id: int, user_id: int, kind: str, before: Sequence[dict], after: Sequence[dict]) -> CodingAction | None:
    """Record one action of ``user_id`` in the caller's transaction (nothing when it changed nothing).

    ``before``/``after`` are snapshots taken before and after the write (the write must be
    flushed, so versions are current). Clears the coder's redo steps and keeps the newest
    :data:`LIMIT` actions.
    """
    if kind not in CODING_ACTION_KINDS:
        raise ValueError(f"unknown coding action {kind!r}")
    if not before and not after:
        return None
    for redoable in _actions(session, study_id, user_id, undone=True):
        session.delete(redoable)
    session.flush()  # the freed sequence numbers are reused by the new action
    last = session.scalar(select(func.max(CodingAction.seq)).where(CodingAction.study_id == study_id, CodingAction.user_id == user_id)) or 0
    action = CodingAction(study_id=study_id, user_id=user_id, seq=last + 1, kind=kind, before=list(before), after=list(after), undone=False)
    session.add(action)
    for old in session.scalars(select(CodingAction).where(
            CodingAction.study_id == study_id, CodingAction.user_id == user_id, CodingAction.seq <= last + 1 - LIMIT)):
        session.delete(old)
    session.flush()
    return action


def _actions(session: Session, study_id: int, user_id: int, undone: bool) -> list[CodingAction]:
    return list(session.scalars(select(CodingAction).where(
        CodingAction.study_id == study_id, CodingAction.user_id == user_id, CodingAction.undone.is_(undone),
    ).order_by(CodingAction.seq)))


# --- undo and redo ---------------------------------------------------------------------------
def undo(session: Session, study: Study, user_id: int) -> ActionResult:
    """Undo the latest action of ``user_id`` in ``study`` (see the module docstring)."""
    done = _actions(session, study.id, user_id, undone=False)
    if not done:
        raise UserError("there is nothing to undo")
    return _step(session, study, done[-1], undo=True)


def redo(session: Session, study: Study, user_id: int) -> ActionResult:
    """Redo the action of ``user_id`` undone last; refused when there is none (a new action clears them)."""
    undone = _actions(session, study.id, user_id, undone=True)
    if not undone:
        raise UserError("there is nothing to redo")
    return _step(session, study, undone[0], undo=False)


def _step(session: Session, study: Study, action: CodingAction, undo: bool) -> ActionResult:
    current, target = (action.after, action.before) if undo else (action.before, action.after)
    reached, remap = _transition(session, study, current, target)
    if undo:
        action.before, action.undone = reached, True
    else:
        action.after, action.undone = reached, False
    # The same states recorded by the neighbouring actions now carry the new ids and versions.
    renumbered = {(old["id"], old["version"]): (new["id"], new["version"]) for old, new in zip(target, reached)
                  if (old["id"], old["version"]) != (new["id"], new["version"])}
    if remap or renumbered:
        _renumber(session, study.id, action.id, remap, renumbered)
    session.flush()
    verb = "undo" if undo else "redo"
    reached_ids = {s["id"] for s in reached}
    removed = sorted({remap.get(s["id"], s["id"]) for s in current} - reached_ids)
    audit.record(session, "coding_action", verb, action.id, study.id, seq=action.seq, kind=action.kind,
                 codings=sorted(reached_ids), removed=removed)
    counts = history_counts(session, study.id, action.user_id)
    return ActionResult(
        kind=action.kind, seq=action.seq, undone=undo, codings=reached, removed_ids=removed,
        interview_ids=sorted({s["interview_id"] for s in [*current, *reached]}),
        can_undo=counts["undo"] > 0, can_redo=counts["redo"] > 0,
        message=f"{'undid' if undo else 'redid'}: {KIND_LABELS.get(action.kind, action.kind)} ({len(current) or len(reached)} coding(s))",
    )


def _period_still_there(session: Session, period_id: int | None) -> int | None:
    from casestudy.models import CasePeriod

    return period_id if period_id is not None and session.get(CasePeriod, period_id) is not None else None


def _missing(snap: dict) -> db.EditConflict:
    return db.EditConflict(f"{db.CONFLICT_MESSAGE}: coding {snap['id']} was removed since", 0, {})


def _transition(session: Session, study: Study, current: Sequence[dict], target: Sequence[dict]) -> tuple[list[dict], dict[int, int]]:
    """Bring the codings from the state ``current`` to ``target``; (snapshots reached, {old id: new id}).

    Every coding in ``current`` must still be exactly as recorded (same version), else
    EditConflict before anything changes.
    """
    rows: dict[int, Coding] = {}
    for snap in current:
        row = session.get(Coding, snap["id"], populate_existing=True)
        if row is None:
            raise _missing(snap)
        db.check_version(row, snap["version"], RESTORED_FIELDS)
        rows[snap["id"]] = row
    target_ids = {snap["id"] for snap in target}
    for coding_id, row in rows.items():
        if coding_id not in target_ids:
            session.delete(row)
    session.flush()  # a span removed here may be re-created below
    remap: dict[int, int] = {}
    reached_rows = []
    for snap in target:
        row = rows.get(snap["id"])
        if row is None:
            row = _recreate(session, study, snap)
            if row.id != snap["id"]:
                remap[snap["id"]] = row.id
        else:
            for name in RESTORED_FIELDS:
                if name not in snap:  # recorded before codings had periods: that field is left as it is
                    continue
                if name == "period_id" and snap[name] is not None and _period_still_there(session, snap[name]) is None:
                    raise UserError(f"cannot restore the period of coding {snap['id']}: that period was removed from its case since")
                if getattr(row, name) != snap[name]:
                    setattr(row, name, snap[name])
        reached_rows.append(row)
    session.flush()
    return [snapshot(row) for row in reached_rows], remap


def _recreate(session: Session, study: Study, snap: dict) -> Coding:
    """A removed coding back as recorded (its old id when free); refused when it cannot be."""
    interview = session.get(Interview, snap["interview_id"])
    code = session.get(Code, snap["code_id"])
    if interview is None or interview.study_id != study.id:
        raise UserError(f"cannot bring back coding {snap['id']}: its interview was removed")
    if code is None or code.status != "active":
        raise UserError(f"cannot bring back coding {snap['id']}: its code {code.name if code else ''!r} is no longer active".replace(" ''", ""))
    duplicate = session.scalar(select(Coding.id).where(
        Coding.interview_id == snap["interview_id"], Coding.code_id == snap["code_id"], Coding.coder_id == snap["coder_id"],
        Coding.start == snap["start"], Coding.end == snap["end"],
    ))
    if duplicate is not None:
        raise db.EditConflict(f"{db.CONFLICT_MESSAGE}: the same span was coded again since (coding {duplicate})", 0, {})
    index = segment.line_index(interview.text)
    free = session.get(Coding, snap["id"]) is None
    row = Coding(
        id=snap["id"] if free else None, study_id=study.id, interview_id=interview.id, code_id=code.id, coder_id=snap["coder_id"],
        start=snap["start"], end=snap["end"], start_line=index.line_of(snap["start"]),
        end_line=index.line_of(max(snap["start"], snap["end"] - 1)), memo=snap["memo"], origin=snap["origin"],
        period_id=_period_still_there(session, snap.get("period_id")),  # older snapshots have none
        # Snapshots recorded before elicitation marks existed lack them (the coding comes back unmarked).
        elicitation=snap.get("elicitation", ""), elicitation_manual=snap.get("elicitation_manual", False),
    )
    session.add(row)
    session.flush()
    # The same content as that recorded version, so the older actions' snapshots still match it
    # (the ORM numbers every insert 1; a Core update sets the number without counting a change).
    session.execute(update(Coding).where(Coding.id == row.id).values(version=snap["version"]))
    session.refresh(row)
    return row


def _renumber(session: Session, study_id: int, except_id: int, ids: dict[int, int], states: dict[tuple[int, int], tuple[int, int]]) -> None:
    """Rewrite the other recorded actions of the study: a re-created coding's old id becomes its
    new one (``ids``), and a recorded state (id, version) the step reached anew gets the
    coding's current version (``states``), so those actions can still be undone or redone."""
    for action in session.scalars(select(CodingAction).where(CodingAction.study_id == study_id, CodingAction.id != except_id)):
        for side in ("before", "after"):
            snaps = getattr(action, side)
            rewritten = []
            for snap in snaps:
                new_id, new_version = states.get((snap["id"], snap["version"]), (ids.get(snap["id"], snap["id"]), snap["version"]))
                rewritten.append({**snap, "id": new_id, "version": new_version})
            if rewritten != snaps:
                setattr(action, side, rewritten)


# --- reading ---------------------------------------------------------------------------------
def history_counts(session: Session, study_id: int, user_id: int) -> dict[str, int]:
    """{"undo": steps that can be undone, "redo": steps that can be redone}."""
    rows = dict(session.execute(
        select(CodingAction.undone, func.count(CodingAction.id))
        .where(CodingAction.study_id == study_id, CodingAction.user_id == user_id)
        .group_by(CodingAction.undone)
    ).all())
    return {"undo": int(rows.get(False, 0)), "redo": int(rows.get(True, 0))}


def history(session: Session, study: Study, user_id: int) -> list[dict]:
    """The coder's recorded actions in the study, newest first: seq, kind, what, when, undone,
    the codings' ids and interviews (as the action left them, or as before it when undone)."""
    rows = []
    for action in reversed(_actions(session, study.id, user_id, undone=False) + _actions(session, study.id, user_id, undone=True)):
        shown = action.before if action.undone else (action.after or action.before)
        rows.append({
            "seq": action.seq, "kind": action.kind, "what": KIND_LABELS.get(action.kind, action.kind), "at": action.at,
            "undone": action.undone, "codings": max(len(action.before), len(action.after)),
            "coding_ids": [s["id"] for s in shown], "interview_ids": sorted({s["interview_id"] for s in shown}),
        })
    rows.sort(key=lambda r: r["seq"], reverse=True)
    return rows
