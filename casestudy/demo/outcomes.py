"""The demo's outcomes and integration: outcome descriptors per case, the components'
sustainment, the panel's determinants mapped to codebook codes, the study's recommendations and
the masked, released case summaries of the agreed reconstructions."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.masking import summaries, workflow
from casestudy.models import Case, Study
from casestudy.reconstruction import membercheck
from casestudy.reconstruction import outcomes as case_outcomes
from casestudy.reports import integration

DEMO_PRINCIPAL = access.Principal(access.RESEARCHER, 0, "demo", role="admin")

# Public label -> (descriptor, note), read off the demo cases' outcome descriptions.
CASE_DESCRIPTORS = {
    "Case A": (("programme stopped", ""), ("staff turnover", "four of the eleven team members left"), ("extra costs", "running costs above plan")),
    "Case C": (("programme stopped", ""), ("staff turnover", "with high sick leave"), ("extra costs", "financial loss")),
    "Case D": (("programme stopped", "at the time of writing"), ("staff turnover", ""), ("complaints", "dissatisfied patients"),
               ("extra costs", "financial loss")),
    "Case E": (("extra costs", "PH groups run at a loss"),),
    "Case G": (("drop-out", "high in PH"), ("incidents", "many crises in PH"), ("complaints", "formal complaints about PH")),
}
# (public label, component type) -> (sustainment, stop date, note).
SUSTAINMENT = {
    ("Case A", "PH"): ("discontinued", dt.date(2022, 12, 31), "stopped after the second year"),
    ("Case B", "PH"): ("sustained", None, ""),
    ("Case B", "IOP"): ("sustained", None, ""),
    ("Case C", "PH"): ("discontinued", dt.date(2023, 6, 30), ""),
    ("Case D", "PH"): ("discontinued", dt.date(2024, 3, 1), "stopped at the time of writing"),
    ("Case E", "PH"): ("sustained", None, "with financial losses"),
    ("Case E", "IOP"): ("never_started", None, "planned for the second year"),
    ("Case F", "PH"): ("sustained", None, ""),
    ("Case G", "PH"): ("sustained", None, ""),
    ("Case G", "IOP"): ("sustained", None, ""),
}
# The panel's ranked determinants (canonical labels) -> the code of the demo's MBT codebook.
DETERMINANT_CODES = {
    "support within the organization": "Organization/Organisational commitment and support",
    "leadership": "Organization and team/Roles and leadership/Leadership",
    "selection of therapist": "Organization and team/Staff recruitment and selection",
    "training": "Organization and team/Staff recruitment and selection/Training and supervision",
    "highly structured project-based implementation": "Organization/Implementation approach/Structured project-based implementation",
    "availability of methodical expertise": "Organization/Availability of MBT expertise",
    "budget": "Organization/Organisational commitment and support/Financial support and budget",
    "team size": "Organization and team/Balanced mentalizing team/Team size",
}
RECOMMENDATIONS = (
    ("organisation", "Secure support above the unit before the start: a sponsor in the board who defends the running costs.",
     ("support within the organization", "budget")),
    ("organisation", "Plan the implementation as a project with phases, a budget for training and supervision, and evaluation moments.",
     ("highly structured project-based implementation", "training")),
    ("organisation", "Appoint a manager who leads actively and stays for the first years.", ("leadership",)),
    ("team", "Select therapists for the programme on their mentalizing stance and their willingness to train.", ("selection of therapist",)),
    ("team", "Keep the team small enough to reflect together, with an MBT-trained supervisor available.",
     ("team size", "availability of methodical expertise")),
)


def _release_summary(session: Session, study: Study, case) -> bool:
    """Mask the case's summary, accept its replacements, keep its candidates and release it;
    False (left as a draft) when the leak or linkage scan still blocks the release."""
    masked = summaries.generate_summary(session, study, DEMO_PRINCIPAL, case)
    workflow.accept_all(session, masked.id)
    for index, candidate in enumerate(masked.candidates):
        if candidate.get("status") == "open":
            workflow.decide_candidate(session, masked.id, index, "keep")
    if workflow.leak_scan(session, masked) or workflow.open_findings(session, masked):
        return False
    workflow.release(session, masked.id, "demo")
    return True


def load_demo_outcomes(session: Session, study: Study) -> list[Callable[[Session, Study], None]]:
    """Demo step: outcome descriptors and sustainment, determinants mapped to codes,
    recommendations; then, as its parts (``demo.load_demo`` runs each in a writing transaction
    of its own), the released masked summary of each agreed reconstruction."""
    case_outcomes.add_default_descriptors(session, study, DEMO_PRINCIPAL)
    cases = {c.public_label: c for c in studies.list_cases(session, study)}
    for label, tags in CASE_DESCRIPTORS.items():
        for descriptor, note in tags:
            case_outcomes.tag_case(session, study, DEMO_PRINCIPAL, cases[label], descriptor, note)
    for (label, component), (value, stopped, note) in SUSTAINMENT.items():
        case_outcomes.set_sustainment(session, study, DEMO_PRINCIPAL, cases[label], component, value, stopped, note)
    for determinant, code in DETERMINANT_CODES.items():
        integration.map_code(session, study, DEMO_PRINCIPAL, determinant, code)
    for audience, text, determinants in RECOMMENDATIONS:
        integration.add_recommendation(session, study, DEMO_PRINCIPAL, audience, text, determinants)
    return [functools.partial(_release_case_summary, case_id=case.id) for case in cases.values()
            if (agreed := membercheck.agreed_version(session, case)) is not None and agreed.summary.strip()]


def _release_case_summary(session: Session, study: Study, case_id: int) -> None:
    _release_summary(session, study, session.get(Case, case_id))
