"""Export a study as a REFI-QDA project (``.qdpx``).

Export mapping
--------------
- ``Users``: every account that coded or wrote a memo. GUIDs are derived (uuid5 over the
  user name), so they stay the same in every export.
- ``CodeBook``: the code tree through :func:`codebook_io.codes_element` (definitions in
  ``Description``); levels, polarity and status as project ``Sets`` (:func:`codebook_io.sets_element`).
  Levels also survive tools that drop ``Sets`` (QualCoder writes none; it keeps the project's,
  the cases' and the codes' Descriptions and the case variables): each code's Description ends
  in the line ``Level: <name>`` (the level marker of :mod:`casestudy.codebook.exchange`) and the
  project's Description in ``Levels: ["organisation", "team", "therapist"]`` (every level, in
  order; :func:`schema.description_with_levels`). The importer reads them only where no level
  set says it, and takes them off the texts.
- ``Sources``: one ``TextSource`` per interview, its text in ``sources/<guid>.txt`` (UTF-8,
  ``plainTextPath="internal://<guid>.txt"``). One ``PlainTextSelection`` per coding:
  ``startPosition``/``endPosition`` are code points, half-open ``[start, end)`` like
  ``Interview.text``; the selection's ``name`` is the selected text (up to 1000 characters), its
  ``Description`` the coding memo, ``creatingUser`` the coder and ``Coding/CodeRef`` the code.
- ``Cases``: one per case, named by its public label, with ``SourceRef`` to its interviews.
- ``Variables``: case attributes (internal label, organisation, outcome class, programme) as
  ``VariableValue`` of the case; the programme twice: ``programme`` as readable text ("PH (2
  groups), IOP (1 group)", :func:`study.format_programme`, which can be ambiguous and leaves out
  status and outcome class) and ``programme components``, the exact JSON list
  (:func:`schema.programme_json`) the importer recreates the components from; respondent attributes (respondent, role, perspective, language,
  interview date) as ``VariableValue`` of the source (one interview = one respondent).
- ``Notes``: memos (``NoteRef`` from the code, source or selection they belong to), every
  released masked text and the notes of registered providers (e.g. reconstruction versions).
  Each note's text is a file of its own, ``sources/<case label>-<note name>.txt`` (unique names,
  ``plainTextPath="internal://..."``; the standard allows a path or inline content, not both),
  which QualCoder imports as journals.
  ``Case`` elements cannot hold a ``NoteRef`` in the schema, so a note on a case is tied to it
  by a ``Link`` (``originGUID`` = note, ``targetGUID`` = case).
- ``Sets``: besides the code sets, one set per case with its interviews as ``MemberSource``
  (MAXQDA's document groups; QualCoder turns them into attributes), named by the case label.
- Code relations: a ``Link`` from the source code to the target code named by the type
  (``direction`` OneWay, Bidirectional for co-occurs; ``color`` the type's colour) with a
  ``NoteRef`` to the relation's note, which is tied to the case like any note on a case; each
  evidence coding is a ``Link`` named "evidence" from its selection to the relation's Link.
- What the standard cannot carry (consent records, panel answers, member-check rounds, the
  identity register...) is listed in the returned report and in a project note.

Options (:class:`ExportOptions`): ``qualify_names`` puts the parent path into the name of every
code whose name another code shares (QualCoder's code names are unique project-wide, so such
codes would lose their codings there); without it the report warns about them. ``offsets``
``utf16`` counts positions in UTF-16 code units (NVivo), ``line_endings`` ``crlf`` writes the
sources with CRLF line ends and counts positions in the text so written; the default stays the
standard's code points over the stored text.

Entity GUIDs other than codes and users are uuid5 over the study and the row id: the same study
exported twice gives the same GUIDs.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy import study as studies
from casestudy.codebook import exchange as cio
from casestudy.codebook import tree as cb
from casestudy.coding import blinding, network
from casestudy.coding import relations as relation_kinds
from casestudy.errors import UserError
from casestudy.exchange.constants import EXPORT_OFFSETS, LINE_ENDINGS
from casestudy.exchange.schema import (
    CASE_VARIABLES,
    DATE_VARIABLES,
    EVIDENCE_LINK,
    NAME_LIMIT,
    NS,
    PROGRAMME_COMPONENTS_VARIABLE,
    PROGRAMME_VARIABLE,
    RELATION_NOTE_DESCRIPTION,
    REPORT_NOTE_NAME,
    SOURCE_VARIABLES,
    Guids,
    count_rows,
    description_with_levels,
    local_name,
    programme_json,
    qname,
    user_guid,
    xml_time,
)
from casestudy.models import (
    Base,
    Case,
    CodeRelation,
    Coding,
    Interview,
    MaskedText,
    Memo,
    ReconstructionVersion,
    Respondent,
    Study,
    User,
)


def reconstruction_versions(session: Session, study: Study) -> list[dict]:
    """Every reconstruction version as a case note: {"key", "title", "text", "case_id",
    "created_at", "description"}."""
    rows = session.scalars(select(ReconstructionVersion).join(Case, ReconstructionVersion.case_id == Case.id)
                           .where(Case.study_id == study.id).order_by(ReconstructionVersion.case_id, ReconstructionVersion.number))
    return [{
        "key": f"reconstruction-version:{v.id}", "title": f"Reconstruction version {v.number} ({v.status})", "text": v.text,
        "case_id": v.case_id, "created_at": v.created_at,
        "description": f"By {v.author}; SHA-256 {v.content_hash}" + (f"; {v.change_note}" if v.change_note else ""),
    } for v in rows]


#: Notes of other stages tied to their case: name -> fn(session, study) -> [note dict].
CASE_NOTES = {"reconstruction versions": reconstruction_versions}


# --- export -------------------------------------------------------------------------------
def _not_carried(session: Session, study: Study) -> list[str]:
    """What the standard cannot carry, with counts (only what this study has)."""
    from casestudy.models import ConsentRecord

    lines = []
    consents = count_rows(session, ConsentRecord, ConsentRecord.respondent_id.in_(
        select(Respondent.id).join(Case).where(Case.study_id == study.id)))
    if consents:
        lines.append(f"consent records: {consents} (the standard has no place for consent)")
    # Tables of other stages, counted by name when they exist (panel, member check, masking).
    labels = {
        "panel_member": "expert panel members",
        "questionnaire": "panel questionnaires", "register_entry": "identity register entries (deliberately never exported)",
        "access_token": "access links", "determinant_mapping": "determinant mappings",
    }
    tables = Base.metadata.tables
    case_ids = select(Case.id).where(Case.study_id == study.id)
    for name in sorted(tables):
        label = labels.get(name) or ("member-check rounds (with their responses and comments)" if name == "member_check_round" else None)
        columns = tables[name].c
        if label is None or ("study_id" not in columns and "case_id" not in columns):
            continue
        where = columns.study_id == study.id if "study_id" in columns else columns.case_id.in_(case_ids)
        number = session.scalar(select(func.count()).select_from(tables[name]).where(where)) or 0
        if number:
            lines.append(f"{label}: {number}")
    if "panel_answer" in tables and "panel_member" in tables:
        answer, member = tables["panel_answer"], tables["panel_member"]
        number = session.scalar(select(func.count()).select_from(answer.join(member, answer.c.member_id == member.c.id))
                                .where(member.c.study_id == study.id)) or 0
        if number:
            lines.append(f"panel answers: {number}")
    drafts = count_rows(session, MaskedText, MaskedText.study_id == study.id, MaskedText.status != "released")
    if drafts:
        lines.append(f"masked texts not yet released: {drafts} (only released versions are exported)")
    lines.append("speaker turns and sentences (recomputed from the text on import), the audit log and code history")
    lines.append("code origin, merge targets and other sets beyond levels/polarity/status (see the codebook exchange)")
    return lines


@dataclass(frozen=True)
class ExportOptions:
    """How a ``.qdpx`` is written (see the module docstring); the defaults follow the standard."""

    qualify_names: bool = False
    offsets: str = "codepoints"
    line_endings: str = "lf"

    def __post_init__(self):
        if self.offsets not in EXPORT_OFFSETS:
            raise UserError(f"unknown offset convention {self.offsets!r}; choose one of: {', '.join(EXPORT_OFFSETS)}")
        if self.line_endings not in LINE_ENDINGS:
            raise UserError(f"unknown line ending {self.line_endings!r}; choose one of: {', '.join(LINE_ENDINGS)}")


def shared_code_names(records: list[dict]) -> dict[str, list[str]]:
    """{name: [paths]} of the code names (compared without case) that more than one code has."""
    by_name: dict[str, list[str]] = {}
    for record in records:
        by_name.setdefault(record["name"].casefold(), []).append(record["path"])
    return {paths[0].rsplit("/", 1)[-1]: paths for paths in by_name.values() if len(paths) > 1}


def qualify_shared_names(code_elements: dict[str, etree._Element], records: list[dict], shared: dict[str, list[str]]) -> int:
    """Rename every code whose name is shared to its full path ('Team/Leadership'); returns how many."""
    paths = {path for group in shared.values() for path in group}
    renamed = 0
    for record in records:
        element = code_elements.get(record["guid"])
        if element is not None and record["path"] in paths:
            element.set("name", " / ".join(cb.split_path(record["path"])))
            renamed += 1
    return renamed


def note_file_name(note: dict, case_label: str | None, taken: set[str]) -> str:
    """A unique, portable file name for a note: '<case label>-<note name>.txt' (letters, digits,
    '-', '_' and '.'), numbered when taken."""

    def slug(text: str) -> str:
        return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("._-")

    stem = "-".join(part for part in (slug(case_label or ""), slug(note["name"] or "note")[:80]) if part) or "note"
    name, number = f"{stem}.txt", 1
    while name.lower() in taken:
        number += 1
        name = f"{stem}-{number}.txt"
    taken.add(name.lower())
    return name


def case_sets(cases: list[Case], interviews_by_case: dict[int, list[Interview]], guid: Guids) -> list[etree._Element]:
    """One ``<Set>`` per case with its interviews as ``MemberSource`` (MAXQDA's document groups)."""
    sets = []
    for case in cases:
        members = interviews_by_case.get(case.id, [])
        if not members:
            continue
        element = etree.Element(qname("Set"), guid=guid("case-set", case.id), name=case.public_label)
        etree.SubElement(element, qname("Description")).text = "Case (Casestudy): the interviews of this case"
        for interview in members:
            etree.SubElement(element, qname("MemberSource"), targetGUID=guid("source", interview.id))
        sets.append(element)
    return sets


def source_positions(text: str, options: ExportOptions):
    """(the text as written, position mapper): code points of the stored text -> positions in
    the written text under the options (CRLF line ends, UTF-16 code units)."""
    if options.offsets == "codepoints" and options.line_endings == "lf":
        return text, lambda position: position
    written = text.replace("\n", "\r\n") if options.line_endings == "crlf" else text
    newlines = [i for i, ch in enumerate(text) if ch == "\n"] if options.line_endings == "crlf" else []
    wide = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if options.offsets == "utf16" else []

    def mapper(position: int) -> int:
        # each line end before the position gains a CR; each character beyond the BMP counts twice
        return position + bisect_left(newlines, position) + bisect_left(wide, position)

    return written, mapper


def build_project(session: Session, study: Study, options: ExportOptions | None = None,
                  coder_ids: list[int] | None = None) -> tuple[etree._Element, dict[str, str], dict]:
    """The ``<Project>`` element, the source files {archive path: text} and the report; with
    ``coder_ids`` only those coders' codings (blind coding, :func:`build_qdpx`)."""
    options = options or ExportOptions()
    guid = Guids(study)
    root = etree.Element(qname("Project"), nsmap={None: NS})
    root.set("name", study.title)
    root.set("origin", "Casestudy")
    root.set("creationDateTime", xml_time(study.created_at))
    root.set("modifiedDateTime", xml_time(dt.datetime.now(dt.timezone.utc)))

    interview_rows = list(session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)))
    coding_query = select(Coding).where(Coding.study_id == study.id).order_by(Coding.interview_id, Coding.start, Coding.id)
    if coder_ids is not None:
        coding_query = coding_query.where(Coding.coder_id.in_(coder_ids))
    codings = list(session.scalars(coding_query))
    memos = list(session.scalars(select(Memo).where(Memo.study_id == study.id).order_by(Memo.id)))
    cases = studies.list_cases(session, study)
    codes = {c.id: c for c in cb.all_codes(session, study)}

    # Users
    user_ids = {c.coder_id for c in codings} | {m.author_id for m in memos}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.username))} if user_ids else {}
    if users:
        users_el = etree.SubElement(root, qname("Users"))
        for user in users.values():
            etree.SubElement(users_el, qname("User"), guid=user_guid(user.username), name=user.display_name or user.username, id=user.username)

    # CodeBook (the same writer as the .qdc export)
    records = cb.records(session, study)
    nodes = cio._nodes_from_records(records)
    code_elements: dict[str, etree._Element] = {}
    warnings: list[str] = []
    if nodes:
        book = etree.SubElement(root, qname("CodeBook"))
        book.append(cio.codes_element(nodes, NS))
        code_elements = {el.get("guid"): el for el in book.iter(qname("Code"))}
    shared = shared_code_names(records)
    if shared and options.qualify_names:
        renamed = qualify_shared_names(code_elements, records, shared)
        warnings.append(f"{renamed} code(s) whose name another code shares are named with their parent path (--qualify-names)")
    elif shared:
        warnings.append(
            f"{len(shared)} code name(s) are used in more than one branch ({'; '.join(f'{n}: ' + ', '.join(p) for n, p in list(shared.items())[:5])}): "
            "tools whose code names are unique project-wide (QualCoder) will merge them or lose their codings; "
            "export with --qualify-names to put the parent path in their names")

    # Variables
    variable_guid = {name: guid("variable", name) for name in (*CASE_VARIABLES, *SOURCE_VARIABLES)}
    variables_el = etree.SubElement(root, qname("Variables"))
    for name, key in variable_guid.items():
        etree.SubElement(variables_el, qname("Variable"), guid=key, name=name, typeOfVariable="Date" if name in DATE_VARIABLES else "Text")

    def add_value(parent, name: str, value) -> None:
        if value in (None, ""):
            return
        holder = etree.SubElement(parent, qname("VariableValue"))
        etree.SubElement(holder, qname("VariableRef"), targetGUID=variable_guid[name])
        if isinstance(value, dt.date):
            etree.SubElement(holder, qname("DateValue")).text = value.isoformat()
        else:
            etree.SubElement(holder, qname("TextValue")).text = str(value)

    # Cases
    interviews_by_case: dict[int, list[Interview]] = {}
    for interview in interview_rows:
        interviews_by_case.setdefault(interview.case_id, []).append(interview)
    case_guid = {case.id: guid("case", case.id) for case in cases}
    if cases:
        cases_el = etree.SubElement(root, qname("Cases"))
        for case in cases:
            case_el = etree.SubElement(cases_el, qname("Case"), guid=case_guid[case.id], name=case.public_label)
            if case.outcome_description:
                etree.SubElement(case_el, qname("Description")).text = case.outcome_description
            add_value(case_el, "internal label", case.internal_label)
            add_value(case_el, "organisation", case.organisation.name if case.organisation else "")
            add_value(case_el, "outcome class", case.outcome_class)
            add_value(case_el, PROGRAMME_VARIABLE, studies.programme_text(case))
            add_value(case_el, PROGRAMME_COMPONENTS_VARIABLE, programme_json(case.components))
            for interview in interviews_by_case.get(case.id, []):
                etree.SubElement(case_el, qname("SourceRef"), targetGUID=guid("source", interview.id))

    # Notes first (in memory), so that sources and codes can point at them.
    notes: list[dict] = []  # {"guid", "name", "text", "author", "created", "description", "case_id"}
    memo_refs: dict[tuple[str, int], list[str]] = {}
    for memo in memos:
        key = guid("memo", memo.id)
        note = {"guid": key, "name": memo.title, "text": memo.text,
                "author": memo.author.username, "created": memo.created_at, "description": "", "case_id": None}
        if memo.target_type == "case":
            note["case_id"] = memo.target_id
        else:
            memo_refs.setdefault((memo.target_type, memo.target_id), []).append(key)
        notes.append(note)
    masked = list(session.scalars(select(MaskedText).where(MaskedText.study_id == study.id, MaskedText.status == "released").order_by(MaskedText.id)))
    for row in masked:
        notes.append({
            "guid": guid("masked", row.id), "name": f"Released masked text {row.id} ({row.case.public_label})",
            "text": row.masked_text, "author": None, "created": row.released_at or row.created_at, "case_id": row.case_id,
            "description": f"Released {xml_time(row.released_at) or ''} by {row.released_by or 'unknown'}; SHA-256 {row.released_hash or ''}; source {row.source_ref}",
        })
    # Code relations: a Link between the two codes (name = type), its note tied to the case.
    relation_rows = list(session.scalars(select(CodeRelation).where(CodeRelation.study_id == study.id).order_by(CodeRelation.id)))
    for relation in relation_rows:
        notes.append({
            "guid": guid("relation-note", relation.id), "name": f"{relation.kind}: {relation.source.name} -> {relation.target.name}",
            "text": relation.note, "author": None,
            "created": relation.created_at, "description": RELATION_NOTE_DESCRIPTION, "case_id": relation.case_id,
        })
    provided: dict[str, int] = {}
    for name, provider in CASE_NOTES.items():
        for number, item in enumerate(provider(session, study) or []):
            notes.append({
                "guid": guid(f"note:{name}", item.get("key", number)), "name": item.get("title") or name,
                "text": item.get("text") or "", "author": None, "created": item.get("created_at"),
                "description": item.get("description") or "", "case_id": item.get("case_id"),
            })
            provided[name] = number + 1

    for code_id, keys in ((target_id, keys) for (kind, target_id), keys in memo_refs.items() if kind == "code"):
        code = codes.get(code_id)
        element = code_elements.get(code.guid) if code else None
        if element is None:
            continue
        position = 1 if len(element) and local_name(element[0]) == "Description" else 0
        for offset, key in enumerate(keys):
            element.insert(position + offset, etree.Element(qname("NoteRef"), targetGUID=key))

    # Sources
    files: dict[str, str] = {}
    codings_by_interview: dict[int, list[Coding]] = {}
    for coding in codings:
        codings_by_interview.setdefault(coding.interview_id, []).append(coding)
    if interview_rows:
        sources_el = etree.SubElement(root, qname("Sources"))
        for interview in interview_rows:
            key = guid("source", interview.id)
            written, position = source_positions(interview.text, options)
            files[f"sources/{key}.txt"] = written
            source = etree.SubElement(sources_el, qname("TextSource"), guid=key, name=interview.file_name,
                                      plainTextPath=f"internal://{key}.txt", creationDateTime=xml_time(interview.created_at))
            if interview.notes:
                etree.SubElement(source, qname("Description")).text = interview.notes
            for coding in codings_by_interview.get(interview.id, []):
                coder = user_guid(coding.coder.username)
                selection = etree.SubElement(
                    source, qname("PlainTextSelection"), guid=guid("selection", coding.id),
                    name=interview.text[coding.start:coding.end][:NAME_LIMIT], startPosition=str(position(coding.start)),
                    endPosition=str(position(coding.end)), creatingUser=coder, creationDateTime=xml_time(coding.created_at),
                )
                if coding.memo:
                    etree.SubElement(selection, qname("Description")).text = coding.memo
                coding_el = etree.SubElement(selection, qname("Coding"), guid=guid("coding", coding.id), creatingUser=coder,
                                             creationDateTime=xml_time(coding.created_at))
                etree.SubElement(coding_el, qname("CodeRef"), targetGUID=coding.code.guid)
                for note_key in memo_refs.get(("coding", coding.id), []):
                    etree.SubElement(selection, qname("NoteRef"), targetGUID=note_key)
            for note_key in memo_refs.get(("interview", interview.id), []):
                etree.SubElement(source, qname("NoteRef"), targetGUID=note_key)
            respondent = interview.respondent  # None for a document (not an interview)
            if respondent is not None:
                add_value(source, "respondent", respondent.name)
                add_value(source, "role", respondent.role)
                add_value(source, "perspective", respondent.perspective)
            add_value(source, "language", interview.language)
            add_value(source, "interview date", interview.date)

    # Notes (memos, released masked texts, providers, and the report of what is not carried)
    not_carried = _not_carried(session, study)
    report_key = guid("note", "not-carried")
    notes.append({"guid": report_key, "name": REPORT_NOTE_NAME, "author": None, "created": dt.datetime.now(dt.timezone.utc),
                  "description": "", "case_id": None,
                  "text": "This REFI-QDA project was exported by Casestudy. The standard has no place for:\n"
                          + "\n".join(f"- {line}" for line in not_carried)})
    notes_el = etree.SubElement(root, qname("Notes"))
    case_label = {case.id: case.public_label for case in cases}
    note_files: set[str] = {path.rsplit("/", 1)[-1].lower() for path in files}
    for note in notes:
        attrs = {"guid": note["guid"]}
        if note["name"]:  # an untitled memo stays untitled
            attrs["name"] = note["name"][:300]
        if note["author"]:
            attrs["creatingUser"] = user_guid(note["author"])
        if note["created"]:
            attrs["creationDateTime"] = xml_time(note["created"])
        file_name = note_file_name(note, case_label.get(note["case_id"]), note_files)
        files[f"sources/{file_name}"] = note["text"]
        attrs["plainTextPath"] = f"internal://{file_name}"
        note_el = etree.SubElement(notes_el, qname("Note"), attrs)
        if note["description"]:
            etree.SubElement(note_el, qname("Description")).text = note["description"]

    links = [(n["guid"], case_guid[n["case_id"]]) for n in notes if n["case_id"] in case_guid]
    exported = {c.id for c in codings}
    if links or relation_rows:
        links_el = etree.SubElement(root, qname("Links"))
        for note_key, target in links:
            etree.SubElement(links_el, qname("Link"), guid=guid("link", note_key), name="note on case", direction="OneWay",
                             originGUID=note_key, targetGUID=target)
        for relation in relation_rows:
            key = guid("relation", relation.id)
            link = etree.SubElement(links_el, qname("Link"), guid=key, name=relation.kind,
                                    direction="Bidirectional" if relation.kind in relation_kinds.UNDIRECTED else "OneWay",
                                    color=network.RELATION_STYLE[relation.kind][0], originGUID=relation.source.guid,
                                    targetGUID=relation.target.guid)
            etree.SubElement(link, qname("NoteRef"), targetGUID=guid("relation-note", relation.id))
            for coding in relation.evidence:
                if coding.id in exported:
                    etree.SubElement(links_el, qname("Link"), guid=guid("evidence", f"{relation.id}:{coding.id}"), name=EVIDENCE_LINK,
                                     direction="OneWay", originGUID=guid("selection", coding.id), targetGUID=key)

    sets = cio.sets_element(nodes, study.levels, NS, guid_for=lambda name: guid("set", name)) if nodes else None
    if sets is not None:
        # The project schema's MemberCode is a CodeRef (targetGUID); the codebook schema's has guid.
        for member in sets.iter(qname("MemberCode")):
            member.set("targetGUID", member.attrib.pop("guid"))
    source_sets = case_sets(cases, interviews_by_case, guid)
    if source_sets:
        sets = sets if sets is not None else etree.Element(qname("Sets"))
        sets.extend(source_sets)
    if sets is not None:
        root.append(sets)
    etree.SubElement(root, qname("Description")).text = description_with_levels(study.description, study.levels)
    etree.SubElement(root, qname("NoteRef"), targetGUID=report_key)

    if not len(variables_el):
        root.remove(variables_el)
    report = {
        "study": study.title, "users": len(users), "codes": len(codes), "sources": len(interview_rows),
        "codings": len(codings), "cases": len(cases), "variables": len(variable_guid), "notes": len(notes),
        "memos": len(memos), "released_masked_texts": len(masked), "provided_notes": provided, "relations": len(relation_rows),
        "sets": len(sets) if sets is not None else 0, "case_sets": len(source_sets), "not_carried": not_carried,
        "offsets": options.offsets, "line_endings": options.line_endings, "warnings": warnings,
    }
    return root, files, report


def build_qdpx(session: Session, study: Study, principal: access.Principal | None = None,
               options: ExportOptions | None = None) -> tuple[bytes, dict]:
    """The ``.qdpx`` archive as bytes and its report (researchers only; while blind coding is on,
    a coder's export holds only their own codings). ``principal`` None: a script, everything."""
    coder_ids = None
    if principal is not None:
        access.require_researcher(principal)
        coder_ids = blinding.visible_coders(session, study, principal)
    root, files, report = build_project(session, study, options, coder_ids)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    data = buffer.getvalue()
    report["bytes"] = len(data)
    audit.record(session, "refi", "export", None, study.id, sources=report["sources"], codings=report["codings"], bytes=len(data))
    return data, report


def export_qdpx(session: Session, study: Study, path_or_buffer: str | Path | BinaryIO, principal: access.Principal | None = None,
                options: ExportOptions | None = None) -> dict:
    """Write the study as a ``.qdpx`` file (path) or into a binary buffer; returns the report."""
    data, report = build_qdpx(session, study, principal, options)
    if hasattr(path_or_buffer, "write"):
        path_or_buffer.write(data)
        report["file"] = getattr(path_or_buffer, "name", "")
    else:
        path = Path(path_or_buffer)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}")
        report["file"] = str(path)
    return report
