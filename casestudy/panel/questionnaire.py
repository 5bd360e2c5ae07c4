"""Questionnaires of the expert panel: versions, items (Likert statements per level, determinant
lists, free text) and the one :class:`~casestudy.panel.scale.Scale` each version rates on.

A version is frozen once the first expert opens it; changing it then needs a new version.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import (
    ITEM_KINDS,
    PanelRound,
    Questionnaire,
    QuestionnaireItem,
    Study,
)
from casestudy.panel import scale as panel_scale
from casestudy.text import collapse_spaces

LIST_KINDS = ("free_list", "ordered_list", "additional_list")


# --- questionnaires -------------------------------------------------------------------------
DEFAULT_TITLE = "Expert judgement of the case descriptions"
DEFAULT_INTRODUCTION = (
    "You will read a number of anonymised descriptions of how a treatment programme was introduced in a "
    "mental-health organisation. For each case, rate how far the statements below hold for that case. "
    "Afterwards you name the determinants that you see coming back across the cases, put them in order of "
    "importance, and add any determinants you consider important from your own experience. Your answers are "
    "saved as you go; you can stop and continue later with the same link."
)
# (kind, key, table label, wording for the expert, required, options)
DEFAULT_ITEMS = (
    ("likert_per_case", "combination", "Success depends on a combination of organization, team and therapist factors",
     "Whether this programme worked out or not came down to organizational, team and therapist factors acting together.", True, {}),
    ("likert_per_case", "organization", "Organizational factors contributed",
     "Factors at the level of the organization played a part in how this case turned out.", True, {}),
    ("likert_per_case", "team", "Team factors contributed",
     "Factors at the level of the treatment team played a part in how this case turned out.", True, {}),
    ("likert_per_case", "therapist", "Therapist factors contributed",
     "Factors at the level of the individual therapists played a part in how this case turned out.", True, {}),
    ("free_list", "recurring", "Recurring determinants",
     "Looking at all cases together: which determinants of success or failure do you see coming back? One per line.", True, {}),
    ("ordered_list", "recurring_order", "Recurring determinants by importance",
     "Put the determinants you listed in order, the most important one first.", True, {"source": "recurring"}),
    ("additional_list", "additional", "Additional determinants",
     "Which further determinants, not visible in these cases, matter in your own judgement? Leave empty if none.", False, {}),
    ("open_comment", "comment", "Comment", "Anything else you would like to tell the research team?", False, {}),
)


def list_questionnaires(session: Session, study: Study) -> list[Questionnaire]:
    return list(session.scalars(select(Questionnaire).where(Questionnaire.study_id == study.id).order_by(Questionnaire.number)))


def current_questionnaire(session: Session, study: Study) -> Questionnaire | None:
    """The newest version: the one new experts receive. A Delphi round's copy of the rating items
    (:mod:`casestudy.panel.delphi`) is not a version of the panel's questionnaire."""
    round_copies = select(PanelRound.questionnaire_id).where(PanelRound.study_id == study.id, PanelRound.questionnaire_id.is_not(None))
    return session.scalar(
        select(Questionnaire).where(Questionnaire.study_id == study.id, Questionnaire.id.not_in(round_copies))
        .order_by(Questionnaire.number.desc()).limit(1)
    )


def next_number(session: Session, study: Study) -> int:
    """The number the study's next questionnaire (a version or a Delphi round's copy) gets."""
    return (session.scalar(select(func.max(Questionnaire.number)).where(Questionnaire.study_id == study.id)) or 0) + 1


def require_questionnaire(session: Session, study: Study) -> Questionnaire:
    q = current_questionnaire(session, study)
    if q is None:
        raise UserError("the study has no questionnaire yet; create the default one first ('panel questionnaire default')")
    return q


def get_questionnaire(session: Session, study: Study, number: int | None = None) -> Questionnaire:
    if number is None:
        return require_questionnaire(session, study)
    q = session.scalar(select(Questionnaire).where(Questionnaire.study_id == study.id, Questionnaire.number == number))
    if q is None:
        raise UserError(f"no questionnaire version {number}")
    return q


def create_default_questionnaire(session: Session, study: Study) -> Questionnaire:
    """Version 1 reproducing the reference study's five tasks (worded afresh)."""
    if current_questionnaire(session, study) is not None:
        raise UserError("the study has a questionnaire already; make a new version to change it")
    q = Questionnaire(
        study_id=study.id, number=1, title=DEFAULT_TITLE, introduction=DEFAULT_INTRODUCTION,
        scale_min=panel_scale.PANEL_SCALE.min, scale_max=panel_scale.PANEL_SCALE.max,
        scale_labels=panel_scale.PANEL_SCALE.stored_labels(),
    )
    for ordinal, (kind, key, label, text, required, options) in enumerate(DEFAULT_ITEMS, start=1):
        q.items.append(QuestionnaireItem(ordinal=ordinal, kind=kind, key=key, label=label, text=text, required=required, options=dict(options)))
    session.add(q)
    session.flush()
    return q


def ensure_questionnaire(session: Session, study: Study) -> Questionnaire:
    return current_questionnaire(session, study) or create_default_questionnaire(session, study)


def _editable(q: Questionnaire) -> Questionnaire:
    if q.frozen_at is not None:
        raise UserError(
            f"questionnaire version {q.number} is frozen since an expert opened it; make a new version to change it"
        )
    return q


def new_version(session: Session, study: Study) -> Questionnaire:
    """A copy of the newest version that can be edited; experts who opened an older one keep theirs."""
    old = require_questionnaire(session, study)
    if old.frozen_at is None:
        raise UserError(f"version {old.number} is not frozen yet; edit it directly")
    q = Questionnaire(
        study_id=study.id, number=next_number(session, study), title=old.title, introduction=old.introduction,
        scale_min=old.scale_min, scale_max=old.scale_max, scale_labels=dict(old.scale_labels),
    )
    for item in old.items:
        q.items.append(QuestionnaireItem(ordinal=item.ordinal, kind=item.kind, key=item.key, label=item.label, text=item.text,
                                         required=item.required, options=dict(item.options)))
    session.add(q)
    session.flush()
    return q


def update_questionnaire(session: Session, q: Questionnaire, *, title: str | None = None, introduction: str | None = None,
                         scale_min: int | None = None, scale_max: int | None = None, scale_labels: dict | None = None) -> Questionnaire:
    _editable(q)
    if title is not None:
        if not collapse_spaces(title):
            raise UserError("a questionnaire needs a title")
        q.title = collapse_spaces(title)
    if introduction is not None:
        q.introduction = introduction.strip()
    if scale_min is not None or scale_max is not None or scale_labels is not None:
        low = q.scale_min if scale_min is None else int(scale_min)
        high = q.scale_max if scale_max is None else int(scale_max)
        q.scale_labels = panel_scale.Scale.defined(low, high, q.scale_labels if scale_labels is None else scale_labels).stored_labels()
        q.scale_min, q.scale_max = low, high
    session.flush()
    return q


def add_item(session: Session, q: Questionnaire, kind: str, key: str, text: str, label: str = "", required: bool = True,
             source: str | None = None) -> QuestionnaireItem:
    _editable(q)
    if kind not in ITEM_KINDS:
        raise UserError(f"unknown item kind {kind!r}; choose one of: {', '.join(ITEM_KINDS)}")
    key = key.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", key):
        raise UserError(f"invalid item key {key!r}; use lower-case letters, digits and _")
    if any(i.key == key for i in q.items):
        raise UserError(f"the questionnaire has an item {key!r} already")
    if not collapse_spaces(text):
        raise UserError("an item needs the wording the expert reads")
    options = {}
    if kind == "ordered_list":
        lists = [i.key for i in q.items if i.kind == "free_list"]
        source = source or (lists[0] if lists else None)
        if source not in lists:
            raise UserError("an ordered list orders a free list: add the free list first (or name it with source)")
        options["source"] = source
    item = QuestionnaireItem(ordinal=max((i.ordinal for i in q.items), default=0) + 1, kind=kind, key=key,
                             label=collapse_spaces(label) or collapse_spaces(text)[:120], text=text.strip(), required=required, options=options)
    q.items.append(item)
    session.flush()
    return item


def get_item(q: Questionnaire, key: str) -> QuestionnaireItem:
    item = next((i for i in q.items if i.key == key), None)
    if item is None:
        raise UserError(f"questionnaire version {q.number} has no item {key!r}")
    return item


def update_item(session: Session, q: Questionnaire, key: str, *, text: str | None = None, label: str | None = None,
                required: bool | None = None) -> QuestionnaireItem:
    _editable(q)
    item = get_item(q, key)
    if text is not None:
        if not collapse_spaces(text):
            raise UserError("an item needs the wording the expert reads")
        item.text = text.strip()
    if label is not None:
        item.label = collapse_spaces(label) or item.label
    if required is not None:
        item.required = bool(required)
    session.flush()
    return item


def remove_item(session: Session, q: Questionnaire, key: str) -> None:
    _editable(q)
    item = get_item(q, key)
    if item.kind == "free_list" and any(i.options.get("source") == key for i in q.items):
        raise UserError(f"item {key!r} is ordered by another item; remove that one first")
    q.items.remove(item)
    for ordinal, other in enumerate(q.items, start=1):
        other.ordinal = ordinal
    session.flush()


def move_item(session: Session, q: Questionnaire, key: str, step: int) -> None:
    _editable(q)
    items = list(q.items)
    index = items.index(get_item(q, key))
    target = max(0, min(len(items) - 1, index + step))
    items.insert(target, items.pop(index))
    for ordinal, item in enumerate(items, start=1):
        item.ordinal = ordinal
    session.flush()
    session.refresh(q, ["items"])


def scale_of(q: Questionnaire) -> panel_scale.Scale:
    """The questionnaire's :class:`~casestudy.panel.scale.Scale` with every point's label."""
    return panel_scale.Scale(q.scale_min, q.scale_max, {int(k): v for k, v in (q.scale_labels or {}).items()})


def study_scale(session: Session, study: Study) -> panel_scale.Scale | None:
    """The rating scale of the study's newest questionnaire (for the reports), None without one."""
    q = current_questionnaire(session, study)
    return scale_of(q) if q is not None else None


def scale_legend(q: Questionnaire | panel_scale.Scale) -> str:
    """The legend of a questionnaire's (or any) scale: :meth:`Scale.legend`."""
    return (scale_of(q) if isinstance(q, Questionnaire) else q).legend()


def questionnaire_record(q: Questionnaire) -> dict:
    return {
        "version": q.number, "title": q.title, "introduction": q.introduction, "frozen_at": q.frozen_at,
        "scale": {"min": q.scale_min, "max": q.scale_max, "labels": q.scale_labels}, "legend": scale_legend(q),
        "items": [
            {"ordinal": i.ordinal, "kind": i.kind, "key": i.key, "label": i.label, "text": i.text, "required": i.required, "options": i.options}
            for i in q.items
        ],
    }
