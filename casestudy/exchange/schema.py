"""REFI-QDA project exchange, shared parts: the namespace, the schema, GUIDs and XML helpers.

Export is :mod:`casestudy.exchange.export`, import :mod:`casestudy.exchange.importer`, offset
conventions :mod:`casestudy.exchange.offsets`.

A ``.qdpx`` file is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``,
schema ``refi_schema/Project-mrt2019.xsd``) and a ``sources/`` folder with the source files.
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
    """No entities, no network, libxml2's limits on (imports parse with ``security.parse_xml``)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


def count_rows(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
