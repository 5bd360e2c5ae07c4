"""Study, organisations, cases, programme components, respondents and consent.

Cases carry two labels: the internal one ("Unit 3") used by researchers and the public one
("Case C") that experts and readers see. The mapping between them is secret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import (
    CASE_OUTCOMES,
    CONSENT_SCOPES,
    DEFAULT_LEVELS,
    PERSPECTIVES,
    RESPONDENT_ROLES,
    Case,
    ConsentRecord,
    Organisation,
    ProgrammeComponent,
    Respondent,
    Study,
)

# The chain of stages a case passes through; later modules report how far a case has come.
DEFAULT_PERSPECTIVE = {"manager": "top-down", "therapist": "bottom-up", "other": "other"}
ROLE_ALIASES = {"principal therapist": "therapist", "principal_therapist": "therapist", "mgr": "manager"}


# --- study ----------------------------------------------------------------------------
def create_study(session: Session, title: str, language: str = "en", levels: list[str] | None = None, description: str = "") -> Study:
    title = title.strip()
    if not title:
        raise UserError("a study needs a title")
    levels = [level.strip() for level in (levels or DEFAULT_LEVELS) if level.strip()]
    if len(set(levels)) != len(levels) or not levels:
        raise UserError("study levels must be distinct and not empty")
    study = Study(title=title, language=language.strip().lower() or "en", levels=levels, description=description)
    session.add(study)
    session.flush()
    return study


def get_study(session: Session, ref: str | int | None = None) -> Study:
    """The study named by id or title; without a reference, the first study in the database."""
    if ref is None or ref == "":
        study = session.scalar(select(Study).order_by(Study.id).limit(1))
        if study is None:
            raise UserError("there is no study yet; run 'python -m casestudy init' or 'demo load'")
        return study
    study = None
    if isinstance(ref, int) or str(ref).isdigit():
        study = session.get(Study, int(ref))
    if study is None:
        study = session.scalar(select(Study).where(func.lower(Study.title) == str(ref).strip().lower()))
    if study is None:
        raise UserError(f"no study {ref!r}")
    return study


def list_studies(session: Session) -> list[Study]:
    return list(session.scalars(select(Study).order_by(Study.id)))


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
    if not spec.type.strip():
        raise UserError("a programme component needs a type, e.g. PH or IOP")
    if spec.groups is not None and spec.groups < 0:
        raise UserError("the number of groups cannot be negative")
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
    """E.g. 'PH (2 groups), IOP (1 group)'."""
    parts = []
    for c in case.components:
        detail = []
        if c.dosage:
            detail.append(c.dosage)
        if c.groups is not None:
            detail.append(f"{c.groups} group{'s' if c.groups != 1 else ''}")
        parts.append(f"{c.type} ({', '.join(detail)})" if detail else c.type)
    return ", ".join(parts)


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
        known = ", ".join(r.name for r in case.respondents) or "none yet"
        raise UserError(f"unknown respondent {name!r} in {case.public_label}; known: {known}")
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
    state = {scope: "missing" for scope in CONSENT_SCOPES}
    for record in respondent.consents:
        if record.withdrawn_on is None:
            state[record.scope] = "given"
        elif state[record.scope] != "given":
            state[record.scope] = "withdrawn"
    return state


def analysis_blocked(respondent: Respondent) -> bool:
    """A withdrawn interview consent blocks further analysis of this respondent's material."""
    return consent_state(respondent)["interview"] == "withdrawn"


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
