"""Panel responses collected elsewhere (paper, another survey tool): ratings and determinant CSVs
imported for existing members, all or nothing, with every problem listed by row.
"""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from casestudy import audit
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import (
    PanelMember,
    Questionnaire,
    Study,
    utcnow,
)
from casestudy.panel import results
from casestudy.panel.answers import upsert_answers
from casestudy.panel.members import list_members, require_round_one_open, set_status
from casestudy.panel.questionnaire import get_item, require_questionnaire, scale_of
from casestudy.panel.results import short_label


# --- responses collected elsewhere ------------------------------------------------------------
def _csv_rows(text: str, required: tuple[str, ...], what: str, errors: list[str]) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO((text or "").lstrip("\ufeff"), newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        errors.append(f"{what} CSV, row 1 (header): missing column(s) {', '.join(missing)}; expected {','.join(required)}")
        return []
    reader.fieldnames = header
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            errors.append(f"{what} CSV, row {number}: more cells than header columns")
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        rows.append((number, {k: (row.get(k) or "").strip() for k in required}))
    return rows


def import_responses(session: Session, study: Study, ratings_text: str | None = None, determinants_text: str | None = None) -> dict:
    """Attach ratings and determinant lists collected on paper or elsewhere to panel members.

    Formats of the reports stage: ``expert,case,item,score`` and ``expert,task,rank,determinant``.
    All-or-nothing: every bad row is reported (unknown expert or case or item, score outside the
    scale, duplicate expert x case x item, ...) and nothing is saved while any is bad. Members
    with imported answers count as submitted (source 'import').
    """
    if not ratings_text and not determinants_text:
        raise UserError("give a ratings CSV, a determinants CSV, or both")
    require_round_one_open(session, study.id, "importing responses")
    q = require_questionnaire(session, study)
    errors: list[str] = []
    members = {m.pseudonym.upper(): m for m in list_members(session, study)}
    cases = {}
    for case in studies.list_cases(session, study):
        cases[case.public_label.casefold()] = case
        cases[short_label(case.public_label).casefold()] = case
    likert = {}
    for item in q.items:
        if item.kind == "likert_per_case":
            likert[item.label.casefold()] = item
            likert[item.key.casefold()] = item
    touched: dict[str, PanelMember] = {}

    def member_of(number: int, what: str, pseudonym: str) -> PanelMember | None:
        member = members.get(pseudonym.upper())
        if member is None:
            errors.append(f"{what} CSV, row {number}: unknown expert {pseudonym!r} (add the member first)")
            return None
        if member.status == "submitted" and member.source == "online":
            errors.append(f"{what} CSV, row {number}: expert {member.pseudonym} has submitted online already")
            return None
        if member.status == "declined":
            errors.append(f"{what} CSV, row {number}: expert {member.pseudonym} is marked declined")
            return None
        return member

    rating_rows, seen = [], {}
    for number, row in _csv_rows(ratings_text, ("expert", "case", "item", "score"), "ratings", errors) if ratings_text else []:
        member = member_of(number, "ratings", row["expert"])
        case = cases.get(row["case"].casefold())
        item = likert.get(row["item"].casefold())
        if case is None:
            errors.append(f"ratings CSV, row {number}: unknown case {row['case']!r}")
        if item is None:
            errors.append(f"ratings CSV, row {number}: unknown item {row['item']!r}; use one of: " + "; ".join(i.label for i in q.items if i.kind == "likert_per_case"))
        score = None
        if row["score"]:
            if not re.fullmatch(r"[+-]?\d+", row["score"]):
                errors.append(f"ratings CSV, row {number}: score {row['score']!r} is not a whole number")
            else:
                score = int(row["score"])
                if not scale_of(q).contains(score):
                    errors.append(f"ratings CSV, row {number}: score {score} lies outside the scale {scale_of(q).text()}")
        if member is None or case is None or item is None:
            continue
        key = (member.id, case.id, item.id)
        if key in seen:
            errors.append(f"ratings CSV, row {number}: duplicate rating of expert {member.pseudonym} for {case.public_label}, item {item.label!r} (first in row {seen[key]})")
            continue
        seen[key] = number
        touched[member.pseudonym] = member
        rating_rows.append((member, case, item, score))

    lists: dict[str, dict] = {}
    for number, row in _csv_rows(determinants_text, ("expert", "task", "rank", "determinant"), "determinants", errors) if determinants_text else []:
        member = member_of(number, "determinants", row["expert"])
        task = row["task"].lower()
        if task not in results.TASKS:
            errors.append(f"determinants CSV, row {number}: task {row['task']!r} must be recurring or additional")
        if not row["determinant"].strip():
            errors.append(f"determinants CSV, row {number}: empty determinant")
        rank = None
        if row["rank"]:
            if not re.fullmatch(r"\d+", row["rank"]) or int(row["rank"]) < 1:
                errors.append(f"determinants CSV, row {number}: rank {row['rank']!r} must be a whole number from 1 or empty")
            else:
                rank = int(row["rank"])
        if member is None or task not in results.TASKS or not row["determinant"].strip():
            continue
        entry = lists.setdefault(member.pseudonym, {"member": member, "recurring": [], "additional": [], "ranks": {}})
        text = row["determinant"]
        if any(t.casefold() == text.casefold() for t in entry[task]):
            errors.append(f"determinants CSV, row {number}: expert {member.pseudonym} names {text!r} twice under {task}")
            continue
        if rank is not None and task == "recurring":
            if rank in entry["ranks"].values():
                errors.append(f"determinants CSV, row {number}: expert {member.pseudonym} gives rank {rank} twice")
                continue
            entry["ranks"][text] = rank
        entry[task].append(text)
        touched[member.pseudonym] = member

    if errors:
        raise UserError(f"nothing imported; {len(errors)} problem(s):\n" + "\n".join(errors))
    rows = []
    for member in touched.values():
        if member.questionnaire_id is None:
            member.questionnaire_id = q.id
    if q.frozen_at is None and touched:
        q.frozen_at = utcnow()
    for member, case, item, score in rating_rows:
        if member.questionnaire_id != q.id:
            item = get_item(session.get(Questionnaire, member.questionnaire_id), item.key)
        position = (member.case_order.index(case.id) + 1) if case.id in (member.case_order or []) else None
        rows.append({"member_id": member.id, "item_id": item.id, "case_id": case.id, "case_slot": case.id,
                     "value": {"v": score}, "shown_position": position})
    for entry in lists.values():
        member = entry["member"]
        mq = session.get(Questionnaire, member.questionnaire_id)
        recurring = next((i for i in mq.items if i.kind == "free_list"), None)
        ordered = next((i for i in mq.items if i.kind == "ordered_list"), None)
        additional = next((i for i in mq.items if i.kind == "additional_list"), None)
        ranked = sorted(entry["ranks"], key=entry["ranks"].get)
        listed = ranked + [t for t in entry["recurring"] if t not in entry["ranks"]]
        for item, value in ((recurring, listed), (ordered, ranked), (additional, entry["additional"])):
            if item is not None and value:
                rows.append({"member_id": member.id, "item_id": item.id, "case_id": None, "case_slot": 0, "value": {"v": value}, "shown_position": None})
    upsert_answers(session, rows)
    for member in touched.values():
        if member.status != "submitted":
            if member.status == "new":
                member.status = "invited"
                member.invited_at = member.invited_at or utcnow()
            set_status(member, "submitted")
        member.source = "import"
    session.flush()
    audit.record(session, "panel_answer", "import", study_id=study.id, members=sorted(touched), answers=len(rows))
    return {"members": sorted(touched), "ratings": len(rating_rows), "determinant_lists": len(lists), "answers": len(rows)}
