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

import datetime as dt
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from casestudy.models import (
    Study,
)

NS = "urn:QDA-XML:project:1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "refi_schema" / "Project-mrt2019.xsd"
NAME_LIMIT = 1000
MAX_ARCHIVE_BYTES = 500 * 1024 * 1024
REPORT_NOTE_NAME = "Not carried by REFI-QDA (Casestudy export report)"
IMPORTED_CASE = "Imported"
IMPORT_USER = "refi-import"
CASE_VARIABLES = ("internal label", "organisation", "outcome class", "programme")
SOURCE_VARIABLES = ("respondent", "role", "perspective", "language", "interview date")
DATE_VARIABLES = {"interview date"}
CASE_KEYS = ("internal label", "organisation", "organization", "outcome class", "outcome")


# --- helpers ------------------------------------------------------------------------------
def qname(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def local_name(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def children_of(element, tag: str) -> list:
    return [c for c in element if local_name(c) == tag]


def child_of(element, tag: str):
    return next((c for c in element if local_name(c) == tag), None)


def xml_time(value: dt.datetime | None) -> str | None:
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


class Guids:
    """Stable GUIDs for the entities of one study."""

    def __init__(self, study: Study):
        stamp = xml_time(study.created_at) or ""
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"casestudy:study:{study.id}:{stamp}")

    def __call__(self, kind: str, key: Any) -> str:
        return str(uuid.uuid5(self.namespace, f"{kind}:{key}"))


@lru_cache(maxsize=1)
def project_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate_project(xml: bytes | etree._Element) -> list[str]:
    """Schema errors of a project.qde (empty when it is valid)."""
    root = xml if isinstance(xml, etree._Element) else etree.fromstring(xml, xml_parser())
    schema = project_schema()
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def count_rows(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
