"""The study's progress: per case, how far each stage of the chain has come.

Each stage answers for itself with a ``stage_status(session, case)`` function (a short status
text, or None when the stage has not started for the case); this module asks them in chain
order. It sits in the reports stage because it reads every earlier stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casestudy.coding import spans
from casestudy.interviews import store as interviews
from casestudy.masking import workflow as masking
from casestudy.models import Case, Study
from casestudy.panel import results as panel
from casestudy.reconstruction import membercheck, narrative
from casestudy.study import case_warnings, list_cases, programme_text

StageStatus = Callable[[Session, Case], "str | None"]

#: The stages of the chain in order, each with the function that reports its status for a case.
STAGE_STATUS: dict[str, StageStatus | None] = {
    "interviews": interviews.stage_status,
    "coding": spans.stage_status,
    "reconstruction": narrative.stage_status,
    "member check": membercheck.stage_status,
    "masking": masking.stage_status,
    "panel": panel.stage_status,
    "report": None,  # the reports are the study's, not a case's
}
STAGES = tuple(STAGE_STATUS)


@dataclass
class CaseOverview:
    case_id: int
    internal_label: str
    public_label: str
    organisation: str
    programme: str
    outcome_class: str
    respondents: int
    stages: dict[str, str] = field(default_factory=dict)
    current_stage: str = "interviews"
    warnings: list[str] = field(default_factory=list)


def overview(session: Session, study: Study) -> list[CaseOverview]:
    """One row per case: every stage's status ("not started" when it has none) and the furthest
    stage reached."""
    rows = []
    for case in list_cases(session, study):
        stages = {}
        current = STAGES[0]
        for stage, status_of in STAGE_STATUS.items():
            status = status_of(session, case) if status_of else None
            stages[stage] = status or "not started"
            if status:
                current = stage
        rows.append(
            CaseOverview(
                case_id=case.id,
                internal_label=case.internal_label,
                public_label=case.public_label,
                organisation=case.organisation.name if case.organisation else "",
                programme=programme_text(case),
                outcome_class=case.outcome_class,
                respondents=len(case.respondents),
                stages=stages,
                current_stage=current,
                warnings=case_warnings(case),
            )
        )
    return rows
