"""The expert panel: members, invitation links and funnel, questionnaires, the expert's form, imports.

Researchers manage members and questionnaires with plain functions taking a session and the
study. Everything an expert can reach takes the expert's :class:`~casestudy.access.Principal`
and checks it: an expert sees only the released masked texts of their own study (through
:func:`casestudy.masking_workflow.released_texts_for`), under public case labels, in their own
Williams order, and only their own answers.

Answers are saved one at a time by an upsert on (member, item, case) in one short write
transaction, so autosave is safe when several experts (or two tabs of one expert) save at once.
A questionnaire version is frozen once the first expert opens it; changes then need a new version.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit, design, reportinputs, study as studies
from .access import AccessDenied, Principal
from .errors import UserError
from .models import (
    EXPERTISE_FIELDS,
    ITEM_KINDS,
    AccessToken,
    Answer,
    Case,
    CaseTiming,
    MaskedText,
    PanelMember,
    Questionnaire,
    QuestionnaireItem,
    Study,
    utcnow,
)

SUBJECT_TYPE = "panel_member"
OPEN_STATES = ("invited", "opened", "in_progress")  # invited and not yet answered in full
LIST_KINDS = ("free_list", "ordered_list", "additional_list")
MAX_LIST_ENTRIES = 40
MAX_TEXT = 5000
MAX_SECONDS_PER_VISIT = 4 * 3600

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
def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


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
        value = _clean(value)
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
    name = _clean(name)
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
        study_id=study.id, pseudonym=pseudonym, name=name, email=email, organisation=_clean(organisation),
        expertise=_check_expertise(expertise), status="new",
    )
    session.add(member)
    session.flush()
    return member


def update_member(session: Session, member: PanelMember, expected_version: int | None = None, **changes) -> PanelMember:
    if expected_version is not None and member.version != expected_version:
        from .db import CONFLICT_MESSAGE

        raise UserError(CONFLICT_MESSAGE)
    for key, value in changes.items():
        if key == "name":
            value = _clean(value)
            if not value:
                raise UserError("a panel member needs a name")
        elif key == "email":
            value = _check_email(value)
        elif key == "organisation":
            value = _clean(value)
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


def _case_ids(session: Session, study_id: int) -> list[int]:
    return list(session.scalars(select(Case.id).where(Case.study_id == study_id).order_by(Case.public_label)))


def invite(session: Session, study: Study, member: PanelMember, base_url: str, days: int | None = 60) -> dict:
    """One link for the member (a previous link is revoked); the first invitation fixes the case order.

    Positions follow the invitation order, and position i gets Williams order i.
    """
    if member.study_id != study.id:
        raise UserError("this member belongs to another study")
    if member.status == "submitted":
        raise UserError(f"{member.pseudonym} has submitted already; no new link needed")
    if member.position is None:
        taken = session.scalar(select(func.count(PanelMember.id)).where(PanelMember.study_id == study.id, PanelMember.position.is_not(None)))
        member.position = int(taken or 0)
        member.case_order = design.order_for(member.position, _case_ids(session, study.id))
    if member.status in ("new", "declined"):
        set_status(member, "invited")
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


def reminder_links(session: Session, study: Study, base_url: str, days: int | None = 60) -> list[dict]:
    """New links for every non-responder (invited, opened, in progress), with mailto drafts.

    Only the hash of a link is stored, so a reminder carries a fresh link; the old one is revoked.
    Saved answers belong to the member and stay.
    """
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
    progress = _progress_by_member(session, study)
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


# --- questionnaires -------------------------------------------------------------------------
DEFAULT_TITLE = "Expert judgement of the case descriptions"
DEFAULT_INTRODUCTION = (
    "You will read a number of anonymised descriptions of how a treatment programme was introduced in a "
    "mental-health organisation. For each case, rate how far the statements below hold for that case. "
    "Afterwards you name the determinants that you see coming back across the cases, put them in order of "
    "importance, and add any determinants you consider important from your own experience. Your answers are "
    "saved as you go; you can stop and continue later with the same link."
)
# (kind, key, table label, wording for the expert, required, options)
DEFAULT_ITEMS = (
    ("likert_per_case", "combination", "Success depends on a combination of organization, team and therapist factors",
     "Whether this programme worked out or not came down to organizational, team and therapist factors acting together.", True, {}),
    ("likert_per_case", "organization", "Organizational factors contributed",
     "Factors at the level of the organization played a part in how this case turned out.", True, {}),
    ("likert_per_case", "team", "Team factors contributed",
     "Factors at the level of the treatment team played a part in how this case turned out.", True, {}),
    ("likert_per_case", "therapist", "Therapist factors contributed",
     "Factors at the level of the individual therapists played a part in how this case turned out.", True, {}),
    ("free_list", "recurring", "Recurring determinants",
     "Looking at all cases together: which determinants of success or failure do you see coming back? One per line.", True, {}),
    ("ordered_list", "recurring_order", "Recurring determinants by importance",
     "Put the determinants you listed in order, the most important one first.", True, {"source": "recurring"}),
    ("additional_list", "additional", "Additional determinants",
     "Which further determinants, not visible in these cases, matter in your own judgement? Leave empty if none.", False, {}),
    ("open_comment", "comment", "Comment", "Anything else you would like to tell the research team?", False, {}),
)


def list_questionnaires(session: Session, study: Study) -> list[Questionnaire]:
    return list(session.scalars(select(Questionnaire).where(Questionnaire.study_id == study.id).order_by(Questionnaire.number)))


def current_questionnaire(session: Session, study: Study) -> Questionnaire | None:
    """The newest version: the one new experts receive."""
    return session.scalar(
        select(Questionnaire).where(Questionnaire.study_id == study.id).order_by(Questionnaire.number.desc()).limit(1)
    )


def require_questionnaire(session: Session, study: Study) -> Questionnaire:
    q = current_questionnaire(session, study)
    if q is None:
        raise UserError("the study has no questionnaire yet; create the default one first ('panel questionnaire default')")
    return q


def get_questionnaire(session: Session, study: Study, number: int | None = None) -> Questionnaire:
    if number is None:
        return require_questionnaire(session, study)
    q = session.scalar(select(Questionnaire).where(Questionnaire.study_id == study.id, Questionnaire.number == number))
    if q is None:
        raise UserError(f"no questionnaire version {number}")
    return q


def _check_scale(scale_min: int, scale_max: int, labels: dict) -> dict[str, str]:
    if scale_max <= scale_min:
        raise UserError(f"invalid scale {scale_min}-{scale_max}: the maximum must exceed the minimum")
    if scale_max - scale_min > 10:
        raise UserError("a rating scale has at most 11 points")
    clean = {}
    for point, label in (labels or {}).items():
        try:
            value = int(point)
        except (TypeError, ValueError):
            raise UserError(f"scale label key {point!r} is not a whole number")
        if not scale_min <= value <= scale_max:
            raise UserError(f"scale label for {value} lies outside the scale {scale_min}-{scale_max}")
        if _clean(label):
            clean[str(value)] = _clean(label)
    if str(scale_min) not in clean or str(scale_max) not in clean:
        raise UserError("label at least both ends of the scale, e.g. 0 = clearly contradicted, 5 = completely confirmed")
    return dict(sorted(clean.items(), key=lambda kv: int(kv[0])))


def create_default_questionnaire(session: Session, study: Study) -> Questionnaire:
    """Version 1 reproducing the reference study's five tasks (worded afresh)."""
    if current_questionnaire(session, study) is not None:
        raise UserError("the study has a questionnaire already; make a new version to change it")
    q = Questionnaire(
        study_id=study.id, number=1, title=DEFAULT_TITLE, introduction=DEFAULT_INTRODUCTION,
        scale_min=reportinputs.PANEL_SCALE.min, scale_max=reportinputs.PANEL_SCALE.max,
        scale_labels={str(k): v for k, v in reportinputs.PANEL_SCALE.labels.items()},
    )
    for ordinal, (kind, key, label, text, required, options) in enumerate(DEFAULT_ITEMS, start=1):
        q.items.append(QuestionnaireItem(ordinal=ordinal, kind=kind, key=key, label=label, text=text, required=required, options=dict(options)))
    session.add(q)
    session.flush()
    return q


def ensure_questionnaire(session: Session, study: Study) -> Questionnaire:
    return current_questionnaire(session, study) or create_default_questionnaire(session, study)


def _editable(q: Questionnaire) -> Questionnaire:
    if q.frozen_at is not None:
        raise UserError(
            f"questionnaire version {q.number} is frozen since an expert opened it; make a new version to change it"
        )
    return q


def new_version(session: Session, study: Study) -> Questionnaire:
    """A copy of the newest version that can be edited; experts who opened an older one keep theirs."""
    old = require_questionnaire(session, study)
    if old.frozen_at is None:
        raise UserError(f"version {old.number} is not frozen yet; edit it directly")
    q = Questionnaire(
        study_id=study.id, number=old.number + 1, title=old.title, introduction=old.introduction,
        scale_min=old.scale_min, scale_max=old.scale_max, scale_labels=dict(old.scale_labels),
    )
    for item in old.items:
        q.items.append(QuestionnaireItem(ordinal=item.ordinal, kind=item.kind, key=item.key, label=item.label, text=item.text,
                                         required=item.required, options=dict(item.options)))
    session.add(q)
    session.flush()
    return q


def update_questionnaire(session: Session, q: Questionnaire, *, title: str | None = None, introduction: str | None = None,
                         scale_min: int | None = None, scale_max: int | None = None, scale_labels: dict | None = None) -> Questionnaire:
    _editable(q)
    if title is not None:
        if not _clean(title):
            raise UserError("a questionnaire needs a title")
        q.title = _clean(title)
    if introduction is not None:
        q.introduction = introduction.strip()
    if scale_min is not None or scale_max is not None or scale_labels is not None:
        low = q.scale_min if scale_min is None else int(scale_min)
        high = q.scale_max if scale_max is None else int(scale_max)
        q.scale_labels = _check_scale(low, high, q.scale_labels if scale_labels is None else scale_labels)
        q.scale_min, q.scale_max = low, high
    session.flush()
    return q


def add_item(session: Session, q: Questionnaire, kind: str, key: str, text: str, label: str = "", required: bool = True,
             source: str | None = None) -> QuestionnaireItem:
    _editable(q)
    if kind not in ITEM_KINDS:
        raise UserError(f"unknown item kind {kind!r}; choose one of: {', '.join(ITEM_KINDS)}")
    key = key.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", key):
        raise UserError(f"invalid item key {key!r}; use lower-case letters, digits and _")
    if any(i.key == key for i in q.items):
        raise UserError(f"the questionnaire has an item {key!r} already")
    if not _clean(text):
        raise UserError("an item needs the wording the expert reads")
    options = {}
    if kind == "ordered_list":
        lists = [i.key for i in q.items if i.kind == "free_list"]
        source = source or (lists[0] if lists else None)
        if source not in lists:
            raise UserError("an ordered list orders a free list: add the free list first (or name it with source)")
        options["source"] = source
    item = QuestionnaireItem(ordinal=max((i.ordinal for i in q.items), default=0) + 1, kind=kind, key=key,
                             label=_clean(label) or _clean(text)[:120], text=text.strip(), required=required, options=options)
    q.items.append(item)
    session.flush()
    return item


def _item(q: Questionnaire, key: str) -> QuestionnaireItem:
    item = next((i for i in q.items if i.key == key), None)
    if item is None:
        raise UserError(f"questionnaire version {q.number} has no item {key!r}")
    return item


def update_item(session: Session, q: Questionnaire, key: str, *, text: str | None = None, label: str | None = None,
                required: bool | None = None) -> QuestionnaireItem:
    _editable(q)
    item = _item(q, key)
    if text is not None:
        if not _clean(text):
            raise UserError("an item needs the wording the expert reads")
        item.text = text.strip()
    if label is not None:
        item.label = _clean(label) or item.label
    if required is not None:
        item.required = bool(required)
    session.flush()
    return item


def remove_item(session: Session, q: Questionnaire, key: str) -> None:
    _editable(q)
    item = _item(q, key)
    if item.kind == "free_list" and any(i.options.get("source") == key for i in q.items):
        raise UserError(f"item {key!r} is ordered by another item; remove that one first")
    q.items.remove(item)
    for ordinal, other in enumerate(q.items, start=1):
        other.ordinal = ordinal
    session.flush()


def move_item(session: Session, q: Questionnaire, key: str, step: int) -> None:
    _editable(q)
    items = list(q.items)
    index = items.index(_item(q, key))
    target = max(0, min(len(items) - 1, index + step))
    items.insert(target, items.pop(index))
    for ordinal, item in enumerate(items, start=1):
        item.ordinal = ordinal
    session.flush()
    session.refresh(q, ["items"])


def scale_labels(q: Questionnaire) -> dict[int, str]:
    return {int(k): v for k, v in (q.scale_labels or {}).items()}


def scale_of(q: Questionnaire) -> reportinputs.Scale:
    return reportinputs.Scale(q.scale_min, q.scale_max, scale_labels(q))


def study_scale(session: Session, study: Study) -> reportinputs.Scale | None:
    """The rating scale of the study's newest questionnaire (for the reports), None without one."""
    q = current_questionnaire(session, study)
    return scale_of(q) if q is not None else None


def scale_legend(q: Questionnaire | reportinputs.Scale) -> str:
    """The one wording of the scale used in the expert form and under every table."""
    if isinstance(q, Questionnaire):
        low, high, labels = q.scale_min, q.scale_max, scale_labels(q)
    else:
        low, high, labels = q.min, q.max, dict(q.labels)
    parts = "; ".join(f"{point} = {labels[point]}" for point in range(low, high + 1) if point in labels)
    return f"Scale {low}-{high}: {parts}."


def point_label(q: Questionnaire, point: int) -> str:
    label = scale_labels(q).get(point)
    return f"{point} ({label})" if label else str(point)


def questionnaire_record(q: Questionnaire) -> dict:
    return {
        "version": q.number, "title": q.title, "introduction": q.introduction, "frozen_at": q.frozen_at,
        "scale": {"min": q.scale_min, "max": q.scale_max, "labels": q.scale_labels}, "legend": scale_legend(q),
        "items": [
            {"ordinal": i.ordinal, "kind": i.kind, "key": i.key, "label": i.label, "text": i.text, "required": i.required, "options": i.options}
            for i in q.items
        ],
    }


# --- the expert's side ----------------------------------------------------------------------
def _member_for(session: Session, principal: Principal) -> PanelMember:
    access.require_kind(principal, access.EXPERT)
    member = session.get(PanelMember, principal.subject_id)
    if member is None or member.study_id != principal.study_id:
        raise AccessDenied(access.INVALID_LINK, principal, "stale link")
    if member.status in ("new", "declined"):
        raise AccessDenied("this invitation is no longer active; please contact the research team", principal, "inactive invitation")
    return member


def _questionnaire_of(session: Session, member: PanelMember) -> Questionnaire:
    if member.questionnaire_id is not None:
        return session.get(Questionnaire, member.questionnaire_id)
    q = current_questionnaire(session, session.get(Study, member.study_id))
    if q is None:
        raise UserError("the questionnaire is not ready yet; please try again later")
    return q


@dataclass
class ShownCase:
    position: int  # 1-based
    label: str  # public label
    text: str
    hash: str
    case_id: int = field(repr=False, default=0)


def _shown_cases(session: Session, principal: Principal, member: PanelMember) -> list[ShownCase]:
    """Released masked texts in the member's Williams order (cases without a released text are left out)."""
    from .masking_workflow import released_texts_for

    released: dict[str, dict] = {}
    for row in released_texts_for(session, principal):
        released[row["case"]] = row  # the newest release of a case wins
    ids = dict(session.execute(select(Case.public_label, Case.id).where(Case.study_id == member.study_id)).all())
    order = list(member.case_order or [])
    all_ids = _case_ids(session, member.study_id)
    if sorted(order) != sorted(all_ids):  # cases added after the invitation go last
        order = [c for c in order if c in all_ids] + [c for c in all_ids if c not in order]
    label_of = {v: k for k, v in ids.items()}
    shown = []
    for case_id in order:
        row = released.get(label_of[case_id])
        if row is not None:
            shown.append(ShownCase(len(shown) + 1, row["case"], row["text"], row["hash"], case_id))
    return shown


def _released_positions(session: Session, member: PanelMember) -> dict[str, tuple[int, int]]:
    """Public label -> (case id, shown position) of the cases the expert rates; no texts are loaded.

    Saves need only this; it follows the same rule as :func:`_shown_cases` (cases with a released text,
    in the member's order) without reading and re-hashing every text on every autosave.
    """
    released = set(session.scalars(
        select(MaskedText.case_id).where(MaskedText.study_id == member.study_id, MaskedText.status == "released")
    ))
    rows = dict(session.execute(select(Case.id, Case.public_label).where(Case.study_id == member.study_id)).all())
    order = [c for c in (member.case_order or []) if c in rows] + sorted((c for c in rows if c not in (member.case_order or [])), key=rows.get)
    result, position = {}, 0
    for case_id in order:
        if case_id in released:
            position += 1
            result[rows[case_id]] = (case_id, position)
    return result


def _answers(session: Session, member: PanelMember) -> dict[tuple[int, int], Answer]:
    query = select(Answer).where(Answer.member_id == member.id).execution_options(populate_existing=True)
    return {(a.item_id, a.case_slot): a for a in session.scalars(query)}


def _missing(q: Questionnaire, cases: list[ShownCase], answers: dict) -> tuple[list[str], int, int]:
    """Messages for what is still missing, and the progress (done, total)."""
    messages, done, total = [], 0, 0
    likert = [i for i in q.items if i.kind == "likert_per_case"]
    for case in cases:
        missing = []
        for number, item in enumerate(likert, start=1):
            if not item.required:
                continue
            total += 1
            answer = answers.get((item.id, case.case_id))
            if answer is not None and answer.value.get("v") is not None:
                done += 1
            else:
                missing.append(str(number))
        if missing:
            which = "statement" if len(missing) == 1 else "statements"
            messages.append(f"{case.label}: {which} {', '.join(missing)} not rated yet")
    by_key = {i.key: i for i in q.items}
    for item in q.items:
        if item.kind == "likert_per_case" or not item.required:
            continue
        total += 1
        answer = answers.get((item.id, 0))
        value = answer.value.get("v") if answer is not None else None
        if item.kind == "ordered_list":
            source = by_key.get(item.options.get("source"))
            listed = (answers.get((source.id, 0)).value.get("v") or []) if source and answers.get((source.id, 0)) else []
            if listed and value and sorted(value) == sorted(listed):
                done += 1
            else:
                messages.append(f"{item.label}: put your determinants in order of importance and confirm the order")
        elif value:
            done += 1
        else:
            messages.append(f"{item.label}: " + ("list at least one entry" if item.kind in LIST_KINDS else "please answer"))
    return messages, done, total


@dataclass
class ExpertView:
    pseudonym: str
    status: str
    locked: bool
    submitted_at: dt.datetime | None
    questionnaire: dict
    cases: list[ShownCase]
    answers: dict[str, object]  # "key|Case C" for ratings, "key" for the rest
    seconds: dict[str, float]
    missing: list[str]
    done: int
    total: int

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0


def answer_key(item_key: str, case_label: str | None = None) -> str:
    return f"{item_key}|{case_label}" if case_label else item_key


def expert_view(session: Session, principal: Principal) -> ExpertView:
    """What the expert's page shows: public labels, released masked texts, their own answers only."""
    member = _member_for(session, principal)
    q = _questionnaire_of(session, member)
    cases = _shown_cases(session, principal, member)
    answers = _answers(session, member)
    label_of = {c.case_id: c.label for c in cases}
    key_of = {i.id: i.key for i in q.items}
    values = {}
    for (item_id, slot), answer in answers.items():
        if item_id in key_of and (slot == 0 or slot in label_of):
            values[answer_key(key_of[item_id], label_of.get(slot))] = answer.value.get("v")
    timings = {label_of[t.case_id]: t.seconds for t in session.scalars(select(CaseTiming).where(CaseTiming.member_id == member.id)) if t.case_id in label_of}
    missing, done, total = _missing(q, cases, answers)
    record = questionnaire_record(q)
    record.pop("frozen_at")
    return ExpertView(member.pseudonym, member.status, member.status == "submitted", member.submitted_at, record, cases,
                      values, timings, missing, done, total)


def open_questionnaire(session: Session, principal: Principal) -> bool:
    """First visit: mark opened, bind the member to the current version and freeze it. True if changed."""
    member = _member_for(session, principal)
    changed = False
    if member.questionnaire_id is None:
        q = require_questionnaire(session, session.get(Study, member.study_id))
        member.questionnaire_id = q.id
        if q.frozen_at is None:
            q.frozen_at = utcnow()
        changed = True
    if member.status == "invited":
        set_status(member, "opened")
        changed = True
    if not member.case_order:
        member.case_order = design.order_for(member.position or 0, _case_ids(session, member.study_id))
        changed = True
    if changed:
        session.flush()
    return changed


def needs_open(view: ExpertView) -> bool:
    return view.status == "invited"


def _clean_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise UserError("a list answer must be a list of texts")
    result, seen = [], set()
    for entry in value:
        text = str(entry).strip()
        if not text:
            continue
        if len(text) > 300:
            raise UserError("one list entry may have at most 300 characters")
        if text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    if len(result) > MAX_LIST_ENTRIES:
        raise UserError(f"a list may hold at most {MAX_LIST_ENTRIES} entries")
    return result


def _check_value(q: Questionnaire, item: QuestionnaireItem, value):
    if item.kind == "likert_per_case":
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()))):
            raise UserError(f"a rating must be a whole number from {q.scale_min} to {q.scale_max}")
        value = int(value)
        if not q.scale_min <= value <= q.scale_max:
            raise UserError(f"rating {value} lies outside the scale {q.scale_min}-{q.scale_max}")
        return value
    if item.kind in LIST_KINDS:
        return _clean_list(value)
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise UserError(f"a comment may have at most {MAX_TEXT} characters")
    return text


def _upsert_insert(session: Session):
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _upsert(session: Session, rows: list[dict]) -> None:
    """Insert or update answers on (member, item, case_slot) in one statement per row."""
    if not rows:
        return
    table = Answer.__table__
    statement = _upsert_insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.item_id, table.c.case_slot],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at,
              "shown_position": statement.excluded.shown_position, "saves": table.c.saves + 1},
    )
    now = utcnow()
    session.execute(statement, [{"created_at": now, "updated_at": now, "saves": 1, **row} for row in rows])


def _reconcile_order(session: Session, member: PanelMember, q: Questionnaire, source: QuestionnaireItem, listed: list[str]) -> None:
    """Keep an ordered list in step with the free list it orders (removed entries drop out)."""
    for item in q.items:
        if item.kind != "ordered_list" or item.options.get("source") != source.key:
            continue
        current = session.scalar(select(Answer).where(Answer.member_id == member.id, Answer.item_id == item.id, Answer.case_slot == 0))
        if current is None:
            continue
        kept = [entry for entry in (current.value.get("v") or []) if entry in listed]
        if kept != current.value.get("v"):
            _upsert(session, [{"member_id": member.id, "item_id": item.id, "case_id": None, "case_slot": 0, "value": {"v": kept}, "shown_position": None}])


def save_answer(session: Session, principal: Principal, item_key: str, value, case_label: str | None = None) -> dict:
    """Autosave one answer of the expert behind ``principal``; refused once submitted."""
    member = _member_for(session, principal)
    if member.status == "submitted":
        raise UserError("your answers are submitted and locked; contact the research team to change them")
    if member.questionnaire_id is None or member.status == "invited":
        open_questionnaire(session, principal)
    q = session.get(Questionnaire, member.questionnaire_id)
    item = _item(q, item_key)
    value = _check_value(q, item, value)
    case_id, position = None, None
    if item.kind == "likert_per_case":
        shown = _released_positions(session, member)
        if case_label not in shown:
            raise UserError(f"there is no case {case_label!r} in your questionnaire")
        case_id, position = shown[case_label]
    elif case_label:
        raise UserError(f"item {item_key!r} is answered once for all cases, not per case")
    if item.kind == "ordered_list":
        source = _item(q, item.options.get("source", ""))
        listed = session.scalar(select(Answer).where(Answer.member_id == member.id, Answer.item_id == source.id, Answer.case_slot == 0))
        listed_values = listed.value.get("v") if listed is not None else []
        unknown = [v for v in value if v not in listed_values]
        if unknown:
            raise UserError(f"{unknown[0]!r} is not in your list; add it there first")
    _upsert(session, [{"member_id": member.id, "item_id": item.id, "case_id": case_id, "case_slot": case_id or 0,
                       "value": {"v": value}, "shown_position": position}])
    if item.kind == "free_list":
        _reconcile_order(session, member, q, item, value)
    if member.status == "opened":
        set_status(member, "in_progress")
        session.flush()
    audit.record(session, "panel_answer", "save", entity_id=member.id, study_id=member.study_id, item=item.key, case=case_label)
    return {"item": item.key, "case": case_label, "value": value}


def record_time(session: Session, principal: Principal, case_label: str, seconds: float) -> None:
    """Add the seconds one case was on the expert's screen (capped per visit)."""
    member = _member_for(session, principal)
    if member.status == "submitted":
        return
    shown = _released_positions(session, member)
    if case_label not in shown:
        raise UserError(f"there is no case {case_label!r} in your questionnaire")
    seconds = max(0.0, min(float(seconds), MAX_SECONDS_PER_VISIT))
    if seconds <= 0:
        return
    _add_time(session, member.id, shown[case_label][0], seconds)


def _add_time(session: Session, member_id: int, case_id: int, seconds: float) -> None:
    table = CaseTiming.__table__
    statement = _upsert_insert(session)(table).values(member_id=member_id, case_id=case_id, seconds=seconds, updated_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.case_id],
        set_={"seconds": table.c.seconds + statement.excluded.seconds, "updated_at": statement.excluded.updated_at},
    )
    session.execute(statement)


def validate(session: Session, principal: Principal) -> list[str]:
    """What the expert still has to answer, listed by case; empty when the form is complete."""
    return expert_view(session, principal).missing


def submit(session: Session, principal: Principal) -> PanelMember:
    member = _member_for(session, principal)
    if member.status == "submitted":
        raise UserError("your answers were submitted already")
    view = expert_view(session, principal)
    if not view.cases:
        raise UserError("there are no case descriptions to rate yet")
    if view.missing:
        raise UserError("before you submit, please complete:\n" + "\n".join(f"- {m}" for m in view.missing))
    set_status(member, "submitted")
    session.flush()
    return member


def printable_copy(session: Session, principal: Principal) -> str:
    """A self-contained, printable HTML page of the expert's own answers (print to PDF from the browser)."""
    view = expert_view(session, principal)
    q = view.questionnaire
    e = html.escape
    likert = [i for i in q["items"] if i["kind"] == "likert_per_case"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(q['title'])}: your answers</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em .6em;text-align:left}@media print{a{display:none}}</style></head><body>",
        f"<h1>{e(q['title'])}</h1>",
        f"<p>Your answers ({e(view.pseudonym)}), questionnaire version {q['version']}. "
        + (f"Submitted on {view.submitted_at:%Y-%m-%d %H:%M} UTC." if view.submitted_at else "Not submitted yet.") + "</p>",
        f"<p>{e(q['legend'])}</p>",
        "<h2>Ratings per case</h2><table><thead><tr><th>Statement</th>"
        + "".join(f"<th>{e(c.label)}</th>" for c in view.cases) + "</tr></thead><tbody>",
    ]
    for number, item in enumerate(likert, start=1):
        cells = "".join(
            f"<td>{'' if view.answers.get(answer_key(item['key'], c.label)) is None else view.answers.get(answer_key(item['key'], c.label))}</td>"
            for c in view.cases
        )
        parts.append(f"<tr><th>{number}. {e(item['text'])}</th>{cells}</tr>")
    parts.append("</tbody></table>")
    for item in q["items"]:
        if item["kind"] == "likert_per_case":
            continue
        value = view.answers.get(item["key"])
        parts.append(f"<h2>{e(item['label'])}</h2><p><em>{e(item['text'])}</em></p>")
        if isinstance(value, list) and value:
            tag = "ol" if item["kind"] == "ordered_list" else "ul"
            parts.append(f"<{tag}>" + "".join(f"<li>{e(v)}</li>" for v in value) + f"</{tag}>")
        else:
            parts.append(f"<p>{e(value) if value else '(no answer)'}</p>")
    parts.append("</body></html>")
    return "".join(parts)


# --- researchers: progress, answers, exports ------------------------------------------------
def _progress_by_member(session: Session, study: Study) -> dict[int, str]:
    counts = dict(session.execute(
        select(Answer.member_id, func.count(Answer.id)).join(PanelMember, PanelMember.id == Answer.member_id)
        .where(PanelMember.study_id == study.id).group_by(Answer.member_id)
    ).all())
    return {member_id: f"{n} answers" for member_id, n in counts.items()}


def _short(label: str) -> str:
    return re.sub(r"^(case|unit)\s+", "", label.strip(), flags=re.I)


def _submitted(session: Session, study: Study) -> list[PanelMember]:
    return [m for m in list_members(session, study) if m.status == "submitted"]


def answers_rows(session: Session, study: Study, include_unsubmitted: bool = False):
    """(ratings, mentions, comments) of submitted members, pseudonyms only, in a stable order."""
    members = list_members(session, study) if include_unsubmitted else _submitted(session, study)
    cases = {c.id: c for c in studies.list_cases(session, study)}
    ratings, mentions, comments = [], [], []
    for member in members:
        if member.questionnaire_id is None:
            continue
        q = session.get(Questionnaire, member.questionnaire_id)
        answers = _answers(session, member)
        ordered_cases = sorted(cases.values(), key=lambda c: c.public_label)
        for case in ordered_cases:
            for item in q.items:
                if item.kind != "likert_per_case":
                    continue
                answer = answers.get((item.id, case.id))
                if answer is None:
                    continue
                ratings.append(reportinputs.Rating(member.pseudonym, _short(case.public_label), item.label, answer.value.get("v")))
        for item in q.items:
            answer = answers.get((item.id, 0))
            value = answer.value.get("v") if answer is not None else None
            if item.kind == "free_list" and value:
                order_item = next((i for i in q.items if i.kind == "ordered_list" and i.options.get("source") == item.key), None)
                order_answer = answers.get((order_item.id, 0)) if order_item else None
                ordered = [v for v in (order_answer.value.get("v") or []) if v in value] if order_answer else []
                for rank, text in enumerate(ordered, start=1):
                    mentions.append(reportinputs.DeterminantMention(member.pseudonym, "recurring", rank, text))
                for text in value:
                    if text not in ordered:
                        mentions.append(reportinputs.DeterminantMention(member.pseudonym, "recurring", None, text))
            elif item.kind == "additional_list" and value:
                for text in value:
                    mentions.append(reportinputs.DeterminantMention(member.pseudonym, "additional", None, text))
            elif item.kind == "open_comment" and value:
                comments.append({"expert": member.pseudonym, "item": item.label, "comment": value})
    return ratings, mentions, comments


def ratings_csv(ratings: Sequence[reportinputs.Rating]) -> str:
    from . import tabular

    return tabular.csv_text(["expert", "case", "item", "score"], [[r.expert, r.case, r.item, "" if r.score is None else r.score] for r in ratings])


def determinants_csv(mentions: Sequence[reportinputs.DeterminantMention]) -> str:
    from . import tabular

    return tabular.csv_text(["expert", "task", "rank", "determinant"], [[m.expert, m.task, "" if m.rank is None else m.rank, m.determinant] for m in mentions])


def minutes_by_member(session: Session, study: Study) -> dict[str, float]:
    rows = session.execute(
        select(PanelMember.pseudonym, func.sum(CaseTiming.seconds)).join(CaseTiming, CaseTiming.member_id == PanelMember.id)
        .where(PanelMember.study_id == study.id).group_by(PanelMember.pseudonym)
    ).all()
    return {pseudonym: float(total) / 60 for pseudonym, total in rows}


# --- responses collected elsewhere ------------------------------------------------------------
def _csv_rows(text: str, required: tuple[str, ...], what: str, errors: list[str]) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO((text or "").lstrip("\ufeff"), newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        errors.append(f"{what} CSV, row 1 (header): missing column(s) {', '.join(missing)}; expected {','.join(required)}")
        return []
    reader.fieldnames = header
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            errors.append(f"{what} CSV, row {number}: more cells than header columns")
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        rows.append((number, {k: (row.get(k) or "").strip() for k in required}))
    return rows


def import_responses(session: Session, study: Study, ratings_text: str | None = None, determinants_text: str | None = None) -> dict:
    """Attach ratings and determinant lists collected on paper or elsewhere to panel members.

    Formats of the reports stage: ``expert,case,item,score`` and ``expert,task,rank,determinant``.
    All-or-nothing: every bad row is reported (unknown expert or case or item, score outside the
    scale, duplicate expert x case x item, ...) and nothing is saved while any is bad. Members
    with imported answers count as submitted (source 'import').
    """
    if not ratings_text and not determinants_text:
        raise UserError("give a ratings CSV, a determinants CSV, or both")
    q = require_questionnaire(session, study)
    errors: list[str] = []
    members = {m.pseudonym.upper(): m for m in list_members(session, study)}
    cases = {}
    for case in studies.list_cases(session, study):
        cases[case.public_label.casefold()] = case
        cases[_short(case.public_label).casefold()] = case
    likert = {}
    for item in q.items:
        if item.kind == "likert_per_case":
            likert[item.label.casefold()] = item
            likert[item.key.casefold()] = item
    touched: dict[str, PanelMember] = {}

    def member_of(number: int, what: str, pseudonym: str) -> PanelMember | None:
        member = members.get(pseudonym.upper())
        if member is None:
            errors.append(f"{what} CSV, row {number}: unknown expert {pseudonym!r} (add the member first)")
            return None
        if member.status == "submitted" and member.source == "online":
            errors.append(f"{what} CSV, row {number}: expert {member.pseudonym} has submitted online already")
            return None
        if member.status == "declined":
            errors.append(f"{what} CSV, row {number}: expert {member.pseudonym} is marked declined")
            return None
        return member

    rating_rows, seen = [], {}
    for number, row in _csv_rows(ratings_text, ("expert", "case", "item", "score"), "ratings", errors) if ratings_text else []:
        member = member_of(number, "ratings", row["expert"])
        case = cases.get(row["case"].casefold())
        item = likert.get(row["item"].casefold())
        if case is None:
            errors.append(f"ratings CSV, row {number}: unknown case {row['case']!r}")
        if item is None:
            errors.append(f"ratings CSV, row {number}: unknown item {row['item']!r}; use one of: " + "; ".join(i.label for i in q.items if i.kind == "likert_per_case"))
        score = None
        if row["score"]:
            if not re.fullmatch(r"[+-]?\d+", row["score"]):
                errors.append(f"ratings CSV, row {number}: score {row['score']!r} is not a whole number")
            else:
                score = int(row["score"])
                if not q.scale_min <= score <= q.scale_max:
                    errors.append(f"ratings CSV, row {number}: score {score} lies outside the scale {q.scale_min}-{q.scale_max}")
        if member is None or case is None or item is None:
            continue
        key = (member.id, case.id, item.id)
        if key in seen:
            errors.append(f"ratings CSV, row {number}: duplicate rating of expert {member.pseudonym} for {case.public_label}, item {item.label!r} (first in row {seen[key]})")
            continue
        seen[key] = number
        touched[member.pseudonym] = member
        rating_rows.append((member, case, item, score))

    lists: dict[str, dict] = {}
    for number, row in _csv_rows(determinants_text, ("expert", "task", "rank", "determinant"), "determinants", errors) if determinants_text else []:
        member = member_of(number, "determinants", row["expert"])
        task = row["task"].lower()
        if task not in reportinputs.TASKS:
            errors.append(f"determinants CSV, row {number}: task {row['task']!r} must be recurring or additional")
        if not row["determinant"].strip():
            errors.append(f"determinants CSV, row {number}: empty determinant")
        rank = None
        if row["rank"]:
            if not re.fullmatch(r"\d+", row["rank"]) or int(row["rank"]) < 1:
                errors.append(f"determinants CSV, row {number}: rank {row['rank']!r} must be a whole number from 1 or empty")
            else:
                rank = int(row["rank"])
        if member is None or task not in reportinputs.TASKS or not row["determinant"].strip():
            continue
        entry = lists.setdefault(member.pseudonym, {"member": member, "recurring": [], "additional": [], "ranks": {}})
        text = row["determinant"]
        if any(t.casefold() == text.casefold() for t in entry[task]):
            errors.append(f"determinants CSV, row {number}: expert {member.pseudonym} names {text!r} twice under {task}")
            continue
        if rank is not None and task == "recurring":
            if rank in entry["ranks"].values():
                errors.append(f"determinants CSV, row {number}: expert {member.pseudonym} gives rank {rank} twice")
                continue
            entry["ranks"][text] = rank
        entry[task].append(text)
        touched[member.pseudonym] = member

    if errors:
        raise UserError(f"nothing imported; {len(errors)} problem(s):\n" + "\n".join(errors))
    rows = []
    for member in touched.values():
        if member.questionnaire_id is None:
            member.questionnaire_id = q.id
    if q.frozen_at is None and touched:
        q.frozen_at = utcnow()
    for member, case, item, score in rating_rows:
        if member.questionnaire_id != q.id:
            item = _item(session.get(Questionnaire, member.questionnaire_id), item.key)
        position = (member.case_order.index(case.id) + 1) if case.id in (member.case_order or []) else None
        rows.append({"member_id": member.id, "item_id": item.id, "case_id": case.id, "case_slot": case.id,
                     "value": {"v": score}, "shown_position": position})
    for entry in lists.values():
        member = entry["member"]
        mq = session.get(Questionnaire, member.questionnaire_id)
        recurring = next((i for i in mq.items if i.kind == "free_list"), None)
        ordered = next((i for i in mq.items if i.kind == "ordered_list"), None)
        additional = next((i for i in mq.items if i.kind == "additional_list"), None)
        ranked = sorted(entry["ranks"], key=entry["ranks"].get)
        listed = ranked + [t for t in entry["recurring"] if t not in entry["ranks"]]
        for item, value in ((recurring, listed), (ordered, ranked), (additional, entry["additional"])):
            if item is not None and value:
                rows.append({"member_id": member.id, "item_id": item.id, "case_id": None, "case_slot": 0, "value": {"v": value}, "shown_position": None})
    _upsert(session, rows)
    for member in touched.values():
        if member.status != "submitted":
            if member.status == "new":
                member.status = "invited"
                member.invited_at = member.invited_at or utcnow()
            set_status(member, "submitted")
        member.source = "import"
    session.flush()
    audit.record(session, "panel_answer", "import", study_id=study.id, members=sorted(touched), answers=len(rows))
    return {"members": sorted(touched), "ratings": len(rating_rows), "determinant_lists": len(lists), "answers": len(rows)}


# --- providers for the reports stage --------------------------------------------------------
def _has_panel_answers(session: Session, study: Study) -> bool:
    return any(m.status == "submitted" for m in list_members(session, study))


def ratings_provider(session: Session, study: Study):
    if not _has_panel_answers(session, study):
        return None
    return answers_rows(session, study)[0] or None


def determinants_provider(session: Session, study: Study):
    if not _has_panel_answers(session, study):
        return None
    return answers_rows(session, study)[1] or None


def panel_figures_provider(session: Session, study: Study):
    members = list_members(session, study)
    if not members:
        return None
    minutes = minutes_by_member(session, study)
    submitted = [minutes[m.pseudonym] for m in members if m.status == "submitted" and m.pseudonym in minutes]
    from statistics import median

    return reportinputs.PanelFigures(
        invited=sum(1 for m in members if m.invited_at is not None),
        returned=sum(1 for m in members if m.status == "submitted"),
        median_minutes=median(submitted) if submitted else None,
    )


reportinputs.register_ratings_provider(ratings_provider)
reportinputs.register_determinants_provider(determinants_provider)
reportinputs.register_panel_figures_provider(panel_figures_provider)
reportinputs.register_scale_provider(study_scale)


def _probe(session: Session, case: Case) -> str | None:
    count = session.scalar(select(func.count(Answer.id)).where(Answer.case_id == case.id))
    return f"{count} ratings" if count else None


studies.register_stage_probe("panel", _probe)
