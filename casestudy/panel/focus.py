"""Focus groups: participants rate the periods of one case on an instrument, discuss a summary
of their ratings, and agree a consensus score per item and period.

- **Participants** have a role (manager, therapist, researcher, other), the instrument's levels
  they can judge (all by default) and a *blind* flag (default on): a blind participant's view
  carries no outcome data of the case at all (no outcome class or description, no Table 1); the
  rule is applied here, so no page can show what the view does not hold.
- **Round 1**: each participant, through their own link (token purpose ``participant``, one
  working link at a time, only its hash stored), rates every item of their levels for every
  period of the case, alone; each rating is saved on its own (upsert), so a reload or another
  device continues where they left off. They see only their own ratings. Submitting checks that
  every cell is rated and locks their ratings.
- **Round 2**: :func:`round_summary` gives per item and period n, mean, median, min, max and
  the distribution over the scale points, for the discussion; :func:`set_note` keeps the
  discussion notes per item.
- **Round 3**: :func:`set_consensus` records the group's score per item and period, a whole
  point or a split of two adjacent points ("2/3", :mod:`casestudy.panel.consensus`), who agreed
  (participants' pseudonyms) and a note. Table 4 reads these (``report table4`` without
  ``--scores``).
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy import periods as case_periods
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import (
    PARTICIPANT_ROLES,
    Case,
    CasePeriod,
    FocusConsensus,
    FocusGroup,
    FocusNote,
    FocusParticipant,
    FocusRating,
    StoredInstrument,
    Study,
    utcnow,
)
from casestudy.panel import instrument_store
from casestudy.panel.consensus import ConsensusScore, parse_score
from casestudy.panel.instruments import Instrument, Item

SUBJECT_TYPE = "focus_participant"
SPLIT_RULES = ("midpoint", "lower", "upper")
MAX_NOTE = 5000


# --- the group ------------------------------------------------------------------------------
def create_group(session: Session, study: Study, case: Case, instrument_name: str, version: str | None = None,
                 title: str = "", split_rule: str = "midpoint") -> FocusGroup:
    """A focus group on ``case`` (which needs at least one period) and a stored instrument (a
    shipped one is stored on first use; the version is frozen from now on)."""
    if split_rule not in SPLIT_RULES:
        raise UserError(f"unknown split rule {split_rule!r}; use one of {', '.join(SPLIT_RULES)}")
    if not case_periods.list_periods(session, case):
        raise UserError(f"{case.public_label} has no periods yet; add them first (casestudy cases periods add)")
    stored = instrument_store.stored_or_shipped(session, study, instrument_name, version)
    title = (title or "").strip() or f"Focus group {case.public_label}"
    if any(g.title.casefold() == title.casefold() for g in list_groups(session, study)):
        raise UserError(f"a focus group titled {title!r} exists already")
    group = FocusGroup(study_id=study.id, case_id=case.id, instrument_id=stored.id, title=title, split_rule=split_rule)
    session.add(group)
    session.flush()
    instrument_store.freeze(session, stored, f"focus group {title}")
    return group


def list_groups(session: Session, study: Study) -> list[FocusGroup]:
    return list(session.scalars(select(FocusGroup).where(FocusGroup.study_id == study.id).order_by(FocusGroup.id)))


def get_group(session: Session, study: Study, ref: str | int | None = None) -> FocusGroup:
    """A focus group by id or title; without a reference, the study's only one."""
    groups = list_groups(session, study)
    if ref is None or str(ref).strip() == "":
        if len(groups) == 1:
            return groups[0]
        if not groups:
            raise UserError("the study has no focus group yet (casestudy focus new)")
        raise UserError(f"the study has {len(groups)} focus groups; name one: {', '.join(g.title for g in groups)}")
    text = str(ref).strip()
    for group in groups:
        if (text.isdigit() and group.id == int(text)) or group.title.casefold() == text.casefold():
            return group
    raise UserError(f"no focus group {ref!r}; focus groups: {', '.join(g.title for g in groups) or 'none yet'}")


def instrument_of(session: Session, group: FocusGroup) -> Instrument:
    return instrument_store.instrument_of(session.get(StoredInstrument, group.instrument_id))


def periods_of(session: Session, group: FocusGroup) -> list[CasePeriod]:
    """The periods the group rates: the case's periods in time order."""
    return case_periods.list_periods(session, session.get(Case, group.case_id))


def _period(session: Session, group: FocusGroup, name: str) -> CasePeriod:
    return case_periods.get_period(session, session.get(Case, group.case_id), name)


def _item(instrument: Instrument, ref: str) -> Item:
    item = instrument.find_item(ref)
    if item is None:
        raise UserError(f"{instrument.name} has no item {ref!r}; items: {', '.join(i.key for i in instrument.items)}")
    return item


# --- participants ---------------------------------------------------------------------------
def add_participant(session: Session, group: FocusGroup, name: str, role: str, levels: Sequence[str] | None = None,
                    blind: bool = True, pseudonym: str | None = None) -> FocusParticipant:
    """Add a participant; ``levels`` are instrument levels (default: all), ``pseudonym`` F1, F2, ... by default."""
    name = (name or "").strip()
    if not name:
        raise UserError("a participant needs a name")
    role = (role or "").strip().lower()
    if role not in PARTICIPANT_ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(PARTICIPANT_ROLES)}")
    instrument = instrument_of(session, group)
    chosen = []
    for level in levels or instrument.level_names:
        match = next((n for n in instrument.level_names if n.casefold() == level.strip().casefold()), None)
        if match is None:
            raise UserError(f"level {level!r} is not a level of {instrument.name} ({', '.join(instrument.level_names)})")
        if match not in chosen:
            chosen.append(match)
    existing = participants_of(session, group)
    given = (pseudonym or "").strip()
    pseudonym = given or f"F{len(existing) + 1}"
    while any(p.pseudonym.casefold() == pseudonym.casefold() for p in existing):
        if given:
            raise UserError(f"pseudonym {pseudonym!r} is taken in this focus group")
        pseudonym = f"F{int(pseudonym[1:]) + 1}"
    participant = FocusParticipant(group_id=group.id, pseudonym=pseudonym, name=name, role=role,
                                   levels=[n for n in instrument.level_names if n in chosen], blind=blind)
    session.add(participant)
    session.flush()
    return participant


def participants_of(session: Session, group: FocusGroup) -> list[FocusParticipant]:
    return list(session.scalars(select(FocusParticipant).where(FocusParticipant.group_id == group.id).order_by(FocusParticipant.id)))


def get_participant(session: Session, group: FocusGroup, ref: str) -> FocusParticipant:
    for participant in participants_of(session, group):
        if ref.strip().casefold() in (participant.pseudonym.casefold(), participant.name.casefold()):
            return participant
    raise UserError(f"no participant {ref!r} in {group.title}")


def issue_link(session: Session, participant: FocusParticipant, base_url: str, days: int = 60) -> dict:
    """A new round-1 link for the participant (earlier links revoked); the secret is shown once."""
    group = session.get(FocusGroup, participant.group_id)
    token, secret, revoked = access.issue_only_link(session, group.study_id, access.PARTICIPANT, SUBJECT_TYPE,
                                                    participant.id, days, label=participant.pseudonym)
    return {"pseudonym": participant.pseudonym, "name": participant.name, "token_id": token.id,
            "expires_at": token.expires_at, "revoked_token_ids": revoked,
            "link": f"{(base_url or '').rstrip('/')}/?token={secret}"}


def participant_items(instrument: Instrument, participant: FocusParticipant) -> list[Item]:
    """The items the participant rates: those of their levels (primary or secondary level)."""
    levels = set(participant.levels or instrument.level_names)
    return [i for i in instrument.items if i.level in levels or (i.secondary_level and i.secondary_level in levels)]


# --- round 1: the participant's side --------------------------------------------------------
def _participant_for(session: Session, principal: Principal) -> tuple[FocusParticipant, FocusGroup]:
    access.require_kind(principal, access.PARTICIPANT)
    participant = session.get(FocusParticipant, principal.subject_id)
    group = session.get(FocusGroup, participant.group_id) if participant is not None else None
    if group is None or group.study_id != principal.study_id:
        raise AccessDenied(access.INVALID_LINK, principal, "stale link")
    return participant, group


def ratings_of(session: Session, participant: FocusParticipant) -> dict[tuple[str, int], int | None]:
    query = select(FocusRating).where(FocusRating.participant_id == participant.id).execution_options(populate_existing=True)
    return {(r.item_key, r.period_id): r.score for r in session.scalars(query)}


@dataclass
class ParticipantView:
    """What a participant's page shows; outcome data only for a participant who is not blind."""

    pseudonym: str
    role: str
    title: str
    instrument: dict  # name, title, version, legend, points [{point, label}]
    items: list[dict]  # key, level, text, sub_criteria [{letter, text, threshold}]
    periods: list[dict]  # name, from, to, description
    ratings: dict[str, int | None]  # "item key|period name"
    blind: bool
    outcome: dict | None  # None when blind
    submitted: bool
    missing: list[str]
    done: int
    total: int


def rating_key(item_key: str, period_name: str) -> str:
    return f"{item_key}|{period_name}"


def participant_view(session: Session, principal: Principal) -> ParticipantView:
    """The participant's own form: their items, the periods, their own ratings, nothing else."""
    participant, group = _participant_for(session, principal)
    instrument = instrument_of(session, group)
    items = participant_items(instrument, participant)
    period_rows = periods_of(session, group)
    stored = ratings_of(session, participant)
    ratings, missing, done = {}, [], 0
    for period in period_rows:
        absent = []
        for item in items:
            value = stored.get((item.key, period.id))
            ratings[rating_key(item.key, period.name)] = value
            if value is None:
                absent.append(item.key)
            else:
                done += 1
        if absent:
            missing.append(f"{period.name}: item{'s' if len(absent) > 1 else ''} {', '.join(absent)} not rated yet")
    outcome = None
    if not participant.blind:
        case = session.get(Case, group.case_id)
        outcome = {"class": case.outcome_class, "description": case.outcome_description}
    return ParticipantView(
        participant.pseudonym, participant.role, group.title,
        {"name": instrument.name, "title": instrument.title, "version": instrument.version, "legend": instrument.scale.legend(),
         "points": instrument_store.legend_rows(instrument)},
        [{"key": i.key, "level": i.level, "text": i.text,
          "sub_criteria": [{"letter": s.letter, "text": s.text, "threshold": s.threshold} for s in i.sub_criteria]} for i in items],
        [{"name": p.name, "from": p.starts, "to": p.ends, "description": p.description} for p in period_rows],
        ratings, participant.blind, outcome, participant.submitted_at is not None, missing, done, len(items) * len(period_rows),
    )


def _upsert_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def save_rating(session: Session, principal: Principal, item_key: str, period_name: str, score: int | None) -> dict:
    """Autosave one round-1 rating of the participant behind ``principal`` (None clears it);
    refused after they submitted, for an item outside their levels, or off the scale."""
    participant, group = _participant_for(session, principal)
    if participant.submitted_at is not None:
        raise UserError("your ratings are submitted and locked; contact the research team to change them")
    instrument = instrument_of(session, group)
    item = _item(instrument, item_key)
    if item not in participant_items(instrument, participant):
        raise UserError(f"item {item.key} is not one of the items you rate")
    period = _period(session, group, period_name)
    if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not instrument.scale.contains(score)):
        raise UserError(f"a rating is a whole number from {instrument.scale.min} to {instrument.scale.max}")
    table = FocusRating.__table__
    statement = _upsert_insert(session)(table).values(participant_id=participant.id, item_key=item.key, period_id=period.id,
                                                      score=score, updated_at=utcnow(), saves=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.participant_id, table.c.item_key, table.c.period_id],
        set_={"score": statement.excluded.score, "updated_at": statement.excluded.updated_at, "saves": table.c.saves + 1},
    )
    session.execute(statement)
    audit.record(session, "focus_rating", "save", entity_id=participant.id, study_id=group.study_id, item=item.key,
                 period=period.name, score=score)
    return {"item": item.key, "period": period.name, "score": score}


def submit_ratings(session: Session, principal: Principal) -> FocusParticipant:
    """Lock the participant's round-1 ratings once every item is rated for every period."""
    participant, _ = _participant_for(session, principal)
    if participant.submitted_at is not None:
        raise UserError("your ratings were submitted already")
    view = participant_view(session, principal)
    if view.missing:
        raise UserError("before you submit, please rate:\n" + "\n".join(f"- {m}" for m in view.missing))
    participant.submitted_at = utcnow()
    session.flush()
    return participant


def reopen(session: Session, participant: FocusParticipant) -> None:
    """Unlock a participant's submitted ratings (a researcher's decision, audited)."""
    participant.submitted_at = None
    session.flush()


# --- round 2: summary and notes -------------------------------------------------------------
def _number(value: Fraction | float | None):
    if value is None:
        return None
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


def round_summary(session: Session, group: FocusGroup, submitted_only: bool = False) -> dict:
    """Round 1 summarised per item and period: n, mean, median, min, max (unrounded) and the
    count of ratings at every scale point, plus the discussion note per item and the raw cells
    (for rater agreement). ``submitted_only`` leaves out participants who have not submitted."""
    instrument = instrument_of(session, group)
    period_rows = periods_of(session, group)
    people = [p for p in participants_of(session, group) if not submitted_only or p.submitted_at is not None]
    by_cell: dict[tuple[str, int], list[int]] = {}
    cells = []
    for participant in people:
        for (key, period_id), score in ratings_of(session, participant).items():
            if score is not None:
                by_cell.setdefault((key, period_id), []).append(score)
            cells.append(((key, period_id), participant.pseudonym, score))
    notes = notes_of(session, group)
    points = list(range(instrument.scale.min, instrument.scale.max + 1))
    items = []
    for item in instrument.items:
        per_period = {}
        for period in period_rows:
            scores = sorted(by_cell.get((item.key, period.id), []))
            per_period[period.name] = {
                "n": len(scores),
                "mean": _number(Fraction(sum(scores), len(scores))) if scores else None,
                "median": _number(Fraction(statistics.median_low(scores) + statistics.median_high(scores), 2)) if scores else None,
                "min": min(scores) if scores else None, "max": max(scores) if scores else None,
                "distribution": {point: scores.count(point) for point in points},
            }
        items.append({"key": item.key, "level": item.level, "text": item.text, "periods": per_period, "note": notes.get(item.key, "")})
    names = {p.id: p.name for p in period_rows}
    return {
        "group": group.title, "instrument": {"name": instrument.name, "version": instrument.version, "legend": instrument.scale.legend()},
        "periods": [p.name for p in period_rows], "participants": [p.pseudonym for p in people],
        "submitted": [p.pseudonym for p in people if p.submitted_at is not None], "items": items,
        "cells": [(f"{key}|{names.get(period_id, period_id)}", who, score) for (key, period_id), who, score in cells],
    }


def summary_html(summary: dict) -> str:
    """A printable page of the round-2 summary (one table per period, a bar per scale point)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>", f"<title>{e(summary['group'])}: round 1 summary</title>",
             ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
              "padding:.2em .5em;text-align:left;vertical-align:top}.bar{display:inline-block;background:#4a7;height:.8em}"
              "</style></head><body>"), f"<h1>{e(summary['group'])}: summary of the individual ratings</h1>",
             f"<p>{e(summary['instrument']['legend'])} Participants: {e(', '.join(summary['participants']))}.</p>"]
    for period in summary["periods"]:
        parts.append(f"<h2>{e(period)}</h2><table><thead><tr><th>Item</th><th>n</th><th>Mean</th><th>Median</th><th>Range</th>"
                     "<th>Distribution</th><th>Notes</th></tr></thead><tbody>")
        for item in summary["items"]:
            cell = item["periods"][period]
            mean = "" if cell["mean"] is None else f"{cell['mean']:.1f}"
            bars = " ".join(f"{point}:<span class='bar' style='width:{count * 0.8}em'></span>{count}"
                            for point, count in cell["distribution"].items())
            spread = "" if cell["min"] is None else f"{cell['min']}-{cell['max']}"
            parts.append(f"<tr><td>{e(item['key'])}. {e(item['text'])}</td><td>{cell['n']}</td><td>{mean}</td>"
                         f"<td>{'' if cell['median'] is None else cell['median']}</td><td>{spread}</td><td>{bars}</td>"
                         f"<td>{e(item['note'])}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)


def notes_of(session: Session, group: FocusGroup) -> dict[str, str]:
    return {n.item_key: n.text for n in session.scalars(select(FocusNote).where(FocusNote.group_id == group.id))}


def set_note(session: Session, group: FocusGroup, item_ref: str, text: str) -> FocusNote:
    """Keep the discussion notes on one item (replacing the earlier text)."""
    item = _item(instrument_of(session, group), item_ref)
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise UserError(f"a note may have at most {MAX_NOTE} characters")
    note = session.scalar(select(FocusNote).where(FocusNote.group_id == group.id, FocusNote.item_key == item.key))
    if note is None:
        note = FocusNote(group_id=group.id, item_key=item.key, text=text)
        session.add(note)
    elif note.text != text:
        note.text, note.updated_at = text, utcnow()
    session.flush()
    return note


# --- round 3: consensus ---------------------------------------------------------------------
def set_consensus(session: Session, group: FocusGroup, item_ref: str, period_name: str, score_text: str,
                  agreed_by: Sequence[str] = (), note: str = "") -> FocusConsensus:
    """Record the consensus on one item and period: '6' or an adjacent split '2/3' on the
    instrument's scale, the pseudonyms of those who agreed (participants of this group; default
    all of them) and a note. Replaces an earlier consensus on the same cell."""
    instrument = instrument_of(session, group)
    item = _item(instrument, item_ref)
    period = _period(session, group, period_name)
    score = parse_score(str(score_text), instrument.scale, f"item {item.key}, period {period.name}")
    people = {p.pseudonym.casefold(): p.pseudonym for p in participants_of(session, group)}
    agreed = []
    for who in agreed_by or list(people.values()):
        key = who.strip().casefold()
        if key not in people:
            raise UserError(f"{who!r} is not a participant of {group.title} ({', '.join(people.values()) or 'none yet'})")
        if people[key] not in agreed:
            agreed.append(people[key])
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise UserError(f"a note may have at most {MAX_NOTE} characters")
    row = session.scalar(select(FocusConsensus).where(FocusConsensus.group_id == group.id, FocusConsensus.item_key == item.key,
                                                      FocusConsensus.period_id == period.id))
    if row is None:
        row = FocusConsensus(group_id=group.id, item_key=item.key, period_id=period.id, low=score.low, high=score.high)
        session.add(row)
    row.low, row.high, row.agreed_by, row.note, row.updated_at = score.low, score.high, agreed, note, utcnow()
    session.flush()
    return row


def consensus_of(session: Session, group: FocusGroup) -> list[dict]:
    """The consensus scores in the instrument's item order, then period order: item key, level,
    text, period, score (as entered, e.g. '2/3'), agreed_by, note."""
    instrument = instrument_of(session, group)
    period_rows = periods_of(session, group)
    rows = {(c.item_key, c.period_id): c for c in session.scalars(select(FocusConsensus).where(FocusConsensus.group_id == group.id))}
    out = []
    for item in instrument.items:
        for period in period_rows:
            row = rows.get((item.key, period.id))
            if row is not None:
                out.append({"item": item.key, "level": item.level, "text": item.text, "period": period.name,
                            "score": ConsensusScore(row.low, row.high).text, "agreed_by": list(row.agreed_by), "note": row.note})
    return out


def group_record(session: Session, group: FocusGroup) -> dict:
    """The group's title, case, instrument, periods, participants (with link state) and progress."""
    instrument = instrument_of(session, group)
    period_rows = periods_of(session, group)
    now = utcnow()
    people = []
    for p in participants_of(session, group):
        links = [t for t in access.tokens_for(session, SUBJECT_TYPE, p.id)
                 if t.purpose == access.PARTICIPANT and t.revoked_at is None and (t.expires_at is None or t.expires_at > now)]
        rated = sum(1 for v in ratings_of(session, p).values() if v is not None)
        people.append({"pseudonym": p.pseudonym, "name": p.name, "role": p.role, "levels": p.levels, "blind": p.blind,
                       "rated": rated, "to_rate": len(participant_items(instrument, p)) * len(period_rows),
                       "submitted_at": p.submitted_at, "link_expires_at": max((t.expires_at for t in links), default=None)})
    case = session.get(Case, group.case_id)
    return {"id": group.id, "title": group.title, "case": case.public_label, "split_rule": group.split_rule,
            "instrument": {"name": instrument.name, "version": instrument.version, "title": instrument.title,
                           "legend": instrument.scale.legend()},
            "periods": [case_periods.period_record(p) for p in period_rows],
            "exclusion_note": case_periods.exclusion_note(session, case), "participants": people,
            "consensus": len(consensus_of(session, group)), "cells": len(instrument.items) * len(period_rows)}


