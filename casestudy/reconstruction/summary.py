"""The structured case summary behind Table 1: programme, outcome (overall and per component) and
the case's determinants, each a facilitator or a barrier, optionally pointing at a codebook code.

:func:`table1_rows` gives the rows under public case labels only; :func:`case_determinants`
gives the short determinant labels per case for the reports stage.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy.db import apply_edit
from casestudy.errors import UserError
from casestudy.models import (
    POLARITIES,
    Case,
    CaseSummary,
    Study,
    utcnow,
)


# --- case summary (Table 1) -----------------------------------------------------------
def get_case_summary(session: Session, case: Case) -> CaseSummary | None:
    return session.scalar(select(CaseSummary).where(CaseSummary.case_id == case.id))


def _check_determinants(determinants: list[dict]) -> list[dict]:
    cleaned = []
    for number, item in enumerate(determinants or [], start=1):
        label = str(item.get("label", "")).strip()
        polarity = str(item.get("polarity", "")).strip().lower()
        code_ref = item.get("code_ref")
        if not label:
            raise UserError(f"determinant {number} needs a short label")
        if polarity not in POLARITIES:
            raise UserError(f"determinant {label!r}: polarity must be one of {', '.join(POLARITIES)}")
        if isinstance(code_ref, str):
            code_ref = code_ref.strip() or None
        if code_ref is not None and not isinstance(code_ref, (int, str)):
            raise UserError(f"determinant {label!r}: the code reference must be a code id or a code path")
        cleaned.append({"label": label, "polarity": polarity, "code_ref": code_ref})
    return cleaned


_check_outcome = studies._check_outcome  # one rule for outcome classes, the foundation's


def save_case_summary(
    session: Session,
    case: Case,
    programme: str = "",
    outcome_class: str = "unknown",
    outcome_descriptors: str = "",
    determinants: list[dict] | None = None,
    component_outcomes: list[dict] | None = None,
    expected_version: int | None = None,
) -> CaseSummary:
    """Create or replace the case's Table 1 summary (all fields at once)."""
    outcomes = []
    for item in component_outcomes or []:
        component = str(item.get("component", "")).strip()
        if not component:
            raise UserError("each component outcome needs the component, e.g. PH")
        outcomes.append({"component": component, "outcome_class": _check_outcome(item.get("outcome_class"))})
    changes = {
        "programme": programme.strip(),
        "outcome_class": _check_outcome(outcome_class),
        "outcome_descriptors": outcome_descriptors.strip(),
        "determinants": _check_determinants(determinants or []),
        "component_outcomes": outcomes,
        "updated_at": utcnow(),
    }
    row = get_case_summary(session, case)
    if row is None:
        row = CaseSummary(case_id=case.id, **changes)
        session.add(row)
    elif expected_version is not None:
        row = apply_edit(session, CaseSummary, row.id, expected_version, **changes)
    else:
        for key, value in changes.items():
            setattr(row, key, value)
    session.flush()
    return row


def parse_determinant(text: str) -> dict:
    """'LABEL|facilitator|CODE_REF' (code ref optional), as the CLI and forms write it."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 2:
        raise UserError(f"invalid determinant {text!r}; write LABEL|facilitator or LABEL|barrier[|CODE]")
    code_ref: str | int | None = parts[2] if len(parts) > 2 and parts[2] else None
    if isinstance(code_ref, str) and code_ref.isdigit():
        code_ref = int(code_ref)
    return {"label": parts[0], "polarity": parts[1], "code_ref": code_ref}


def parse_component_outcome(text: str) -> dict:
    """'PH=mixed' -> {"component": "PH", "outcome_class": "mixed"}."""
    component, sep, outcome = text.partition("=")
    if not sep:
        raise UserError(f"invalid component outcome {text!r}; write COMPONENT=OUTCOME, e.g. PH=mixed")
    return {"component": component.strip(), "outcome_class": outcome.strip()}


def table1_rows(session: Session, study: Study) -> list[dict]:
    """Provider for the reports stage: one row per case for Table 1 (public labels only).

    Keys: case, programme, outcome_class, outcome (descriptors, with per-component classes
    where they differ), component_outcomes, determinants [{label, polarity, code_ref}].
    Without a saved summary the row falls back on the case's own programme and outcome.
    """
    rows = []
    for case in studies.list_cases(session, study):
        summary = get_case_summary(session, case)
        programme = (summary.programme if summary and summary.programme else studies.programme_text(case))
        outcome_class = summary.outcome_class if summary else case.outcome_class
        descriptors = summary.outcome_descriptors if summary and summary.outcome_descriptors else case.outcome_description
        components = summary.component_outcomes if summary else [
            {"component": c.type, "outcome_class": c.outcome_class} for c in case.components if c.outcome_class
        ]
        if len({c["outcome_class"] for c in components}) > 1:
            per_component = "; ".join(f"{c['outcome_class']} for {c['component']}" for c in components)
            outcome = f"{outcome_class.capitalize()} ({per_component}): {descriptors}".strip()
        else:
            outcome = f"{outcome_class.capitalize()}: {descriptors}".strip()
        rows.append(
            {
                "case": case.public_label,
                "programme": programme,
                "outcome_class": outcome_class,
                "outcome": outcome.rstrip(":"),
                "component_outcomes": list(components),
                "determinants": list(summary.determinants) if summary else [],
            }
        )
    return rows


def case_determinants(session: Session, study: Study) -> dict[str, list[str]] | None:
    """For the reports stage: {case label: [determinant labels]}; None while no summary exists."""
    has_summary = session.scalar(
        select(func.count()).select_from(CaseSummary).join(Case, Case.id == CaseSummary.case_id).where(Case.study_id == study.id)
    )
    if not has_summary:
        return None
    return {row["case"]: [d["label"] for d in row["determinants"]] for row in table1_rows(session, study)}
