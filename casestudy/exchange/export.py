"""Export a study as a REFI-QDA project (``.qdpx``).

Export mapping
--------------
- ``Users``: every account that coded or wrote a memo. GUIDs are derived (uuid5 over the
  user name), so they stay the same in every export.
- ``CodeBook``: the code tree through :func:`codebook_io.codes_element` (definitions in
  ``Description``); levels, polarity and status as project ``Sets`` (:func:`codebook_io.sets_element`).
- ``Sources``: one ``TextSource`` per interview, its text in ``sources/<guid>.txt`` (UTF-8,
  ``plainTextPath="internal://<guid>.txt"``). One ``PlainTextSelection`` per coding:
  ``startPosition``/``endPosition`` are code points, half-open ``[start, end)`` like
  ``Interview.text``; the selection's ``name`` is the selected text (up to 1000 characters), its
  ``Description`` the coding memo, ``creatingUser`` the coder and ``Coding/CodeRef`` the code.
- ``Cases``: one per case, named by its public label, with ``SourceRef`` to its interviews.
- ``Variables``: case attributes (internal label, organisation, outcome class, programme) as
  ``VariableValue`` of the case; respondent attributes (respondent, role, perspective, language,
  interview date) as ``VariableValue`` of the source (one interview = one respondent).
- ``Notes``: memos (``NoteRef`` from the code, source or selection they belong to), every
  released masked text and the notes of registered providers (e.g. reconstruction versions).
  ``Case`` elements cannot hold a ``NoteRef`` in the schema, so a note on a case is tied to it
  by a ``Link`` (``originGUID`` = note, ``targetGUID`` = case).
- What the standard cannot carry (consent records, panel answers, member-check rounds, the
  identity register...) is listed in the returned report and in a project note.

Entity GUIDs other than codes and users are uuid5 over the study and the row id: the same study
exported twice gives the same GUIDs.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import BinaryIO

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy import study as studies
from casestudy.codebook import exchange as cio
from casestudy.codebook import tree as cb
from casestudy.errors import UserError
from casestudy.exchange.schema import (
    CASE_VARIABLES,
    DATE_VARIABLES,
    NAME_LIMIT,
    NS,
    REPORT_NOTE_NAME,
    SOURCE_VARIABLES,
    Guids,
    count_rows,
    local_name,
    qname,
    user_guid,
    xml_time,
)
from casestudy.models import (
    Base,
    Case,
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


def build_project(session: Session, study: Study) -> tuple[etree._Element, dict[str, str], dict]:
    """The ``<Project>`` element, the source files {archive path: text} and the report."""
    guid = Guids(study)
    root = etree.Element(qname("Project"), nsmap={None: NS})
    root.set("name", study.title)
    root.set("origin", "Casestudy")
    root.set("creationDateTime", xml_time(study.created_at))
    root.set("modifiedDateTime", xml_time(dt.datetime.now(dt.timezone.utc)))

    interview_rows = list(session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)))
    codings = list(session.scalars(select(Coding).where(Coding.study_id == study.id).order_by(Coding.interview_id, Coding.start, Coding.id)))
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
    nodes = cio._nodes_from_records(cb.records(session, study))
    code_elements: dict[str, etree._Element] = {}
    if nodes:
        book = etree.SubElement(root, qname("CodeBook"))
        book.append(cio.codes_element(nodes, NS))
        code_elements = {el.get("guid"): el for el in book.iter(qname("Code"))}

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
            add_value(case_el, "programme", studies.programme_text(case))
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
            files[f"sources/{key}.txt"] = interview.text
            source = etree.SubElement(sources_el, qname("TextSource"), guid=key, name=interview.file_name,
                                      plainTextPath=f"internal://{key}.txt", creationDateTime=xml_time(interview.created_at))
            if interview.notes:
                etree.SubElement(source, qname("Description")).text = interview.notes
            for coding in codings_by_interview.get(interview.id, []):
                coder = user_guid(coding.coder.username)
                selection = etree.SubElement(
                    source, qname("PlainTextSelection"), guid=guid("selection", coding.id),
                    name=interview.text[coding.start:coding.end][:NAME_LIMIT], startPosition=str(coding.start),
                    endPosition=str(coding.end), creatingUser=coder, creationDateTime=xml_time(coding.created_at),
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
            respondent = interview.respondent
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
    for note in notes:
        attrs = {"guid": note["guid"]}
        if note["name"]:  # an untitled memo stays untitled
            attrs["name"] = note["name"][:300]
        if note["author"]:
            attrs["creatingUser"] = user_guid(note["author"])
        if note["created"]:
            attrs["creationDateTime"] = xml_time(note["created"])
        note_el = etree.SubElement(notes_el, qname("Note"), attrs)
        if note["description"]:
            etree.SubElement(note_el, qname("Description")).text = note["description"]
        etree.SubElement(note_el, qname("PlainTextContent")).text = note["text"]

    links = [(n["guid"], case_guid[n["case_id"]]) for n in notes if n["case_id"] in case_guid]
    if links:
        links_el = etree.SubElement(root, qname("Links"))
        for note_key, target in links:
            etree.SubElement(links_el, qname("Link"), guid=guid("link", note_key), name="note on case", direction="OneWay",
                             originGUID=note_key, targetGUID=target)

    sets = cio.sets_element(nodes, study.levels, NS, guid_for=lambda name: guid("set", name)) if nodes else None
    if sets is not None:
        # The project schema's MemberCode is a CodeRef (targetGUID); the codebook schema's has guid.
        for member in sets.iter(qname("MemberCode")):
            member.set("targetGUID", member.attrib.pop("guid"))
        root.append(sets)
    if study.description:
        etree.SubElement(root, qname("Description")).text = study.description
    etree.SubElement(root, qname("NoteRef"), targetGUID=report_key)

    if not len(variables_el):
        root.remove(variables_el)
    report = {
        "study": study.title, "users": len(users), "codes": len(codes), "sources": len(interview_rows),
        "codings": len(codings), "cases": len(cases), "variables": len(variable_guid), "notes": len(notes),
        "memos": len(memos), "released_masked_texts": len(masked), "provided_notes": provided,
        "sets": len(sets) if sets is not None else 0, "not_carried": not_carried,
    }
    return root, files, report


def build_qdpx(session: Session, study: Study, principal: access.Principal | None = None) -> tuple[bytes, dict]:
    """The ``.qdpx`` archive as bytes and its report (researchers only)."""
    if principal is not None:
        access.require_researcher(principal)
    root, files, report = build_project(session, study)
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


def export_qdpx(session: Session, study: Study, path_or_buffer: str | Path | BinaryIO, principal: access.Principal | None = None) -> dict:
    """Write the study as a ``.qdpx`` file (path) or into a binary buffer; returns the report."""
    data, report = build_qdpx(session, study, principal)
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
