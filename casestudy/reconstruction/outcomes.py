"""What happened to each case: study-defined outcome descriptors as tags, and per programme
component its external-validity indicator (sustained, discontinued on a date, never started).

A study defines its own descriptors ("programme stopped", "staff turnover", "drop-out", ...;
:data:`DEFAULT_DESCRIPTORS` is the reference study's set, added on request). A case carries any
number of them, each with an optional note. A component's sustainment is "discontinued" only
with the date it stopped, and a date only goes with "discontinued". The reports stage counts
both (:mod:`casestudy.reports.outcomes`). Researchers only: every reader and writer takes the
principal and the study's membership guard.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import (
    SUSTAINMENT,
    Case,
    CaseOutcomeTag,
    OutcomeDescriptor,
    ProgrammeComponent,
    Study,
    utcnow,
)

DEFAULT_DESCRIPTORS = (
    ("programme stopped", "the programme (or a component) was ended"),
    ("staff turnover", "team members left during the implementation"),
    ("drop-out", "patients ended treatment early"),
    ("incidents", "crises, aggression or other incidents"),
    ("complaints", "formal complaints by patients or families"),
    ("extra costs", "costs above the budget or financial loss"),
)
SUSTAINMENT_LABELS = {
    "sustained": "still running",
    "discontinued": "discontinued",
    "never_started": "never started",
    "unknown": "not known",
}


def _clean(text: str) -> str:
    return " ".join((text or "").split())


# --- descriptors ----------------------------------------------------------------------
def list_descriptors(session: Session, study: Study) -> list[OutcomeDescriptor]:
    return list(session.scalars(
        select(OutcomeDescriptor).where(OutcomeDescriptor.study_id == study.id).order_by(OutcomeDescriptor.position, OutcomeDescriptor.id)
    ))


def find_descriptor(session: Session, study: Study, name: str) -> OutcomeDescriptor | None:
    return session.scalar(select(OutcomeDescriptor).where(
        OutcomeDescriptor.study_id == study.id, func.lower(OutcomeDescriptor.name) == _clean(name).lower()))


def get_descriptor(session: Session, study: Study, name: str) -> OutcomeDescriptor:
    row = find_descriptor(session, study, name)
    if row is None:
        known = ", ".join(d.name for d in list_descriptors(session, study)) or "none yet (add one, or add the defaults)"
        raise UserError(f"the study has no outcome descriptor {_clean(name)!r}; its descriptors: {known}")
    return row


def add_descriptor(session: Session, study: Study, principal: Principal, name: str, description: str = "") -> OutcomeDescriptor:
    """A new descriptor at the end of the study's list; names are unique (case ignored)."""
    access.require_study_role(principal, study, "coder")
    name = _clean(name)
    if not name:
        raise UserError("an outcome descriptor needs a name, e.g. 'staff turnover'")
    if len(name) > 100:
        raise UserError("an outcome descriptor's name has at most 100 characters; put the rest in its description")
    if find_descriptor(session, study, name) is not None:
        raise UserError(f"the study already has the outcome descriptor {name!r}")
    position = max((d.position for d in list_descriptors(session, study)), default=-1) + 1
    row = OutcomeDescriptor(study_id=study.id, name=name, description=_clean(description), position=position)
    session.add(row)
    session.flush()
    return row


def add_default_descriptors(session: Session, study: Study, principal: Principal) -> list[OutcomeDescriptor]:
    """Add the reference study's descriptors the study does not have yet; returns those added."""
    return [add_descriptor(session, study, principal, name, description)
            for name, description in DEFAULT_DESCRIPTORS if find_descriptor(session, study, name) is None]


def remove_descriptor(session: Session, study: Study, principal: Principal, name: str) -> int:
    """Remove a descriptor and its tags; returns how many cases lost the tag."""
    access.require_study_role(principal, study, "coder")
    row = get_descriptor(session, study, name)
    tags = session.scalar(select(func.count()).select_from(CaseOutcomeTag).where(CaseOutcomeTag.descriptor_id == row.id))
    session.delete(row)
    session.flush()
    return tags


# --- tags -----------------------------------------------------------------------------
def case_tags(session: Session, case: Case) -> list[CaseOutcomeTag]:
    return list(session.scalars(
        select(CaseOutcomeTag).join(OutcomeDescriptor, OutcomeDescriptor.id == CaseOutcomeTag.descriptor_id)
        .where(CaseOutcomeTag.case_id == case.id).order_by(OutcomeDescriptor.position, OutcomeDescriptor.id)
    ))


def tag_case(session: Session, study: Study, principal: Principal, case: Case, descriptor: str, note: str = "") -> CaseOutcomeTag:
    """Give the case the descriptor (or update its note when it has it already)."""
    access.require_study_role(principal, study, "coder")
    if case.study_id != study.id:
        raise UserError(f"{case.public_label} is not a case of this study")
    row = get_descriptor(session, study, descriptor)
    tag = session.scalar(select(CaseOutcomeTag).where(CaseOutcomeTag.case_id == case.id, CaseOutcomeTag.descriptor_id == row.id))
    if tag is None:
        tag = CaseOutcomeTag(case_id=case.id, descriptor_id=row.id)
        session.add(tag)
    tag.note, tag.tagged_by, tag.tagged_at = (note or "").strip(), principal.actor, utcnow()
    session.flush()
    return tag


def untag_case(session: Session, study: Study, principal: Principal, case: Case, descriptor: str) -> None:
    access.require_study_role(principal, study, "coder")
    row = get_descriptor(session, study, descriptor)
    tag = session.scalar(select(CaseOutcomeTag).where(CaseOutcomeTag.case_id == case.id, CaseOutcomeTag.descriptor_id == row.id))
    if tag is None:
        raise UserError(f"{case.public_label} does not carry the outcome descriptor {row.name!r}")
    session.delete(tag)
    session.flush()


# --- sustainment per programme component ---------------------------------------------
def check_sustainment(sustainment: str, discontinued_on: dt.date | None) -> str:
    """The indicator, refused unless known; "discontinued" needs its date and only it takes one."""
    value = (sustainment or "").strip().lower().replace(" ", "_").replace("-", "_")
    if value not in SUSTAINMENT:
        raise UserError(f"unknown sustainment {sustainment!r}; choose one of: {', '.join(SUSTAINMENT)}")
    if value == "discontinued" and discontinued_on is None:
        raise UserError("a discontinued component needs the date it stopped, e.g. --on 2023-06-30")
    if value != "discontinued" and discontinued_on is not None:
        raise UserError(f"only a discontinued component has a stop date; this one is {value}")
    return value


def get_component(case: Case, ref: str | int) -> ProgrammeComponent:
    """A component of the case by its type ("PH") or its 1-based position when types repeat."""
    components = list(case.components)
    text = str(ref).strip()
    if text.isdigit() and 1 <= int(text) <= len(components):
        return components[int(text) - 1]
    found = [c for c in components if c.type.lower() == text.lower()]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(f"{n}. {c.type}" for n, c in enumerate(components, start=1)) or "none"
    if found:
        raise UserError(f"{case.public_label} has {len(found)} components of type {text!r}; name one by its number: {listed}")
    raise UserError(f"{case.public_label} has no programme component {text!r}; its components: {listed}")


def set_sustainment(
    session: Session, study: Study, principal: Principal, case: Case, component: str | int, sustainment: str,
    discontinued_on: dt.date | None = None, note: str = "",
) -> ProgrammeComponent:
    access.require_study_role(principal, study, "coder")
    row = get_component(case, component)
    row.sustainment = check_sustainment(sustainment, discontinued_on)
    row.discontinued_on = discontinued_on
    row.sustainment_note = (note or "").strip()
    session.flush()
    return row


def sustainment_text(component: ProgrammeComponent) -> str:
    """'discontinued on 2023-06-30', 'still running', ... (with the note after a colon)."""
    text = SUSTAINMENT_LABELS[component.sustainment or "unknown"]
    if component.discontinued_on is not None:
        text += f" on {component.discontinued_on.isoformat()}"
    return f"{text}: {component.sustainment_note}" if component.sustainment_note else text


# --- per case -------------------------------------------------------------------------
def case_outcomes(session: Session, study: Study, principal: Principal) -> list[dict]:
    """Per case (public label): outcome class, descriptor tags (with notes) and per component
    its type, outcome class and sustainment. Researchers of the study only."""
    access.require_study_role(principal, study, "viewer")
    rows = []
    for case in studies.list_cases(session, study):
        rows.append({
            "case": case.public_label,
            "outcome_class": case.outcome_class,
            "descriptors": [{"descriptor": t.descriptor.name, "note": t.note} for t in case_tags(session, case)],
            "components": [
                {"number": n, "type": c.type, "outcome_class": c.outcome_class, "sustainment": c.sustainment,
                 "discontinued_on": c.discontinued_on.isoformat() if c.discontinued_on else None,
                 "note": c.sustainment_note, "text": sustainment_text(c)}
                for n, c in enumerate(case.components, start=1)
            ],
        })
    return rows
