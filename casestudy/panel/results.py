"""The panel's results as plain values: ratings, determinant mentions and the response figures
(invited, returned, median minutes), as the reports stage and the CSV exports use them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import status
from casestudy import study as studies
from casestudy.models import (
    Answer,
    Case,
    CaseTiming,
    PanelMember,
    Questionnaire,
    Study,
)
from casestudy.panel.answers import answers_of
from casestudy.panel.members import list_members
from casestudy.status import StageStatus


# --- researchers: progress, answers, exports ------------------------------------------------
def short_label(label: str) -> str:
    return re.sub(r"^(case|unit)\s+", "", label.strip(), flags=re.IGNORECASE)


def _submitted(session: Session, study: Study) -> list[PanelMember]:
    return [m for m in list_members(session, study) if m.status == "submitted"]


def answers_rows(session: Session, study: Study, include_unsubmitted: bool = False):
    """(ratings, mentions, comments) of submitted members, pseudonyms only, in a stable order."""
    members = list_members(session, study) if include_unsubmitted else _submitted(session, study)
    cases = {c.id: c for c in studies.list_cases(session, study)}
    ratings, mentions, comments = [], [], []
    for member in members:
        if member.questionnaire_id is None:
            continue
        q = session.get(Questionnaire, member.questionnaire_id)
        answers = answers_of(session, member)
        ordered_cases = sorted(cases.values(), key=lambda c: c.public_label)
        for case in ordered_cases:
            for item in q.items:
                if item.kind != "likert_per_case":
                    continue
                answer = answers.get((item.id, case.id))
                if answer is None:
                    continue
                ratings.append(Rating(member.pseudonym, short_label(case.public_label), item.label, answer.value.get("v")))
        for item in q.items:
            answer = answers.get((item.id, 0))
            value = answer.value.get("v") if answer is not None else None
            if item.kind == "free_list" and value:
                order_item = next((i for i in q.items if i.kind == "ordered_list" and i.options.get("source") == item.key), None)
                order_answer = answers.get((order_item.id, 0)) if order_item else None
                ordered = [v for v in (order_answer.value.get("v") or []) if v in value] if order_answer else []
                for rank, text in enumerate(ordered, start=1):
                    mentions.append(DeterminantMention(member.pseudonym, "recurring", rank, text))
                for text in value:
                    if text not in ordered:
                        mentions.append(DeterminantMention(member.pseudonym, "recurring", None, text))
            elif item.kind == "additional_list" and value:
                for text in value:
                    mentions.append(DeterminantMention(member.pseudonym, "additional", None, text))
            elif item.kind == "open_comment" and value:
                comments.append({"expert": member.pseudonym, "item": item.label, "comment": value})
    return ratings, mentions, comments


def ratings_csv(ratings: Sequence[Rating]) -> str:
    from casestudy import tabular

    return tabular.csv_text(["expert", "case", "item", "score"], [[r.expert, r.case, r.item, "" if r.score is None else r.score] for r in ratings])


def determinants_csv(mentions: Sequence[DeterminantMention]) -> str:
    from casestudy import tabular

    return tabular.csv_text(["expert", "task", "rank", "determinant"], [[m.expert, m.task, "" if m.rank is None else m.rank, m.determinant] for m in mentions])


def minutes_by_member(session: Session, study: Study) -> dict[str, float]:
    rows = session.execute(
        select(PanelMember.pseudonym, func.sum(CaseTiming.seconds)).join(CaseTiming, CaseTiming.member_id == PanelMember.id)
        .where(PanelMember.study_id == study.id).group_by(PanelMember.pseudonym)
    ).all()
    return {pseudonym: float(total) / 60 for pseudonym, total in rows}


# --- the panel's results as plain values (for the reports stage) --------------------------------------------------------
def _has_panel_answers(session: Session, study: Study) -> bool:
    return any(m.status == "submitted" for m in list_members(session, study))


def panel_ratings(session: Session, study: Study):
    if not _has_panel_answers(session, study):
        return None
    return answers_rows(session, study)[0] or None


def panel_determinants(session: Session, study: Study):
    if not _has_panel_answers(session, study):
        return None
    return answers_rows(session, study)[1] or None


def panel_figures(session: Session, study: Study):
    members = list_members(session, study)
    if not members:
        return None
    minutes = minutes_by_member(session, study)
    submitted = [minutes[m.pseudonym] for m in members if m.status == "submitted" and m.pseudonym in minutes]
    from statistics import median

    return PanelFigures(
        invited=sum(1 for m in members if m.invited_at is not None),
        returned=sum(1 for m in members if m.status == "submitted"),
        median_minutes=median(submitted) if submitted else None,
    )


def stage_status(session: Session, case: Case) -> StageStatus:
    """Done when every invited expert who has not declined submitted; the panel is the study's,
    so the experts it waits for are the same for every case."""
    count = session.scalar(select(func.count(Answer.id)).where(Answer.case_id == case.id)) or 0
    members = [m for m in list_members(session, session.get(Study, case.study_id)) if m.status != "declined"]
    new = sum(1 for m in members if m.invited_at is None)
    invited = len(members) - new
    if not invited:
        return status.not_started(f"panel: invite {status.plural(new, 'new member')}" if new else "panel: add and invite the experts")
    summary = status.plural(count, "rating")
    submitted = sum(1 for m in members if m.status == "submitted")
    if new:
        return status.still_open(summary, f"panel: invite {status.plural(new, 'new member')}")
    if submitted < invited:
        return status.still_open(
            summary,
            f"panel: {submitted} of {status.plural(invited, 'expert')} submitted; "
            f"waiting for {status.plural(invited - submitted, 'expert')}",
            status.EXPERTS,
        )
    return status.done(summary)


@dataclass(frozen=True)
class Rating:
    expert: str
    case: str
    item: str
    score: int | None  # None = missing


@dataclass(frozen=True)
class DeterminantMention:
    expert: str
    task: str  # "recurring" or "additional"
    rank: int | None  # importance order, 1 = most important; None = not ordered
    determinant: str


@dataclass(frozen=True)
class PanelFigures:
    invited: int | None = None
    returned: int | None = None
    median_minutes: float | None = None

    @property
    def response_rate(self) -> float | None:
        if not self.invited or self.returned is None:
            return None
        return self.returned / self.invited


TASKS = ("recurring", "additional")
