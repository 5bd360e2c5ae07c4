"""The outcome distribution of the cases, and the Table 1 note from the component types used.

Three tables, each with n and percent:

* outcome classes of the cases (each case has one, so the percentages should add to 100);
* outcome descriptors (a case may carry several; each percentage is of all cases, so they
  are not meant to add to 100 and the note says so);
* sustainment of the programme components (each component has one; percentages of all
  components).

Rounding rule: percentages are n / N x 100, computed exactly and rounded to ``decimals``
(default 0, whole percents) by ``rounding`` (default half up) with
:func:`casestudy.reports.constants.round_decimal`. When the rounded percentages of a table
whose categories exclude each other do not add to 100, the note says so and gives the sum
(3, 2 and 2 of 7 cases print 43, 29 and 29: "they add to 101% because of rounding").
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import CASE_OUTCOMES, SUSTAINMENT, Case, ProgrammeComponent, Study
from casestudy.reconstruction import outcomes as case_outcomes
from casestudy.reconstruction import summary as table1_summary
from casestudy.reports.constants import ROUNDINGS, round_decimal
from casestudy.reports.render import ReportTable

NO_CASES = "the study has no cases yet: add them first (page Cases and respondents, or 'casestudy cases add')"

# Expansions of the programme component types for the Table 1 note (the reference study's and common ones).
COMPONENT_TYPES = {
    "PH": "partial hospitalisation",
    "IOP": "intensive outpatient programme",
    "OP": "outpatient programme",
    "IP": "inpatient programme",
    "DT": "day treatment",
    "MBT": "mentalization-based treatment",
    "MBT-I": "MBT introduction group",
    "MBT-G": "MBT group therapy",
}


def percent(n: int, total: int, decimals: int = 0, rounding: str = "half-up") -> Decimal | None:
    """n of total as a percentage rounded by the stated rule; None when total is 0."""
    if total <= 0:
        return None
    return round_decimal(Fraction(100 * n, total), decimals, rounding)


def rounding_note(percents: list[Decimal | None], decimals: int = 0) -> str:
    """'' when the rounded percentages add to 100 (or there are none), else the sentence saying
    what they add to because of rounding."""
    values = [p for p in percents if p is not None]
    if not values:
        return ""
    total = sum(values, Decimal(0))
    if total == 100:
        return ""
    shown = total.quantize(Decimal(1).scaleb(-decimals)) if decimals else total.quantize(Decimal(1))
    return f"The percentages add to {shown}% instead of 100% because of rounding."


def rule_text(decimals: int, rounding: str) -> str:
    places = "whole percents" if decimals == 0 else f"{decimals} decimal{'s' if decimals != 1 else ''}"
    return f"rounded {'half up' if rounding == 'half-up' else 'half to even'} to {places}"


def _check(decimals: int, rounding: str) -> None:
    if rounding not in ROUNDINGS:
        raise UserError(f"unknown rounding {rounding!r}; use one of {', '.join(ROUNDINGS)}")
    if not 0 <= decimals <= 3:
        raise UserError("percentages take 0 to 3 decimals")


def distribution_tables(session: Session, study: Study, principal: Principal, decimals: int = 0,
                        rounding: str = "half-up") -> list[ReportTable]:
    """The three outcome tables of the study (see the module docstring); researchers of the study only."""
    _check(decimals, rounding)
    access.require_study_role(principal, study, "viewer")
    per_case = case_outcomes.case_outcomes(session, study, principal)
    if not per_case:
        raise UserError(NO_CASES)
    cases = len(per_case)
    rule = rule_text(decimals, rounding)
    pct = lambda n, total: percent(n, total, decimals, rounding)

    class_counts = {c: sum(1 for r in per_case if r["outcome_class"] == c) for c in CASE_OUTCOMES}
    class_rows = [[c.capitalize(), n, pct(n, cases)] for c, n in class_counts.items() if n or c != "unknown"]
    notes = [f"Note. N = {cases} cases; percentages of all cases, {rule}."]
    extra = rounding_note([row[2] for row in class_rows], decimals)
    if extra:
        notes.append(extra)
    tables = [ReportTable("Outcomes of the cases", ["Outcome", "n", "%"], class_rows, notes, "Outcomes")]

    descriptor_rows = []
    for descriptor in case_outcomes.list_descriptors(session, study):
        carrying = [r["case"] for r in per_case if any(d["descriptor"] == descriptor.name for d in r["descriptors"])]
        descriptor_rows.append([descriptor.name, len(carrying), pct(len(carrying), cases), ", ".join(carrying)])
    tables.append(ReportTable(
        "Outcome descriptors", ["Descriptor", "n", "%", "Cases"], descriptor_rows,
        [f"Note. N = {cases} cases; a case can carry several descriptors, so the percentages (of all cases, {rule}) "
         "are not meant to add to 100."], "Descriptors"))

    components = [(r["case"], c) for r in per_case for c in r["components"]]
    sustainment_rows = []
    for value in SUSTAINMENT:
        chosen = [(case, c) for case, c in components if c["sustainment"] == value]
        if not chosen and value == "unknown":
            continue
        detail = "; ".join(f"{case} {c['type']}" + (f" ({c['discontinued_on']})" if c["discontinued_on"] else "") for case, c in chosen)
        sustainment_rows.append([case_outcomes.SUSTAINMENT_LABELS[value].capitalize(), len(chosen), pct(len(chosen), len(components)), detail])
    notes = [f"Note. N = {len(components)} programme components of {cases} cases; percentages of all components, {rule}. "
             "Discontinued components are listed with the date they stopped."]
    extra = rounding_note([row[2] for row in sustainment_rows], decimals)
    if extra:
        notes.append(extra)
    tables.append(ReportTable("Sustainment of the programme components", ["Sustainment", "n", "%", "Components"],
                              sustainment_rows, notes, "Sustainment"))
    return tables


def distribution_json(tables: list[ReportTable]) -> list[dict]:
    return [{"title": t.title, "notes": t.notes,
             "rows": [{c: (float(v) if isinstance(v, Decimal) else v) for c, v in zip(t.columns, row)} for row in t.rows]}
            for t in tables]


# --- Table 1 note ---------------------------------------------------------------------
def component_types(session: Session, study: Study) -> list[str]:
    """The programme component types the study's cases use (components and Table 1 summaries), in first-use order."""
    types: list[str] = []
    rows = session.scalars(select(ProgrammeComponent.type).join(Case, Case.id == ProgrammeComponent.case_id)
                           .where(Case.study_id == study.id).order_by(Case.public_label, ProgrammeComponent.id))
    for value in [*rows, *(c["component"] for row in table1_summary.table1_rows(session, study) for c in row["component_outcomes"])]:
        if value and value not in types:
            types.append(value)
    return types


def table1_note(types: list[str]) -> tuple[str, list[str]]:
    """('Note. PH = partial hospitalisation; IOP = ...', types without a known expansion).

    Only the types the study uses are expanded; a type the glossary does not know is left out
    of the note and returned, so the caller can warn (write it out in the programme column)."""
    known = [t for t in types if t.upper() in {k.upper() for k in COMPONENT_TYPES}]
    unknown = [t for t in types if t not in known]
    lookup = {k.upper(): v for k, v in COMPONENT_TYPES.items()}
    if not known:
        return "", unknown
    return "Note. " + "; ".join(f"{t} = {lookup[t.upper()]}" for t in known) + ".", unknown
