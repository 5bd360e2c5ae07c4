"""Sign-off of an interview's codings by a second researcher (the rule: :mod:`casestudy.signoffs`).

The signed content is every coding of the interview (code, coder, span, memo), hashed in a fixed
order: any coding added, removed, moved, recoded or re-memoed afterwards changes the hash and
invalidates the sign-off. The authors are the coders of those codings. While the study codes
blind, a coder cannot see the other coders' codings and so cannot sign them off (the study
owner can).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import signoffs
from casestudy.access import Principal
from casestudy.coding import blinding
from casestudy.errors import UserError
from casestudy.models import Case, Coding, Interview, Signoff, Study, User


def codings_hash(rows: Iterable[tuple[int, int, int, int, str]]) -> str:
    """SHA-256 of (code id, coder id, start, end, memo) rows, in sorted order."""
    # Tuples sort and serialise exactly as lists do (JSON arrays), without a copy of every row.
    payload = json.dumps(sorted(tuple(r) for r in rows), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def target(session: Session, interview: Interview) -> signoffs.SignTarget:
    """The interview's codings as they are now, as a sign-off target."""
    connection = session.connection()
    rows = connection.execute(
        select(Coding.code_id, Coding.coder_id, Coding.start, Coding.end, Coding.memo).where(Coding.interview_id == interview.id)
    )
    content_hash = codings_hash(rows)
    authors = connection.execute(
        select(User.username).where(User.id.in_(select(Coding.coder_id).where(Coding.interview_id == interview.id)))
    ).scalars()
    case = session.get(Case, interview.case_id)
    return signoffs.SignTarget(
        study=session.get(Study, interview.study_id), kind=signoffs.CODINGS, target_id=interview.id,
        label=f"the codings of interview {interview.file_name} ({case.public_label})",
        content_hash=content_hash, authors=frozenset(name.lower() for name in authors), case=case.public_label,
    )


def sign(session: Session, principal: Principal | None, interview: Interview, note: str = "") -> Signoff:
    """Sign off the interview's codings as they are now (see :func:`casestudy.signoffs.sign`).

    Refused while the interview has no codings, and, while the study codes blind, for anyone who
    cannot see every coder's codings (AccessDenied, logged by the boundary)."""
    study = session.get(Study, interview.study_id)
    coder_ids = sorted(set(session.scalars(select(Coding.coder_id).where(Coding.interview_id == interview.id))))
    if not coder_ids:
        raise UserError(f"interview {interview.file_name} has no codings to sign off yet")
    blinding.coder_filter(session, study, principal, coder_ids)
    return signoffs.sign(session, principal, target(session, interview), note)


def targets(session: Session, study: Study, case: Case | None = None) -> list[signoffs.SignTarget]:
    """Every coded interview of the study (or of one case) as a sign-off target."""
    # An IN over the coded interview ids, not DISTINCT over whole rows: PostgreSQL has no equality
    # for the JSON columns of an interview.
    coded = select(Coding.interview_id).where(Coding.study_id == study.id)
    query = select(Interview).where(Interview.study_id == study.id, Interview.id.in_(coded))
    if case is not None:
        query = query.where(Interview.case_id == case.id)
    return [target(session, interview) for interview in session.scalars(query.order_by(Interview.id))]
