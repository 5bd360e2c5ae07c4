"""Blind coding per study: while the study owner keeps it on, every coder sees only their own codings.

The one rule, enforced here for every reading face (the coding page's data, retrieval, matrices,
exports, the REFI-QDA export, the CLI): :func:`visible_coders` says whose codings a principal may
see in a study, and the query functions of :mod:`casestudy.coding.spans`,
:mod:`casestudy.coding.retrieval`, :mod:`casestudy.coding.matrices` and
:mod:`casestudy.exchange.export` filter by it. Only the study owner
(:func:`casestudy.access.require_study_owner`) turns blinding on or off, sees every coder's
codings while it is on, and may compare coders (agreement). Asking for another coder's codings
while blind, comparing coders, changing another coder's coding or toggling blinding without
being the owner raises :class:`~casestudy.access.AccessDenied` (the boundary logs the refusal).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy.access import AccessDenied, Principal
from casestudy.models import Coding, Study, User


def is_owner(principal: Principal | None, study: Study) -> bool:
    """Whether ``principal`` passes :func:`casestudy.access.require_study_owner` for ``study``."""
    try:
        access.require_study_owner(principal, study)
    except AccessDenied:
        return False
    return True


def set_blind_coding(session: Session, study: Study, principal: Principal | None, on: bool) -> bool:
    """Turn blind coding of ``study`` on or off (the owner only, else AccessDenied); True when it changed."""
    access.require_study_owner(principal, study)
    if bool(study.blind_coding) == bool(on):
        return False
    study.blind_coding = bool(on)
    session.flush()
    audit.record(session, "study", "blind_coding", study.id, study.id, on=bool(on), by=principal.name)
    return True


def visible_coders(session: Session, study: Study, principal: Principal | None) -> list[int] | None:
    """The user ids whose codings ``principal`` may see in ``study``; None means every coder's.

    Not blind, or the owner: None. Blind: only the principal's own (a viewer, who codes
    nothing, sees none). Anyone but a researcher: AccessDenied.
    """
    access.require_researcher(principal)
    if not study.blind_coding or is_owner(principal, study):
        return None
    return [principal.subject_id]


def coder_filter(session: Session, study: Study, principal: Principal | None, requested: Sequence[int] | None) -> list[int] | None:
    """The coder ids a query may read: ``requested`` (None = all) within :func:`visible_coders`.

    While blind, naming another coder is refused (AccessDenied, "blind coding"); asking for all
    gives one's own.
    """
    visible = visible_coders(session, study, principal)
    if visible is None:
        return None if requested is None else list(requested)
    if requested is None:
        return visible
    hidden = sorted(set(requested) - set(visible))
    if hidden:
        raise AccessDenied("blind coding is on in this study: you can see only your own codings until the study owner turns it off",
                           principal, f"blind coding: other coders' codings (study {study.id})")
    return list(requested)


def require_comparison(principal: Principal | None, study: Study) -> None:
    """Comparing coders (agreement, side-by-side passages): while blind, only for the owner."""
    access.require_researcher(principal)
    if study.blind_coding and not is_owner(principal, study):
        raise AccessDenied("blind coding is on in this study: comparing coders is for the study owner until it is turned off",
                           principal, f"blind coding: agreement (study {study.id})")


def require_may_change(study: Study, user: User, coding: Coding) -> None:
    """While blind, a coder changes only their own codings (the owner any)."""
    principal = access.researcher(user)
    if study.blind_coding and coding.coder_id != user.id and not is_owner(principal, study):
        raise AccessDenied("blind coding is on in this study: you can change only your own codings",
                           principal, f"blind coding: another coder's coding (study {study.id})")
