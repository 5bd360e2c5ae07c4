"""The demo focus group (the reference study's Chapter 8): one unit before and during a
reorganisation, seven participants, their individual ratings, discussion notes and the
published consensus scores.

The unit is the demo's Case B (its programme invented like every name here). Its periods follow
the study: PRE-REORG (starts August 2004 to December 2007) and REORG (September 2008 to April
2011), with the interim starters of January to August 2008 left out. The participants are two
managers, three therapists and two researchers, all blind to outcomes. The consensus scores are
the published Table 4 cells (the same as examples/reference-table4-scores.csv); the round-1
ratings are invented around them: for a whole score the seven ratings lie at most one point
from it, for a split a/b they are a and b.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from casestudy import bulk, periods
from casestudy import study as studies
from casestudy.models import FocusRating, Study, utcnow
from casestudy.panel import focus

CASE = "Case B"
PERIODS = (
    ("PRE-REORG", "2004-08", "2007-12", "Patients who started before the reorganisation, with at least nine months of treatment before it."),
    ("REORG", "2008-09", "2011-04", "Patients who started during the reorganisation, with at least nine months of treatment during it."),
)
EXCLUSION = "Six patients who started in the interim (January to August 2008) are not included in either period."
PARTICIPANTS = (  # invented names; role; levels they judge
    ("Hanna Vos", "manager", ("organization", "team")),
    ("Joost Meijer", "manager", ("organization", "team")),
    ("Sara Dekker", "therapist", ("organization", "team", "therapist")),
    ("Milan Kok", "therapist", ("organization", "team", "therapist")),
    ("Eva Peeters", "therapist", ("organization", "team", "therapist")),
    ("Tom Visser", "researcher", ("organization", "team", "therapist")),
    ("Lotte Bakker", "researcher", ("organization", "team", "therapist")),
)
# Item key -> (PRE-REORG, REORG) consensus as published in Table 4.
CONSENSUS = {
    "O1": ("7", "4"), "O2": ("6", "2/3"), "O3": ("7", "4"), "O4": ("7", "2/3"), "O5": ("6", "2"), "O6": ("5", "3"),
    "O7": ("7", "1"), "T1": ("6", "2/3"), "T2": ("6", "1"), "T3": ("6", "3"), "T4": ("7", "2"), "T5": ("6", "2/3"),
    "T6": ("6/7", "2/3"), "T7": ("5/6", "2/3"), "T8": ("6", "2/3"), "T9": ("6", "2/3"), "T10": ("6", "2"), "T11": ("6", "2"),
    "P1": ("4", "2"), "P2": ("6", "2/3"), "P3": ("7", "3"),
}
NOTES = {
    "O4": "Three heads of department in two years during the reorganisation; before it the same manager for years.",
    "O7": "During the reorganisation staff were placed in the unit by the organisation, not chosen for it.",
    "T2": "The team shrank to five members for most of the REORG period.",
    "T6": "Some hesitated between 6 and 7 for PRE-REORG: the expertise was there, but with one senior therapist.",
}
OFFSETS = (0, 1, -1, 0, 1, 0, -1)  # the seven participants around a whole consensus score


def _ratings(score: str, low: int, high: int) -> list[int]:
    if "/" in score:
        a, b = (int(x) for x in score.split("/"))
        return [a if i % 2 == 0 else b for i in range(len(PARTICIPANTS))]
    return [min(high, max(low, int(score) + offset)) for offset in OFFSETS]


def load_demo_focus_group(session: Session, study: Study) -> None:
    """Periods of Case B, the focus group, its participants, their submitted round-1 ratings,
    the discussion notes and the published consensus scores."""
    case = studies.get_case(session, study, CASE)
    for name, starts, ends, description in PERIODS:
        periods.add_period(session, case, name, starts, ends, description)
    periods.set_exclusion_note(session, case, EXCLUSION)
    group = focus.create_group(session, study, case, "mbt-focus-group-checklist",
                               title="Adherence before and during the reorganisation")
    instrument = focus.instrument_of(session, group)
    scale = instrument.scale
    period_ids = {p.name: p.id for p in focus.periods_of(session, group)}
    people = [focus.add_participant(session, group, name, role, levels) for name, role, levels in PARTICIPANTS]
    rows = []  # the demo's own, known-good ratings: one bulk insert instead of 294 autosaves
    now = utcnow()
    for person_index, person in enumerate(people):
        rated = {item.key for item in focus.participant_items(instrument, person)}
        for key, scores in CONSENSUS.items():
            if key not in rated:
                continue
            for (period, *_), score in zip(PERIODS, scores):
                value = _ratings(score, scale.min, scale.max)[(person_index + len(key)) % len(PARTICIPANTS)]
                rows.append({"participant_id": person.id, "item_key": key, "period_id": period_ids[period], "score": value,
                             "updated_at": now, "saves": 1})
        person.submitted_at = now
    bulk.bulk_insert(session, FocusRating.__table__, rows, study_id=study.id, what="demo focus-group ratings")
    for key, text in NOTES.items():
        focus.set_note(session, group, key, text)
    for key, scores in CONSENSUS.items():
        for (period, *_), score in zip(PERIODS, scores):
            focus.set_consensus(session, group, key, period, score)
    session.flush()
