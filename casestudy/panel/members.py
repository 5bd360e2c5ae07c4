"""Panel members: who they are, their status, invitation and reminder links, and the funnel.

Researchers manage members with plain functions taking a session and the study; each member
gets a pseudonym, a balanced case order (:mod:`casestudy.panel.design`) and token links that
are stored hashed (:mod:`casestudy.access`).
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.models import (
    EXPERTISE_FIELDS,
    AccessToken,
    Answer,
    Case,
    PanelMember,
    PanelRound,
    Study,
    utcnow,
)
from casestudy.panel import design
from casestudy.text import collapse_spaces

SUBJECT_TYPE = "panel_member"
OPEN_STATES = ("invited", "opened", "in_progress")  # invited and not yet answered in full

# Allowed status changes (the expert's own steps and the researchers' actions).
TRANSITIONS = {
    "new": {"invited", "declined"},
    "invited": {"opened", "in_progress", "submitted", "declined"},
    "opened": {"in_progress", "submitted", "declined"},
    "in_progress": {"submitted", "declined"},
    "submitted": {"in_progress"},  # a researcher re-opens the answers
    "declined": {"invited"},
}


# --- members --------------------------------------------------------------------------------
def _check_email(email: str) -> str:
    email = (email or "").strip()
    if email and not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+", email):
        raise UserError(f"invalid e-mail address {email!r}")
    return email


def _check_expertise(values: Sequence[str] | str | None) -> list[str]:
    if isinstance(values, str):
        values = [v for v in re.split(r"[;|]", values)]
    result = []
    for value in values or []:
        value = collapse_spaces(value)
        if not value:
            continue
        match = next((f for f in EXPERTISE_FIELDS if f.casefold() == value.casefold() or f.split()[0] == value.casefold()), None)
        if match is None:
            raise UserError(f"unknown expertise field {value!r}; choose from: {'; '.join(EXPERTISE_FIELDS)}")
        if match not in result:
            result.append(match)
    return result


def list_members(session: Session, study: Study) -> list[PanelMember]:
    return list(session.scalars(select(PanelMember).where(PanelMember.study_id == study.id).order_by(PanelMember.pseudonym)))


def get_member(session: Session, study: Study, ref: str | int) -> PanelMember:
    """A member by pseudonym (E03) or id."""
    ref = str(ref).strip()
    query = select(PanelMember).where(PanelMember.study_id == study.id)
    member = session.scalar(query.where(func.upper(PanelMember.pseudonym) == ref.upper()))
    if member is None and ref.isdigit():
        member = session.scalar(query.where(PanelMember.id == int(ref)))
    if member is None:
        raise UserError(f"no panel member {ref!r} in this study")
    return member


def next_pseudonym(session: Session, study: Study) -> str:
    taken = {m.pseudonym for m in list_members(session, study)}
    number = 1
    while f"E{number:02d}" in taken:
        number += 1
    return f"E{number:02d}"


def add_member(
    session: Session,
    study: Study,
    name: str,
    email: str = "",
    organisation: str = "",
    expertise: Sequence[str] | str | None = None,
    pseudonym: str | None = None,
) -> PanelMember:
    name = collapse_spaces(name)
    if not name:
        raise UserError("a panel member needs a name")
    email = _check_email(email)
    members = list_members(session, study)
    if email and any(m.email.casefold() == email.casefold() for m in members):
        raise UserError(f"a panel member with e-mail {email} exists already")
    pseudonym = (pseudonym or "").strip().upper() or next_pseudonym(session, study)
    if not re.fullmatch(r"[A-Z][A-Z0-9_-]{0,19}", pseudonym):
        raise UserError(f"invalid pseudonym {pseudonym!r}; use letters and digits, e.g. E07")
    if any(m.pseudonym == pseudonym for m in members):
        raise UserError(f"pseudonym {pseudonym} is taken already")
    member = PanelMember(
        study_id=study.id, pseudonym=pseudonym, name=name, email=email, organisation=collapse_spaces(organisation),
        expertise=_check_expertise(expertise), status="new",
    )
    session.add(member)
    session.flush()
    return member


def update_member(session: Session, member: PanelMember, expected_version: int | None = None, **changes) -> PanelMember:
    check_version(member, expected_version, changes)
    for key, value in changes.items():
        if key == "name":
            value = collapse_spaces(value)
            if not value:
                raise UserError("a panel member needs a name")
        elif key == "email":
            value = _check_email(value)
        elif key == "organisation":
            value = collapse_spaces(value)
        elif key == "expertise":
            value = _check_expertise(value)
        else:
            raise UserError(f"cannot change {key!r} of a panel member")
        setattr(member, key, value)
    session.flush()
    return member


def delete_member(session: Session, member: PanelMember) -> None:
    if session.scalar(select(func.count(Answer.id)).where(Answer.member_id == member.id)):
        raise UserError(f"{member.pseudonym} has answers; mark the member declined instead of deleting")
    for token in access.tokens_for(session, SUBJECT_TYPE, member.id):
        access.revoke_token(session, token.id)
    session.delete(member)
    session.flush()


MEMBER_COLUMNS = ("name", "email", "organisation", "expertise", "pseudonym")


def import_members_csv(session: Session, study: Study, text: str) -> list[PanelMember]:
    """Members from CSV ``name,email,organisation,expertise[,pseudonym]`` (expertise ';'-separated).

    All-or-nothing: every bad row is reported at once.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "name" not in header:
        raise UserError(f"members CSV, row 1: a 'name' column is required; columns: {','.join(MEMBER_COLUMNS)}")
    reader.fieldnames = header
    errors, added = [], []
    for number, row in enumerate(reader, start=2):
        if all(not (v or "").strip() for k, v in row.items() if k is not None):
            continue
        try:
            with session.begin_nested():
                added.append(add_member(
                    session, study, row.get("name") or "", row.get("email") or "", row.get("organisation") or "",
                    row.get("expertise") or "", row.get("pseudonym") or None,
                ))
        except UserError as exc:
            errors.append(f"row {number}: {exc.message}")
    if errors:
        raise UserError("members CSV not imported; fix these rows:\n" + "\n".join(errors))
    if not added:
        raise UserError("members CSV: no members found")
    return added


# --- Delphi round 1 ---------------------------------------------------------------------------
def round_one_closed(session: Session, study_id: int):
    """When the panel's first round was closed (:mod:`casestudy.panel.delphi`), None while open."""
    return session.scalar(select(PanelRound.closed_at).where(PanelRound.study_id == study_id, PanelRound.number == 1))


def require_round_one_open(session: Session, study_id: int, what: str) -> None:
    """Refuse ``what`` once round 1 is closed: the answers submitted before it closed are frozen
    (the later rounds' feedback is computed from them). An expert who had not submitted may still
    finish round 1 late; those answers do not count in the Delphi rounds."""
    closed = round_one_closed(session, study_id)
    if closed is not None:
        raise UserError(f"round 1 of the panel was closed on {closed:%Y-%m-%d %H:%M} UTC; its answers are frozen, so {what} is not possible")


# --- status ---------------------------------------------------------------------------------
def set_status(member: PanelMember, status: str) -> None:
    if status == member.status:
        return
    if status not in TRANSITIONS.get(member.status, set()):
        raise UserError(f"{member.pseudonym} is {member.status.replace('_', ' ')}; cannot change to {status.replace('_', ' ')}")
    now = utcnow()
    member.status = status
    stamp = {"invited": "invited_at", "opened": "opened_at", "in_progress": "started_at", "submitted": "submitted_at", "declined": "declined_at"}[status]
    if status == "invited" or getattr(member, stamp) is None:
        setattr(member, stamp, now)
    if status in ("in_progress", "submitted") and member.opened_at is None:
        member.opened_at = now
    if status == "submitted" and member.started_at is None:
        member.started_at = now


def decline(session: Session, member: PanelMember) -> PanelMember:
    set_status(member, "declined")
    revoke_links(session, member)
    session.flush()
    return member


def reopen(session: Session, member: PanelMember) -> PanelMember:
    """Unlock a submitted member's answers (a researcher's correction step)."""
    if member.status != "submitted":
        raise UserError(f"{member.pseudonym} has not submitted; nothing to re-open")
    closed = round_one_closed(session, member.study_id)
    if closed is not None and member.submitted_at is not None and member.submitted_at <= closed:
        require_round_one_open(session, member.study_id, f"re-opening {member.pseudonym}'s answers")
    set_status(member, "in_progress")
    member.submitted_at = None
    session.flush()
    return member


# --- links ----------------------------------------------------------------------------------
def link_for(base_url: str, secret: str) -> str:
    return f"{(base_url or '').rstrip('/')}/?token={secret}"


def active_links(session: Session, member: PanelMember) -> list[AccessToken]:
    now = utcnow()
    return [
        t for t in access.tokens_for(session, SUBJECT_TYPE, member.id)
        if t.purpose == access.EXPERT and t.revoked_at is None and (t.expires_at is None or t.expires_at > now)
    ]


def revoke_links(session: Session, member: PanelMember) -> int:
    tokens = active_links(session, member)
    for token in tokens:
        access.revoke_token(session, token.id)
    return len(tokens)


def case_ids(session: Session, study_id: int) -> list[int]:
    return list(session.scalars(select(Case.id).where(Case.study_id == study_id).order_by(Case.public_label)))


def invite(session: Session, study: Study, member: PanelMember, base_url: str, days: int = 60) -> dict:
    """One link for the member (a previous link is revoked); the first invitation fixes the case order.

    Positions follow the invitation order, and position i gets Williams order i. ``days``:
    1..``access.MAX_LINK_DAYS``, checked before anything changes.
    """
    access.check_link_days(days)
    if member.study_id != study.id:
        raise UserError("this member belongs to another study")
    if member.status == "submitted":
        raise UserError(f"{member.pseudonym} has submitted already; no new link needed")
    if member.position is None:
        taken = session.scalar(select(func.count(PanelMember.id)).where(PanelMember.study_id == study.id, PanelMember.position.is_not(None)))
        member.position = int(taken or 0)
        member.case_order = design.order_for(member.position, case_ids(session, study.id))
    if member.status in ("new", "declined"):
        set_status(member, "invited")
    return new_link(session, study, member, base_url, days)


def new_link(session: Session, study: Study, member: PanelMember, base_url: str, days: int = 60) -> dict:
    """A fresh link for the member (the previous ones revoked), as a link record with a mailto draft."""
    access.check_link_days(days)
    revoke_links(session, member)
    token, secret = access.issue_token(session, study.id, access.EXPERT, SUBJECT_TYPE, member.id, days, label=member.pseudonym)
    session.flush()
    return _link_record(member, token, link_for(base_url, secret), study)


def _link_record(member: PanelMember, token: AccessToken, link: str, study: Study) -> dict:
    return {
        "pseudonym": member.pseudonym, "name": member.name, "email": member.email, "status": member.status,
        "token_id": token.id, "expires_at": token.expires_at, "link": link, "mailto": mailto(member, link, study),
    }


def mailto(member: PanelMember, link: str, study: Study, reminder: bool = False) -> str:
    """A mailto: draft with the member's own link (the researcher reviews and sends it)."""
    subject = ("Reminder: " if reminder else "Invitation: ") + "expert panel questionnaire"
    body = (
        f"Dear {member.name},\n\n"
        + ("A friendly reminder about the expert panel. " if reminder else "We would value your judgement as a member of our expert panel. ")
        + "The questionnaire presents several anonymised case descriptions and takes about an hour and a half; "
        "your answers are saved as you go, so you can stop and continue later with the same link.\n\n"
        f"Your personal link: {link}\n\nPlease do not forward it.\n\nWith kind regards,\nThe research team\n"
    )
    query = urllib.parse.urlencode({"subject": subject, "body": body}, quote_via=urllib.parse.quote)
    return f"mailto:{urllib.parse.quote(member.email, safe='@')}?{query}"


def reminder_links(session: Session, study: Study, base_url: str, days: int = 60) -> list[dict]:
    """New links for every non-responder (invited, opened, in progress), with mailto drafts.

    Only the hash of a link is stored, so a reminder carries a fresh link; the old one is revoked.
    Saved answers belong to the member and stay. ``days`` as for :func:`invite`.
    """
    access.check_link_days(days)
    rows = []
    for member in list_members(session, study):
        if member.status not in OPEN_STATES:
            continue
        record = invite(session, study, member, base_url, days)
        member.reminded_at = utcnow()
        record["mailto"] = mailto(member, record["link"], study, reminder=True)
        rows.append(record)
    session.flush()
    return rows


def progress_by_member(session: Session, study: Study) -> dict[int, str]:
    counts = dict(session.execute(
        select(Answer.member_id, func.count(Answer.id)).join(PanelMember, PanelMember.id == Answer.member_id)
        .where(PanelMember.study_id == study.id).group_by(Answer.member_id)
    ).all())
    return {member_id: f"{n} answers" for member_id, n in counts.items()}


# --- funnel ---------------------------------------------------------------------------------
def rate_text(returned: int, invited: int) -> str:
    if not invited:
        return "nobody invited yet"
    percent = returned * 100 / invited
    shown = f"{percent:.0f}" if percent == int(percent) else f"{percent:.1f}"
    return f"{returned} of {invited}, {shown} %"


@dataclass
class Funnel:
    counts: dict[str, int]  # current status -> number of members
    reached: dict[str, int]  # invited / opened / started / submitted / declined: ever reached
    invited: int
    submitted: int
    response_rate: str
    members: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "counts": self.counts, "reached": self.reached, "invited": self.invited, "submitted": self.submitted,
            "response_rate": self.response_rate, "members": self.members,
        }


def funnel(session: Session, study: Study) -> Funnel:
    members = list_members(session, study)
    counts = {status: 0 for status in ("new", "invited", "opened", "in_progress", "submitted", "declined")}
    for m in members:
        counts[m.status] = counts.get(m.status, 0) + 1
    invited = [m for m in members if m.invited_at is not None]
    reached = {
        "invited": len(invited),
        "opened": sum(1 for m in members if m.opened_at is not None),
        "started": sum(1 for m in members if m.started_at is not None),
        "submitted": counts["submitted"],
        "declined": counts["declined"],
    }
    rows = []
    progress = progress_by_member(session, study)
    for m in members:
        active = active_links(session, m)
        rows.append({
            "pseudonym": m.pseudonym, "name": m.name, "email": m.email, "status": m.status, "position": m.position,
            "invited_at": m.invited_at, "opened_at": m.opened_at, "started_at": m.started_at,
            "submitted_at": m.submitted_at, "declined_at": m.declined_at, "reminded_at": m.reminded_at,
            "progress": progress.get(m.id, ""), "link_active": bool(active),
            "link_expires_at": active[-1].expires_at if active else None, "source": m.source,
        })
    return Funnel(counts, reached, len(invited), counts["submitted"], rate_text(counts["submitted"], len(invited)), rows)


def non_responders(session: Session, study: Study) -> list[PanelMember]:
    return [m for m in list_members(session, study) if m.status in OPEN_STATES]
