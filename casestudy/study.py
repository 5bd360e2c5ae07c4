"""Studies and their members, organisations, cases, programme components, respondents and consent.

Cases carry two labels: the internal one ("Unit 3") used by researchers and the public one
("Case C") that experts and readers see. The mapping between them is secret.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casestudy import users
from casestudy.errors import UserError
from casestudy.models import (
    CASE_OUTCOMES,
    CONSENT_SCOPES,
    DEFAULT_LEVELS,
    PERSPECTIVES,
    RESPONDENT_ROLES,
    STUDY_ROLES,
    Case,
    ConsentRecord,
    Organisation,
    ProgrammeComponent,
    Respondent,
    Study,
    StudyMember,
    User,
    utcnow,
)

# The chain of stages a case passes through; later modules report how far a case has come.
DEFAULT_PERSPECTIVE = {"manager": "top-down", "therapist": "bottom-up", "other": "other"}
ADMIN_ROLE = "admin"  # the global role of the server administrator, who may open every study
ROLE_ALIASES = {"principal therapist": "therapist", "principal_therapist": "therapist", "mgr": "manager"}


# --- study ----------------------------------------------------------------------------
def _study_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise UserError("a study needs a title", field="title")
    if len(title) > 300:
        raise UserError("a study title can have at most 300 characters", field="title")
    return title


def create_study(
    session: Session,
    title: str,
    language: str = "en",
    levels: list[str] | None = None,
    description: str = "",
    owner: User | None = None,
) -> Study:
    """A new study; ``owner`` (the account creating it) becomes its first owner.

    Titles are unique among studies (case-insensitive), so ``--study TITLE`` names one study.
    """
    title = _study_title(title)
    levels = [level.strip() for level in (levels or DEFAULT_LEVELS) if level.strip()]
    if len(set(levels)) != len(levels) or not levels:
        raise UserError("study levels must be distinct and not empty", field="levels")
    _check_title_free(session, title)
    study = Study(title=title, language=(language or "").strip().lower() or "en", levels=levels, description=description)
    session.add(study)
    session.flush()
    if owner is not None:
        session.add(StudyMember(study_id=study.id, user_id=owner.id, role="owner"))
        session.flush()
    return study


def _check_title_free(session: Session, title: str, study_id: int | None = None) -> None:
    clash = session.scalar(select(Study).where(func.lower(Study.title) == title.lower(), Study.id != (study_id or -1)))
    if clash is not None:
        raise UserError(f"a study titled {clash.title!r} already exists (study {clash.id}); choose another title", field="title")


def get_study(session: Session, ref: str | int | None = None, *, include_archived: bool = True) -> Study:
    """The study named by id or title; without a reference, the first study in the database.

    With ``include_archived=False`` an archived study is refused with a message saying how to
    bring it back (the CLI's ``--study`` and the app's current study work on active studies).
    """
    if ref is None or ref == "":
        query = select(Study).order_by(Study.id).limit(1)
        if not include_archived:
            query = query.where(Study.archived_at.is_(None))
        study = session.scalar(query)
        if study is None:
            raise UserError("there is no study yet; create one ('python -m casestudy study create TITLE', "
                            "or the Study page) or load the demo ('demo load')")
        return study
    study = None
    if isinstance(ref, int) or str(ref).strip().isdigit():
        study = session.get(Study, int(ref))
    if study is None:
        study = session.scalar(select(Study).where(func.lower(Study.title) == str(ref).strip().lower()))
    if study is None:
        raise UserError(f"no study {ref!r}; 'python -m casestudy study list' shows the studies")
    if study.archived_at is not None and not include_archived:
        raise UserError(f"study {study.id} ({study.title!r}) is archived; unarchive it first "
                        f"('python -m casestudy study unarchive {study.id}' or the Study page)")
    return study


def list_studies(session: Session, for_user: int | None = None, include_archived: bool = False) -> list[Study]:
    """The studies, oldest first; archived ones only with ``include_archived``.

    With ``for_user`` (an account id) only the studies that account belongs to, or every study
    for a server administrator; an unknown or inactive account sees none.
    """
    query = select(Study).order_by(Study.id)
    if not include_archived:
        query = query.where(Study.archived_at.is_(None))
    if for_user is not None:
        user = session.get(User, for_user)
        if user is None or not user.active:
            return []
        if user.role != ADMIN_ROLE:
            query = query.join(StudyMember, StudyMember.study_id == Study.id).where(StudyMember.user_id == user.id)
    return list(session.scalars(query))


def has_studies(session: Session) -> bool:
    """Whether the database holds any study at all (archived ones included)."""
    return session.scalar(select(Study.id).limit(1)) is not None


def rename_study(session: Session, study: Study, title: str) -> Study:
    title = _study_title(title)
    _check_title_free(session, title, study.id)
    study.title = title
    session.flush()
    return study


def archive_study(session: Session, study: Study) -> Study:
    """Hide a study from the study lists; its data stay as they are (undo: :func:`unarchive_study`)."""
    if study.archived_at is not None:
        raise UserError(f"study {study.title!r} is already archived")
    study.archived_at = utcnow()
    session.flush()
    return study


def unarchive_study(session: Session, study: Study) -> Study:
    if study.archived_at is None:
        raise UserError(f"study {study.title!r} is not archived")
    study.archived_at = None
    session.flush()
    return study


# --- membership -----------------------------------------------------------------------
def default_member_role(user: User) -> str:
    """The study role a new member gets unless another is chosen: their global role."""
    return "owner" if user.role == ADMIN_ROLE else user.role if user.role in STUDY_ROLES else "viewer"


def _check_member_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in STUDY_ROLES:
        raise UserError(f"unknown study role {role!r}; choose one of: {', '.join(STUDY_ROLES)}")
    return role


def study_role(session: Session, study_id: int, user_id: int) -> str | None:
    """The account's role in the study (owner, coder or viewer), or None when not a member."""
    return session.scalar(select(StudyMember.role).where(StudyMember.study_id == study_id, StudyMember.user_id == user_id))


def _membership(session: Session, study: Study, user: User) -> StudyMember | None:
    return session.scalar(select(StudyMember).where(StudyMember.study_id == study.id, StudyMember.user_id == user.id))


def _user(session: Session, user: User | str) -> User:
    return user if isinstance(user, User) else users.get_user(session, user)


def list_members(session: Session, study: Study) -> list[StudyMember]:
    """The study's members, owners first, then by user name."""
    rank = {role: position for position, role in enumerate(reversed(STUDY_ROLES))}
    members = list(session.scalars(select(StudyMember).join(User).where(StudyMember.study_id == study.id)))
    return sorted(members, key=lambda m: (rank[m.role], m.user.username.lower()))


def add_member(session: Session, study: Study, user: User | str, role: str | None = None) -> StudyMember:
    """Make an account a member of the study; ``role`` defaults to :func:`default_member_role`."""
    user = _user(session, user)
    role = _check_member_role(role) if role else default_member_role(user)
    if _membership(session, study, user) is not None:
        raise UserError(f"{user.username} is already a member of {study.title!r}; change their role instead")
    member = StudyMember(study_id=study.id, user_id=user.id, role=role)
    session.add(member)
    session.flush()
    return member


def _require_membership(session: Session, study: Study, user: User) -> StudyMember:
    member = _membership(session, study, user)
    if member is None:
        raise UserError(f"{user.username} is not a member of {study.title!r}")
    return member


def _check_keeps_an_owner(session: Session, study: Study, member: StudyMember) -> None:
    if member.role != "owner":
        return
    owners = session.scalar(select(func.count(StudyMember.id)).where(StudyMember.study_id == study.id, StudyMember.role == "owner"))
    if owners <= 1:
        raise UserError(f"{member.user.username} is the last owner of {study.title!r}; make another member owner first")


def set_member_role(session: Session, study: Study, user: User | str, role: str) -> StudyMember:
    """Change a member's role; the study's last owner cannot step down."""
    member = _require_membership(session, study, _user(session, user))
    role = _check_member_role(role)
    if role != member.role:
        if role != "owner":
            _check_keeps_an_owner(session, study, member)
        member.role = role
        session.flush()
    return member


def remove_member(session: Session, study: Study, user: User | str) -> None:
    """End an account's membership (its codings and other work stay); never the last owner."""
    member = _require_membership(session, study, _user(session, user))
    _check_keeps_an_owner(session, study, member)
    session.delete(member)
    session.flush()


# --- organisations --------------------------------------------------------------------
def get_or_create_organisation(session: Session, study: Study, name: str) -> Organisation:
    name = name.strip()
    if not name:
        raise UserError("an organisation needs a name")
    organisation = session.scalar(
        select(Organisation).where(Organisation.study_id == study.id, func.lower(Organisation.name) == name.lower())
    )
    if organisation is None:
        organisation = Organisation(study_id=study.id, name=name)
        session.add(organisation)
        session.flush()
    return organisation


# --- cases ----------------------------------------------------------------------------
@dataclass
class ComponentSpec:
    type: str
    groups: int | None = None
    dosage: str = ""
    status: str = ""
    outcome_class: str | None = None


def _check_outcome(outcome: str | None) -> str:
    outcome = (outcome or "unknown").strip().lower()
    if outcome not in CASE_OUTCOMES:
        raise UserError(f"unknown outcome class {outcome!r}; choose one of: {', '.join(CASE_OUTCOMES)}")
    return outcome


def add_case(
    session: Session,
    study: Study,
    internal_label: str,
    public_label: str,
    organisation: str | None = None,
    outcome_class: str = "unknown",
    outcome_description: str = "",
    components: list[ComponentSpec] | None = None,
) -> Case:
    internal_label, public_label = internal_label.strip(), public_label.strip()
    if not internal_label or not public_label:
        raise UserError("a case needs an internal label (e.g. 'Unit 1') and a public label (e.g. 'Case A')")
    if internal_label.lower() == public_label.lower():
        raise UserError("the internal and the public label of a case must differ (the mapping is secret)")
    for label in (internal_label, public_label):
        if find_case(session, study, label) is not None:
            raise UserError(f"a case labelled {label!r} already exists in this study")
    case = Case(
        study_id=study.id,
        internal_label=internal_label,
        public_label=public_label,
        outcome_class=_check_outcome(outcome_class),
        outcome_description=outcome_description,
        organisation=get_or_create_organisation(session, study, organisation) if organisation else None,
    )
    session.add(case)
    for spec in components or []:
        add_component(session, case, spec)
    session.flush()
    return case


def add_component(session: Session, case: Case, spec: ComponentSpec) -> ProgrammeComponent:
    """Append a component to the case's programme. The type is free text (PH, IOP or a
    study's own), required and at most 50 characters; groups a whole number >= 0 or none; the
    outcome class one of the case outcomes or none. A component that breaks a rule is a UserError."""
    if not spec.type.strip():
        raise UserError("a programme component needs a type, e.g. PH or IOP")
    if spec.groups is not None and spec.groups < 0:
        raise UserError("the number of groups cannot be negative")
    for label, value, limit in (("type", spec.type.strip(), 50), ("dosage", spec.dosage, 200), ("status", spec.status, 100)):
        if len(value) > limit:
            raise UserError(f"a programme component's {label} can have at most {limit} characters ({value[:40]!r}...)")
    component = ProgrammeComponent(
        type=spec.type.strip(),
        groups=spec.groups,
        dosage=spec.dosage,
        status=spec.status,
        outcome_class=_check_outcome(spec.outcome_class) if spec.outcome_class else None,
    )
    case.components.append(component)
    return component


def find_case(session: Session, study: Study, label: str) -> Case | None:
    label = label.strip().lower()
    return session.scalar(
        select(Case).where(
            Case.study_id == study.id,
            (func.lower(Case.internal_label) == label) | (func.lower(Case.public_label) == label),
        )
    )


def get_case(session: Session, study: Study, label: str) -> Case:
    """A case by internal or public label (case-insensitive), or a UserError naming the known ones."""
    case = find_case(session, study, label)
    if case is None:
        known = ", ".join(c.public_label for c in list_cases(session, study)) or "none yet"
        raise UserError(f"unknown case {label!r}; known cases: {known}")
    return case


def list_cases(session: Session, study: Study) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.study_id == study.id).order_by(Case.public_label)))


def programme_text(case: Case) -> str:
    """E.g. 'PH (2 groups), IOP (1 group)' (:func:`format_programme` of the case's components)."""
    return format_programme(case.components)


def format_programme(components) -> str:
    """Components (``type``, ``dosage``, ``groups``) as text: 'PH (3 days a week, 2 groups), IOP'.

    The text leaves out status and outcome class, and it is ambiguous when a type holds ', ' or
    parentheses, a dosage has unbalanced parentheses, or a dosage without groups ends like
    '2 groups'; :func:`parse_programme` reads back every other programme exactly."""
    parts = []
    for c in components:
        detail = []
        if c.dosage:
            detail.append(c.dosage)
        if c.groups is not None:
            detail.append(f"{c.groups} group{'s' if c.groups != 1 else ''}")
        parts.append(f"{c.type} ({', '.join(detail)})" if detail else c.type)
    return ", ".join(parts)


_GROUPS = re.compile(r"(\d+) groups?")


def _split_outside_parentheses(text: str, separator: str = ", ") -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i = i + len(separator)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def parse_programme(text: str) -> list[ComponentSpec]:
    """The inverse of :func:`format_programme`: 'PH (3 days (mornings), 2 groups), IOP' ->
    [PH with dosage '3 days (mornings)' and 2 groups, IOP]. Components are split at ', ' outside
    parentheses; a component ending in a parenthesised detail is ``TYPE (DOSAGE, N groups)``,
    its last part read as the groups when it is 'N group(s)'. Where the text is ambiguous (see
    :func:`format_programme`) this gives one reading that prints the same text."""
    specs = []
    for part in _split_outside_parentheses((text or "").strip()):
        part = part.strip()
        if not part:
            continue
        kind, detail = part, None
        if part.endswith(")"):
            depth = 0
            for i in range(len(part) - 1, -1, -1):
                depth += {")": 1, "(": -1}.get(part[i], 0)
                if depth == 0:
                    if i > 1 and part[i - 1] == " ":
                        kind, detail = part[: i - 1], part[i + 1: -1]
                    break
        groups, dosage = None, ""
        if detail is not None:
            details = _split_outside_parentheses(detail)
            match = _GROUPS.fullmatch(details[-1])
            if match:
                groups, details = int(match.group(1)), details[:-1]
            dosage = ", ".join(details)
        specs.append(ComponentSpec(type=kind, groups=groups, dosage=dosage))
    return specs


# --- respondents ----------------------------------------------------------------------
def normalise_role(role: str) -> str:
    role = ROLE_ALIASES.get(role.strip().lower(), role.strip().lower())
    if role not in RESPONDENT_ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(RESPONDENT_ROLES)}")
    return role


def add_respondent(
    session: Session, case: Case, name: str, role: str, perspective: str | None = None, email: str = ""
) -> Respondent:
    name = name.strip()
    if not name:
        raise UserError("a respondent needs a name")
    role = normalise_role(role)
    perspective = (perspective or DEFAULT_PERSPECTIVE[role]).strip().lower()
    if perspective not in PERSPECTIVES:
        raise UserError(f"unknown perspective {perspective!r}; choose one of: {', '.join(PERSPECTIVES)}")
    if find_respondent(session, case, name) is not None:
        raise UserError(f"{case.public_label} already has a respondent named {name!r}")
    respondent = Respondent(name=name, role=role, perspective=perspective, email=email.strip())
    case.respondents.append(respondent)
    session.flush()
    return respondent


def find_respondent(session: Session, case: Case, name: str) -> Respondent | None:
    return session.scalar(
        select(Respondent).where(Respondent.case_id == case.id, func.lower(Respondent.name) == name.strip().lower())
    )


def get_respondent(session: Session, case: Case, name: str) -> Respondent:
    respondent = find_respondent(session, case, name)
    if respondent is None:
        raise _unknown_respondent(case, name)
    return respondent


def _unknown_respondent(case: Case, name: str) -> UserError:
    known = ", ".join(r.name for r in case.respondents) or "none yet"
    return UserError(f"unknown respondent {name!r} in {case.public_label}; known: {known}")


class Roster:
    """A study's cases with their respondents and consent records, read in three queries, for bulk
    paths that resolve many rows (an import of 1,000 transcripts asked three queries per file).

    :meth:`case` and :meth:`respondent` match as :func:`get_case` and :func:`get_respondent` do
    (labels and names trimmed and case-insensitive; the same UserErrors); the consents are loaded
    for :func:`require_analysis_allowed`. A snapshot: it does not see cases added after it was read.
    """

    def __init__(self, session: Session, study: Study):
        self._session, self._study = session, study
        cases = session.scalars(select(Case).where(Case.study_id == study.id)
                                .options(selectinload(Case.respondents).selectinload(Respondent.consents))).all()
        self._cases: dict[str, Case] = {}
        for case in cases:
            self._cases.setdefault(case.internal_label.lower(), case)
            self._cases.setdefault(case.public_label.lower(), case)
        self._respondents = {(r.case_id, r.name.lower()): r for case in cases for r in case.respondents}

    def case(self, label: str) -> Case:
        case = self._cases.get(label.strip().lower())
        return case if case is not None else get_case(self._session, self._study, label)

    def respondent(self, case: Case, name: str) -> Respondent:
        respondent = self._respondents.get((case.id, name.strip().lower()))
        if respondent is None:
            raise _unknown_respondent(case, name)
        return respondent


def list_respondents(session: Session, study: Study, case: Case | None = None) -> list[Respondent]:
    query = select(Respondent).join(Case).where(Case.study_id == study.id).order_by(Case.public_label, Respondent.id)
    if case is not None:
        query = query.where(Respondent.case_id == case.id)
    return list(session.scalars(query))


# --- consent --------------------------------------------------------------------------
def _check_scope(scope: str) -> str:
    scope = scope.strip().lower().replace("-", "_").replace(" ", "_")
    if scope not in CONSENT_SCOPES:
        raise UserError(f"unknown consent scope {scope!r}; choose one of: {', '.join(CONSENT_SCOPES)}")
    return scope


def record_consent(session: Session, respondent: Respondent, scope: str, given_on: dt.date, note: str = "") -> ConsentRecord:
    scope = _check_scope(scope)
    if given_on > dt.date.today():
        raise UserError(f"consent date {given_on} lies in the future")
    record = ConsentRecord(scope=scope, given_on=given_on, note=note)
    respondent.consents.append(record)
    session.flush()
    return record


@dataclass(frozen=True)
class ConsentChange:
    """One cell of the consent grid: respondent ``respondent`` of case ``case`` has (``given``)
    or has not given consent for ``scope`` as of ``on``."""

    case: str
    respondent: str
    scope: str
    given: bool
    on: dt.date
    note: str = ""


def record_consents(session: Session, study: Study, changes: list[ConsentChange]) -> dict[str, int]:
    """Bring many consents to the given state in the caller's one transaction: a consent given
    that is not active yet is recorded, an active one no longer given is withdrawn, the rest is
    left as it is. Every change is checked before any is written, and a UserError names the row
    (1-based) that is wrong, so a grid or a file is applied whole or not at all.

    Returns the counts ``recorded``, ``withdrawn`` and ``unchanged``."""
    counts = {"recorded": 0, "withdrawn": 0, "unchanged": 0}
    planned = []
    for number, change in enumerate(changes, start=1):
        try:
            case = get_case(session, study, change.case)
            respondent = get_respondent(session, case, change.respondent)
            scope = _check_scope(change.scope)
            if change.on > dt.date.today():
                raise UserError(f"the date {change.on} lies in the future")
        except UserError as exc:
            raise UserError(f"row {number} ({change.case}, {change.respondent}, {change.scope}): {exc.message}") from None
        active = consent_state(respondent)[scope] == "given"
        if change.given == active:
            counts["unchanged"] += 1
            continue
        if not change.given and any(c.given_on > change.on for c in respondent.consents if c.scope == scope and c.withdrawn_on is None):
            raise UserError(f"row {number} ({change.case}, {change.respondent}, {scope}): a consent cannot be withdrawn before it was given")
        planned.append((respondent, scope, change))
    for respondent, scope, change in planned:
        if change.given:
            record_consent(session, respondent, scope, change.on, change.note)
            counts["recorded"] += 1
        else:
            withdraw_consent(session, respondent, scope, change.on, change.note)
            counts["withdrawn"] += 1
    return counts


CONSENT_CSV_COLUMNS = ("case", "respondent", "scope", "date")
YES = ("1", "yes", "y", "true", "given", "x")
NO = ("0", "no", "n", "false", "withdrawn", "")


def consent_changes_csv(text: str) -> list[ConsentChange]:
    """Consent changes from a CSV with the columns case, respondent, scope, date (YYYY-MM-DD)
    and optionally given (yes/no; without the column every row is yes, an empty cell is no;
    no = withdrawn on that date) and note."""
    from casestudy import tabular

    changes = []
    for number, row in enumerate(tabular.read_csv(text, CONSENT_CSV_COLUMNS, "consent CSV"), start=2):
        try:
            on = dt.date.fromisoformat(row["date"])
        except ValueError:
            raise UserError(f"line {number}: invalid date {row['date']!r}; use YYYY-MM-DD") from None
        given = row.get("given", "yes").lower()
        if given not in YES + NO:
            raise UserError(f"line {number}: 'given' must be yes or no, not {row['given']!r}")
        changes.append(ConsentChange(row["case"], row["respondent"], row["scope"], given in YES, on, row.get("note", "")))
    return changes


def withdraw_consent(session: Session, respondent: Respondent, scope: str, withdrawn_on: dt.date, note: str = "") -> ConsentRecord:
    scope = _check_scope(scope)
    active = [c for c in respondent.consents if c.scope == scope and c.withdrawn_on is None]
    if not active:
        raise UserError(f"{respondent.name} has no active consent for {scope} to withdraw")
    for record in active:
        if withdrawn_on < record.given_on:
            raise UserError("a consent cannot be withdrawn before it was given")
        record.withdrawn_on = withdrawn_on
        if note:
            record.note = (record.note + "\n" + note).strip()
    session.flush()
    return active[-1]


def consent_state(respondent: Respondent) -> dict[str, str]:
    """Per scope: 'given', 'withdrawn' or 'missing'."""
    return _consent_state((record.scope, record.withdrawn_on) for record in respondent.consents)


def _consent_state(records: Iterable[tuple[str, dt.date | None]]) -> dict[str, str]:
    """:func:`consent_state` from (scope, withdrawn_on) pairs: a current record wins over withdrawn ones."""
    state = {scope: "missing" for scope in CONSENT_SCOPES}
    for scope, withdrawn_on in records:
        if withdrawn_on is None:
            state[scope] = "given"
        elif state[scope] != "given":
            state[scope] = "withdrawn"
    return state


def analysis_blocked(respondent: Respondent) -> bool:
    """A withdrawn interview consent blocks further analysis of this respondent's material."""
    return consent_state(respondent)["interview"] == "withdrawn"


def analysis_blocked_ids(session: Session, respondent_ids: Iterable[int]) -> set[int]:
    """The respondents among ``respondent_ids`` whose material :func:`analysis_blocked` refuses.

    Reads only their consent records' scope and withdrawal date (one query per 900 respondents,
    no ORM objects): for bulk paths that check hundreds of respondents at once.
    """
    ids = sorted(set(respondent_ids))
    records: dict[int, list[tuple[str, dt.date | None]]] = {}
    for chunk in range(0, len(ids), 900):
        query = (select(ConsentRecord.respondent_id, ConsentRecord.scope, ConsentRecord.withdrawn_on)
                 .where(ConsentRecord.respondent_id.in_(ids[chunk : chunk + 900])))
        for respondent_id, scope, withdrawn_on in session.execute(query):
            records.setdefault(respondent_id, []).append((scope, withdrawn_on))
    return {rid for rid, pairs in records.items() if _consent_state(pairs)["interview"] == "withdrawn"}


def require_analysis_allowed(respondent: Respondent) -> None:
    if analysis_blocked(respondent):
        raise UserError(
            f"{respondent.name} ({respondent.case.public_label}) withdrew consent for the interview; "
            "their material cannot be analysed further"
        )


# --- overview -------------------------------------------------------------------------
def case_warnings(case: Case) -> list[str]:
    warnings = []
    respondents = case.respondents
    if len(respondents) < 2:
        warnings.append(f"{case.public_label} has {len(respondents)} respondent(s); the design expects two")
    roles = [r.role for r in respondents]
    if len(respondents) >= 2 and len(set(roles)) < 2:
        warnings.append(f"{case.public_label}: all respondents have the role {roles[0]}; the design expects different roles")
    for respondent in respondents:
        if analysis_blocked(respondent):
            warnings.append(f"{case.public_label}: {respondent.name} withdrew interview consent")
    return warnings
