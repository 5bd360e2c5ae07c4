"""The demo study: synthetic, modelled on the reference study's seven cases.

Facts (programmes, outcomes) follow the reference study's Table 1; every name, organisation and
place is invented. Later stages extend the same demo through ``DEMO_EXTENSIONS``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import config, study as studies, users
from .db import Store
from .errors import UserError
from .models import Study
from .study import ComponentSpec

DEMO_TITLE = "MBT implementation in seven programmes (demo)"

# Each extension is "module:function"; the function takes (session, study) and adds its stage.
DEMO_EXTENSIONS: list[str] = [
    "casestudy.interviews:load_demo",  # the 14 demo transcripts in interviews/
    "casestudy.codebook_io:demo_codebook",  # the default MBT implementation codebook
    "casestudy.demo_coding:load_demo_codings",  # two coders' codings of the transcripts
    "casestudy.masking_workflow:load_demo_register",  # identity register for the demo names
    "casestudy.membercheck_demo:load_demo_membercheck",  # reconstructions and member-check rounds
    "casestudy.masking_workflow:release_agreed_demo",  # masked, released agreed reconstructions
    "casestudy.demo_panel:load_demo_panel",  # questionnaire, 20 experts (12 submitted)
]

DEMO_CODERS = [("coder1", "Noor Coder"), ("coder2", "Jesse Coder")]
DEMO_CODER_PASSWORD = "demo-coder-2026"


@dataclass(frozen=True)
class DemoCase:
    internal: str
    public: str
    organisation: str
    outcome: str
    description: str
    components: tuple[ComponentSpec, ...]
    manager: str
    therapist: str


# Two departments (Units 2 and 6) belong to one institution, as in the reference study.
DEMO_CASES = (
    DemoCase("Unit 4", "Case A", "Zorggroep Veldhoven-Oost", "negative",
             "Programme stopped: high costs, heavy burden on staff, high staff turnover.",
             (ComponentSpec("PH", 2, status="stopped"),), "Marleen Verhoef", "Thijs Brandsma"),
    DemoCase("Unit 2", "Case B", "GGZ Rivierenland-Noord", "positive",
             "Low drop-out, gradually more severe patients admitted, acceptable burden on the team.",
             (ComponentSpec("PH", 1, "3 days a week", "running", "positive"), ComponentSpec("IOP", 1, status="running", outcome_class="positive")),
             "Ans Kuipers", "Ruben de Wit"),
    DemoCase("Unit 7", "Case C", "Stichting De Lindenhof", "negative",
             "Programme stopped: high sick leave and turnover, financial loss.",
             (ComponentSpec("PH", 2, status="stopped"),), "Gerard Smulders", "Femke van der Laan"),
    DemoCase("Unit 1", "Case D", "Psychiatrisch Centrum Hoogland", "negative",
             "Programme stopped at the time of writing: staff turnover, dissatisfied patients, financial loss.",
             (ComponentSpec("PH", 2, status="stopped"),), "Hans Oudshoorn", "Lieke Jansma"),
    DemoCase("Unit 5", "Case E", "Het Baken Zorg", "mixed",
             "PH groups still running with financial losses; the IOP group never started.",
             (ComponentSpec("PH", 2, status="running", outcome_class="mixed"), ComponentSpec("IOP", 1, status="never started", outcome_class="negative")),
             "Petra Wolters", "Sander Mulder"),
    DemoCase("Unit 6", "Case F", "GGZ Rivierenland-Noord", "positive",
             "Quick expansion; the mission to include hard-to-treat patients was met; few incidents and drop-outs.",
             (ComponentSpec("PH", 2, status="running", outcome_class="positive"),), "Karin Bosman", "Daan Hendriks"),
    DemoCase("Unit 3", "Case G", "Centrum Duinzicht", "mixed",
             "Positive for IOP; mixed for PH: heavy burden on the team, high drop-out, many crises, formal complaints.",
             (ComponentSpec("PH", 2, status="running", outcome_class="mixed"), ComponentSpec("IOP", 2, status="running", outcome_class="positive")),
             "Willem Post", "Iris Schouten"),
)

CONSENT_DATE = dt.date(2024, 3, 4)


def _load_foundation(session: Session) -> Study:
    study = studies.create_study(
        session,
        DEMO_TITLE,
        language="en",
        description="Synthetic demo modelled on a multiple case study of seven MBT programmes in six institutions.",
    )
    for number, spec in enumerate(DEMO_CASES):
        case = studies.add_case(
            session, study, spec.internal, spec.public, spec.organisation, spec.outcome, spec.description, list(spec.components)
        )
        for name, role in ((spec.manager, "manager"), (spec.therapist, "therapist")):
            respondent = studies.add_respondent(session, case, name, role)
            given = CONSENT_DATE + dt.timedelta(days=7 * number)
            for scope in ("interview", "recording", "member_check"):
                studies.record_consent(session, respondent, scope, given)
    return study


def _ensure_users(session: Session) -> None:
    existing = {u.username for u in users.list_users(session)}
    if config.DEMO_ADMIN_USERNAME not in existing:
        users.add_user(session, config.DEMO_ADMIN_USERNAME, config.DEMO_ADMIN_PASSWORD, "admin", "Demo Administrator")
    for username, display in DEMO_CODERS:
        if username not in existing:
            users.add_user(session, username, DEMO_CODER_PASSWORD, "coder", display)


def load_demo(store: Store, force: bool = False) -> dict:
    """Load the demo into an empty database (or beside other studies with ``force``)."""
    with store.write("demo") as session:
        has_study = session.scalar(select(Study.id).limit(1)) is not None
        if has_study and not force:
            raise UserError("the database already holds a study; use --force to add the demo beside it")
        if session.scalar(select(Study.id).where(Study.title == DEMO_TITLE)) is not None:
            raise UserError("the demo study is already loaded")
        _ensure_users(session)
        study = _load_foundation(session)
        for target in DEMO_EXTENSIONS:
            module_name, function_name = target.split(":")
            getattr(importlib.import_module(module_name), function_name)(session, study)
        return {"study_id": study.id, "title": study.title, "cases": len(DEMO_CASES), "admin": config.DEMO_ADMIN_USERNAME}


def load_demo_if_empty(store: Store) -> bool:
    with store.read() as session:
        if session.scalar(select(Study.id).limit(1)) is not None:
            return False
    load_demo(store)
    return True
