"""A study's ethics status: approved (body, reference, date), not required (with the reason), or
pending; and the sentence the methods paragraph states about it.

Everyone who may read the study reads it; only the study's owner records or changes it
(:func:`casestudy.access.require_study_owner`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy.access import Principal
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.models import ETHICS_STATES, EthicsStatus, Study, utcnow

APPROVED, NOT_REQUIRED, PENDING = ETHICS_STATES
STATE_LABELS = {APPROVED: "approved", NOT_REQUIRED: "not required", PENDING: "pending"}
MAX_FIELD_CHARS = 300
MAX_REASON_CHARS = 2_000


@dataclass(frozen=True)
class Ethics:
    """The ethics status as plain values (``status`` one of :data:`ETHICS_STATES`)."""

    status: str
    body: str = ""
    reference: str = ""
    approved_on: dt.date | None = None
    reason: str = ""
    updated_by: str = ""
    updated_at: dt.datetime | None = None
    version: int | None = None

    @property
    def sentence(self) -> str:
        return ethics_sentence(self)


def get_ethics(session: Session, study: Study) -> Ethics | None:
    """The study's recorded ethics status; None while nothing is recorded."""
    row = session.scalar(select(EthicsStatus).where(EthicsStatus.study_id == study.id))
    if row is None:
        return None
    return Ethics(row.status, row.body, row.reference, row.approved_on, row.reason, row.updated_by, row.updated_at, row.version)


def _text(value: str | None, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise UserError(f"the {what} can hold at most {limit} characters")
    return text


def set_ethics(session: Session, study: Study, principal: Principal | None, status: str, *, body: str = "",
               reference: str = "", approved_on: dt.date | None = None, reason: str = "",
               expected_version: int | None = None) -> Ethics:
    """Record the study's ethics status (the study owner only, else AccessDenied).

    ``approved`` needs the approving body, the reference and the date of approval (not in the
    future); ``not_required`` needs the reason; ``pending`` needs nothing. Fields that do not
    belong to the status are cleared. With ``expected_version``, a save over someone else's
    change is refused (``db.EditConflict``).
    """
    principal = access.require_study_owner(principal, study)
    status = (status or "").strip().lower().replace(" ", "_").replace("-", "_")
    if status not in ETHICS_STATES:
        raise UserError(f"unknown ethics status {status!r}; choose one of: {', '.join(ETHICS_STATES)}")
    body, reference = _text(body, "approving body", MAX_FIELD_CHARS), _text(reference, "reference", MAX_FIELD_CHARS)
    reason = _text(reason, "reason", MAX_REASON_CHARS)
    if status == APPROVED:
        missing = [what for what, value in (("the approving body", body), ("the reference", reference),
                                            ("the date of approval", approved_on)) if not value]
        if missing:
            raise UserError(f"an approved study names {', '.join(missing)}")
        if approved_on > dt.date.today():
            raise UserError(f"the date of approval {approved_on.isoformat()} lies in the future")
        reason = ""
    elif status == NOT_REQUIRED:
        if not reason:
            raise UserError("say why ethical approval is not required (e.g. the committee's waiver or the rule that applies)")
        body, reference, approved_on = "", "", None
    else:  # pending: the committee asked and its reference may be known, the date not yet
        approved_on = None
    row = session.scalar(select(EthicsStatus).where(EthicsStatus.study_id == study.id))
    if row is None:
        row = EthicsStatus(study_id=study.id, status=status)
        session.add(row)
    else:
        check_version(row, expected_version, ("status", "body", "reference", "approved_on", "reason"))
    row.status, row.body, row.reference, row.approved_on, row.reason = status, body, reference, approved_on, reason
    row.updated_at, row.updated_by = utcnow(), principal.actor
    session.flush()
    return get_ethics(session, study)


def _date_text(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def ethics_sentence(ethics: Ethics | None) -> str:
    """What the methods paragraph says about ethics; empty while nothing is recorded."""
    if ethics is None:
        return ""
    if ethics.status == APPROVED:
        return (f"The study was approved by {ethics.body} (reference {ethics.reference}) on "
                f"{_date_text(ethics.approved_on)}.")
    if ethics.status == NOT_REQUIRED:
        return f"Ethical approval was not required: {ethics.reason.rstrip('.')}."
    return "Ethical approval " + (f"by {ethics.body} " if ethics.body else "") + "was pending at the time of writing."


def ethics_record(ethics: Ethics | None) -> dict:
    """The ethics status for ``--format json`` and the pages (``status`` "none" when unrecorded)."""
    if ethics is None:
        return {"status": "none", "sentence": ""}
    return {"status": ethics.status, "body": ethics.body, "reference": ethics.reference, "approved_on": ethics.approved_on,
            "reason": ethics.reason, "updated_by": ethics.updated_by, "updated_at": ethics.updated_at,
            "version": ethics.version, "sentence": ethics.sentence}
