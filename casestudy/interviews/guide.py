"""The interview guide: a study's semi-structured guide as data, versioned, and how a turn was asked.

A guide has topics; each topic holds items of two kinds in the guide's two stages: **open**
questions (stage 1, asked first, so determinants can come up on the respondent's own account)
and **probes** (stage 2, hypothesis-driven, usually one level each, e.g. "Did the board make time
for supervision?"). An item may be meant for some respondent roles only (``roles``; empty: every
role). :class:`Guide` is the one definition; YAML is its lossless file form, CSV the table form
(both import back to the same guide), Markdown and DOCX are for reading and printing.

Files are read through the project's bounded readers (:func:`casestudy.security.load_yaml`,
:func:`casestudy.tabular.read_csv_rows`) and checked against :data:`MAX_TOPICS`,
:data:`MAX_ITEMS` and :data:`MAX_TEXT`; a guide nests exactly two deep (topics, then items) and
any other shape is refused with the place it was found.

A study keeps every version it stored (:class:`~casestudy.models.InterviewGuide`, never changed):
storing a guide that equals the newest version adds nothing; otherwise it becomes version N+1. An
interview follows the version assigned to it (:func:`set_interview_guide`) or, when none is,
the study's newest.

:func:`turn_elicitation` tells, for each turn of a transcript, whether what the respondent said
there came up spontaneously or after a probe (see its docstring for the rule); the coding stage
stores that on the codings (:mod:`casestudy.coding.elicitation`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import security, tabular
from casestudy.errors import UserError
from casestudy.interviews.constants import GUIDE_FORMATS, GUIDE_ITEM_KINDS
from casestudy.models import RESPONDENT_ROLES, Interview, InterviewGuide, Study

MAX_GUIDE_BYTES = 1024 * 1024
MAX_TOPICS = 200
MAX_ITEMS = 2_000
MAX_TEXT = 4_000
CSV_COLUMNS = ("topic", "topic_title", "kind", "key", "level", "roles", "text")
CSV_FIELDS = ("title", "note")
TOPIC_FIELDS = ("key", "title", "roles", "questions", "probes")
ITEM_FIELDS = ("key", "text", "level", "roles")
#: Share of a guide item's content words an interviewer turn must contain to count as asking it.
MATCH_THRESHOLD = 0.4
#: ... and at least this many of them (an item of fewer content words needs all of them).
MATCH_MIN_WORDS = 2


# --- the guide as data -----------------------------------------------------------------------------
@dataclass(frozen=True)
class GuideItem:
    """One open question (``kind`` "open") or probe ("probe") of a topic."""

    key: str
    kind: str
    text: str
    level: str = ""
    roles: tuple[str, ...] = ()

    def for_role(self, role: str | None) -> bool:
        """True when the item is meant for respondents of ``role`` (every item when ``role`` is None)."""
        return role is None or not self.roles or role in self.roles

    def as_document(self) -> dict:
        document = {"key": self.key, "text": self.text}
        if self.level:
            document["level"] = self.level
        if self.roles:
            document["roles"] = list(self.roles)
        return document


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    items: tuple[GuideItem, ...] = ()

    def of_kind(self, kind: str, role: str | None = None) -> list[GuideItem]:
        return [item for item in self.items if item.kind == kind and item.for_role(role)]


@dataclass(frozen=True)
class Guide:
    """A semi-structured interview guide: a title, a note and topics with open questions and probes."""

    title: str
    topics: tuple[Topic, ...]
    note: str = ""

    def items(self, role: str | None = None) -> list[GuideItem]:
        """Every item (for ``role``), in guide order."""
        return [item for topic in self.topics for item in topic.items if item.for_role(role)]

    def as_document(self) -> dict:
        """The guide as plain data (what YAML holds and the store keeps); :func:`build_guide` reads it back."""
        return {
            "title": self.title,
            **({"note": self.note} if self.note else {}),
            "topics": [
                {"key": t.key, "title": t.title,
                 "questions": [i.as_document() for i in t.of_kind("open")],
                 "probes": [i.as_document() for i in t.of_kind("probe")]}
                for t in self.topics
            ],
        }

    @property
    def sha256(self) -> str:
        text = json.dumps(self.as_document(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def levels(self) -> set[str]:
        return {item.level for item in self.items() if item.level}


def _text(value, where: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if isinstance(value, (dict, list)):
        raise UserError(f"{where}: expected text, found a {'list' if isinstance(value, list) else 'mapping'}")
    text = str(value).strip()
    if required and not text:
        raise UserError(f"{where}: the text is missing")
    if len(text) > limit:
        raise UserError(f"{where}: longer than {limit:,} characters")
    return text


def _roles(value, where: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    parts = value if isinstance(value, list) else re.split(r"[;,]", str(value))
    roles = []
    for part in parts:
        role = _text(part, f"{where}, roles", required=False).lower()
        if not role:
            continue
        if role not in RESPONDENT_ROLES:
            raise UserError(f"{where}: unknown role {role!r}; choose from {', '.join(RESPONDENT_ROLES)}")
        if role not in roles:
            roles.append(role)
    return tuple(roles)


def _check_fields(mapping: dict, allowed: Sequence[str], where: str) -> None:
    unknown = [str(k) for k in mapping if k not in allowed]
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def build_guide(document) -> Guide:
    """A :class:`Guide` from plain data (a parsed YAML file or a stored version), checked.

    ``{title, note?, topics: [{key?, title, roles?, questions: [...], probes: [...]}]}``; an
    item is a text or ``{key?, text, level?, roles?}``. Topic ``roles`` apply to each of its
    items that names none. Missing keys are numbered (``T1``, ``T1.Q1``, ``T1.P2``); keys are
    unique in the guide (case ignored). Raises UserError naming the place of the first problem.
    """
    if not isinstance(document, dict):
        raise UserError("an interview guide is a mapping with a title and topics")
    _check_fields(document, ("title", "note", "topics"), "the guide")
    title = _text(document.get("title"), "the guide's title", limit=300)
    note = _text(document.get("note"), "the guide's note", required=False)
    raw_topics = document.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise UserError("the guide has no topics; give a list 'topics' with questions and probes")
    if len(raw_topics) > MAX_TOPICS:
        raise UserError(f"the guide has {len(raw_topics)} topics; at most {MAX_TOPICS} are allowed")
    seen: dict[str, str] = {}
    topics, count = [], 0

    def unique(key: str, where: str) -> str:
        if key.casefold() in seen:
            raise UserError(f"{where}: the key {key!r} is used twice ({seen[key.casefold()]})")
        seen[key.casefold()] = where
        return key

    for number, raw in enumerate(raw_topics, start=1):
        where = f"topic {number}"
        if not isinstance(raw, dict):
            raise UserError(f"{where}: expected a mapping with a title, questions and probes")
        _check_fields(raw, TOPIC_FIELDS, where)
        key = unique(_text(raw.get("key") or f"T{number}", f"{where}, key", limit=40), where)
        topic_roles = _roles(raw.get("roles"), where)
        items = []
        for kind, field_name, letter in (("open", "questions", "Q"), ("probe", "probes", "P")):
            entries = raw.get(field_name) or []
            if not isinstance(entries, list):
                raise UserError(f"{where}, {field_name}: expected a list")
            for n, entry in enumerate(entries, start=1):
                item_where = f"{where} ({key}), {field_name} {n}"
                entry = {"text": entry} if not isinstance(entry, dict) else entry
                _check_fields(entry, ITEM_FIELDS, item_where)
                item_key = unique(_text(entry.get("key") or f"{key}.{letter}{n}", f"{item_where}, key", limit=40), item_where)
                items.append(GuideItem(
                    key=item_key, kind=kind, text=_text(entry.get("text"), item_where),
                    level=_text(entry.get("level"), f"{item_where}, level", required=False, limit=100).lower(),
                    roles=_roles(entry.get("roles"), item_where) or topic_roles,
                ))
        count += len(items)
        if count > MAX_ITEMS:
            raise UserError(f"the guide has more than {MAX_ITEMS:,} questions and probes")
        if not items:
            raise UserError(f"{where} ({key}): no open questions and no probes")
        topics.append(Topic(key, _text(raw.get("title"), f"{where}, title", limit=300), tuple(items)))
    return Guide(title, tuple(topics), note)


# --- files ------------------------------------------------------------------------------------------
def guide_format(file_name: str, fmt: str | None = None) -> str:
    """The import format of a file: ``fmt`` or its extension (.yaml/.yml, .csv)."""
    if fmt:
        chosen = fmt.lower()
    else:
        suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        chosen = {"yml": "yaml", "yaml": "yaml", "csv": "csv"}.get(suffix, "")
    if chosen not in ("yaml", "csv"):
        raise UserError(f"{file_name}: an interview guide is imported from YAML (.yaml, .yml) or CSV (.csv)")
    return chosen


def read_guide(file_name: str, data: bytes, fmt: str | None = None) -> Guide:
    """The guide in a YAML or CSV file (bounded: :data:`MAX_GUIDE_BYTES`, values, rows), checked."""
    import yaml

    chosen = guide_format(file_name, fmt)
    security.check_input_size(file_name, len(data), MAX_GUIDE_BYTES)
    if chosen == "csv":
        return _guide_from_rows(tabular.read_csv_rows(data, file_name), file_name)
    from casestudy.text import decode_utf8

    text = decode_utf8(file_name, data, retry="save it as UTF-8 and try again")
    try:
        document = security.load_yaml(text, file_name, max_bytes=MAX_GUIDE_BYTES, max_nodes=20 * MAX_ITEMS)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(f"{file_name} is not valid YAML" + (f" (line {mark.line + 1})" if mark else "")) from None
    try:
        return build_guide(document)
    except UserError as exc:
        raise UserError(f"{file_name}: {exc.message}") from None


def _guide_from_rows(rows: list[list[str]], file_name: str) -> Guide:
    """CSV: ``field,value`` rows (title, note), a blank row, then one row per item (:data:`CSV_COLUMNS`)."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(rows) and any(cell.strip() for cell in rows[position]):
        row = rows[position]
        if [c.strip().lower() for c in row[: len(CSV_COLUMNS)]] == list(CSV_COLUMNS):
            break
        name = row[0].strip().lower()
        if name not in CSV_FIELDS:
            raise UserError(f"{file_name}, line {position + 1}: unknown field {row[0]!r}; expected {', '.join(CSV_FIELDS)}, "
                            f"a blank line, then the columns {','.join(CSV_COLUMNS)}")
        fields[name] = row[1] if len(row) > 1 else ""
        position += 1
    while position < len(rows) and not any(cell.strip() for cell in rows[position]):
        position += 1
    if position >= len(rows) or [c.strip().lower() for c in rows[position]] != list(CSV_COLUMNS):
        raise UserError(f"{file_name}: the questions need the header {','.join(CSV_COLUMNS)}")
    topics: dict[str, dict] = {}
    for number, row in enumerate(rows[position + 1 :], start=position + 2):
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(CSV_COLUMNS, [*row, *[""] * len(CSV_COLUMNS)]))
        kind = values["kind"].strip().lower()
        if kind not in GUIDE_ITEM_KINDS:
            raise UserError(f"{file_name}, line {number}: kind {values['kind']!r}; use open or probe")
        topic_key = values["topic"].strip()
        if not topic_key:
            raise UserError(f"{file_name}, line {number}: the topic key is missing")
        topic = topics.setdefault(topic_key, {"key": topic_key, "title": values["topic_title"], "questions": [], "probes": []})
        item = {"text": values["text"], **{k: values[k] for k in ("key", "level", "roles") if values[k].strip()}}
        topic["questions" if kind == "open" else "probes"].append(item)
    document = {"title": fields.get("title", ""), "note": fields.get("note", ""), "topics": list(topics.values())}
    try:
        return build_guide(document)
    except UserError as exc:
        raise UserError(f"{file_name}: {exc.message}") from None


def _rows(guide: Guide) -> list[list[str]]:
    return [[t.key, t.title, i.kind, i.key, i.level, ";".join(i.roles), i.text] for t in guide.topics for i in t.items]


def guide_markdown(guide: Guide, role: str | None = None, number: int | None = None, heading_level: int = 1) -> str:
    """The guide to read: per topic its open questions, then its probes (with their level);
    with ``role`` only what is meant for respondents of that role. The title is a heading of
    ``heading_level`` (1: ``#``), the topics one level below."""
    top, sub = "#" * heading_level, "#" * (heading_level + 1)
    heading = f"{top} {guide.title}" + (f" (version {number})" if number else "")
    lines = [heading, ""]
    if role:
        lines += [f"*For respondents in the role {role}.*", ""]
    if guide.note:
        lines += [guide.note, ""]
    for topic in guide.topics:
        questions, probes = topic.of_kind("open", role), topic.of_kind("probe", role)
        if not questions and not probes:
            continue
        lines += [f"{sub} {topic.key}. {topic.title}", ""]
        if questions:
            lines += ["**Open questions**", ""] + [f"{n}. {_item_line(i)}" for n, i in enumerate(questions, start=1)] + [""]
        if probes:
            lines += ["**Probes**", ""] + [f"- {_item_line(i)}" for i in probes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _item_line(item: GuideItem) -> str:
    extra = [f"level: {item.level}"] if item.level else []
    extra += [f"for: {', '.join(item.roles)}"] if item.roles else []
    return f"{item.text} ({item.key}{'; ' + '; '.join(extra) if extra else ''})"


def guide_docx(guide: Guide, number: int | None = None) -> bytes:
    """The guide as a Word document: a heading per topic, numbered open questions, probes as a list."""
    from docx import Document

    document = Document()
    document.add_heading(guide.title + (f" (version {number})" if number else ""), level=1)
    if guide.note:
        document.add_paragraph(guide.note)
    for topic in guide.topics:
        document.add_heading(f"{topic.key}. {topic.title}", level=2)
        for kind, label, style in (("open", "Open questions", "List Number"), ("probe", "Probes", "List Bullet")):
            items = topic.of_kind(kind)
            if items:
                document.add_paragraph().add_run(label).bold = True
                for item in items:
                    document.add_paragraph(_item_line(item), style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def export_guide(guide: Guide, fmt: str, number: int | None = None) -> str | bytes:
    """The guide as ``yaml`` or ``csv`` (both import back), ``markdown`` or ``docx`` (bytes)."""
    import yaml

    if fmt == "yaml":
        return yaml.safe_dump(guide.as_document(), sort_keys=False, allow_unicode=True, width=100)
    if fmt == "csv":
        head = tabular.csv_text(("field", "value"), [("title", guide.title), ("note", guide.note)])
        return head.split("\n", 1)[1] + "\n" + tabular.csv_text(CSV_COLUMNS, _rows(guide))
    if fmt == "markdown":
        return guide_markdown(guide, number=number)
    if fmt == "docx":
        return guide_docx(guide, number)
    raise UserError(f"unknown format {fmt!r}; choose one of: {', '.join(GUIDE_FORMATS)}")


# --- kept in a study -----------------------------------------------------------------------------
def list_guides(session: Session, study: Study) -> list[InterviewGuide]:
    """The study's guide versions, oldest first."""
    return list(session.scalars(select(InterviewGuide).where(InterviewGuide.study_id == study.id).order_by(InterviewGuide.number)))


def newest_guide(session: Session, study: Study) -> InterviewGuide | None:
    return session.scalar(select(InterviewGuide).where(InterviewGuide.study_id == study.id)
                          .order_by(InterviewGuide.number.desc()).limit(1))


def get_guide(session: Session, study: Study, number: int | None = None) -> InterviewGuide:
    """Version ``number`` of the study's guide (default: the newest), or a UserError saying what there is."""
    found = newest_guide(session, study) if number is None else session.scalar(
        select(InterviewGuide).where(InterviewGuide.study_id == study.id, InterviewGuide.number == int(number)))
    if found is None:
        versions = ", ".join(str(g.number) for g in list_guides(session, study))
        raise UserError(f"the study has no interview guide{'' if number is None else f' version {number}'}"
                        + (f"; versions: {versions}" if versions else "; import one with 'casestudy guide import FILE'"))
    return found


def guide_of(stored: InterviewGuide) -> Guide:
    """The :class:`Guide` of a stored version."""
    return build_guide(stored.document)


def store_guide(session: Session, study: Study, guide: Guide, created_by: str = "", note: str = "") -> tuple[InterviewGuide, str]:
    """Keep ``guide`` as the study's newest version; returns the row and ``added`` or ``unchanged``
    (equal to the newest version). A probe's level must be one of the study's levels."""
    unknown = sorted(guide.levels() - set(study.levels))
    if unknown:
        raise UserError(f"the guide names the level(s) {', '.join(unknown)}, which the study does not have "
                        f"(its levels: {', '.join(study.levels)})")
    newest = newest_guide(session, study)
    if newest is not None and newest.sha256 == guide.sha256:
        return newest, "unchanged"
    number = (session.scalar(select(func.max(InterviewGuide.number)).where(InterviewGuide.study_id == study.id)) or 0) + 1
    stored = InterviewGuide(study_id=study.id, number=number, title=guide.title, document=guide.as_document(),
                            sha256=guide.sha256, note=note.strip(), created_by=created_by)
    session.add(stored)
    session.flush()
    return stored, "added"


def guide_for(session: Session, interview: Interview) -> InterviewGuide | None:
    """The guide version an interview followed: the one assigned to it, else the study's newest."""
    if interview.guide_id is not None:
        return session.get(InterviewGuide, interview.guide_id)
    return newest_guide(session, interview.study)


def guide_text_for(session: Session, interview: Interview, heading_level: int = 1) -> str:
    """The guide an interview followed (:func:`guide_for`), for its respondent's role, as
    Markdown; "" for a document or when the study has no guide. Shown beside the transcript."""
    if interview.kind != "interview":
        return ""
    stored = guide_for(session, interview)
    if stored is None:
        return ""
    role = interview.respondent.role if interview.respondent is not None else None
    return guide_markdown(guide_of(stored), role, stored.number, heading_level)


def set_interview_guide(session: Session, interview: Interview, number: int | None, expected_version: int | None = None) -> Interview:
    """Say which guide version the interview followed (``None``: the newest, whichever it is)."""
    from casestudy.db import apply_edit

    if interview.kind != "interview":
        raise UserError(f"{interview.file_name} is a document, not an interview: it followed no guide")
    guide_id = None if number is None else get_guide(session, interview.study, number).id
    apply_edit(session, Interview, interview.id, interview.version if expected_version is None else expected_version, guide_id=guide_id)
    session.flush()
    return interview


def guide_records(session: Session, study: Study) -> list[dict]:
    """One dict per stored version: number, title, topics, open questions, probes, who, when,
    and how many interviews were assigned to it (``interviews``; the rest follow the newest)."""
    assigned = dict(session.execute(select(Interview.guide_id, func.count()).where(Interview.study_id == study.id, Interview.guide_id.is_not(None))
                                    .group_by(Interview.guide_id)).all())
    records = []
    for stored in list_guides(session, study):
        guide = guide_of(stored)
        items = guide.items()
        records.append({"number": stored.number, "title": stored.title, "topics": len(guide.topics),
                        "open": sum(i.kind == "open" for i in items), "probes": sum(i.kind == "probe" for i in items),
                        "created_at": stored.created_at, "created_by": stored.created_by, "note": stored.note,
                        "interviews": assigned.get(stored.id, 0), "sha256": stored.sha256})
    return records


# --- which guide item a turn asks, and how a turn was elicited -------------------------------------
_WORD = re.compile(r"[^\W\d_]+")
# Frequent words of four or more letters that say nothing about the topic (English and Dutch).
_STOP = frozenset("""
about also been could does doing from have just know like more much really some such tell than that their them then there
these they this very want were what when where which while will with would your yours into over only other because
zijn heeft hebben wordt worden kunnen zouden jullie welke wanneer waar waarom hoeveel deze die dat niet maar voor door
over naar onder tussen meer iets eens even echt gewoon misschien vertel vertellen kunt zich ook nog wel
""".split())


@functools.lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    """The words of ``text`` that carry its topic: four letters or more, not a stop word, cut to
    their first six letters (so "supported" and "supporting" are the same word)."""
    return frozenset(word[:6] for word in (w.casefold() for w in _WORD.findall(text)) if len(word) >= 4 and word not in _STOP)


@dataclass(frozen=True)
class ItemMatch:
    item: GuideItem
    score: float


def match_item(text: str, items: Iterable[GuideItem]) -> ItemMatch | None:
    """The guide item an interviewer's words ask, if any: the item whose content words the text
    contains most (share of the item's words, at least :data:`MATCH_THRESHOLD` and
    :data:`MATCH_MIN_WORDS` of them); on a tie the probe (the later stage) wins."""
    said = content_words(text)
    best: ItemMatch | None = None
    for item in items:
        wanted = content_words(item.text)
        if not wanted:
            continue
        shared = len(wanted & said)
        score = shared / len(wanted)
        if score < MATCH_THRESHOLD or shared < min(MATCH_MIN_WORDS, len(wanted)):
            continue
        if best is None or score > best.score or (score == best.score and item.kind == "probe" and best.item.kind == "open"):
            best = ItemMatch(item, score)
    return best


@dataclass(frozen=True)
class TurnElicitation:
    """How the words of turn ``turn`` came up: ``value`` "spontaneous", "probe" or "" (cannot
    tell), ``reason`` in words, ``asked_turn`` the interviewer turn before it (if any) and
    ``item`` the guide item that turn asked (if it matched one)."""

    turn: int
    value: str
    reason: str
    asked_turn: int | None = None
    item: GuideItem | None = None


@dataclass
class _State:
    asked_turn: int | None = None
    match: ItemMatch | None = None
    first_probe: int | None = None
    reasons: list[str] = field(default_factory=list)


def turn_elicitation(turns: Sequence, text: str, guide: Guide | None, role: str | None = None,
                     probe_start_turn: int | None = None) -> list[TurnElicitation]:
    """For every turn (``SpeakerTurn`` rows or anything with ``ordinal``, ``role``,
    ``text_start``, ``end``) how its words came up, in turn order.

    The rule: an interviewer turn is matched against the guide's items for the respondent's
    ``role`` (:func:`match_item`). A turn that follows an interviewer turn asking a **probe** is
    "probe"; one that follows an **open question** is "spontaneous". When the interviewer turn
    before it matches no item (a follow-up such as "and then?"), the position decides: from the
    start of the probe stage on it is "probe", before it "spontaneous". The probe stage starts at
    ``probe_start_turn`` when the researcher set it, else at the first interviewer turn that asks
    a probe. Without a guide and without ``probe_start_turn`` nothing can be told (``""``).
    An interviewer turn itself takes the stage it lies in, with the item it asks (if any).
    """
    items = guide.items(role) if guide is not None else []
    ordered = sorted(turns, key=lambda t: t.ordinal)
    state = _State()
    result = []
    for turn in ordered:
        in_probe_stage = (turn.ordinal >= probe_start_turn) if probe_start_turn is not None else state.first_probe is not None
        if turn.role == "interviewer":
            match = match_item(text[turn.text_start : turn.end], items) if items else None
            if match is not None and match.item.kind == "probe" and state.first_probe is None:
                state.first_probe = turn.ordinal
                in_probe_stage = probe_start_turn is None or turn.ordinal >= probe_start_turn
            state.asked_turn, state.match = turn.ordinal, match
            own = _by_stage(turn.ordinal, in_probe_stage, state, guide, probe_start_turn, None)
            result.append(dataclasses.replace(own, item=match.item) if match is not None else own)
            continue
        match = state.match
        if match is not None:
            value = "probe" if match.item.kind == "probe" else "spontaneous"
            what = "probe" if match.item.kind == "probe" else "open question"
            reason = f"after {what} {match.item.key} (turn {state.asked_turn}): {match.item.text}"
            result.append(TurnElicitation(turn.ordinal, value, reason, state.asked_turn, match.item))
        else:
            result.append(_by_stage(turn.ordinal, in_probe_stage, state, guide, probe_start_turn, state.asked_turn))
    return result


def _by_stage(ordinal: int, in_probe_stage: bool, state: _State, guide: Guide | None, probe_start_turn: int | None,
              asked_turn: int | None) -> TurnElicitation:
    if guide is None and probe_start_turn is None:
        return TurnElicitation(ordinal, "", "no interview guide and no start of the probes set: mark it by hand", asked_turn)
    start = probe_start_turn if probe_start_turn is not None else state.first_probe
    how = "set by hand" if probe_start_turn is not None else "the first probe asked"
    if in_probe_stage:
        return TurnElicitation(ordinal, "probe", f"in the probe stage (from turn {start}, {how})", asked_turn)
    if start is None:
        return TurnElicitation(ordinal, "spontaneous", "no probe of the guide asked before it", asked_turn)
    return TurnElicitation(ordinal, "spontaneous", f"before the probe stage (from turn {start}, {how})", asked_turn)
