"""The demo study's masking: its identity register (every invented organisation, person and place)
and the masked, released texts of the agreed demo reconstructions."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy.orm import Session

from casestudy import tabular
from casestudy.demo.cases import DEMO_CASES
from casestudy.demo.interviews import DATA_FOLDER
from casestudy.masking import workflow
from casestudy.models import Case, Study
from casestudy.reconstruction import membercheck
from casestudy.study import list_cases

# Shorter names the demo texts use for the organisations, and the places inside them.
ORGANISATION_VARIANTS = {
    "Zorggroep Veldhoven-Oost": ["Veldhoven-Oost"],
    "GGZ Rivierenland-Noord": ["Rivierenland-Noord", "GGZ Rivierenland"],
    "Stichting De Lindenhof": ["De Lindenhof", "Lindenhof"],
    "Psychiatrisch Centrum Hoogland": ["PC Hoogland"],
    "Het Baken Zorg": ["Het Baken"],
    "Centrum Duinzicht": ["Duinzicht"],
}
PLACES = [("Veldhoven", "[town]"), ("Rivierenland", "[region]"), ("Hoogland", "[town]")]


def demo_register_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    seen: set[str] = set()
    for case in DEMO_CASES:
        if case.organisation not in seen:
            seen.add(case.organisation)
            rows.append([case.organisation, "the institution", "organisation", ";".join(ORGANISATION_VARIANTS.get(case.organisation, []))])
    for case in DEMO_CASES:
        rows.append([case.manager, "[manager]", "person", ""])
        rows.append([case.therapist, "[principal therapist]", "person", ""])
    for place, replacement in PLACES:
        rows.append([place, replacement, "place", ""])
    return rows


def demo_register_csv() -> str:
    return tabular.csv_text(["term", "replacement", "kind", "variants"], demo_register_rows())


# --- loading ---------------------------------------------------------------------------
def release_agreed_demo(session: Session, study: Study) -> list[Callable[[Session, Study], None]]:
    """Demo step: mask, accept and release every agreed demo reconstruction; its parts, one case
    each (``demo.load_demo`` runs each in a writing transaction of its own)."""
    return [functools.partial(_release_agreed, case_id=case.id) for case in list_cases(session, study)
            if membercheck.agreed_version(session, case) is not None]


def _release_agreed(session: Session, study: Study, case_id: int) -> None:
    """Mask, accept and release the case's agreed reconstruction."""
    masked = workflow.generate_from_agreed(session, session.get(Case, case_id))
    workflow.accept_all(session, masked.id)
    for index, candidate in enumerate(masked.candidates):
        if candidate.get("status") == "open":
            workflow.decide_candidate(session, masked.id, index, "keep")
    workflow.release(session, masked.id, "demo")


def load_demo_register(session: Session, study: Study) -> None:
    """Demo step: the demo study's register (interviews/demo-identities.csv too, if present)."""
    workflow.import_register_csv(session, study, demo_register_csv(), "demo register")
    extra = DATA_FOLDER / "demo-identities.csv"
    if extra.exists():
        workflow.import_register_csv(session, study, extra.read_text(encoding="utf-8"), str(extra.name))
