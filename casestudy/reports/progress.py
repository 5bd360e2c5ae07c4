"""The study's progress: per case, each stage of the chain, the open stage and the next action.

Each stage answers for itself with a ``stage_status(session, case)`` function returning a
:class:`casestudy.status.StageStatus`; this module asks them in chain order. The **open stage**
of a case is the earliest stage that is not done, not the furthest one reached: a case whose
member check still waits for a respondent is in the member check even when a later stage has
begun. It sits in the reports stage because it reads every earlier stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from casestudy import signoffs, status
from casestudy.coding import signoff as coding_signoff
from casestudy.coding import spans
from casestudy.errors import UserError
from casestudy.interviews import store as interviews
from casestudy.masking import signoff as masking_signoff
from casestudy.masking import workflow as masking
from casestudy.models import Case, Interview, MaskedText, ReconstructionVersion, Study
from casestudy.panel import results as panel
from casestudy.reconstruction import membercheck, narrative
from casestudy.reconstruction import signoff as reconstruction_signoff
from casestudy.status import StageStatus
from casestudy.study import case_warnings, list_cases, programme_text

StageStatusOf = Callable[[Session, Case], StageStatus]

#: The per-case stages of the chain in order, each with the function that reports its status.
STAGE_STATUS: dict[str, StageStatusOf] = {
    "interviews": interviews.stage_status,
    "coding": spans.stage_status,
    "reconstruction": narrative.stage_status,
    "member check": membercheck.stage_status,
    "masking": masking.stage_status,
    "panel": panel.stage_status,
}
STAGES = tuple(STAGE_STATUS)

#: Per sign-off kind, the stage function listing what of a study can be signed off now.
SIGNOFF_TARGETS = {
    signoffs.CODINGS: coding_signoff.targets,
    signoffs.RECONSTRUCTION: reconstruction_signoff.targets,
    signoffs.MASKED_TEXT: masking_signoff.targets,
}
ALL_DONE = "done"  # the open stage of a case whose every stage is done


@dataclass
class CaseOverview:
    case_id: int
    internal_label: str
    public_label: str
    organisation: str
    programme: str
    outcome_class: str
    respondents: int
    statuses: dict[str, StageStatus] = field(default_factory=dict)
    open_stage: str = STAGES[0]
    next_action: str = ""
    waiting_for: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def stages(self) -> dict[str, str]:
        """Per stage its short status text ("not started" when it has not begun)."""
        return {stage: s.summary for stage, s in self.statuses.items()}

    def as_json(self) -> dict:
        return {
            "case": self.public_label, "internal_label": self.internal_label, "organisation": self.organisation,
            "programme": self.programme, "outcome": self.outcome_class, "respondents": self.respondents,
            "open_stage": self.open_stage, "next_action": self.next_action, "waiting_for": self.waiting_for,
            "stages": {stage: asdict(s) for stage, s in self.statuses.items()}, "warnings": self.warnings,
        }


def open_stage(statuses: dict[str, StageStatus]) -> str:
    """The earliest stage (in chain order) that is not done; :data:`ALL_DONE` when all are."""
    return next((stage for stage, s in statuses.items() if not s.done), ALL_DONE)


def case_overview(session: Session, case: Case) -> CaseOverview:
    statuses = {stage: status_of(session, case) for stage, status_of in STAGE_STATUS.items()}
    stage = open_stage(statuses)
    current = statuses.get(stage)
    return CaseOverview(
        case_id=case.id,
        internal_label=case.internal_label,
        public_label=case.public_label,
        organisation=case.organisation.name if case.organisation else "",
        programme=programme_text(case),
        outcome_class=case.outcome_class,
        respondents=len(case.respondents),
        statuses=statuses,
        open_stage=stage,
        next_action=current.next_action if current else "all stages done",
        waiting_for=current.waiting_for if current else "",
        warnings=case_warnings(case),
    )


def overview(session: Session, study: Study) -> list[CaseOverview]:
    """One row per case: every stage's status, the open stage and its next action."""
    return [case_overview(session, case) for case in list_cases(session, study)]


def signoff_targets(session: Session, study: Study) -> list[signoffs.SignTarget]:
    """Everything of the study that can be signed off now: coded interviews, versions waiting
    for the member check, each case's masked draft (in :data:`SIGNOFF_TARGETS` order)."""
    return [t for targets_of in SIGNOFF_TARGETS.values() for t in targets_of(session, study)]


def _signoff_row(session: Session, study: Study, kind: str, target_id: int):
    """The interview, reconstruction version or masked text ``target_id`` of the study, by kind."""
    kind = signoffs.check_kind(kind)
    model = {signoffs.CODINGS: Interview, signoffs.RECONSTRUCTION: ReconstructionVersion, signoffs.MASKED_TEXT: MaskedText}[kind]
    row = session.get(model, int(target_id))
    if isinstance(row, ReconstructionVersion):
        row_study = session.get(Case, row.case_id).study_id
    else:
        row_study = getattr(row, "study_id", None)
    if row is None or row_study != study.id:
        what = {signoffs.CODINGS: "interview", signoffs.RECONSTRUCTION: "reconstruction version", signoffs.MASKED_TEXT: "masked text"}[kind]
        raise UserError(f"no {what} {target_id} in this study")
    return row


SIGNOFF_TARGET_OF = {
    signoffs.CODINGS: coding_signoff.target,
    signoffs.RECONSTRUCTION: reconstruction_signoff.target,
    signoffs.MASKED_TEXT: masking_signoff.target,
}


def signoff_target(session: Session, study: Study, kind: str, target_id: int) -> signoffs.SignTarget:
    """The sign-off target ``kind`` / ``target_id`` of the study (UserError when it is not the study's)."""
    row = _signoff_row(session, study, kind, target_id)
    return SIGNOFF_TARGET_OF[signoffs.check_kind(kind)](session, row)


def sign_off(session: Session, principal, study: Study, kind: str, target_id: int, note: str = ""):
    """Sign off ``kind`` / ``target_id`` of the study through its stage (the stage's own checks
    first: blind coding for codings, a released masked text needs none)."""
    kind = signoffs.check_kind(kind)
    row = _signoff_row(session, study, kind, target_id)
    if kind == signoffs.CODINGS:
        return coding_signoff.sign(session, principal, row, note)
    if kind == signoffs.RECONSTRUCTION:
        return signoffs.sign(session, principal, reconstruction_signoff.target(session, row), note)
    return masking_signoff.sign(session, principal, row, note)


def awaiting_signoffs(session: Session, study: Study) -> list[signoffs.Awaiting]:
    """What awaits a second researcher's sign-off the study requires (missing or invalidated)."""
    if not signoffs.required_kinds(session, study):
        return []
    return signoffs.awaiting(session, signoff_targets(session, study))


#: Colour-blind-safe (Okabe-Ito) fills of the progress grid per stage state; the cells also
#: carry the state in words, so the colour is never the only cue.
STATE_COLOURS = {status.NOT_STARTED: "#EEEEEE", status.OPEN: "#E69F00", status.DONE: "#56B4E9"}


def progress_figure(rows: list[CaseOverview]):
    """The study's progress as a picture: cases (rows) x stages (columns), each cell coloured by
    its state and labelled with the state and the stage's short status; the open stage is
    marked with an arrow."""
    import plotly.graph_objects as go

    codes = {state: i for i, state in enumerate(status.STATES)}
    z = [[codes[r.statuses[stage].state] for stage in STAGES] for r in rows]
    text = [
        [("▶ " if stage == r.open_stage else "") + f"{r.statuses[stage].state}<br>{r.statuses[stage].summary}"
         if r.statuses[stage].started else status.NOT_STARTED
         for stage in STAGES]
        for r in rows
    ]
    last = len(status.STATES) - 1
    scale = [[i / last, STATE_COLOURS[state]] for state, i in codes.items()]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(STAGES), y=[r.public_label for r in rows], text=text, texttemplate="%{text}",
        textfont={"size": 11, "color": "#000000"}, colorscale=scale, zmin=0, zmax=last, showscale=False,
        xgap=3, ygap=3, hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=80 + 48 * len(rows),
                      plot_bgcolor="#FFFFFF")
    return fig
