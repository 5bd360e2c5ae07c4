"""Sign-offs by a second researcher: what a study requires, who signed what, and the gates.

A study can require (:func:`set_required`, its owner only) that a second researcher signs off
one of :data:`~casestudy.models.SIGNOFF_KINDS`: an interview's codings, a reconstruction version
before it goes to the member check, a masked text before its release. The stage that holds the
thing describes it as a :class:`SignTarget` (its study, kind, id, a label, the SHA-256 of its
content now and its authors) and calls :func:`sign` and :func:`require_signoff`; this module
keeps the rule itself in one place:

- a sign-off records the signer, the time, the content hash and a note;
- only a study member with the role owner or coder who is not an author may sign
  (:func:`casestudy.access.require_signer`; a refusal is an ``AccessDenied`` the boundary logs);
- a sign-off counts only while the hash of the content is still the signed hash: a changed
  content invalidates it (the row stays, as the record of what was signed);
- :func:`require_signoff` refuses the gated step (member check, release) with a UserError when
  the study requires a sign-off and no valid one exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import SIGNOFF_KINDS, Signoff, SignoffRequirement, Study, utcnow

CODINGS, RECONSTRUCTION, MASKED_TEXT = SIGNOFF_KINDS
#: What each kind is, as a sentence part ("requires a sign-off of ...").
KIND_LABELS = {
    CODINGS: "an interview's codings",
    RECONSTRUCTION: "a reconstruction version before the member check",
    MASKED_TEXT: "a masked text before its release",
}
MAX_NOTE_CHARS = 5_000

#: The states of a target (:func:`state_of`).
NOT_REQUIRED = "not required"
SIGNED = "signed"
AWAITING = "awaiting sign-off"
INVALIDATED = "sign-off invalidated"  # signed once, but the content changed since


@dataclass(frozen=True)
class SignTarget:
    """One thing that can be signed off, as its stage sees it now.

    ``content_hash`` is the SHA-256 of the content as it is now; ``authors`` are the lower-case
    user names of whoever wrote it (they cannot sign); ``label`` names it for people
    ("the codings of interview I1.txt (Case A)"); ``case`` is the case's public label.
    """

    study: Study
    kind: str
    target_id: int
    label: str
    content_hash: str
    authors: frozenset[str]
    case: str = ""


@dataclass(frozen=True)
class SignoffRecord:
    """A stored sign-off and whether it still counts (its hash is the content's hash now)."""

    id: int
    kind: str
    target_id: int
    signer: str
    signed_at: dt.datetime
    content_hash: str
    note: str
    valid: bool

    def as_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "target_id": self.target_id, "signer": self.signer,
                "signed_at": self.signed_at, "content_hash": self.content_hash, "note": self.note, "valid": self.valid}


@dataclass(frozen=True)
class Awaiting:
    """A thing of the study that needs a sign-off before it can go on (for the dashboard)."""

    kind: str
    target_id: int
    label: str
    case: str
    state: str  # AWAITING or INVALIDATED
    authors: tuple[str, ...]

    def as_json(self) -> dict:
        return {"kind": self.kind, "target_id": self.target_id, "label": self.label, "case": self.case,
                "state": self.state, "authors": list(self.authors)}


def check_kind(kind: str) -> str:
    kind = (kind or "").strip().lower().replace("-", "_")
    if kind not in SIGNOFF_KINDS:
        raise UserError(f"unknown sign-off kind {kind!r}; choose one of: {', '.join(SIGNOFF_KINDS)}")
    return kind


# --- what the study requires ------------------------------------------------------------
def required_kinds(session: Session, study: Study) -> list[str]:
    """The kinds the study requires a sign-off for, in :data:`SIGNOFF_KINDS` order."""
    held = set(session.scalars(select(SignoffRequirement.kind).where(SignoffRequirement.study_id == study.id)))
    return [kind for kind in SIGNOFF_KINDS if kind in held]


def is_required(session: Session, study: Study, kind: str) -> bool:
    return check_kind(kind) in required_kinds(session, study)


def set_required(session: Session, study: Study, principal: Principal | None, kind: str, required: bool) -> bool:
    """Require (or stop requiring) a sign-off of ``kind`` in ``study``: the study owner only
    (else AccessDenied). Returns whether anything changed; the change is audited."""
    kind = check_kind(kind)
    principal = access.require_study_owner(principal, study)
    row = session.scalar(select(SignoffRequirement).where(SignoffRequirement.study_id == study.id, SignoffRequirement.kind == kind))
    if bool(row) == bool(required):
        return False
    if required:
        session.add(SignoffRequirement(study_id=study.id, kind=kind, created_by=principal.actor))
    else:
        session.delete(row)
    session.flush()
    return True


# --- sign-offs --------------------------------------------------------------------------
def _rows(session: Session, kind: str, target_id: int) -> list[Signoff]:
    return list(session.scalars(
        select(Signoff).where(Signoff.kind == kind, Signoff.target_id == target_id).order_by(Signoff.id)
    ))


def signoffs_of(session: Session, target: SignTarget) -> list[SignoffRecord]:
    """Every sign-off of the target, oldest first, each marked valid while its hash matches."""
    return [
        SignoffRecord(row.id, row.kind, row.target_id, row.signer.username, row.signed_at, row.content_hash, row.note,
                      row.content_hash == target.content_hash)
        for row in _rows(session, target.kind, target.target_id) if row.study_id == target.study.id
    ]


def valid_signoff(session: Session, target: SignTarget) -> SignoffRecord | None:
    """The latest sign-off whose hash is the content's hash now; None when there is none."""
    valid = [record for record in signoffs_of(session, target) if record.valid]
    return valid[-1] if valid else None


def state_of(session: Session, target: SignTarget) -> str:
    """:data:`SIGNED` when a valid sign-off exists; else :data:`NOT_REQUIRED` when the study
    does not ask for one, :data:`INVALIDATED` when an earlier one no longer matches, or
    :data:`AWAITING`."""
    if valid_signoff(session, target) is not None:
        return SIGNED
    if not is_required(session, target.study, target.kind):
        return NOT_REQUIRED
    return INVALIDATED if signoffs_of(session, target) else AWAITING


def sign(session: Session, principal: Principal | None, target: SignTarget, note: str = "") -> Signoff:
    """Record ``principal``'s sign-off of the target as it is now (its content hash).

    Refused (AccessDenied, see :func:`casestudy.access.require_signer`) unless the principal is
    an owner or coder of the study and not an author; refused (UserError) when the same signer
    already signed this very content, or the note is too long.
    """
    principal = access.require_signer(principal, target.study, target.authors, target.label)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise UserError(f"a sign-off note can hold at most {MAX_NOTE_CHARS} characters")
    for record in signoffs_of(session, target):
        if record.valid and record.signer.lower() == principal.name.lower():
            raise UserError(f"you already signed off {target.label} as it is now ({record.signed_at:%Y-%m-%d %H:%M} UTC)")
    row = Signoff(study_id=target.study.id, kind=target.kind, target_id=target.target_id, content_hash=target.content_hash,
                  signer_id=principal.subject_id, signed_at=utcnow(), note=note)
    session.add(row)
    session.flush()
    audit.record(session, "signoff", "sign", row.id, target.study.id, kind=target.kind, target_id=target.target_id,
                 hash=target.content_hash)
    return row


def refusal(session: Session, principal: Principal | None, target: SignTarget) -> str:
    """Why ``principal`` may not sign off the target now (empty when they may): the reason
    :func:`sign` would give, so a page can say it before anyone presses a button."""
    try:
        principal = access.require_signer(principal, target.study, target.authors, target.label)
    except access.AccessDenied as exc:
        return exc.message
    if any(r.valid and r.signer.lower() == principal.name.lower() for r in signoffs_of(session, target)):
        return "you signed off this content already"
    return ""


def require_signoff(session: Session, target: SignTarget, step: str) -> None:
    """Refuse ``step`` (e.g. "send version 2 of Case A to the member check") with a UserError
    while the study requires a sign-off of the target and none is valid."""
    state = state_of(session, target)
    if state == AWAITING:
        raise UserError(f"{step} refused: this study requires a second researcher to sign off {target.label} first "
                        f"(an owner or coder who is not its author)")
    if state == INVALIDATED:
        raise UserError(f"{step} refused: {target.label} changed after it was signed off; a second researcher has to "
                        f"sign off the current content again")


def awaiting(session: Session, targets: list[SignTarget]) -> list[Awaiting]:
    """Of ``targets``, those whose study requires a sign-off that is missing or invalidated."""
    out = []
    for target in targets:
        state = state_of(session, target)
        if state in (AWAITING, INVALIDATED):
            out.append(Awaiting(target.kind, target.target_id, target.label, target.case, state, tuple(sorted(target.authors))))
    return out
