"""Sign-off of a masked text before its release (the rule: :mod:`casestudy.signoffs`).

The signed content is the masked text itself (its SHA-256, as the release will freeze it): any
replacement accepted, edited or added afterwards changes it and invalidates the sign-off. The
authors are everyone who wrote the masked text: the actors of its audit trail (who generated
it and who reviewed its replacements and candidates), so nobody signs off their own masking.
:func:`casestudy.masking.workflow.release` refuses a release the study requires to be signed off
while it is not.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import signoffs
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Case, MaskedText, Signoff, Study


def masked_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def authors(session: Session, masked: MaskedText) -> frozenset[str]:
    """The lower-case names of whoever created or changed the masked text (its audit trail)."""
    actors = session.scalars(
        select(AuditEvent.actor).where(AuditEvent.entity == MaskedText.__tablename__, AuditEvent.entity_id == masked.id,
                                       AuditEvent.action.in_(("create", "update"))).distinct()
    )
    return frozenset(actor.strip().lower() for actor in actors if actor.strip())


def target(session: Session, masked: MaskedText) -> signoffs.SignTarget:
    """The masked text as it is now, as a sign-off target."""
    case = session.get(Case, masked.case_id)
    return signoffs.SignTarget(
        study=session.get(Study, masked.study_id), kind=signoffs.MASKED_TEXT, target_id=masked.id,
        label=f"masked text {masked.id} of {case.public_label}", content_hash=masked_hash(masked.masked_text),
        authors=authors(session, masked), case=case.public_label,
    )


def sign(session: Session, principal: Principal | None, masked: MaskedText, note: str = "") -> Signoff:
    """Sign off the masked text as it is now; a released text is frozen and needs none."""
    if masked.status == "released":
        raise UserError(f"masked text {masked.id} is already released")
    return signoffs.sign(session, principal, target(session, masked), note)


def require_before_release(session: Session, masked: MaskedText) -> None:
    """The release gate: UserError while the study requires a sign-off of the masked text and it
    has none that matches the text as it is now."""
    signoffs.require_signoff(session, target(session, masked), f"releasing masked text {masked.id}")


def targets(session: Session, study: Study, case: Case | None = None) -> list[signoffs.SignTarget]:
    """Each case's newest masked text that is still a draft (the one a release would freeze)."""
    query = select(MaskedText).where(MaskedText.study_id == study.id).order_by(MaskedText.id)
    if case is not None:
        query = query.where(MaskedText.case_id == case.id)
    newest: dict[int, MaskedText] = {}
    for row in session.scalars(query):
        newest[row.case_id] = row
    return [target(session, row) for row in newest.values() if row.status == "draft"]
