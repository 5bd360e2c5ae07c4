"""The demo study's identity register: every invented organisation, person and place in it."""

from __future__ import annotations

from . import tabular
from .demo import DEMO_CASES

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
