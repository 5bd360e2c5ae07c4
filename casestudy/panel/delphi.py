"""Delphi rounds of the expert panel: a stopping rule chosen in advance, rounds opened and
closed by the researchers, per-item group feedback, revisions with a reason, and the results.

Round 1 is the panel as it is (:mod:`casestudy.panel.answers`): every member answers their own
questionnaire version and submits. Closing round 1 freezes the answers submitted by then (no
re-open, no import after it) and fixes the stopping rule; an expert who had not submitted may
still finish round 1 late, but only the answers submitted before the round closed count in the
Delphi rounds. Opening round ``r`` (r >= 2) needs
round ``r - 1`` closed; it copies the rating statements of the previous round's questionnaire
into a new, frozen questionnaire (the determinant lists and comments belong to round 1) and
invites every expert who submitted round ``r - 1``.

A Delphi **item** is one rating statement for one case, named ``(statement key, public case
label)``. From round 2 each expert sees per item only the group's aggregate of the previous
round (n, median, first and third quartile, IQR, quartiles by the plan's named method in
:mod:`casestudy.quantiles`) and their own previous answer; never another expert's answer or
pseudonym. They keep or revise each answer; a revision (a value other than their previous one)
needs a reason. On submitting, every item they did not touch keeps their previous answer.

The **stopping rule** (:class:`StoppingRule`) is evaluated per item and round: ``consensus``
when the IQR is at most ``iqr_max``; ``stability`` when the share of experts (of those who
answered both this round and the previous one) whose answer changed is at most
``change_max`` (never met in round 1); ``either`` when one of the two holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access, audit, quantiles
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import (
    Answer,
    DelphiPlan,
    PanelMember,
    PanelRound,
    Questionnaire,
    QuestionnaireItem,
    RoundResponse,
    Study,
    utcnow,
)
from casestudy.panel import answers as panel_answers
from casestudy.panel.constants import DELPHI_RULES
from casestudy.panel.members import list_members, new_link
from casestudy.panel.questionnaire import current_questionnaire, next_number, scale_legend, scale_of
from casestudy.panel.results import short_label

RULE_TEXTS = {
    "consensus": "consensus: the IQR is at most {iqr}",
    "stability": "stability: at most {change} % of the experts changed their answer since the previous round",
    "either": "consensus (the IQR is at most {iqr}) or stability (at most {change} % changed since the previous round)",
}
ROUND_INTRODUCTION = (
    "This is round {number} of the panel. For every statement and case you see how the whole panel answered in the "
    "previous round (the median and the interquartile range, the middle half of the answers) and your own previous "
    "answer. You may keep your answer or change it; if you change it, please say briefly why. You do not see any "
    "other expert's answer. Statements you leave untouched keep your previous answer when you submit."
)
MAX_REASON = 2000


# --- the stopping rule ------------------------------------------------------------------------
@dataclass(frozen=True)
class StoppingRule:
    rule: str = "consensus"
    iqr_max: Fraction = Fraction(1)
    change_max: Fraction = Fraction(15, 100)
    quartile_method: str = "linear"

    def text(self) -> str:
        """The rule as a note states it, with the quartile method named."""
        change = float(self.change_max * 100)
        wording = RULE_TEXTS[self.rule].format(iqr=_plain(self.iqr_max), change=f"{change:g}")
        return f"{wording}; quartiles by {quantiles.method_text(self.quartile_method)}"

    def met(self, consensus: bool, stable: bool | None) -> bool:
        if self.rule == "consensus":
            return consensus
        if self.rule == "stability":
            return bool(stable)
        return consensus or bool(stable)

    def as_json(self) -> dict:
        return {"rule": self.rule, "iqr_max": float(self.iqr_max), "change_max": float(self.change_max),
                "quartile_method": self.quartile_method, "text": self.text()}


def _plain(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _fraction(value, what: str) -> Fraction:
    try:
        result = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise UserError(f"{what} must be a number, not {value!r}") from None
    return result


def plan_of(session: Session, study: Study) -> DelphiPlan | None:
    return session.scalar(select(DelphiPlan).where(DelphiPlan.study_id == study.id))


def stopping_rule(session: Session, study: Study) -> StoppingRule:
    """The study's stopping rule; the default (consensus, IQR <= 1, linear quartiles) until one is set."""
    plan = plan_of(session, study)
    if plan is None:
        return StoppingRule()
    return StoppingRule(plan.rule, Fraction(str(plan.iqr_max)), Fraction(str(plan.change_max)), plan.quartile_method)


def set_stopping_rule(session: Session, study: Study, rule: str, iqr_max=1, change_max="0.15",
                      quartile_method: str = "linear", actor: str = "") -> StoppingRule:
    """Choose the stopping rule in advance: allowed until round 1 closes, then fixed.

    ``iqr_max`` >= 0 on the questionnaire's scale; ``change_max`` a share from 0 to 1;
    ``quartile_method`` one of :data:`casestudy.quantiles.QUARTILE_METHODS`.
    """
    if rule not in DELPHI_RULES:
        raise UserError(f"unknown stopping rule {rule!r}; choose one of: {', '.join(DELPHI_RULES)}")
    iqr_max, change_max = _fraction(iqr_max, "the IQR limit"), _fraction(change_max, "the share of changed answers")
    if iqr_max < 0:
        raise UserError("the IQR limit cannot be negative")
    if not 0 <= change_max <= 1:
        raise UserError("the share of changed answers is a share from 0 to 1 (0.15 = 15 %)")
    quantiles.check_method(quartile_method)
    plan = plan_of(session, study)
    if plan is not None and plan.fixed_at is not None:
        raise UserError(f"the stopping rule was fixed when round 1 closed ({plan.fixed_at:%Y-%m-%d %H:%M} UTC); "
                        "it is chosen in advance and cannot change afterwards")
    if plan is None:
        plan = DelphiPlan(study_id=study.id)
        session.add(plan)
    plan.rule, plan.iqr_max, plan.change_max, plan.quartile_method = rule, float(iqr_max), float(change_max), quartile_method
    plan.set_at, plan.set_by = utcnow(), actor
    session.flush()
    return stopping_rule(session, study)


# --- rounds -----------------------------------------------------------------------------------
def list_rounds(session: Session, study: Study) -> list[PanelRound]:
    """The rounds that have a row (round 1 gets one when it closes), oldest first."""
    return list(session.scalars(select(PanelRound).where(PanelRound.study_id == study.id).order_by(PanelRound.number)))


def _newest(session: Session, study: Study) -> PanelRound | None:
    rounds = list_rounds(session, study)
    return rounds[-1] if rounds else None


def current_round_number(session: Session, study: Study) -> int:
    newest = _newest(session, study)
    return newest.number if newest is not None else 1


def close_round(session: Session, study: Study, actor: str = "") -> PanelRound:
    """Close the current round: its answers are frozen; closing round 1 also fixes the stopping rule.

    Round 1 needs at least one submitted expert; experts who have not submitted the round by
    now take no further part."""
    newest = _newest(session, study)
    if newest is not None and newest.closed_at is not None:
        raise UserError(f"round {newest.number} is closed already; open round {newest.number + 1} first ('panel round open')")
    if newest is None:
        if not any(m.status == "submitted" for m in list_members(session, study)):
            raise UserError("round 1 has no submitted answers yet; it can close once at least one expert has submitted")
        newest = PanelRound(study_id=study.id, number=1, opened_at=min(
            (m.invited_at for m in list_members(session, study) if m.invited_at is not None), default=utcnow()), opened_by="")
        session.add(newest)
        plan = plan_of(session, study)
        if plan is None:  # the default rule, recorded as the one chosen before any feedback
            set_stopping_rule(session, study, "consensus", actor=actor)
            plan = plan_of(session, study)
        plan.fixed_at = utcnow()
    newest.closed_at, newest.closed_by = utcnow(), actor
    session.flush()
    audit.record(session, "panel_round", "close", entity_id=newest.id, study_id=study.id, round=newest.number)
    return newest


def open_round(session: Session, study: Study, actor: str = "") -> PanelRound:
    """Open the next round: a frozen copy of the rating statements, and every expert who
    submitted the previous round invited to it (their earlier answers stay as they were)."""
    newest = _newest(session, study)
    if newest is None or newest.closed_at is None:
        number = newest.number if newest is not None else 1
        raise UserError(f"round {number} is still open; close it first ('panel round close')")
    participants = _submitted_members(session, study, newest)
    if not participants:
        raise UserError(f"nobody submitted round {newest.number}; there is nobody to invite to round {newest.number + 1}")
    source = session.get(Questionnaire, newest.questionnaire_id) if newest.questionnaire_id else current_questionnaire(session, study)
    if source is None or not _rating_items(source):
        raise UserError("the questionnaire has no rating statements to repeat in another round")
    number = newest.number + 1
    now = utcnow()
    copy = Questionnaire(
        study_id=study.id, number=next_number(session, study), title=source.title,
        introduction=ROUND_INTRODUCTION.format(number=number), scale_min=source.scale_min, scale_max=source.scale_max,
        scale_labels=dict(source.scale_labels), frozen_at=now,
    )
    for ordinal, item in enumerate(_rating_items(source), start=1):
        copy.items.append(QuestionnaireItem(ordinal=ordinal, kind=item.kind, key=item.key, label=item.label, text=item.text,
                                            required=True, options=dict(item.options)))
    session.add(copy)
    session.flush()
    opened = PanelRound(study_id=study.id, number=number, questionnaire_id=copy.id, opened_at=now, opened_by=actor)
    session.add(opened)
    session.flush()
    for member in participants:
        session.add(RoundResponse(round_id=opened.id, member_id=member.id, status="open"))
    session.flush()
    audit.record(session, "panel_round", "open", entity_id=opened.id, study_id=study.id, round=number, experts=len(participants))
    return opened


def round_links(session: Session, study: Study, base_url: str, days: int = 60) -> list[dict]:
    """Fresh links (the old ones revoked) for every expert of the open round who has not submitted it."""
    newest = _newest(session, study)
    if newest is None or newest.number == 1 or newest.closed_at is not None:
        raise UserError("no round from round 2 on is open; open one first ('panel round open')")
    rows = []
    for response in _responses(session, newest):
        if response.status != "submitted":
            rows.append(new_link(session, study, session.get(PanelMember, response.member_id), base_url, days))
    return rows


def participants(session: Session, rnd: PanelRound) -> list[str]:
    """Pseudonyms of the experts invited to a round from round 2 on."""
    return list(session.scalars(select(PanelMember.pseudonym).join(RoundResponse, RoundResponse.member_id == PanelMember.id)
                                .where(RoundResponse.round_id == rnd.id).order_by(PanelMember.pseudonym)))


def _rating_items(q: Questionnaire) -> list[QuestionnaireItem]:
    return [i for i in q.items if i.kind == "likert_per_case"]


def _responses(session: Session, rnd: PanelRound) -> list[RoundResponse]:
    return list(session.scalars(select(RoundResponse).where(RoundResponse.round_id == rnd.id).order_by(RoundResponse.member_id)))


def _submitted_members(session: Session, study: Study, rnd: PanelRound | None) -> list[PanelMember]:
    """Who counts in a round: round 1's submitted members, or a later round's submitted responses."""
    members = list_members(session, study)
    if rnd is None or rnd.number == 1:
        closed = rnd.closed_at if rnd is not None else None
        return [m for m in members if m.status == "submitted" and (closed is None or (m.submitted_at or closed) <= closed)]
    submitted = {r.member_id for r in _responses(session, rnd) if r.status == "submitted"}
    return [m for m in members if m.id in submitted]


# --- answers per round ------------------------------------------------------------------------
ItemKey = tuple[str, str]  # (statement key, public case label)


def _case_labels(session: Session, study: Study) -> dict[int, str]:
    from casestudy import study as studies

    return {c.id: c.public_label for c in studies.list_cases(session, study)}


def _member_answers(session: Session, member: PanelMember, q: Questionnaire | None, labels: dict[int, str]) -> dict[ItemKey, dict]:
    """The member's rating answers in ``q`` keyed by (statement, case): {"v": score, "reason": ...}."""
    if q is None:
        return {}
    keys = {i.id: i.key for i in _rating_items(q)}
    found = {}
    for (item_id, slot), answer in panel_answers.answers_of(session, member).items():
        if item_id in keys and slot in labels and answer.value.get("v") is not None:
            found[(keys[item_id], labels[slot])] = answer.value
    return found


def _questionnaire_for(session: Session, member: PanelMember, rnd: PanelRound | None) -> Questionnaire | None:
    if rnd is None or rnd.number == 1:
        return session.get(Questionnaire, member.questionnaire_id) if member.questionnaire_id else None
    return session.get(Questionnaire, rnd.questionnaire_id)


def round_answers(session: Session, study: Study, rnd: PanelRound | None) -> dict[str, dict[ItemKey, dict]]:
    """Pseudonym -> item -> answer of everyone who counts in the round (researchers' side only)."""
    labels = _case_labels(session, study)
    return {m.pseudonym: _member_answers(session, m, _questionnaire_for(session, m, rnd), labels)
            for m in _submitted_members(session, study, rnd)}


@dataclass(frozen=True)
class ItemStats:
    """The group's aggregate of one item in one round; only this reaches an expert."""

    n: int
    median: Fraction
    q1: Fraction
    q3: Fraction

    @property
    def iqr(self) -> Fraction:
        return self.q3 - self.q1

    def as_json(self) -> dict:
        return {"n": self.n, "median": float(self.median), "q1": float(self.q1), "q3": float(self.q3), "iqr": float(self.iqr)}


def item_stats(values, method: str) -> ItemStats | None:
    """n, median and quartiles of one item's answers by the named method (None without answers)."""
    xs = sorted(int(v) for v in values)
    if not xs:
        return None
    return ItemStats(len(xs), quantiles.quantile(xs, Fraction(1, 2), method, True),
                     quantiles.quantile(xs, Fraction(1, 4), method, True), quantiles.quantile(xs, Fraction(3, 4), method, True))


def group_feedback(answers: dict[str, dict[ItemKey, dict]], method: str) -> dict[ItemKey, ItemStats]:
    by_item: dict[ItemKey, list[int]] = {}
    for per_item in answers.values():
        for key, value in per_item.items():
            by_item.setdefault(key, []).append(value["v"])
    return {key: item_stats(values, method) for key, values in by_item.items()}


# --- the expert's side ------------------------------------------------------------------------
def _expert_round(session: Session, principal: Principal) -> tuple[PanelMember, PanelRound, RoundResponse] | None:
    """The newest round (from round 2) the expert behind ``principal`` takes part in, or None."""
    member = panel_answers.member_for(session, principal)
    row = session.execute(
        select(PanelRound, RoundResponse).join(RoundResponse, RoundResponse.round_id == PanelRound.id)
        .where(RoundResponse.member_id == member.id, PanelRound.study_id == member.study_id)
        .order_by(PanelRound.number.desc()).limit(1)
    ).first()
    return (member, row[0], row[1]) if row is not None else None


@dataclass
class RoundItem:
    key: str
    text: str
    case: str
    feedback: dict | None  # the group's n, median, q1, q3, iqr of the previous round
    previous: int | None  # the expert's own previous answer
    value: int | None  # their answer in this round so far (None: untouched, keeps ``previous``)
    reason: str = ""

    @property
    def revised(self) -> bool:
        return self.value is not None and self.value != self.previous


@dataclass
class RoundView:
    """What an expert sees in a round from round 2 on: aggregates and their own answers only."""

    number: int
    pseudonym: str
    status: str  # open, started, submitted; closed when the round closed before they submitted
    legend: str
    scale: dict
    quartile_method: str
    introduction: str
    cases: list[str]
    items: list[RoundItem] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return self.status in ("submitted", "closed")

    def items_of(self, case: str) -> list[RoundItem]:
        return [i for i in self.items if i.case == case]


def expert_round_view(session: Session, principal: Principal) -> RoundView | None:
    """The expert's round view, or None when they take part in no round from round 2 on."""
    found = _expert_round(session, principal)
    if found is None:
        return None
    member, rnd, response = found
    study = session.get(Study, member.study_id)
    q = session.get(Questionnaire, rnd.questionnaire_id)
    previous_round = session.scalar(select(PanelRound).where(PanelRound.study_id == study.id, PanelRound.number == rnd.number - 1))
    feedback = group_feedback(round_answers(session, study, previous_round), stopping_rule(session, study).quartile_method)
    labels = _case_labels(session, study)
    own_previous = _member_answers(session, member, _questionnaire_for(session, member, previous_round), labels)
    own_now = _member_answers(session, member, q, labels)
    cases = list(panel_answers.released_positions(session, member))
    status = response.status if response.status == "submitted" or rnd.closed_at is None else "closed"
    view = RoundView(rnd.number, member.pseudonym, status, scale_legend(q), {"min": q.scale_min, "max": q.scale_max},
                     quantiles.method_text(stopping_rule(session, study).quartile_method), q.introduction, cases)
    for case in cases:
        for item in _rating_items(q):
            key = (item.key, case)
            now = own_now.get(key)
            stats = feedback.get(key)
            view.items.append(RoundItem(item.key, item.text, case, stats.as_json() if stats else None,
                                        (own_previous.get(key) or {}).get("v"), now["v"] if now else None,
                                        (now or {}).get("reason", "")))
    return view


def _open_response(session: Session, principal: Principal) -> tuple[PanelMember, PanelRound, RoundResponse]:
    found = _expert_round(session, principal)
    if found is None:
        raise AccessDenied("you take part in no later round of this panel", principal, "not in a Delphi round")
    member, rnd, response = found
    if response.status == "submitted":
        raise UserError(f"your answers for round {rnd.number} are submitted and locked")
    if rnd.closed_at is not None:
        raise UserError(f"round {rnd.number} is closed; your answers can no longer change")
    return found


def save_revision(session: Session, principal: Principal, item_key: str, case_label: str, value, reason: str = "") -> dict:
    """Keep or revise the expert's answer to one item of the open round.

    A value other than their previous answer is a revision and needs a reason (a UserError
    otherwise, nothing saved); keeping the previous value needs none."""
    member, rnd, response = _open_response(session, principal)
    q = session.get(Questionnaire, rnd.questionnaire_id)
    item = next((i for i in _rating_items(q) if i.key == item_key), None)
    shown = panel_answers.released_positions(session, member)
    if item is None or case_label not in shown:
        raise UserError(f"round {rnd.number} has no statement {item_key!r} for case {case_label!r}")
    value = panel_answers.check_value(q, item, value)
    if value is None:
        raise UserError("choose a point on the scale (or leave the statement untouched to keep your previous answer)")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise UserError(f"a reason may have at most {MAX_REASON} characters")
    previous_round = session.scalar(select(PanelRound).where(PanelRound.study_id == rnd.study_id, PanelRound.number == rnd.number - 1))
    labels = _case_labels(session, session.get(Study, rnd.study_id))
    previous = (_member_answers(session, member, _questionnaire_for(session, member, previous_round), labels).get((item_key, case_label)) or {}).get("v")
    if value != previous and not reason:
        raise UserError(f"{case_label}, {item.label}: you changed your answer from {previous} to {value}; "
                        "please give a short reason for the change")
    case_id, position = shown[case_label]
    panel_answers.upsert_answers(session, [{"member_id": member.id, "item_id": item.id, "case_id": case_id, "case_slot": case_id,
                                            "value": {"v": value, "reason": reason}, "shown_position": position}])
    if response.status == "open":
        response.status, response.started_at = "started", utcnow()
    session.flush()
    audit.record(session, "panel_answer", "revise" if value != previous else "keep", entity_id=member.id, study_id=member.study_id,
                 round=rnd.number, item=item_key, case=case_label, value=value, previous=previous)
    return {"item": item_key, "case": case_label, "value": value, "previous": previous, "revised": value != previous, "reason": reason}


def save_case_revisions(session: Session, principal: Principal, case_label: str, answers: dict[str, tuple[int | None, str]]) -> list[dict]:
    """Save the expert's answers to one case's statements at once: ``{statement key: (value, reason)}``.

    An entry with no value, or with the previous value and no reason while untouched so far, is
    left alone. Every problem (a revision without a reason, a value off the scale) is listed in
    one UserError and nothing is saved."""
    view = expert_round_view(session, principal)
    if view is None:
        raise AccessDenied("you take part in no later round of this panel", principal, "not in a Delphi round")
    current = {i.key: i for i in view.items_of(case_label)}
    saved, problems = [], []
    for key, (value, reason) in answers.items():
        item = current.get(key)
        untouched = item is not None and item.value is None and value == item.previous and not (reason or "").strip()
        if value is None or untouched:
            continue
        try:
            with session.begin_nested():
                saved.append(save_revision(session, principal, key, case_label, value, reason))
        except AccessDenied:
            raise
        except UserError as exc:
            problems.append(exc.message)
    if problems:
        raise UserError("nothing was saved; please check:\n" + "\n".join(f"- {p}" for p in problems))
    return saved


def submit_round(session: Session, principal: Principal) -> RoundResponse:
    """Submit the expert's round: every untouched item keeps their previous answer; then locked."""
    member, rnd, response = _open_response(session, principal)
    view = expert_round_view(session, principal)
    q = session.get(Questionnaire, rnd.questionnaire_id)
    item_ids = {i.key: i.id for i in _rating_items(q)}
    shown = panel_answers.released_positions(session, member)
    kept = [{"member_id": member.id, "item_id": item_ids[i.key], "case_id": shown[i.case][0], "case_slot": shown[i.case][0],
             "value": {"v": i.previous, "reason": ""}, "shown_position": shown[i.case][1]}
            for i in view.items if i.value is None and i.previous is not None]
    panel_answers.upsert_answers(session, kept)
    response.status, response.submitted_at = "submitted", utcnow()
    response.started_at = response.started_at or response.submitted_at
    session.flush()
    audit.record(session, "panel_round", "submit", entity_id=member.id, study_id=member.study_id, round=rnd.number,
                 revised=sum(1 for i in view.items if i.revised), kept=len(kept))
    return response


# --- the results (researchers) ----------------------------------------------------------------
@dataclass
class ItemRound:
    """One item in one round: the group's statistics, consensus, the change since the previous
    round (from round 2: how many of the experts who answered both rounds changed) and the rule."""

    round: int
    stats: ItemStats | None
    consensus: bool
    changed: int | None
    compared: int | None
    stable: bool | None
    met: bool

    @property
    def changed_share(self) -> Fraction | None:
        return Fraction(self.changed, self.compared) if self.compared else None

    def as_json(self) -> dict:
        share = self.changed_share
        return {"round": self.round, **(self.stats.as_json() if self.stats else {"n": 0}), "consensus": self.consensus,
                "changed": self.changed, "compared": self.compared, "changed_share": None if share is None else float(share),
                "stable": self.stable, "rule_met": self.met}


@dataclass
class DelphiResults:
    rule: StoppingRule
    rounds: list[dict]  # per round: number, status, experts, items, consensus, stable, met
    items: list[dict]  # per item: statement key and label, case, its rounds (ItemRound)
    revisions: list[dict]  # round, expert (pseudonym), statement, case, from, to, reason

    def as_json(self) -> dict:
        return {
            "stopping_rule": self.rule.as_json(), "quartile_method": self.rule.quartile_method,
            "rounds": [{k: v.isoformat(timespec="seconds") if hasattr(v, "isoformat") else v for k, v in r.items()} for r in self.rounds],
            "items": [{"item": i["item"], "label": i["label"], "case": i["case"],
                       "first_met": i["first_met"], "rounds": [r.as_json() for r in i["rounds"]]} for i in self.items],
            "revisions": self.revisions,
        }


def delphi_results(session: Session, study: Study, principal: Principal) -> DelphiResults:
    """Per round and item the group's statistics, consensus, change since the previous round and
    whether the stopping rule is met; the revisions with their reasons (pseudonyms only).
    Researchers of the study only (a refusal is an AccessDenied for the boundary to log)."""
    access.require_study_role(principal, study, "viewer")
    rule = stopping_rule(session, study)
    rows = list_rounds(session, study)
    rounds: list[PanelRound | None] = rows if rows else [None]
    statements: dict[str, str] = {}
    source = current_questionnaire(session, study)
    for q in ([source] if source else []) + [session.get(Questionnaire, r.questionnaire_id) for r in rows if r.questionnaire_id]:
        statements.update({i.key: i.label for i in _rating_items(q)})
    per_round = [round_answers(session, study, r) for r in rounds]
    keys: list[ItemKey] = []
    for answers in per_round:
        for per_item in answers.values():
            keys.extend(k for k in per_item if k not in keys)
    order = list(statements)
    keys.sort(key=lambda k: (k[1], order.index(k[0]) if k[0] in order else len(order)))
    items, revisions = [], []
    summary = []
    for index, rnd in enumerate(rounds):
        number = rnd.number if rnd else 1
        answers = per_round[index]
        previous = per_round[index - 1] if index else None
        feedback = group_feedback(answers, rule.quartile_method)
        counts = {"consensus": 0, "stable": 0, "met": 0}
        for key in keys:
            stats = feedback.get(key)
            consensus = stats is not None and stats.iqr <= rule.iqr_max
            changed = compared = None
            if previous is not None:
                pairs = [(previous[p][key]["v"], answers[p][key]["v"]) for p in answers if p in previous and key in previous[p] and key in answers[p]]
                compared, changed = len(pairs), sum(1 for before, after in pairs if before != after)
            stable = None if not compared else Fraction(changed, compared) <= rule.change_max
            item_round = ItemRound(number, stats, consensus, changed, compared, stable, stats is not None and rule.met(consensus, stable))
            counts["consensus"] += consensus
            counts["stable"] += bool(item_round.stable)
            counts["met"] += item_round.met
            entry = next((i for i in items if (i["item"], i["case"]) == key), None)
            if entry is None:
                entry = {"item": key[0], "label": statements.get(key[0], key[0]), "case": key[1], "rounds": [], "first_met": None}
                items.append(entry)
            entry["rounds"].append(item_round)
            if item_round.met and entry["first_met"] is None:
                entry["first_met"] = number
        if previous is not None:
            for pseudonym in sorted(answers):
                for key in keys:
                    now, before = answers[pseudonym].get(key), (previous.get(pseudonym) or {}).get(key)
                    if now and before and now["v"] != before["v"]:
                        revisions.append({"round": number, "expert": pseudonym, "item": key[0], "label": statements.get(key[0], key[0]),
                                          "case": key[1], "from": before["v"], "to": now["v"], "reason": now.get("reason", "")})
        if rnd is None:
            state = "open"
        else:
            state = "closed" if rnd.closed_at is not None else "open"
        if rnd is not None and rnd.number > 1:
            invited = len(_responses(session, rnd))
        else:
            invited = sum(1 for m in list_members(session, study) if m.invited_at is not None)
        if number == 1:
            counts["stable"] = None  # stability compares two rounds
        summary.append({"round": number, "status": state, "invited": invited, "experts": len(answers), "items": len(keys),
                        **counts, "opened_at": rnd.opened_at if rnd else None, "closed_at": rnd.closed_at if rnd else None})
    return DelphiResults(rule, summary, items, revisions)


def round_status(session: Session, study: Study, principal: Principal) -> dict:
    """The rounds so far with their figures, the stopping rule, and what the researcher can do next."""
    results = delphi_results(session, study, principal)
    newest = results.rounds[-1]
    if newest["status"] == "open":
        action = f"round {newest['round']} is open: close it when the answers are in"
    elif newest["items"] and newest["met"] == newest["items"]:
        action = f"every item meets the stopping rule after round {newest['round']}: the panel can stop"
    else:
        action = (f"{newest['items'] - newest['met']} of {newest['items']} items do not meet the stopping rule yet: "
                  f"open round {newest['round'] + 1}, or stop here")
    fixed = plan_of(session, study)
    return {"stopping_rule": results.rule.as_json(), "rule_fixed": bool(fixed and fixed.fixed_at), "rounds": results.rounds, "next": action}
