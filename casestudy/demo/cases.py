"""The demo study's foundation: seven invented cases, their respondents and the demo accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from casestudy import config, users
from casestudy import study as studies
from casestudy.models import Study
from casestudy.study import ComponentSpec

DEMO_TITLE = "MBT implementation in seven programmes (demo)"

DEMO_CODERS = list(zip(config.DEMO_CODER_USERNAMES, ("Noor Coder", "Jesse Coder")))
DEMO_CODER_PASSWORD = config.DEMO_CODER_PASSWORD


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


def load_foundation(session: Session, title: str = DEMO_TITLE) -> Study:
    study = studies.create_study(
        session,
        title,
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


def ensure_demo_users(session: Session) -> None:
    existing = {u.username for u in users.list_users(session)}
    if config.DEMO_ADMIN_USERNAME not in existing:
        users.add_user(session, config.DEMO_ADMIN_USERNAME, config.DEMO_ADMIN_PASSWORD, "admin", "Demo Administrator")
    for username, display in DEMO_CODERS:
        if username not in existing:
            users.add_user(session, username, DEMO_CODER_PASSWORD, "coder", display)


def add_demo_members(session: Session, study: Study) -> None:
    """The demo accounts join the demo study: the demo administrator as owner, the coders as coders."""
    for username, role in ((config.DEMO_ADMIN_USERNAME, "owner"), *((name, "coder") for name, _ in DEMO_CODERS)):
        if studies.study_role(session, study.id, users.get_user(session, username).id) is None:
            studies.add_member(session, study, username, role)
