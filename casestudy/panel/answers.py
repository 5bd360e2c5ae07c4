"""The expert's side of the panel: the form of released masked cases, autosaved answers, time per
case, validation and submission, always through the expert's own
:class:`~casestudy.access.Principal`.

An expert sees only the released masked texts of their own study, under public case labels, in
their own Williams order, and only their own answers. Answers are saved one at a time by an
upsert on (member, item, case) in one short write transaction, so autosave is safe when several
experts (or two tabs of one expert) save at once.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import (
    Answer,
    Case,
    CaseTiming,
    MaskedText,
    PanelMember,
    Questionnaire,
    QuestionnaireItem,
    Study,
    utcnow,
)
from casestudy.panel import design
from casestudy.panel.members import case_ids, set_status
from casestudy.panel.questionnaire import (
    LIST_KINDS,
    current_questionnaire,
    get_item,
    questionnaire_record,
    require_questionnaire,
    scale_of,
)

MAX_LIST_ENTRIES = 40
MAX_TEXT = 5000
MAX_SECONDS_PER_VISIT = 4 * 3600


# --- the expert's side ----------------------------------------------------------------------
def member_for(session: Session, principal: Principal) -> PanelMember:
    access.require_kind(principal, access.EXPERT)
    member = session.get(PanelMember, principal.subject_id)
    if member is None or member.study_id != principal.study_id:
        raise AccessDenied(access.INVALID_LINK, principal, "stale link")
    if member.status in ("new", "declined"):
        raise AccessDenied("this invitation is no longer active; please contact the research team", principal, "inactive invitation")
    return member


def _questionnaire_of(session: Session, member: PanelMember) -> Questionnaire:
    if member.questionnaire_id is not None:
        return session.get(Questionnaire, member.questionnaire_id)
    q = current_questionnaire(session, session.get(Study, member.study_id))
    if q is None:
        raise UserError("the questionnaire is not ready yet; please try again later")
    return q


@dataclass
class ShownCase:
    position: int  # 1-based
    label: str  # public label
    text: str
    hash: str
    case_id: int = field(repr=False, default=0)


def _shown_cases(session: Session, principal: Principal, member: PanelMember) -> list[ShownCase]:
    """Released masked texts in the member's Williams order (cases without a released text are left out)."""
    from casestudy.masking.workflow import released_texts_for

    released: dict[str, dict] = {}
    for row in released_texts_for(session, principal):
        released[row["case"]] = row  # the newest release of a case wins
    ids = dict(session.execute(select(Case.public_label, Case.id).where(Case.study_id == member.study_id)).all())
    order = list(member.case_order or [])
    all_ids = case_ids(session, member.study_id)
    if sorted(order) != sorted(all_ids):  # cases added after the invitation go last
        order = [c for c in order if c in all_ids] + [c for c in all_ids if c not in order]
    label_of = {v: k for k, v in ids.items()}
    shown = []
    for case_id in order:
        row = released.get(label_of[case_id])
        if row is not None:
            shown.append(ShownCase(len(shown) + 1, row["case"], row["text"], row["hash"], case_id))
    return shown


def released_positions(session: Session, member: PanelMember) -> dict[str, tuple[int, int]]:
    """Public label -> (case id, shown position) of the cases the expert rates; no texts are loaded.

    Saves need only this; it follows the same rule as :func:`_shown_cases` (cases with a released text,
    in the member's order) without reading and re-hashing every text on every autosave.
    """
    released = set(session.scalars(
        select(MaskedText.case_id).where(MaskedText.study_id == member.study_id, MaskedText.status == "released",
               MaskedText.text_kind == "narrative")
    ))
    rows = dict(session.execute(select(Case.id, Case.public_label).where(Case.study_id == member.study_id)).all())
    order = [c for c in (member.case_order or []) if c in rows] + sorted((c for c in rows if c not in (member.case_order or [])), key=rows.get)
    result, position = {}, 0
    for case_id in order:
        if case_id in released:
            position += 1
            result[rows[case_id]] = (case_id, position)
    return result


def answers_of(session: Session, member: PanelMember) -> dict[tuple[int, int], Answer]:
    query = select(Answer).where(Answer.member_id == member.id).execution_options(populate_existing=True)
    return {(a.item_id, a.case_slot): a for a in session.scalars(query)}


def _missing(q: Questionnaire, cases: list[ShownCase], answers: dict) -> tuple[list[str], int, int]:
    """Messages for what is still missing, and the progress (done, total)."""
    messages, done, total = [], 0, 0
    likert = [i for i in q.items if i.kind == "likert_per_case"]
    for case in cases:
        missing = []
        for number, item in enumerate(likert, start=1):
            if not item.required:
                continue
            total += 1
            answer = answers.get((item.id, case.case_id))
            if answer is not None and answer.value.get("v") is not None:
                done += 1
            else:
                missing.append(str(number))
        if missing:
            which = "statement" if len(missing) == 1 else "statements"
            messages.append(f"{case.label}: {which} {', '.join(missing)} not rated yet")
    by_key = {i.key: i for i in q.items}
    for item in q.items:
        if item.kind == "likert_per_case" or not item.required:
            continue
        total += 1
        answer = answers.get((item.id, 0))
        value = answer.value.get("v") if answer is not None else None
        if item.kind == "ordered_list":
            source = by_key.get(item.options.get("source"))
            listed = (answers.get((source.id, 0)).value.get("v") or []) if source and answers.get((source.id, 0)) else []
            if listed and value and sorted(value) == sorted(listed):
                done += 1
            else:
                messages.append(f"{item.label}: put your determinants in order of importance and confirm the order")
        elif value:
            done += 1
        else:
            messages.append(f"{item.label}: " + ("list at least one entry" if item.kind in LIST_KINDS else "please answer"))
    return messages, done, total


@dataclass
class ExpertView:
    pseudonym: str
    status: str
    locked: bool
    submitted_at: dt.datetime | None
    questionnaire: dict
    cases: list[ShownCase]
    answers: dict[str, object]  # "key|Case C" for ratings, "key" for the rest
    seconds: dict[str, float]
    missing: list[str]
    done: int
    total: int

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0


def answer_key(item_key: str, case_label: str | None = None) -> str:
    return f"{item_key}|{case_label}" if case_label else item_key


def expert_view(session: Session, principal: Principal) -> ExpertView:
    """What the expert's page shows: public labels, released masked texts, their own answers only."""
    member = member_for(session, principal)
    q = _questionnaire_of(session, member)
    cases = _shown_cases(session, principal, member)
    answers = answers_of(session, member)
    label_of = {c.case_id: c.label for c in cases}
    key_of = {i.id: i.key for i in q.items}
    values = {}
    for (item_id, slot), answer in answers.items():
        if item_id in key_of and (slot == 0 or slot in label_of):
            values[answer_key(key_of[item_id], label_of.get(slot))] = answer.value.get("v")
    timings = {label_of[t.case_id]: t.seconds for t in session.scalars(select(CaseTiming).where(CaseTiming.member_id == member.id)) if t.case_id in label_of}
    missing, done, total = _missing(q, cases, answers)
    record = questionnaire_record(q)
    record.pop("frozen_at")
    return ExpertView(member.pseudonym, member.status, member.status == "submitted", member.submitted_at, record, cases,
                      values, timings, missing, done, total)


def open_questionnaire(session: Session, principal: Principal) -> bool:
    """First visit: mark opened, bind the member to the current version and freeze it. True if changed."""
    member = member_for(session, principal)
    changed = False
    if member.questionnaire_id is None:
        q = require_questionnaire(session, session.get(Study, member.study_id))
        member.questionnaire_id = q.id
        if q.frozen_at is None:
            q.frozen_at = utcnow()
        changed = True
    if member.status == "invited":
        set_status(member, "opened")
        changed = True
    if not member.case_order:
        member.case_order = design.order_for(member.position or 0, case_ids(session, member.study_id))
        changed = True
    if changed:
        session.flush()
    return changed


def needs_open(view: ExpertView) -> bool:
    return view.status == "invited"


def _clean_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise UserError("a list answer must be a list of texts")
    result, seen = [], set()
    for entry in value:
        text = str(entry).strip()
        if not text:
            continue
        if len(text) > 300:
            raise UserError("one list entry may have at most 300 characters")
        if text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    if len(result) > MAX_LIST_ENTRIES:
        raise UserError(f"a list may hold at most {MAX_LIST_ENTRIES} entries")
    return result


def check_value(q: Questionnaire, item: QuestionnaireItem, value):
    if item.kind == "likert_per_case":
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()))):
            raise UserError(f"a rating must be a whole number from {q.scale_min} to {q.scale_max}")
        value = int(value)
        scale = scale_of(q)
        if not scale.contains(value):
            raise UserError(f"rating {value} lies outside the scale {scale.text()}")
        return value
    if item.kind in LIST_KINDS:
        return _clean_list(value)
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise UserError(f"a comment may have at most {MAX_TEXT} characters")
    return text


def _upsert_insert(session: Session):
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def upsert_answers(session: Session, rows: list[dict]) -> None:
    """Insert or update answers on (member, item, case_slot) in one statement per row."""
    if not rows:
        return
    table = Answer.__table__
    statement = _upsert_insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.item_id, table.c.case_slot],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at,
              "shown_position": statement.excluded.shown_position, "saves": table.c.saves + 1},
    )
    now = utcnow()
    session.execute(statement, [{"created_at": now, "updated_at": now, "saves": 1, **row} for row in rows])


def _reconcile_order(session: Session, member: PanelMember, q: Questionnaire, source: QuestionnaireItem, listed: list[str]) -> None:
    """Keep an ordered list in step with the free list it orders (removed entries drop out)."""
    for item in q.items:
        if item.kind != "ordered_list" or item.options.get("source") != source.key:
            continue
        current = session.scalar(select(Answer).where(Answer.member_id == member.id, Answer.item_id == item.id, Answer.case_slot == 0))
        if current is None:
            continue
        kept = [entry for entry in (current.value.get("v") or []) if entry in listed]
        if kept != current.value.get("v"):
            upsert_answers(session, [{"member_id": member.id, "item_id": item.id, "case_id": None, "case_slot": 0, "value": {"v": kept}, "shown_position": None}])


def save_answer(session: Session, principal: Principal, item_key: str, value, case_label: str | None = None) -> dict:
    """Autosave one answer of the expert behind ``principal``; refused once submitted."""
    member = member_for(session, principal)
    if member.status == "submitted":
        raise UserError("your answers are submitted and locked; contact the research team to change them")
    if member.questionnaire_id is None or member.status == "invited":
        open_questionnaire(session, principal)
    q = session.get(Questionnaire, member.questionnaire_id)
    item = get_item(q, item_key)
    value = check_value(q, item, value)
    case_id, position = None, None
    if item.kind == "likert_per_case":
        shown = released_positions(session, member)
        if case_label not in shown:
            raise UserError(f"there is no case {case_label!r} in your questionnaire")
        case_id, position = shown[case_label]
    elif case_label:
        raise UserError(f"item {item_key!r} is answered once for all cases, not per case")
    if item.kind == "ordered_list":
        source = get_item(q, item.options.get("source", ""))
        listed = session.scalar(select(Answer).where(Answer.member_id == member.id, Answer.item_id == source.id, Answer.case_slot == 0))
        listed_values = listed.value.get("v") if listed is not None else []
        unknown = [v for v in value if v not in listed_values]
        if unknown:
            raise UserError(f"{unknown[0]!r} is not in your list; add it there first")
    upsert_answers(session, [{"member_id": member.id, "item_id": item.id, "case_id": case_id, "case_slot": case_id or 0,
                       "value": {"v": value}, "shown_position": position}])
    if item.kind == "free_list":
        _reconcile_order(session, member, q, item, value)
    if member.status == "opened":
        set_status(member, "in_progress")
        session.flush()
    audit.record(session, "panel_answer", "save", entity_id=member.id, study_id=member.study_id, item=item.key, case=case_label,
                 value=value)
    return {"item": item.key, "case": case_label, "value": value}


def record_time(session: Session, principal: Principal, case_label: str, seconds: float) -> None:
    """Add the seconds one case was on the expert's screen (capped per visit)."""
    member = member_for(session, principal)
    if member.status == "submitted":
        return
    shown = released_positions(session, member)
    if case_label not in shown:
        raise UserError(f"there is no case {case_label!r} in your questionnaire")
    seconds = max(0.0, min(float(seconds), MAX_SECONDS_PER_VISIT))
    if seconds <= 0:
        return
    _add_time(session, member.id, shown[case_label][0], seconds)


def _add_time(session: Session, member_id: int, case_id: int, seconds: float) -> None:
    table = CaseTiming.__table__
    statement = _upsert_insert(session)(table).values(member_id=member_id, case_id=case_id, seconds=seconds, updated_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.case_id],
        set_={"seconds": table.c.seconds + statement.excluded.seconds, "updated_at": statement.excluded.updated_at},
    )
    session.execute(statement)


def validate(session: Session, principal: Principal) -> list[str]:
    """What the expert still has to answer, listed by case; empty when the form is complete."""
    return expert_view(session, principal).missing


def submit(session: Session, principal: Principal) -> PanelMember:
    member = member_for(session, principal)
    if member.status == "submitted":
        raise UserError("your answers were submitted already")
    view = expert_view(session, principal)
    if not view.cases:
        raise UserError("there are no case descriptions to rate yet")
    if view.missing:
        raise UserError("before you submit, please complete:\n" + "\n".join(f"- {m}" for m in view.missing))
    set_status(member, "submitted")
    session.flush()
    return member


def printable_copy(session: Session, principal: Principal) -> str:
    """A self-contained, printable HTML page of the expert's own answers (print to PDF from the browser)."""
    view = expert_view(session, principal)
    q = view.questionnaire
    e = html.escape
    likert = [i for i in q["items"] if i["kind"] == "likert_per_case"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(q['title'])}: your answers</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em .6em;text-align:left}@media print{a{display:none}}</style></head><body>",
        f"<h1>{e(q['title'])}</h1>",
        f"<p>Your answers ({e(view.pseudonym)}), questionnaire version {q['version']}. "
        + (f"Submitted on {view.submitted_at:%Y-%m-%d %H:%M} UTC." if view.submitted_at else "Not submitted yet.") + "</p>",
        f"<p>{e(q['legend'])}</p>",
        "<h2>Ratings per case</h2><table><thead><tr><th>Statement</th>"
        + "".join(f"<th>{e(c.label)}</th>" for c in view.cases) + "</tr></thead><tbody>",
    ]
    for number, item in enumerate(likert, start=1):
        cells = "".join(
            f"<td>{'' if view.answers.get(answer_key(item['key'], c.label)) is None else view.answers.get(answer_key(item['key'], c.label))}</td>"
            for c in view.cases
        )
        parts.append(f"<tr><th>{number}. {e(item['text'])}</th>{cells}</tr>")
    parts.append("</tbody></table>")
    for item in q["items"]:
        if item["kind"] == "likert_per_case":
            continue
        value = view.answers.get(item["key"])
        parts.append(f"<h2>{e(item['label'])}</h2><p><em>{e(item['text'])}</em></p>")
        if isinstance(value, list) and value:
            tag = "ol" if item["kind"] == "ordered_list" else "ul"
            parts.append(f"<{tag}>" + "".join(f"<li>{e(v)}</li>" for v in value) + f"</{tag}>")
        else:
            parts.append(f"<p>{e(value) if value else '(no answer)'}</p>")
    parts.append("</body></html>")
    return "".join(parts)
