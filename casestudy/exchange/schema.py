"""REFI-QDA project exchange, shared parts: the namespace, the schema, GUIDs and XML helpers.

Export is :mod:`casestudy.exchange.export`, import :mod:`casestudy.exchange.importer`, offset
conventions :mod:`casestudy.exchange.offsets`.

A ``.qdpx`` file is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``,
schema ``refi_schema/Project-mrt2019.xsd``) and a ``sources/`` folder with the source files.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy.codebook import exchange as cio
from casestudy.errors import UserError
from casestudy.models import (
    Study,
)

NS = "urn:QDA-XML:project:1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "refi_schema" / "Project-mrt2019.xsd"
NAME_LIMIT = 1000
MAX_ARCHIVE_BYTES = 500 * 1024 * 1024
REPORT_NOTE_NAME = "Not carried by REFI-QDA (Casestudy export report)"
# Code relations in a project: the description of a relation's note, and the name of an evidence Link.
RELATION_NOTE_DESCRIPTION = "Casestudy code relation"
EVIDENCE_LINK = "evidence"
IMPORTED_CASE = "Imported"
IMPORT_USER = "refi-import"
PROGRAMME_VARIABLE = "programme"  # the programme as text, "PH (2 groups), IOP (1 group)"
PROGRAMME_COMPONENTS_VARIABLE = "programme components"  # the same, exact: JSON (programme_json)
CASE_VARIABLES = ("internal label", "organisation", "outcome class", PROGRAMME_VARIABLE, PROGRAMME_COMPONENTS_VARIABLE)
# The last line of the project's Description: the study's levels in order, as a JSON list
# (a fallback for tools that drop the level sets; see casestudy.codebook.exchange, "level marker").
LEVELS_MARKER = "Levels"
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
    """No entities, no network, libxml2's limits on (imports parse with ``security.parse_xml``)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


def count_rows(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- fallbacks for tools that drop Sets, and the exact programme ---------------------------------
def description_with_levels(description: str, levels: list[str]) -> str:
    """The project's Description ending in the levels marker ``Levels: ["a", "b"]``."""
    return cio.with_marker(description or "", LEVELS_MARKER, json.dumps(list(levels), ensure_ascii=False))


def split_levels(description: str | None) -> tuple[str, list[str] | None]:
    """(the description without its levels marker, the levels) when it ends in the exact marker
    of :func:`description_with_levels` holding distinct, non-empty names; else (description, None)."""
    rest, value = cio.split_marker(description, LEVELS_MARKER)
    if value is None:
        return description or "", None
    try:
        levels = json.loads(value)
    except ValueError:
        return description or "", None
    if (not isinstance(levels, list) or not levels or not all(isinstance(v, str) and v.strip() == v and v for v in levels)
            or len({v.lower() for v in levels}) != len(levels)):
        return description or "", None
    return rest, levels


def programme_json(components) -> str:
    """The programme components as the exact JSON list of the ``programme components`` variable:
    one object per component in order, with ``type`` and whichever of ``groups``, ``dosage``,
    ``status`` and ``outcome_class`` it has; "" without components."""
    items = []
    for c in components:
        item = {"type": c.type}
        item.update({key: getattr(c, key) for key in ("groups", "dosage", "status", "outcome_class") if getattr(c, key) not in (None, "")})
        items.append(item)
    return json.dumps(items, ensure_ascii=False) if items else ""


def read_programme_json(text: str) -> list[studies.ComponentSpec]:
    """The inverse of :func:`programme_json`; a value that is not such a list is a UserError
    (the components themselves are checked when they are added, :func:`study.add_component`)."""
    try:
        items = json.loads(text)
    except ValueError:
        raise UserError(f"{PROGRAMME_COMPONENTS_VARIABLE!r} is not a JSON list") from None
    if not isinstance(items, list):
        raise UserError(f"{PROGRAMME_COMPONENTS_VARIABLE!r} is not a JSON list")
    specs = []
    for number, item in enumerate(items, start=1):
        where = f"component {number} of {PROGRAMME_COMPONENTS_VARIABLE!r}"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise UserError(f"{where} has no type")
        groups = item.get("groups")
        if groups is not None and (isinstance(groups, bool) or not isinstance(groups, int)):
            raise UserError(f"{where}: groups must be a whole number, not {groups!r}")
        texts = {key: item.get(key) or "" for key in ("dosage", "status")}
        if not all(isinstance(v, str) for v in texts.values()) or not isinstance(item.get("outcome_class") or "", str):
            raise UserError(f"{where}: dosage, status and outcome_class must be text")
        specs.append(studies.ComponentSpec(type=item["type"], groups=groups, outcome_class=item.get("outcome_class") or None, **texts))
    return specs
