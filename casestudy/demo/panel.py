"""The demo expert panel: 20 invented experts, 12 submitted, answers reproducing the reference figures.

The twelve submitted experts' ratings reproduce every mean and range of the reference study's
Table 2 and their determinant lists the published ranking counts (the same data as
examples/reference-ratings.csv and examples/reference-determinants.csv). The other eight are in
various funnel states. Every name is invented.

Until the member-check stage supplies agreed reconstructions, each demo case gets a short neutral
description written for this demo, masked with the study's register and released.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy import tabular
from casestudy.masking import workflow as masking_workflow
from casestudy.models import MaskedText, PanelMember, Study
from casestudy.panel import answers as panel_answers
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire
from casestudy.panel import responses, results

DEMO_BASE_URL = "http://localhost:8501"
START = dt.datetime(2024, 9, 2, 9, 0)

# Internal label -> a short neutral description (the organisation's name is masked on release).
CASE_SKETCHES = {
    "Unit 4": (
        "The department at {org} opened two day-treatment groups after a period of preparation by a small project group. "
        "The groups filled slowly and the costs rose faster than planned. Several therapists left within the "
        "first two years and the remaining staff carried a heavy load. The management eventually decided to stop "
        "the programme."
    ),
    "Unit 2": (
        "At {org} one day-treatment group (three days a week) and one outpatient group were started by a team "
        "that had trained together beforehand. Few patients dropped out, and over time the team felt confident "
        "enough to admit patients with more severe problems. The team describes the workload as demanding but "
        "manageable."
    ),
    "Unit 7": (
        "The department at {org} began two day-treatment groups with a newly formed team. Sick leave and staff turnover were high "
        "from the first year, and the programme ran at a financial loss. After repeated attempts to stabilise the "
        "team, the programme was closed."
    ),
    "Unit 1": (
        "The department at {org} introduced two day-treatment groups. Therapists came and went, patients voiced dissatisfaction "
        "about changes in their therapists, and the department reported losses. At the time of the interviews the "
        "programme had been stopped."
    ),
    "Unit 5": (
        "At {org} two day-treatment groups are still running, although the department loses money on them. "
        "An outpatient group was planned as the next step but never started because too few patients were "
        "referred and staff were needed elsewhere."
    ),
    "Unit 6": (
        "The department at {org} expanded its programme quickly to two day-treatment groups. The department set out to include "
        "patients that other services found hard to treat and succeeded in doing so, with few incidents and few "
        "patients dropping out."
    ),
    "Unit 3": (
        "The department at {org} runs day-treatment and outpatient groups. The outpatient groups work well. The day-treatment "
        "groups weigh heavily on the team: many patients drop out, crises are frequent and several formal "
        "complaints were filed."
    ),
}

# name, e-mail domain part, organisation, expertise; invitation order = pseudonym order.
EXPERTS = (
    ("Anouk Verbeek", "Instituut Noordkaap", ("treating", "theoretical")),
    ("Bram Hofstede", "Praktijk De Meander", ("treating",)),
    ("Carla Wensink", "Kenniscentrum Ypsilon", ("theoretical",)),
    ("Dirk Ramaker", "Zorgnet Oostergo", ("managing",)),
    ("Els Donkersloot", "Praktijk Hooghalen", ("treating", "managing")),
    ("Frits Boelema", "Centrum Westerwolde", ("managing",)),
    ("Greet Luyendijk", "Hogeschool Amstelrand", ("theoretical", "treating")),
    ("Hidde Schaapman", "Zorgnet Oostergo", ("treating",)),
    ("Ingrid Vlasblom", "Instituut Noordkaap", ("managing", "theoretical")),
    ("Joost Terpstra", "Praktijk Zuiderveld", ("treating",)),
    ("Karlijn Oomkens", "Centrum Westerwolde", ("treating", "managing")),
    ("Lodewijk Brons", "Universiteit Lindeoord", ("theoretical",)),
    ("Maaike Zandbergen", "Praktijk De Meander", ("treating",)),
    ("Niels Kamphorst", "Zorgnet Oostergo", ("managing",)),
    ("Olga Tiemersma", "Kenniscentrum Ypsilon", ("theoretical",)),
    ("Pieter Wagenvoort", "Centrum Westerwolde", ("treating",)),
    ("Quirine Hazenberg", "Praktijk Hooghalen", ("managing", "treating")),
    ("Rik Sonderen", "Universiteit Lindeoord", ("theoretical",)),
    ("Sietske Molenkamp", "Instituut Noordkaap", ("treating",)),
    ("Teun Gravemaker", "Praktijk Zuiderveld", ("managing",)),
)

# Ratings of the submitted experts: per item (in questionnaire order) the scores for cases A..G.
RATINGS = {
    "E01": ("4455344", "5454455", "4444544", "2442444"),
    "E02": ("4455444", "5434452", "5444544", "2443444"),
    "E03": ("4455444", "5444453", "3454444", "2443444"),
    "E04": ("5453454", "5544453", "3454544", "2433443"),
    "E05": ("5554455", "5344433", "4455544", "3433443"),
    "E06": ("5554455", "5344443", "4553544", "3433443"),
    "E07": ("5544453", "5344544", "4553544", "3333434"),
    "E08": ("5545454", "4344344", "4553545", "3333444"),
    "E09": ("5545454", "4445344", "4533543", "4333444"),
    "E10": ("5455534", "4445444", "4544543", "1433344"),
    "E11": ("5455544", "5443454", "4544553", "2434344"),
    "E12": ("5455544", "5454454", "4444533", "2434344"),
}
RATING_ITEMS = ("combination", "organization", "team", "therapist")

# (expert, task, rank, determinant) as the experts wrote them (spelling variants included).
DETERMINANTS = (
    ("E01", "recurring", 1, "support within the organization"),
    ("E01", "recurring", 2, "leadership"),
    ("E01", "recurring", 3, "training"),
    ("E01", "recurring", 4, "clear referral pathways"),
    ("E01", "additional", None, "involvement of health insurers"),
    ("E02", "recurring", 1, "selection of therapist"),
    ("E02", "recurring", 2, "support within the organization"),
    ("E02", "recurring", 3, "highly structured project-based implementation"),
    ("E03", "recurring", 1, "leadership"),
    ("E03", "recurring", 2, "Support within the  organization"),
    ("E03", "recurring", 3, "highly structured project-based implementation"),
    ("E03", "recurring", 4, "budget"),
    ("E03", "additional", None, "national policy on personality disorders"),
    ("E04", "recurring", 1, "support within the organization"),
    ("E04", "recurring", 2, "selection of therapist"),
    ("E04", "recurring", 3, "availability of methodical expertise"),
    ("E04", "recurring", 4, "supervision by a senior therapist"),
    ("E04", "additional", None, "collaboration with referrers"),
    ("E05", "recurring", 1, "Leadership"),
    ("E05", "recurring", 2, "selection of therapist"),
    ("E05", "recurring", 3, "training"),
    ("E05", "recurring", 4, "cohesion within the team"),
    ("E06", "recurring", 1, "highly structured project-based implementation"),
    ("E06", "recurring", 2, "support within the organization"),
    ("E06", "recurring", 3, "leadership"),
    ("E06", "recurring", 4, "team size"),
    ("E06", "additional", None, "case load per therapist"),
    ("E07", "recurring", 1, "selection of therapist"),
    ("E07", "recurring", 2, "leadership"),
    ("E07", "recurring", 3, "availability of methodical expertise"),
    ("E07", "recurring", 4, "continuity of staff"),
    ("E08", "recurring", 1, "support within the organization"),
    ("E08", "recurring", 2, "budget"),
    ("E08", "recurring", 3, "selection of therapist"),
    ("E08", "recurring", 4, "inclusion criteria for patients"),
    ("E08", "additional", None, "peer consultation between programmes"),
    ("E09", "recurring", 1, "leadership"),
    ("E09", "recurring", 2, "training"),
    ("E09", "recurring", 3, "highly structured project-based implementation"),
    ("E09", "recurring", 4, "reflective stance of therapists"),
    ("E09", "additional", None, "suitable building and rooms"),
    ("E10", "recurring", None, "support within the organization"),
    ("E10", "recurring", None, "highly structured project-based implementation"),
    ("E10", "recurring", None, "Selection of therapist"),
    ("E10", "recurring", None, "team size"),
    ("E11", "recurring", 1, "training"),
    ("E11", "recurring", 2, "support within the organization"),
    ("E11", "recurring", 3, "availability of methodical expertise"),
    ("E11", "recurring", 4, "fit with the mission of the institution"),
    ("E12", "recurring", 1, "selection of therapist"),
    ("E12", "recurring", 2, "leadership"),
    ("E12", "recurring", 3, "budget"),
    ("E12", "recurring", 4, "training"),
    ("E12", "additional", None, "management of the waiting list"),
)

# The eight others: pseudonym -> funnel state (in_progress ones have rated their first cases).
OTHERS = {"E13": "in_progress", "E14": "in_progress", "E15": "opened", "E16": "opened",
          "E17": "invited", "E18": "invited", "E19": "declined", "E20": "declined"}

_EXPERTISE = {"treating": "treating the target population", "managing": "managing programmes", "theoretical": "theoretical background"}


def _email(name: str) -> str:
    first, *rest = name.lower().split()
    return f"{first}.{''.join(rest)}@example.org"


def release_demo_texts(session: Session, study: Study) -> int:
    """A released masked sketch for every case that has no released text yet."""
    released = {row.case_id for row in session.scalars(select(MaskedText).where(MaskedText.study_id == study.id, MaskedText.status == "released", MaskedText.text_kind == "narrative"))}
    count = 0
    for case in studies.list_cases(session, study):
        sketch = CASE_SKETCHES.get(case.internal_label)
        if sketch is None or case.id in released:
            continue
        organisation = case.organisation.name if case.organisation else "The department"
        row = masking_workflow.generate_masked(session, case, sketch.format(org=organisation), "demo sketch")
        masking_workflow.accept_all(session, row.id)
        for index, candidate in enumerate(row.candidates):
            if candidate.get("status") == "open":
                masking_workflow.decide_candidate(session, row.id, index, "keep")
        masking_workflow.release(session, row.id, "demo")
        count += 1
    return count


def ratings_text() -> str:
    rows = []
    for expert, per_item in RATINGS.items():
        for case_index, case in enumerate("ABCDEFG"):
            for item, scores in zip(RATING_ITEMS, per_item):
                rows.append([expert, case, item, scores[case_index]])
    return tabular.csv_text(["expert", "case", "item", "score"], rows)


def determinants_text() -> str:
    return results.determinants_csv([results.DeterminantMention(*row) for row in DETERMINANTS])


def load_demo_panel(session: Session, study: Study) -> None:
    """DEMO_EXTENSIONS hook."""
    release_demo_texts(session, study)
    q = panel_questionnaire.ensure_questionnaire(session, study)
    members: list[PanelMember] = []
    for number, (name, organisation, expertise) in enumerate(EXPERTS, start=1):
        member = panel_members.add_member(session, study, name, _email(name), organisation, [_EXPERTISE[e] for e in expertise], f"E{number:02d}")
        panel_members.invite(session, study, member, DEMO_BASE_URL)
        member.invited_at = START + dt.timedelta(minutes=5 * number)
        members.append(member)
    responses.import_responses(session, study, ratings_text(), determinants_text())
    q.frozen_at = START + dt.timedelta(days=2)
    for index, member in enumerate(members):
        day = START + dt.timedelta(days=2 + index % 9, hours=index % 5)
        if member.pseudonym in RATINGS:
            member.source = "online"
            member.opened_at, member.started_at = day, day + dt.timedelta(minutes=3)
            member.submitted_at = day + dt.timedelta(days=index % 4, hours=2)
            for position, case_id in enumerate(member.case_order):
                seconds = 540 + ((index * 5 + position * 3) % 7) * 60 + (index % 3) * 45
                panel_answers._add_time(session, member.id, case_id, float(seconds))
            continue
        state = OTHERS[member.pseudonym]
        if state in ("opened", "in_progress"):
            member.questionnaire_id = q.id
            panel_members.set_status(member, "opened")
            member.opened_at = day
        if state == "in_progress":
            panel_members.set_status(member, "in_progress")
            member.started_at = day + dt.timedelta(minutes=4)
            item_ids = {i.key: i.id for i in q.items}
            rows = []
            for position, case_id in enumerate(member.case_order[:2], start=1):
                for key, score in zip(RATING_ITEMS, (4, 4, 3, 3) if position == 1 else (5, 3, 4, 2)):
                    rows.append({"member_id": member.id, "item_id": item_ids[key], "case_id": case_id, "case_slot": case_id,
                                 "value": {"v": score}, "shown_position": position})
                panel_answers._add_time(session, member.id, case_id, 840.0)
            panel_answers.upsert_answers(session, rows)
        if state == "declined":
            panel_members.decline(session, member)
            member.declined_at = day
    session.flush()


# --- the Delphi rounds ------------------------------------------------------------------------
# Every item already has IQR <= 1 after round 1 (linear quartiles), so the demo's rule, chosen
# before round 1 closed, is stricter: consensus at IQR <= 0.5, or stability (at most 15 % of the
# experts changing their answer).
DELPHI_RULE = ("either", "0.5", "0.15", "linear")
DELPHI_CLOSED = START + dt.timedelta(days=21)
DELPHI_OPENED = START + dt.timedelta(days=23)
DELPHI_ROUND_TWO_CLOSED = START + dt.timedelta(days=33)
REASONS = (
    "Seeing the panel's median I read the case again; the description supports the middle view better than my first answer.",
    "I weighed one incident too heavily in round 1; over the whole period the picture is closer to the group's.",
    "On reflection the team's own account points the same way as most of the panel.",
    "My first rating mixed up two levels; rated on this level alone it is closer to the median.",
)


def delphi_revisions() -> list[tuple[str, str, str, int, int, str]]:
    """(expert, statement, case, round-1 answer, round-2 answer, reason) of the demo's round 2:
    on every item without consensus after round 1, every other expert whose answer lies a point
    or more from the median moves one point towards it, with a reason."""
    from fractions import Fraction

    from casestudy.panel.delphi import item_stats

    rule_iqr = Fraction(DELPHI_RULE[1])
    revisions, turn = [], 0
    for index, item in enumerate(RATING_ITEMS):
        for case_index, case in enumerate("ABCDEFG"):
            answers = {expert: int(scores[index][case_index]) for expert, scores in RATINGS.items()}
            stats = item_stats(answers.values(), DELPHI_RULE[3])
            if stats.iqr <= rule_iqr:
                continue
            movers = [e for e, v in answers.items() if abs(v - stats.median) >= 1]
            for expert in movers[::2]:
                before = answers[expert]
                after = before + (1 if stats.median > before else -1)
                revisions.append((expert, item, case, before, after, REASONS[turn % len(REASONS)]))
                turn += 1
    return revisions


def load_demo_delphi(session: Session, study: Study) -> None:
    """A two-round Delphi on the demo panel: the rule set in advance, round 1 closed, round 2
    answered by all twelve experts (revisions with reasons, the rest kept) and closed."""
    from casestudy import access
    from casestudy.panel import delphi

    delphi.set_stopping_rule(session, study, *DELPHI_RULE[:1], iqr_max=DELPHI_RULE[1], change_max=DELPHI_RULE[2],
                             quartile_method=DELPHI_RULE[3], actor="demo")
    closed = delphi.close_round(session, study, "demo")
    closed.closed_at = DELPHI_CLOSED
    delphi.plan_of(session, study).fixed_at = DELPHI_CLOSED
    opened = delphi.open_round(session, study, "demo")
    opened.opened_at = DELPHI_OPENED
    labels = {c.public_label[-1]: c.public_label for c in studies.list_cases(session, study)}
    revisions = delphi_revisions()
    for number, pseudonym in enumerate(sorted(RATINGS)):
        member = panel_members.get_member(session, study, pseudonym)
        principal = access.Principal(access.EXPERT, member.id, pseudonym, study_id=study.id)
        for expert, item, case, _, after, reason in revisions:
            if expert == pseudonym:
                delphi.save_revision(session, principal, item, labels[case], after, reason)
        response = delphi.submit_round(session, principal)
        response.started_at = DELPHI_OPENED + dt.timedelta(days=1 + number % 5, hours=1)
        response.submitted_at = response.started_at + dt.timedelta(minutes=25 + 3 * number)
    delphi.close_round(session, study, "demo").closed_at = DELPHI_ROUND_TWO_CLOSED
    session.flush()
