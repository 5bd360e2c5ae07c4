"""Sign-off of a reconstruction version before the member check (the rule: :mod:`casestudy.signoffs`).

The signed content is the version's text (hashed as :func:`narrative.content_hash` does, from
the text itself, so a stored text that no longer matches its hash is not taken as signed). The
author is the version's author. :func:`casestudy.reconstruction.membercheck.send_to_member_check`
refuses to send a version the study requires to be signed off while it is not.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import signoffs
from casestudy.access import Principal
from casestudy.models import Case, ReconstructionVersion, Signoff, Study
from casestudy.reconstruction import narrative


def target(session: Session, version: ReconstructionVersion) -> signoffs.SignTarget:
    """The version as a sign-off target."""
    case = session.get(Case, version.case_id)
    return signoffs.SignTarget(
        study=session.get(Study, case.study_id), kind=signoffs.RECONSTRUCTION, target_id=version.id,
        label=f"version {version.number} of the reconstruction of {case.public_label}",
        content_hash=narrative.content_hash(version.text),
        authors=frozenset({version.author.strip().lower()} if version.author.strip() else set()), case=case.public_label,
    )


def sign(session: Session, principal: Principal | None, case: Case, number: int | None = None, note: str = "") -> Signoff:
    """Sign off version ``number`` of the case's reconstruction (the latest without a number)."""
    return signoffs.sign(session, principal, target(session, narrative.get_version(session, case, number)), note)


def require_before_member_check(session: Session, version: ReconstructionVersion) -> None:
    """The member-check gate: UserError while the study requires a sign-off of the version and
    it has none that still matches."""
    case = session.get(Case, version.case_id)
    signoffs.require_signoff(session, target(session, version),
                             f"sending version {version.number} of {case.public_label} to the member check")


def targets(session: Session, study: Study, case: Case | None = None) -> list[signoffs.SignTarget]:
    """The versions waiting to be sent to the member check (each case's latest, still a draft)."""
    query = (select(ReconstructionVersion).join(Case, Case.id == ReconstructionVersion.case_id)
             .where(Case.study_id == study.id, ReconstructionVersion.status == "draft"))
    if case is not None:
        query = query.where(Case.id == case.id)
    drafts = session.scalars(query.order_by(Case.public_label, ReconstructionVersion.number))
    return [target(session, v) for v in drafts
            if (latest := narrative.latest_version(session, session.get(Case, v.case_id))) is not None and latest.id == v.id]
