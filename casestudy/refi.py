"""REFI-QDA project exchange: export a study as ``.qdpx`` and import a ``.qdpx`` into a new study.

A ``.qdpx`` file is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``,
schema ``refi_schema/Project-mrt2019.xsd``) and a ``sources/`` folder with the source files.

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

Import rules
------------
Everything goes into a NEW study inside the caller's transaction (all or nothing). Sources
become interviews; a source listed by a ``Case`` joins that case (the first one, if several),
every other source joins a case ``Imported`` with one respondent per source (named after the
source). A source's respondent is the ``respondent`` variable when present, else the source
name; its role the ``role`` variable, else ``other``. Offsets: see :data:`OFFSET_MODES`; in
``auto`` mode every selection whose ``name`` holds its text is checked against the text under
each convention and the one that matches is used; with nothing to check, the exporting tool named
in the project's ``origin`` decides (:data:`ORIGIN_HINTS`), else code points are assumed.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import secrets
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit, codebook as cb, codebook_io as cio, convert, interviews, study as studies
from .errors import UserError
from .models import (
    CASE_OUTCOMES,
    DEFAULT_LEVELS,
    PERSPECTIVES,
    Base,
    Case,
    Coding,
    Interview,
    MaskedText,
    Memo,
    Respondent,
    Study,
    User,
)

NS = "urn:QDA-XML:project:1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "refi_schema" / "Project-mrt2019.xsd"
OFFSET_MODES = ("auto", "codepoints", "utf16", "crlf1", "utf8")
OFFSET_HELP = {
    "codepoints": "Unicode code points (the standard)",
    "utf16": "UTF-16 code units (NVivo)",
    "crlf1": "code points with CRLF counted as one character (ATLAS.ti)",
    "utf8": "UTF-8 bytes (Taguette)",
}
NAME_LIMIT = 1000
MAX_ARCHIVE_BYTES = 500 * 1024 * 1024
REPORT_NOTE_NAME = "Not carried by REFI-QDA (Casestudy export report)"
IMPORTED_CASE = "Imported"
IMPORT_USER = "refi-import"
CASE_VARIABLES = ("internal label", "organisation", "outcome class", "programme")
SOURCE_VARIABLES = ("respondent", "role", "perspective", "language", "interview date")
_DATE_VARIABLES = {"interview date"}
_CASE_KEYS = ("internal label", "organisation", "organization", "outcome class", "outcome")

# --- note providers (other stages plug in here) ------------------------------------------
# A provider is fn(session, study) -> list of {"key", "title", "text", "case_id", "created_at"?,
# "description"?}; each item becomes a Note tied to its case. The member-check stage registers
# one for its reconstruction versions.
NoteProvider = Callable[[Session, Study], list[dict]]
_NOTE_PROVIDERS: dict[str, NoteProvider] = {}


def register_note_provider(name: str, provider: NoteProvider) -> None:
    _NOTE_PROVIDERS[name] = provider


def unregister_note_provider(name: str) -> None:
    _NOTE_PROVIDERS.pop(name, None)


def note_providers() -> dict[str, NoteProvider]:
    return dict(_NOTE_PROVIDERS)


def _reconstruction_versions(session: Session, study: Study) -> list[dict]:
    """Reconstruction versions as case notes, when the member-check stage's tables exist."""
    try:
        from .models import ReconstructionVersion  # the member-check stage (may be absent)
    except ImportError:
        return []
    rows = session.scalars(select(ReconstructionVersion).join(Case, ReconstructionVersion.case_id == Case.id)
                           .where(Case.study_id == study.id).order_by(ReconstructionVersion.case_id, ReconstructionVersion.number))
    return [{
        "key": f"reconstruction-version:{v.id}", "title": f"Reconstruction version {v.number} ({v.status})", "text": v.text,
        "case_id": v.case_id, "created_at": v.created_at,
        "description": f"By {v.author}; SHA-256 {v.content_hash}" + (f"; {v.change_note}" if v.change_note else ""),
    } for v in rows]


register_note_provider("reconstruction versions", _reconstruction_versions)


# --- helpers ------------------------------------------------------------------------------
def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, tag: str) -> list:
    return [c for c in element if _local(c) == tag]


def _child(element, tag: str):
    return next((c for c in element if _local(c) == tag), None)


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def norm_guid(value: str | None) -> str | None:
    """Lower-case GUID without braces (GUIDs differ in case and braces between tools)."""
    if not value:
        return None
    try:
        return str(uuid.UUID(value.strip().strip("{}")))
    except ValueError:
        return None


def user_guid(username: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"casestudy:user:{username.lower()}"))


class _Guids:
    """Stable GUIDs for the entities of one study."""

    def __init__(self, study: Study):
        stamp = _when(study.created_at) or ""
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"casestudy:study:{study.id}:{stamp}")

    def __call__(self, kind: str, key: Any) -> str:
        return str(uuid.uuid5(self.namespace, f"{kind}:{key}"))


@lru_cache(maxsize=1)
def project_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate_project(xml: bytes | etree._Element) -> list[str]:
    """Schema errors of a project.qde (empty when it is valid)."""
    root = xml if isinstance(xml, etree._Element) else etree.fromstring(xml, _parser())
    schema = project_schema()
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- export -------------------------------------------------------------------------------
def _not_carried(session: Session, study: Study) -> list[str]:
    """What the standard cannot carry, with counts (only what this study has)."""
    from .models import ConsentRecord

    lines = []
    consents = _count(session, ConsentRecord, ConsentRecord.respondent_id.in_(
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
    drafts = _count(session, MaskedText, MaskedText.study_id == study.id, MaskedText.status != "released")
    if drafts:
        lines.append(f"masked texts not yet released: {drafts} (only released versions are exported)")
    lines.append("speaker turns and sentences (recomputed from the text on import), the audit log and code history")
    lines.append("code origin, merge targets and other sets beyond levels/polarity/status (see the codebook exchange)")
    return lines


def build_project(session: Session, study: Study) -> tuple[etree._Element, dict[str, str], dict]:
    """The ``<Project>`` element, the source files {archive path: text} and the report."""
    guid = _Guids(study)
    root = etree.Element(_q("Project"), nsmap={None: NS})
    root.set("name", study.title)
    root.set("origin", "Casestudy")
    root.set("creationDateTime", _when(study.created_at))
    root.set("modifiedDateTime", _when(dt.datetime.now(dt.timezone.utc)))

    interview_rows = list(session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)))
    codings = list(session.scalars(select(Coding).where(Coding.study_id == study.id).order_by(Coding.interview_id, Coding.start, Coding.id)))
    memos = list(session.scalars(select(Memo).where(Memo.study_id == study.id).order_by(Memo.id)))
    cases = studies.list_cases(session, study)
    codes = {c.id: c for c in cb.all_codes(session, study)}

    # Users
    user_ids = {c.coder_id for c in codings} | {m.author_id for m in memos}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.username))} if user_ids else {}
    if users:
        users_el = etree.SubElement(root, _q("Users"))
        for user in users.values():
            etree.SubElement(users_el, _q("User"), guid=user_guid(user.username), name=user.display_name or user.username, id=user.username)

    # CodeBook (the same writer as the .qdc export)
    nodes = cio._nodes_from_records(cb.records(session, study))
    code_elements: dict[str, etree._Element] = {}
    if nodes:
        book = etree.SubElement(root, _q("CodeBook"))
        book.append(cio.codes_element(nodes, NS))
        code_elements = {el.get("guid"): el for el in book.iter(_q("Code"))}

    # Variables
    variable_guid = {name: guid("variable", name) for name in (*CASE_VARIABLES, *SOURCE_VARIABLES)}
    variables_el = etree.SubElement(root, _q("Variables"))
    for name, key in variable_guid.items():
        etree.SubElement(variables_el, _q("Variable"), guid=key, name=name, typeOfVariable="Date" if name in _DATE_VARIABLES else "Text")

    def add_value(parent, name: str, value) -> None:
        if value in (None, ""):
            return
        holder = etree.SubElement(parent, _q("VariableValue"))
        etree.SubElement(holder, _q("VariableRef"), targetGUID=variable_guid[name])
        if isinstance(value, dt.date):
            etree.SubElement(holder, _q("DateValue")).text = value.isoformat()
        else:
            etree.SubElement(holder, _q("TextValue")).text = str(value)

    # Cases
    interviews_by_case: dict[int, list[Interview]] = {}
    for interview in interview_rows:
        interviews_by_case.setdefault(interview.case_id, []).append(interview)
    case_guid = {case.id: guid("case", case.id) for case in cases}
    if cases:
        cases_el = etree.SubElement(root, _q("Cases"))
        for case in cases:
            case_el = etree.SubElement(cases_el, _q("Case"), guid=case_guid[case.id], name=case.public_label)
            if case.outcome_description:
                etree.SubElement(case_el, _q("Description")).text = case.outcome_description
            add_value(case_el, "internal label", case.internal_label)
            add_value(case_el, "organisation", case.organisation.name if case.organisation else "")
            add_value(case_el, "outcome class", case.outcome_class)
            add_value(case_el, "programme", studies.programme_text(case))
            for interview in interviews_by_case.get(case.id, []):
                etree.SubElement(case_el, _q("SourceRef"), targetGUID=guid("source", interview.id))

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
            "description": f"Released {_when(row.released_at) or ''} by {row.released_by or 'unknown'}; SHA-256 {row.released_hash or ''}; source {row.source_ref}",
        })
    provided: dict[str, int] = {}
    for name, provider in sorted(_NOTE_PROVIDERS.items()):
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
        position = 1 if len(element) and _local(element[0]) == "Description" else 0
        for offset, key in enumerate(keys):
            element.insert(position + offset, etree.Element(_q("NoteRef"), targetGUID=key))

    # Sources
    files: dict[str, str] = {}
    codings_by_interview: dict[int, list[Coding]] = {}
    for coding in codings:
        codings_by_interview.setdefault(coding.interview_id, []).append(coding)
    if interview_rows:
        sources_el = etree.SubElement(root, _q("Sources"))
        for interview in interview_rows:
            key = guid("source", interview.id)
            files[f"sources/{key}.txt"] = interview.text
            source = etree.SubElement(sources_el, _q("TextSource"), guid=key, name=interview.file_name,
                                      plainTextPath=f"internal://{key}.txt", creationDateTime=_when(interview.created_at))
            if interview.notes:
                etree.SubElement(source, _q("Description")).text = interview.notes
            for coding in codings_by_interview.get(interview.id, []):
                coder = user_guid(coding.coder.username)
                selection = etree.SubElement(
                    source, _q("PlainTextSelection"), guid=guid("selection", coding.id),
                    name=interview.text[coding.start:coding.end][:NAME_LIMIT], startPosition=str(coding.start),
                    endPosition=str(coding.end), creatingUser=coder, creationDateTime=_when(coding.created_at),
                )
                if coding.memo:
                    etree.SubElement(selection, _q("Description")).text = coding.memo
                coding_el = etree.SubElement(selection, _q("Coding"), guid=guid("coding", coding.id), creatingUser=coder,
                                             creationDateTime=_when(coding.created_at))
                etree.SubElement(coding_el, _q("CodeRef"), targetGUID=coding.code.guid)
                for note_key in memo_refs.get(("coding", coding.id), []):
                    etree.SubElement(selection, _q("NoteRef"), targetGUID=note_key)
            for note_key in memo_refs.get(("interview", interview.id), []):
                etree.SubElement(source, _q("NoteRef"), targetGUID=note_key)
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
    notes_el = etree.SubElement(root, _q("Notes"))
    for note in notes:
        attrs = {"guid": note["guid"]}
        if note["name"]:  # an untitled memo stays untitled
            attrs["name"] = note["name"][:300]
        if note["author"]:
            attrs["creatingUser"] = user_guid(note["author"])
        if note["created"]:
            attrs["creationDateTime"] = _when(note["created"])
        note_el = etree.SubElement(notes_el, _q("Note"), attrs)
        if note["description"]:
            etree.SubElement(note_el, _q("Description")).text = note["description"]
        etree.SubElement(note_el, _q("PlainTextContent")).text = note["text"]

    links = [(n["guid"], case_guid[n["case_id"]]) for n in notes if n["case_id"] in case_guid]
    if links:
        links_el = etree.SubElement(root, _q("Links"))
        for note_key, target in links:
            etree.SubElement(links_el, _q("Link"), guid=guid("link", note_key), name="note on case", direction="OneWay",
                             originGUID=note_key, targetGUID=target)

    sets = cio.sets_element(nodes, study.levels, NS, guid_for=lambda name: guid("set", name)) if nodes else None
    if sets is not None:
        # The project schema's MemberCode is a CodeRef (targetGUID); the codebook schema's has guid.
        for member in sets.iter(_q("MemberCode")):
            member.set("targetGUID", member.attrib.pop("guid"))
        root.append(sets)
    if study.description:
        etree.SubElement(root, _q("Description")).text = study.description
    etree.SubElement(root, _q("NoteRef"), targetGUID=report_key)

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


# --- import: reading the archive ----------------------------------------------------------
def _read_input(source: str | Path | bytes | BinaryIO) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "upload.qdpx"
    if hasattr(source, "read"):
        return source.read(), getattr(source, "name", "upload.qdpx")
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}")


def read_archive(data: bytes) -> tuple[etree._Element, zipfile.ZipFile]:
    """The validated ``<Project>`` root and the open archive; every defect is one UserError."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise UserError(f"the file is too large ({len(data) // 1048576} MB); the limit is {MAX_ARCHIVE_BYTES // 1048576} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError("this is not a REFI-QDA project: a .qdpx file is a zip archive, and this file is not a readable zip")
    candidates = [n for n in names if n.lower() == "project.qde"] or [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
    if len(candidates) != 1:
        raise UserError("the archive holds no project.qde: it is not a REFI-QDA project (.qdpx)" if not candidates
                        else f"the archive holds several projects ({', '.join(candidates)}); expected one project.qde")
    xml = _read_member(archive, candidates[0])
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise UserError(f"project.qde is not well-formed XML: {exc}")
    errors = validate_project(root)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(f"project.qde does not follow the REFI-QDA project schema: {errors[0]}{more}")
    return root, archive


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """One member's bytes; a member that unpacks beyond the size limit is refused (zip bombs)."""
    if archive.getinfo(name).file_size > MAX_ARCHIVE_BYTES:
        raise UserError(f"{name} in the archive unpacks to more than {MAX_ARCHIVE_BYTES // 1048576} MB; refused")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, zlib.error) as exc:
        raise UserError(f"{name} cannot be read from the archive (corrupt zip: {exc})")


def _member(archive: zipfile.ZipFile, path: str) -> str | None:
    """The archive member for a plainTextPath ('internal://x.txt', 'sources/x.txt', 'Sources/x.txt')."""
    path = path.strip()
    if "://" in path:
        scheme, _, rest = path.partition("://")
        if scheme.lower() != "internal":
            return None
        path = rest
    path = path.lstrip("/").replace("\\", "/")
    names = {n.lower(): n for n in archive.namelist()}
    for candidate in (path, f"sources/{path}"):
        if candidate.lower() in names:
            return names[candidate.lower()]
    return None


def _decode(name: str, data: bytes) -> str:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"source {name!r} is not UTF-8 text (undecodable byte at {exc.start}); REFI-QDA text sources are UTF-8")


# --- import: offsets ----------------------------------------------------------------------
class _Offsets:
    """Maps a tool's offsets into code points of the source text, then into the normalised text."""

    def __init__(self, text: str):
        self.text = text
        self.normalised = convert.normalise(text)
        self._maps: dict[str, dict[int, int]] = {}
        self._norm_map: list[int] | None = None
        self._nfc_changes = False

    def _table(self, mode: str) -> dict[int, int]:
        if mode not in self._maps:
            table: dict[int, int] = {}
            units = 0
            text = self.text
            if mode == "crlf1":
                i = k = 0
                while i <= len(text):
                    table[k] = i
                    i += 2 if text.startswith("\r\n", i) else 1
                    k += 1
            else:
                size = (lambda ch: 2 if ord(ch) > 0xFFFF else 1) if mode == "utf16" else (lambda ch: len(ch.encode("utf-8", "surrogatepass")))
                for i, ch in enumerate(text):
                    table[units] = i
                    units += size(ch)
                table[units] = len(text)
            self._maps[mode] = table
        return self._maps[mode]

    def to_codepoints(self, mode: str, start: int, end: int) -> tuple[int, int] | None:
        if mode == "codepoints":
            ok = 0 <= start < end <= len(self.text)
            return (start, end) if ok else None
        table = self._table(mode)
        if start not in table or end not in table or start >= end:
            return None
        return table[start], table[end]

    def to_normalised(self, start: int, end: int) -> tuple[int, int]:
        if self.normalised == self.text:
            return start, end
        if self._norm_map is None:
            collapsed = []
            j = 0
            i = 0
            text = self.text
            while i < len(text):
                collapsed.append(j)
                if text.startswith("\r\n", i):
                    collapsed.append(j)
                    i += 2
                else:
                    i += 1
                j += 1
            collapsed.append(j)
            self._norm_map = collapsed
            self._nfc_changes = len(self.normalised) != j or unicodedata.normalize("NFC", re.sub(r"\r\n", "\n", text)) != re.sub(r"\r\n", "\n", text)
        if self._nfc_changes:
            return len(convert.normalise(self.text[:start])), len(convert.normalise(self.text[:end]))
        return self._norm_map[start], self._norm_map[end]

    def text_under(self, mode: str, start: int, end: int) -> str | None:
        span = self.to_codepoints(mode, start, end)
        return None if span is None else self.text[span[0]:span[1]]


def _same_text(found: str | None, expected: str) -> bool:
    if found is None:
        return False
    a, b = " ".join(found.split()), " ".join(expected.split())
    if a == b:
        return True
    b = b.rstrip(".\u2026 ")
    return len(b) >= 20 and a.startswith(b)


# Known habits by the Project's ``origin`` attribute, used only when no selection text can be checked.
ORIGIN_HINTS = (("nvivo", "utf16"), ("atlas", "crlf1"), ("taguette", "utf8"))


def _choose_mode(offsets: _Offsets, selections: list[dict], requested: str, origin: str = "") -> tuple[str, str]:
    """The offset convention for one source and how it was decided."""
    modes = OFFSET_MODES[1:]
    if requested != "auto":
        return requested, "chosen"
    if not selections:
        return "codepoints", "no selections"
    named = [s for s in selections if s["name"]]
    if named:
        scores = {m: sum(_same_text(offsets.text_under(m, s["start"], s["end"]), s["name"]) for s in named) for m in modes}
        best = max(modes, key=lambda m: (scores[m], -modes.index(m)))
        if scores[best]:
            return best, f"verified ({scores[best]} of {len(named)} selection texts)"
    ends = [s["end"] for s in selections]
    if ends and max(ends) > len(offsets.text):
        for mode in ("utf16", "utf8"):
            if all(offsets.to_codepoints(mode, s["start"], s["end"]) for s in selections):
                return mode, "guessed (offsets run past the text in code points)"
    simple = offsets.text.isascii() and "\r\n" not in offsets.text
    if simple:
        return "codepoints", "standard (all conventions agree on this text)"
    hint = next((mode for word, mode in ORIGIN_HINTS if word in origin.lower()), None)
    if hint and all(offsets.to_codepoints(hint, s["start"], s["end"]) for s in selections):
        return hint, f"guessed from the exporting tool ({origin}); no selection text to verify against"
    return "codepoints", "assumed (no selection text to verify against)"


# --- import ---------------------------------------------------------------------------------
def _variables(root) -> dict[str, tuple[str, str]]:
    holder = _child(root, "Variables")
    out = {}
    for var in _children(holder, "Variable") if holder is not None else []:
        out[norm_guid(var.get("guid"))] = ((var.get("name") or "").strip(), var.get("typeOfVariable") or "Text")
    return out


def _values(element, variables: dict) -> dict[str, str]:
    out = {}
    for holder in _children(element, "VariableValue"):
        ref = _child(holder, "VariableRef")
        name = variables.get(norm_guid(ref.get("targetGUID")) if ref is not None else None, ("", ""))[0]
        value = next((c.text for c in holder if _local(c) != "VariableRef"), None)
        if name and value not in (None, ""):
            out[name] = value.strip()
    return out


def _unused(label: str, used: set[str], suffix: str = " ({})") -> str:
    """``label``, or ``label`` with the first free number appended (case-insensitive)."""
    candidate, n = label, 1
    while candidate.lower() in used:
        n += 1
        candidate = label + suffix.format(n)
    return candidate


def _unique_title(session: Session, title: str) -> str:
    existing = {t.lower() for t in session.scalars(select(Study.title))}
    return _unused(" ".join(title.split())[:280] or "Imported project", existing)


def _free_label(label: str, used: set[str]) -> str:
    return _unused(" ".join(label.split())[:90] or "Case", used)


def _username(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.@-]+", ".", name.strip()).strip(".")[:90] or "coder"
    if len(base) < 2:
        base = f"{base}.user"
    return _unused(base, taken, "{}")


def _text_of(element) -> str:
    return (element.text or "").strip() if element is not None else ""


def _note_refs(element) -> list[str]:
    return [norm_guid(n.get("targetGUID")) for n in _children(element, "NoteRef")]


def _list(root, holder: str, tag: str) -> list:
    element = _child(root, holder)
    return _children(element, tag) if element is not None else []


class _Importer:
    """One import: :meth:`read` checks the whole project first, the other steps write."""

    def __init__(self, session: Session, root, archive: zipfile.ZipFile, file_name: str, offset_mode: str, language: str):
        self.session, self.root, self.archive = session, root, archive
        self.file_name, self.offset_mode, self.language = file_name, offset_mode, language
        self.messages: list[str] = []
        self.book = _child(root, "CodeBook")
        self.variables = _variables(root)
        self.users_el = {norm_guid(u.get("guid")): u for u in _list(root, "Users", "User")}
        self.texts: dict[str, dict] = {}
        self.skipped_sources: dict[str, str] = {}
        self.cases: list[dict] = []
        self.notes: dict[str, dict] = {}
        self.user_map: dict[str | None, User] = {}
        self.created_users: list[str] = []
        self.matched_users: list[str] = []
        self.case_by_guid: dict[str, Case] = {}
        self.interview_by_source: dict[str, Interview] = {}
        self.coding_of_selection: dict[str, Coding] = {}
        self.offset_report: dict[str, str] = {}
        self.counts = {"codes": 0, "codings": 0, "skipped_selections": 0, "unverified": 0, "memos": 0}

    # -- 1. read and check every reference before anything is written --------------------
    def _file_text(self, owner: str, path: str) -> str:
        member = _member(self.archive, path)
        if member is None:
            raise UserError(f"{owner} refers to {path!r}, which is not in the archive (looked in sources/ and Sources/)")
        return _decode(owner, _read_member(self.archive, member))

    def read(self) -> None:
        code_guids = {norm_guid(c.get("guid")) for c in self.book.iter(_q("Code"))} if self.book is not None else set()
        sources_el = _child(self.root, "Sources")
        for element in (sources_el if sources_el is not None else []):
            tag = _local(element)
            if not tag:
                continue
            key = norm_guid(element.get("guid"))
            name = (element.get("name") or "").strip() or f"source {len(self.texts) + len(self.skipped_sources) + 1}"
            if tag != "TextSource":
                self.skipped_sources[key] = name
                self.messages.append(f"{tag} {name!r} skipped: only text sources can be imported")
                continue
            inline = _child(element, "PlainTextContent")
            if inline is not None and inline.text:
                text = inline.text
            elif element.get("plainTextPath"):
                text = self._file_text(f"source {name!r}", element.get("plainTextPath"))
            else:
                raise UserError(f"text source {name!r} has neither PlainTextContent nor a plainTextPath")
            if not text.strip():
                self.skipped_sources[key] = name
                self.messages.append(f"text source {name!r} skipped: it is empty")
                continue
            selections = []
            for sel in _children(element, "PlainTextSelection"):
                codings = []
                for coding_el in _children(sel, "Coding"):
                    ref = _child(coding_el, "CodeRef")
                    target = norm_guid(ref.get("targetGUID")) if ref is not None else None
                    if target not in code_guids:
                        raise UserError(f"a coding in source {name!r} refers to code {ref.get('targetGUID') if ref is not None else '?'}, "
                                        "which is not in the codebook")
                    codings.append({"code": target, "user": norm_guid(coding_el.get("creatingUser")), "notes": _note_refs(coding_el)})
                selections.append({
                    "guid": norm_guid(sel.get("guid")), "start": int(sel.get("startPosition")), "end": int(sel.get("endPosition")),
                    "name": sel.get("name") or "", "user": norm_guid(sel.get("creatingUser")), "codings": codings,
                    "memo": _text_of(_child(sel, "Description")), "notes": _note_refs(sel),
                })
            whole = len(_children(element, "Coding"))
            if whole:
                self.messages.append(f"{whole} coding(s) of the whole source {name!r} skipped: codings need a text span")
            self.texts[key] = {"name": name, "text": text, "selections": selections, "values": _values(element, self.variables),
                               "notes": _note_refs(element), "description": _text_of(_child(element, "Description"))}
        for case in _list(self.root, "Cases", "Case"):
            refs = [norm_guid(r.get("targetGUID")) for r in _children(case, "SourceRef")]
            missing = [r for r in refs if r not in self.texts and r not in self.skipped_sources]
            if missing:
                raise UserError(f"case {case.get('name') or case.get('guid')!r} refers to source {missing[0]}, which is not in the project")
            self.cases.append({"guid": norm_guid(case.get("guid")), "name": (case.get("name") or "").strip(), "sources": refs,
                               "values": _values(case, self.variables), "description": _text_of(_child(case, "Description"))})
        for note in _list(self.root, "Notes", "Note"):
            inline = _child(note, "PlainTextContent")
            text = inline.text if inline is not None and inline.text else ""
            if not text and note.get("plainTextPath"):
                text = self._file_text(f"note {note.get('name')!r}", note.get("plainTextPath"))
            self.notes[norm_guid(note.get("guid"))] = {"name": (note.get("name") or "").strip(), "text": text,
                                                        "description": _text_of(_child(note, "Description")),
                                                        "user": norm_guid(note.get("creatingUser"))}

    # -- 2. the study, its levels (sets named 'Level: X') and the codebook -------------------
    def create_study(self, title: str | None) -> None:
        sets_el = _child(self.root, "Sets")
        levels = []
        for set_el in _children(sets_el, "Set") if sets_el is not None else []:
            kind, _, value = (set_el.get("name") or "").partition(":")
            if kind.strip().lower() == "level" and value.strip() and value.strip() not in levels and _children(set_el, "MemberCode"):
                levels.append(value.strip())
        self.study = studies.create_study(
            self.session, _unique_title(self.session, title or self.root.get("name") or Path(self.file_name).stem),
            language=self.language, levels=levels or list(DEFAULT_LEVELS), description=_text_of(_child(self.root, "Description")))
        if self.book is not None and _child(self.book, "Codes") is not None:
            # The codebook reader of the .qdc exchange, fed the codes and the sets of codes.
            holder = etree.Element("CodeBook")
            codes_copy = copy.deepcopy(_child(self.book, "Codes"))
            for note_ref in list(codes_copy.iter(_q("NoteRef"))):  # notes on codes are read in notes()
                note_ref.getparent().remove(note_ref)
            holder.append(codes_copy)
            code_sets = etree.SubElement(holder, "Sets")
            for set_el in _children(sets_el, "Set") if sets_el is not None else []:
                members = _children(set_el, "MemberCode")
                if not members:
                    self.messages.append(f"set {set_el.get('name')!r} not carried over: only sets of codes are kept")
                    continue
                set_copy = etree.SubElement(code_sets, "Set", name=set_el.get("name") or "")
                for member in members:
                    etree.SubElement(set_copy, "MemberCode", guid=member.get("targetGUID") or member.get("guid") or "")
            nodes, warnings = cio.parse_codebook_element(holder, self.study.levels)
            self.messages.extend(warnings)
            self.counts["codes"] = cio.import_nodes(self.session, self.study, nodes, source=self.file_name)["added"]
        self.code_by_guid = {c.guid: c for c in cb.all_codes(self.session, self.study)}

    # -- 3. users: matched by user name (the User 'id'), else created as coders ---------------
    def account(self, key: str | None) -> User:
        if key in self.user_map:
            return self.user_map[key]
        session = self.session
        element = self.users_el.get(key)
        if element is None:
            display, wanted = "Imported (unknown user)", IMPORT_USER
        else:
            display = (element.get("name") or element.get("id") or "").strip() or "Imported user"
            wanted = (element.get("id") or "").strip() or display
        user = session.scalar(select(User).where(func.lower(User.username) == wanted.lower()))
        if user is None and element is not None:
            user = session.scalar(select(User).where(func.lower(User.display_name) == display.lower()))
        if user is not None:
            self.matched_users.append(user.username)
        else:
            taken = {u.lower() for u in session.scalars(select(User.username))}
            username = wanted if re.fullmatch(r"[A-Za-z0-9_.@-]{2,100}", wanted) and wanted.lower() not in taken else _username(wanted, taken)
            # '!' is never a valid argon2 hash: nobody can log in until an admin sets a password.
            user = User(username=username, display_name=display[:200], role="coder", password_hash="!" + secrets.token_hex(16))
            session.add(user)
            session.flush()
            self.created_users.append(username)
        self.user_map[key] = user
        return user

    # -- 4. cases, respondents and interviews ------------------------------------------------
    def import_cases(self) -> None:
        self.case_of_source: dict[str, Case] = {}
        letters = iter([f"Case {chr(65 + i)}" for i in range(26)] + [f"Case {i}" for i in range(27, 1000)])
        self.used_labels: set[str] = set()
        for item in self.cases:
            values = {k.lower(): v for k, v in item["values"].items()}
            name = item["name"] or "Case"
            internal = _free_label(values.get("internal label") or name, self.used_labels)
            public = name
            if public.lower() == internal.lower():
                public = next(label for label in letters if label.lower() not in self.used_labels and label.lower() != internal.lower())
            public = _free_label(public, self.used_labels | {internal.lower()})
            outcome = (values.get("outcome class") or values.get("outcome") or "unknown").lower()
            if outcome not in CASE_OUTCOMES:
                self.messages.append(f"case {name!r}: outcome {outcome!r} is not one of {', '.join(CASE_OUTCOMES)}; set to unknown")
                outcome = "unknown"
            case = studies.add_case(self.session, self.study, internal, public,
                                    values.get("organisation") or values.get("organization") or None, outcome, item["description"])
            self.used_labels |= {internal.lower(), public.lower()}
            self.case_by_guid[item["guid"]] = case
            item["extra"] = {k: v for k, v in item["values"].items() if k.lower() not in _CASE_KEYS}
            for ref in item["sources"]:
                if ref in self.case_of_source and self.case_of_source[ref].id != case.id:
                    self.messages.append(f"source {self.texts.get(ref, {}).get('name', ref)!r} is in several cases; "
                                         f"it was put in {self.case_of_source[ref].public_label}")
                else:
                    self.case_of_source.setdefault(ref, case)
        self._imported_case = None

    def _fallback_case(self) -> Case:
        if self._imported_case is None:
            internal = _free_label(IMPORTED_CASE, self.used_labels)
            self._imported_case = studies.add_case(self.session, self.study, internal, f"{internal} (cases unknown)",
                                                   outcome_description="Sources that no case of the imported project listed.")
        return self._imported_case

    def _respondent(self, case: Case, item: dict, values: dict) -> Respondent:
        name = (values.get("respondent") or Path(item["name"]).stem or item["name"])[:200]
        respondent = studies.find_respondent(self.session, case, name)
        if respondent is None:
            try:
                role = studies.normalise_role(values.get("role") or "other")
            except UserError:
                self.messages.append(f"source {item['name']!r}: role {values.get('role')!r} unknown; set to other")
                role = "other"
            perspective = values.get("perspective") if values.get("perspective") in PERSPECTIVES else None
            respondent = studies.add_respondent(self.session, case, name, role, perspective)
        return respondent

    def import_sources(self) -> None:
        self.offsets: dict[str, _Offsets] = {}
        by_text: dict[bytes, Interview] = {}
        for key, item in self.texts.items():
            case = self.case_of_source.get(key) or self._fallback_case()
            values = {k.lower(): v for k, v in item["values"].items()}
            respondent = self._respondent(case, item, values)
            offsets = self.offsets[key] = _Offsets(item["text"])
            payload = offsets.normalised.encode("utf-8")
            if payload in by_text:
                self.interview_by_source[key] = by_text[payload]
                self.messages.append(f"source {item['name']!r} has the same text as {by_text[payload].file_name!r}; its codings were joined to it")
                continue
            date = values.get("interview date") or values.get("date")
            try:
                date = dt.date.fromisoformat(date[:10]) if date else None
            except ValueError:
                date = None
            (interview,) = interviews.import_interviews(self.session, self.study, [interviews.ImportItem(
                file_name=item["name"] if item["name"].lower().endswith(".txt") else f"{item['name']}.txt",
                data=payload, case=case.internal_label, respondent=respondent.name,
                language=(values.get("language") or self.language)[:10], date=date, notes=item["description"],
            )])
            interview.file_name = item["name"][:300]
            extra = {k: v for k, v in item["values"].items() if k.lower() not in SOURCE_VARIABLES and k.lower() != "date"}
            if extra:
                interview.notes = ((interview.notes + "\n\n") if interview.notes else "") + "Imported variables:\n" + \
                    "\n".join(f"{k}: {v}" for k, v in extra.items())
            by_text[payload] = self.interview_by_source[key] = interview

    # -- 5. codings ----------------------------------------------------------------------------
    def _span(self, offsets: _Offsets, mode: str, sel: dict) -> tuple[int, int] | None:
        """The selection in code points of the source text; verified against its text when it has one."""
        if sel["name"] and not _same_text(offsets.text_under(mode, sel["start"], sel["end"]), sel["name"]):
            other = next((m for m in OFFSET_MODES[1:] if _same_text(offsets.text_under(m, sel["start"], sel["end"]), sel["name"])), None)
            if other and self.offset_mode == "auto":
                mode = other
            else:
                self.counts["unverified"] += 1
        return offsets.to_codepoints(mode, sel["start"], sel["end"])

    def import_codings(self) -> None:
        seen: set[tuple] = set()
        for key, item in self.texts.items():
            interview, offsets = self.interview_by_source[key], self.offsets[key]
            mode, how = _choose_mode(offsets, item["selections"], self.offset_mode, self.root.get("origin") or "")
            self.offset_report[item["name"]] = f"{mode}: {how}"
            index = interviews.line_index(interview.text)
            for sel in item["selections"]:
                where = f"selection {sel['start']}-{sel['end']} in {item['name']!r}"
                span = self._span(offsets, mode, sel)
                start, end = offsets.to_normalised(*span) if span else (0, 0)
                if end <= start or not sel["codings"]:
                    self.counts["skipped_selections"] += 1
                    self.messages.append(f"{where} {'lies outside the text' if end <= start else 'has no code'}; skipped")
                    continue
                for item_coding in sel["codings"]:
                    coder = self.account(item_coding["user"] or sel["user"])
                    code = self.code_by_guid[item_coding["code"]]
                    if (interview.id, code.id, coder.id, start, end) in seen:
                        continue
                    seen.add((interview.id, code.id, coder.id, start, end))
                    coding = Coding(study_id=self.study.id, interview_id=interview.id, code_id=code.id, coder_id=coder.id,
                                    start=start, end=end, start_line=index.line_of(start), end_line=index.line_of(max(start, end - 1)),
                                    memo=sel["memo"], origin="import")
                    self.session.add(coding)
                    self.coding_of_selection.setdefault(sel["guid"], coding)
                    self.counts["codings"] += 1
        self.session.flush()
        if self.counts["unverified"]:
            self.messages.append(f"{self.counts['unverified']} selection(s) whose stored text did not match the source text "
                                 "under the offset convention used; check them")

    # -- 6. notes become memos on what points at them --------------------------------------------
    def import_notes(self) -> None:
        targets: dict[str, tuple[str, int]] = {}

        def point(note_keys, kind: str, target_id: int) -> None:
            for note_key in note_keys:
                if note_key in self.notes:
                    targets.setdefault(note_key, (kind, target_id))

        for key, item in self.texts.items():
            point(item["notes"], "interview", self.interview_by_source[key].id)
            for sel in item["selections"]:
                coding = self.coding_of_selection.get(sel["guid"])
                if coding is not None:
                    point(sel["notes"] + [n for c in sel["codings"] for n in c["notes"]], "coding", coding.id)
        for code_el in self.book.iter(_q("Code")) if self.book is not None else []:
            code = self.code_by_guid.get(norm_guid(code_el.get("guid")))
            if code is not None:
                point(_note_refs(code_el), "code", code.id)
        for link in _list(self.root, "Links", "Link"):
            origin, target = norm_guid(link.get("originGUID")), norm_guid(link.get("targetGUID"))
            for note_key, other in ((origin, target), (target, origin)):
                if other in self.case_by_guid:
                    point([note_key], "case", self.case_by_guid[other].id)
        first_case = next(iter(studies.list_cases(self.session, self.study)), None)
        for note_key, note in self.notes.items():
            body = note["text"] or note["description"] or note["name"]  # a memo needs some text
            if not body.strip():
                continue
            kind, target_id = targets.get(note_key, (None, None))
            label = note["name"] or body[:40]
            if kind is None:
                if first_case is None:
                    self.messages.append(f"note {label!r} not carried over: nothing to attach it to")
                    continue
                kind, target_id = "case", first_case.id
                self.messages.append(f"note {label!r} belongs to the project as a whole; attached to {first_case.public_label}")
            self._memo(kind, target_id, self.account(note["user"]), note["name"], body)
        for item in self.cases:
            if item.get("extra"):
                self._memo("case", self.case_by_guid[item["guid"]].id, self.account(None), "Imported case variables",
                           "\n".join(f"{k}: {v}" for k, v in item["extra"].items()))
        self.session.flush()

    def _memo(self, kind: str, target_id: int, author: User, title: str, text: str) -> None:
        self.session.add(Memo(study_id=self.study.id, target_type=kind, target_id=target_id, author_id=author.id,
                              title=title[:300], text=text))
        self.counts["memos"] += 1

    def report(self) -> dict:
        created = sorted(set(self.created_users))
        if created:
            self.messages.append(f"coder account(s) created without a usable password: {', '.join(created)}; "
                                 "an admin must set one before they can log in")
        return {
            "study_id": self.study.id, "title": self.study.title, "file": self.file_name, "levels": list(self.study.levels),
            "sources": len(self.interview_by_source), "skipped_sources": sorted(self.skipped_sources.values()),
            "codes": self.counts["codes"], "codings": self.counts["codings"], "skipped_selections": self.counts["skipped_selections"],
            "cases": len(studies.list_cases(self.session, self.study)),
            "respondents": len(studies.list_respondents(self.session, self.study)),
            "memos": self.counts["memos"], "users_created": created, "users_matched": sorted(set(self.matched_users)),
            "offsets": self.offset_report, "messages": self.messages,
        }


def import_qdpx(
    session: Session,
    source: str | Path | bytes | BinaryIO,
    title: str | None = None,
    offset_mode: str = "auto",
    principal: access.Principal | None = None,
    language: str = "en",
) -> dict:
    """Import a ``.qdpx`` into a new study (inside the caller's transaction); returns the report."""
    if principal is not None:
        access.require_researcher(principal, edit=True)
    offset_mode = (offset_mode or "auto").strip().lower()
    if offset_mode not in OFFSET_MODES:
        raise UserError(f"unknown offset convention {offset_mode!r}; choose one of: {', '.join(OFFSET_MODES)}")
    data, file_name = _read_input(source)
    root, archive = read_archive(data)
    importer = _Importer(session, root, archive, file_name, offset_mode, language)
    importer.read()
    importer.create_study(title)
    importer.import_cases()
    importer.import_sources()
    importer.import_codings()
    importer.import_notes()
    report = importer.report()
    audit.record(session, "refi", "import", None, importer.study.id, file=file_name, sources=report["sources"],
                 codings=report["codings"], memos=report["memos"])
    return report


def report_lines(report: dict) -> list[str]:
    """A report as readable lines (CLI table output and the page)."""
    lines = []
    for key, value in report.items():
        if isinstance(value, list):
            lines.append(f"{key}: {len(value) if value else 'none'}")
            lines.extend(f"  - {v}" for v in value)
        elif isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {v}" for k, v in value.items())
        else:
            lines.append(f"{key}: {value}")
    return lines
