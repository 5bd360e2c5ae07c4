r"""Codebook exchange: YAML (native, lossless), CSV, XLSX and REFI-QDA ``.qdc``.

Every reader turns a file into the same shape, a list of *nodes* (dicts with the code fields
and ``children``), which :func:`import_nodes` checks as a whole before it writes anything.

Spreadsheets (CSV and XLSX) are read in one of three layouts, told apart by the header row:

- ours: a ``path`` column (``Parent/Child``) and the fields of :data:`CSV_COLUMNS`; the
  ``description`` column repeats the fields as one text (as a ``.qdc`` carries them), so that
  tools reading a ``description`` column, such as Taguette, get the definitions; on import it
  fills the fields only where the file leaves them all empty.
- MAXQDA (*Import codes and memos from an Excel table*): ``Code`` and ``Memo``; subcodes in the
  Code column with ``\`` or ``>`` (``Parent > Child``); a parent that has no row of its own
  is created.
- NVivo (the code list exported to a spreadsheet): ``Name`` and ``Description``, the hierarchy
  in ``Hierarchical Name`` (``Codes\\Parent\\Child``) or in a folder column (``Folder``,
  ``Location`` or ``Parent``: the parent's path); NVivo's counts and dates are left out.
  In both, a memo or description ending in the level marker (below) gives the code its level.

A memo or description becomes the fields as :func:`parse_description` reads them. Foreign files
have no levels: a top-level code named like a level of the study goes on that level, the others
on the first level (said in the warnings). In a foreign file (MAXQDA, NVivo, ``.qdc``) two
siblings whose names differ only in letter case are both imported, the later one renamed
``name (2)`` with a warning, since this codebook compares names without case.

REFI-QDA mapping (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``)
-------------------------------------------------------------------
- ``<Code guid name isCodable color>`` nested as in the tree; GUIDs stay stable per code.
- ``<Description>`` holds the short definition on its first lines, then labelled sections
  ``Definition:``, ``When to use:``, ``When not to use:``, ``Example:``, ``Sources:``. A foreign
  description without labels becomes the full definition.
- ``<Sets>``: ``Level: <name>`` (primary level), ``Secondary level: <name>``,
  ``Polarity: <value>``, ``Status: merged|retired``. On import a set named exactly like a level
  also counts as that level. Other sets, origin and merge targets cannot be carried and are
  reported.
- The level marker: every code's ``Description`` ends in a paragraph of its own holding one
  line ``Level: <name>`` (:data:`LEVEL_MARKER`, :func:`with_marker`), because many tools drop
  ``<Sets>`` on a round trip but keep descriptions. QualCoder (``refi.py``) keeps a code's
  Description as the code's memo and writes it back as its Description; it reads only sets of
  sources (as file attributes), writes no ``<Sets>`` and gives codes new GUIDs. NVivo (code
  description), MAXQDA (code memo) and ATLAS.ti (code comment) hold the Description in a field
  of the code too. On import (:func:`split_marker`) the marker is read only in that exact form
  (the whole description, or its last line after a blank line; ``Level:`` with a capital L, one
  space, a level of the study, nothing else on the line) and only for a code that no level set
  names; whenever it names a level of the study it is taken off the definition text, so it
  never piles up over round trips. Any other ``Level:`` text is the user's and stays. The ``.qdpx`` project exporter reuses :func:`codebook_element` /
  :func:`codes_element` / :func:`sets_element` and :func:`parse_codebook_element`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from pathlib import Path

import yaml
from lxml import etree
from sqlalchemy.orm import Session

from casestudy import audit, security, shipped, tabular
from casestudy.codebook import tree as cb
from casestudy.codebook.constants import FORMATS  # noqa: F401  (re-exported)
from casestudy.errors import UserError
from casestudy.models import CODE_ORIGINS, CODE_POLARITIES, CODE_STATUSES, Code, Study
from casestudy.text import decode_utf8

FORMAT_NAME = "casestudy-codebook"
FORMAT_VERSION = 1
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".xlsx": "xlsx", ".qdc": "qdc"}
NODE_FIELDS = (
    "name", "guid", "level", "secondary_levels", "codable", "short_definition", "definition", "when_to_use",
    "when_not_to_use", "example", "origin", "origin_by", "origin_at", "colour", "polarity", "status",
    "merged_into", "sources",
)
DEFAULTS = {"codable": True, "polarity": "none", "status": "active", "origin": "a priori"}
CSV_COLUMNS = ("path", *[f for f in NODE_FIELDS if f != "name"], "description")
DESCRIPTION_FIELDS = ("short_definition", "definition", "when_to_use", "when_not_to_use", "example", "sources")
MAXQDA_COLUMNS = ("code", "memo")
NVIVO_COLUMNS = ("name", "description", "hierarchical_name", "folder", "location", "parent")
# NVivo's list export also carries counts and dates per code; none of them is a codebook field.
NVIVO_STATISTICS = ("files", "references", "created_on", "created_by", "modified_on", "modified_by", "aggregate", "color",
                    "colour", "nickname", "coding", "cases")
DESCRIPTION_LABELS = (
    ("definition", "Definition"), ("when_to_use", "When to use"), ("when_not_to_use", "When not to use"),
    ("example", "Example"), ("sources", "Sources"),
)
# libyaml's C classes when present (same output, several times faster)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


# --- export -------------------------------------------------------------------------------
def _nodes_from_records(records: list[dict]) -> list[dict]:
    """Nested nodes (for YAML and QDC) from flat records in tree order."""
    by_path: dict[str, dict] = {}
    roots: list[dict] = []
    for record in records:
        node = {key: record[key] for key in NODE_FIELDS}
        node["children"] = []
        by_path[record["path"]] = node
        (by_path[record["parent"]]["children"] if record["parent"] else roots).append(node)
    return roots


def _compact(node: dict) -> dict:
    out = {}
    for key in NODE_FIELDS:
        value = node.get(key)
        if value in (None, "", []) or DEFAULTS.get(key, object()) == value:
            continue
        out[key] = value
    if node.get("children"):
        out["children"] = [_compact(child) for child in node["children"]]
    return out


def export_yaml(session: Session, study: Study) -> str:
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "title": study.title,
        "levels": list(study.levels),
        "codes": [_compact(n) for n in _nodes_from_records(cb.records(session, study))],
    }
    return yaml.dump(document, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


def _csv_rows(records: list[dict]) -> list[list]:
    rows = []
    for record in records:
        row = []
        for column in CSV_COLUMNS:
            value = description_text(record) if column == "description" else record[column]
            if column == "secondary_levels":
                value = "; ".join(value)
            elif column == "codable":
                value = "yes" if value else "no"
            row.append(value)
        rows.append(row)
    return rows


def export_csv(session: Session, study: Study) -> str:
    return tabular.csv_text(CSV_COLUMNS, _csv_rows(cb.records(session, study)))


def export_xlsx(session: Session, study: Study) -> bytes:
    return tabular.xlsx_bytes({"Codebook": (CSV_COLUMNS, _csv_rows(cb.records(session, study)))})


def _q(ns: str | None, tag: str) -> str:
    return f"{{{ns}}}{tag}" if ns else tag


def description_text(node: dict) -> str:
    parts = [node.get("short_definition") or ""]
    for key, label in DESCRIPTION_LABELS:
        if node.get(key):
            parts.append(f"{label}: {node[key]}")
    return "\n\n".join(p for p in parts if p).strip()


LEVEL_MARKER = "Level"
# A node key set by parse_codebook_element on a code whose level came from its marker.
LEVEL_FROM_DESCRIPTION = "_level_from_description"


def with_marker(text: str, label: str, value: str) -> str:
    """``text`` ending in the marker paragraph ``<label>: <value>`` (after a blank line)."""
    line = f"{label}: {value}"
    return f"{text}\n\n{line}" if text else line


def split_marker(text: str | None, label: str) -> tuple[str, str | None]:
    """(the text before the marker, the marker's value) when ``text`` ends in the exact marker
    paragraph of :func:`with_marker`: the whole text, or its last line after a blank line, that
    starts with ``<label>: `` and holds a value without surrounding spaces. Otherwise ``(text,
    None)``: a ``Label:`` anywhere else (inside a paragraph, mid-line, other case) is text."""
    original = text or ""
    body = original.replace("\r\n", "\n").rstrip()
    head, newline, last = body.rpartition("\n")
    prefix = f"{label}: "
    value = last[len(prefix):]
    if not last.startswith(prefix) or not value or value != value.strip():
        return original, None
    if newline and not head.endswith("\n"):  # a line of the paragraph above, not a paragraph of its own
        return original, None
    return head.rstrip(), value


def codes_element(nodes: list[dict], ns: str | None = CODEBOOK_NS) -> etree._Element:
    """``<Codes>`` with nested ``<Code>`` elements for the given nodes; each Description ends in
    the code's level marker (see the module docstring)."""
    codes = etree.Element(_q(ns, "Codes"), nsmap={None: ns} if ns else None)

    def add(parent, node):
        attrs = {"guid": node["guid"], "name": node["name"], "isCodable": "true" if node.get("codable", True) else "false"}
        if node.get("colour"):
            attrs["color"] = node["colour"]
        element = etree.SubElement(parent, _q(ns, "Code"), attrs)
        text = description_text(node)
        if node.get("level") and "\n" not in node["level"]:
            text = with_marker(text, LEVEL_MARKER, node["level"])
        if text:
            etree.SubElement(element, _q(ns, "Description")).text = text
        for child in node.get("children") or []:
            add(element, child)

    for node in nodes:
        add(codes, node)
    return codes


def _walk(nodes: list[dict]):
    for node in nodes:
        yield node
        yield from _walk(node.get("children") or [])


def set_memberships(nodes: list[dict], levels: Sequence[str]) -> dict[str, list[str]]:
    """{set name: [guids]} for levels, secondary levels, polarity and status."""
    sets: dict[str, list[str]] = {f"Level: {lv}": [] for lv in levels}
    for node in _walk(nodes):
        sets.setdefault(f"Level: {node['level']}", []).append(node["guid"])
        for lv in node.get("secondary_levels") or []:
            sets.setdefault(f"Secondary level: {lv}", []).append(node["guid"])
        if node.get("polarity") not in (None, "", "none"):
            sets.setdefault(f"Polarity: {node['polarity']}", []).append(node["guid"])
        if node.get("status") not in (None, "", "active"):
            sets.setdefault(f"Status: {node['status']}", []).append(node["guid"])
    return {name: guids for name, guids in sets.items() if guids}


def sets_element(nodes: list[dict], levels: Sequence[str], ns: str | None = CODEBOOK_NS, guid_for=None) -> etree._Element | None:
    """``<Sets>`` carrying levels, polarity and status; None when there is nothing to carry.

    ``guid_for(set name) -> guid`` gives stable set GUIDs (default: derived from the name)."""
    import uuid

    memberships = set_memberships(nodes, levels)
    if not memberships:
        return None
    guid_for = guid_for or (lambda name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"casestudy:codebook-set:{name}")))
    sets = etree.Element(_q(ns, "Sets"), nsmap={None: ns} if ns else None)
    for name, guids in memberships.items():
        element = etree.SubElement(sets, _q(ns, "Set"), {"guid": guid_for(name), "name": name})
        for guid in guids:
            etree.SubElement(element, _q(ns, "MemberCode"), {"guid": guid})
    return sets


def codebook_element(nodes: list[dict], levels: Sequence[str], ns: str | None = CODEBOOK_NS, origin: str = "Casestudy") -> etree._Element:
    book = etree.Element(_q(ns, "CodeBook"), {"origin": origin}, nsmap={None: ns} if ns else None)
    book.append(codes_element(nodes, ns))
    sets = sets_element(nodes, levels, ns)
    if sets is not None:
        book.append(sets)
    return book


def export_qdc(session: Session, study: Study) -> bytes:
    nodes = _nodes_from_records(cb.records(session, study))
    if not nodes:
        raise UserError("the codebook is empty: a REFI-QDA codebook needs at least one code")
    return etree.tostring(codebook_element(nodes, study.levels), xml_declaration=True, encoding="utf-8", pretty_print=True)


EXPORTERS = {"yaml": export_yaml, "csv": export_csv, "xlsx": export_xlsx, "qdc": export_qdc}


def export(session: Session, study: Study, fmt: str) -> str | bytes:
    """The codebook in ``fmt``; the export is logged in the audit log."""
    fmt = cb.check_choice(fmt, FORMATS, "format")
    data = EXPORTERS[fmt](session, study)
    audit.record(session, "codebook", "export", None, study.id, format=fmt)
    return data


# --- readers ------------------------------------------------------------------------------
def read_yaml(text: str) -> tuple[list[dict], list[str]]:
    """Nodes from a codebook YAML: no anchors or aliases, bounded size (``security.load_yaml``)."""
    try:
        document = security.load_yaml(text, "the YAML file")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"the YAML file is malformed{where}: {getattr(exc, 'problem', None) or exc}")
    if isinstance(document, list):
        codes = document
    elif isinstance(document, dict) and "codes" in document:
        codes = document["codes"]
        if document.get("format", FORMAT_NAME) != FORMAT_NAME:
            raise UserError(f"the YAML file is not a codebook (format {document.get('format')!r})")
    else:
        raise UserError("the YAML file is not a codebook: it needs a top-level 'codes:' list")
    if not isinstance(codes, list):
        raise UserError("the YAML file is malformed: 'codes' must be a list of codes")

    def convert(item, where):
        if not isinstance(item, dict):
            raise UserError(f"the YAML file is malformed: {where} is not a mapping of fields")
        unknown = set(item) - set(NODE_FIELDS) - {"children"}
        if unknown:
            raise UserError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))} in code {item.get('name', where)!r}")
        node = {k: item.get(k) for k in NODE_FIELDS}
        children = item.get("children") or []
        if not isinstance(children, list):
            raise UserError(f"the YAML file is malformed: 'children' of {item.get('name')!r} must be a list")
        node["children"] = [convert(child, f"child {i + 1} of {item.get('name')!r}") for i, child in enumerate(children)]
        return node

    return [convert(item, f"code {i + 1}") for i, item in enumerate(codes)], []


def _unneutralise(value):
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in tabular.FORMULA_PREFIXES:
        return value[1:]
    return value


def _nodes_from_rows(header: list[str], rows: list[list], kind: str) -> tuple[list[dict], list[str]]:
    header = _header(header)
    if "path" not in header:
        raise UserError(f"the {kind} file has no 'path' column (the header row must name the columns: {', '.join(CSV_COLUMNS)})")
    warnings = [f"column {h!r} is not a codebook field and was ignored" for h in header if h and h not in CSV_COLUMNS]
    by_path: dict[tuple, dict] = {}
    roots: list[dict] = []
    for number, row in enumerate(rows, start=2):
        values = {h: _unneutralise(row[i]) if i < len(row) else None for i, h in enumerate(header) if h in CSV_COLUMNS}
        if all(v in (None, "") for v in values.values()):
            continue
        path = str(values.get("path") or "").strip()
        if not path:
            raise UserError(f"row {number} of the {kind} file has no path")
        parts = cb.split_path(path)
        key = tuple(p.lower() for p in parts)
        if key in by_path:
            raise UserError(f"duplicate code name {parts[-1]!r} at one level of the tree (row {number}: {path!r})")
        node = {f: None for f in NODE_FIELDS}
        for f in NODE_FIELDS:
            if f in values and values[f] not in (None, ""):
                node[f] = values[f] if not isinstance(values[f], str) else values[f].strip()
        node["name"] = parts[-1]
        if isinstance(node["secondary_levels"], str):
            node["secondary_levels"] = [s.strip() for s in re.split(r"[;,]", node["secondary_levels"]) if s.strip()]
        if node["codable"] is not None and not isinstance(node["codable"], bool):
            text = str(node["codable"]).strip().lower()
            if text not in ("yes", "no", "true", "false", "1", "0"):
                raise UserError(f"row {number}: codable must be yes or no, not {node['codable']!r}")
            node["codable"] = text in ("yes", "true", "1")
        if isinstance(node["origin_at"], dt.datetime):
            node["origin_at"] = node["origin_at"].isoformat(timespec="seconds")
        description = values.get("description")
        if description not in (None, "") and all(node[f] in (None, "") for f in DESCRIPTION_FIELDS):
            node.update({k: v or None for k, v in parse_description(str(description)).items()})
        node["children"] = []
        if len(parts) > 1:
            parent = by_path.get(key[:-1])
            if parent is None:
                raise UserError(f"row {number}: the parent {cb.join_path(parts[:-1])!r} of {path!r} must come on an earlier row")
            parent["children"].append(node)
        else:
            roots.append(node)
        by_path[key] = node
    return roots, warnings


def read_csv(data: bytes | str, levels: Sequence[str] = ()) -> tuple[list[dict], list[str]]:
    """Nodes from a codebook CSV in our layout, MAXQDA's or NVivo's (see the module docstring)."""
    if isinstance(data, bytes):
        data = decode_utf8("the CSV file", data, retry="try again")
    table, cells = [], 0
    try:
        for row in csv.reader(io.StringIO(data, newline=""), strict=True):
            table.append(row)
            cells += len(row)
            security.check_table_bounds("the CSV file", len(table) - 1, cells)
    except csv.Error as exc:
        raise UserError(f"the CSV file is malformed: {exc}")
    if not table:
        raise UserError("the CSV file is empty")
    return _nodes_from_table(table, "CSV", levels)


def read_xlsx(data: bytes, levels: Sequence[str] = ()) -> tuple[list[dict], list[str]]:
    """Nodes from the first sheet of a workbook, read as :func:`read_csv` reads a CSV; rows above
    the header (a title) are skipped."""
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            security.check_zip_unpacked_size("the XLSX file", archive, security.MAX_XLSX_UNPACKED_BYTES)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise UserError(f"the XLSX file is malformed or not an Excel workbook ({type(exc).__name__})")
    try:
        sheet = workbook.worksheets[0]
        table, cells = [], 0
        for row in sheet.iter_rows(values_only=True):
            table.append(list(row))
            cells += len(row)
            security.check_table_bounds("the XLSX file", len(table) - 1, cells)
    finally:
        workbook.close()
    # Skip a title above the header (as written by tabular.xlsx_bytes with a title).
    while table and _layout(table[0]) is None:
        table.pop(0)
    if not table:
        raise UserError(f"the XLSX file has no header row: {HEADER_HINT}")
    return _nodes_from_table(table, "XLSX", levels)


HEADER_HINT = "name the columns in the first row: 'path' (this codebook's layout), 'Code' and 'Memo' (MAXQDA) or 'Name' and 'Description' (NVivo)"


def _header(row: Sequence) -> list[str]:
    return [str(h or "").strip().lower().replace(" ", "_") for h in row]


def _layout(row: Sequence) -> str | None:
    """Which spreadsheet layout a header row is: ours, MAXQDA's, NVivo's, or None."""
    header = _header(row)
    if "path" in header:
        return "casestudy"
    if "code" in header:
        return "maxqda"
    if "name" in header:
        return "nvivo"
    return None


def _nodes_from_table(table: list[list], kind: str, levels: Sequence[str]) -> tuple[list[dict], list[str]]:
    layout = _layout(table[0])
    if layout == "casestudy":
        return _nodes_from_rows(table[0], table[1:], kind)
    if layout is None:
        raise UserError(f"the {kind} file has no header row it can read: {HEADER_HINT}")
    reader = _maxqda_entries if layout == "maxqda" else _nvivo_entries
    entries, warnings = reader(_header(table[0]), table[1:], kind)
    nodes = _tree_from_paths(entries, kind, warnings, levels)
    separate_case_clashes(nodes, warnings)
    assign_top_levels(nodes, levels, warnings)
    return nodes, warnings


def _cell(row: Sequence, header: list[str], column: str) -> str:
    if column not in header:
        return ""
    index = header.index(column)
    value = row[index] if index < len(row) else None
    return "" if value is None else str(_unneutralise(value)).strip()


def _maxqda_entries(header: list[str], rows: list[list], kind: str) -> tuple[list[tuple], list[str]]:
    """(row number, names on the path, memo) per MAXQDA row; ``\\`` and ``>`` separate subcodes."""
    warnings = [f"column {h!r} is not in MAXQDA's code table (Code, Memo) and was ignored" for h in header if h and h not in MAXQDA_COLUMNS]
    entries = []
    for number, row in enumerate(rows, start=2):
        code = _cell(row, header, "code")
        if not code:
            if _cell(row, header, "memo"):
                raise UserError(f"row {number} of the {kind} file has a memo but no code")
            continue
        parts = [part.strip() for part in re.split(r"\\|>", code)]
        if not all(parts):
            raise UserError(f"row {number} of the {kind} file: an empty code name in {code!r}")
        entries.append((number, parts, _cell(row, header, "memo")))
    return entries, warnings


def _nvivo_path(text: str) -> list[str]:
    """'Codes\\\\Support\\\\Budget' (NVivo's hierarchical name) -> ['Support', 'Budget']."""
    parts = [part.strip() for part in re.split(r"\\+", text) if part.strip()]
    if parts and parts[0].lower() in ("codes", "nodes"):
        parts = parts[1:]
    return parts


def _nvivo_entries(header: list[str], rows: list[list], kind: str) -> tuple[list[tuple], list[str]]:
    """(row number, names on the path, description) per NVivo row."""
    ignored = [h for h in header if h and h not in NVIVO_COLUMNS]
    statistics = [h for h in ignored if h in NVIVO_STATISTICS]
    warnings = [f"column {h!r} is not a codebook field and was ignored" for h in ignored if h not in NVIVO_STATISTICS]
    if statistics:
        warnings.append(f"NVivo's counts and dates ({', '.join(statistics)}) are not codebook fields and were not imported")
    folder = next((c for c in ("folder", "location", "parent") if c in header), None)
    entries = []
    for number, row in enumerate(rows, start=2):
        name, hierarchical = _cell(row, header, "name"), _cell(row, header, "hierarchical_name")
        if not name and not hierarchical:
            if any(str(v or "").strip() for v in row):
                raise UserError(f"row {number} of the {kind} file has no name")
            continue
        if hierarchical:
            parts = _nvivo_path(hierarchical)
            if name and parts and parts[-1] != name:
                warnings.append(f"row {number}: the name {name!r} differs from the end of its hierarchical name {hierarchical!r}; the hierarchical name is used")
        else:
            parts = [*(_nvivo_path(_cell(row, header, folder)) if folder else []), name]
        if not parts:
            raise UserError(f"row {number} of the {kind} file: the hierarchical name {hierarchical!r} names no code")
        entries.append((number, parts, _cell(row, header, "description")))
    return entries, warnings


def _tree_from_paths(entries: list[tuple], kind: str, warnings: list[str], levels: Sequence[str] = ()) -> list[dict]:
    """Nodes from (row number, path, memo) entries; a parent without a row of its own is created,
    a path given twice is one code (the first memo is kept, a different later one is a warning).
    A memo ending in the level marker naming a level of the study (a code of our REFI-QDA export
    that went through the tool) gives the code that level and leaves the memo."""
    level_by_lower = {level.lower(): level for level in levels}
    roots: list[dict] = []
    by_path: dict[tuple, dict] = {}
    for number, parts, memo in entries:
        siblings = roots
        for depth in range(len(parts)):
            key = tuple(parts[: depth + 1])
            node = by_path.get(key)
            if node is None:
                node = {f: None for f in NODE_FIELDS}
                node.update(name=parts[depth], children=[], _implicit=True)
                by_path[key] = node
                siblings.append(node)
            siblings = node["children"]
        if node.pop("_implicit", False) or not any(node[f] for f in DESCRIPTION_FIELDS):
            text, marked = split_marker(memo, LEVEL_MARKER)
            if marked is not None and marked.lower() in level_by_lower:
                memo, node["level"], node[LEVEL_FROM_DESCRIPTION] = text, level_by_lower[marked.lower()], True
            if memo:
                node.update({k: v or None for k, v in parse_description(memo).items()})
        elif memo and description_text(node) != memo.strip():
            warnings.append(f"row {number} of the {kind} file repeats the code {cb.join_path(parts)!r}; the memo of its first row is kept")
    for node in _walk(roots):
        node.pop("_implicit", None)
    return roots


def separate_case_clashes(nodes: list[dict], warnings: list[str], parent: str | None = None) -> None:
    """Rename a sibling whose name another sibling already has in other letter case (or exactly)
    to 'name (2)', 'name (3)' ..., with a warning each: a foreign file's codes all arrive."""
    taken: set[str] = {n["name"].lower() for n in nodes if n.get("name")}
    seen: dict[str, str] = {}
    for node in nodes:
        name = " ".join(str(node.get("name") or "").split())
        if name and name.lower() in seen:
            number = 2
            while f"{name} ({number})".lower() in taken:
                number += 1
            renamed = f"{name} ({number})"
            where = f"under {parent!r}" if parent else "at the top of the codebook"
            relation = "differ only in letter case" if seen[name.lower()] != name else "have the same name"
            warnings.append(f"codes {seen[name.lower()]!r} and {name!r} {where} {relation}; this codebook compares names "
                            f"without case, so the second is imported as {renamed!r}")
            node["name"] = renamed
            taken.add(renamed.lower())
        elif name:
            seen[name.lower()] = name
        separate_case_clashes(node.get("children") or [], warnings, cb.join_path([*cb.split_path(parent), node["name"]]) if parent else cb.escape_name(node["name"] or ""))


def assign_top_levels(nodes: list[dict], levels: Sequence[str], warnings: list[str]) -> None:
    """Give each top-level code without a level one: the level it is named after, else the
    first level (one warning lists those); its sub-codes follow it."""
    if not levels:
        return
    by_lower = {level.lower(): level for level in levels}
    defaulted = []
    for node in nodes:
        if node.get("level"):
            continue
        node["level"] = by_lower.get(str(node.get("name") or "").strip().lower())
        if node["level"] is None:
            node["level"] = levels[0]
            defaulted.append(node["name"])
    if defaulted:
        warnings.append(
            f"{len(defaulted)} top-level code(s) had no level set and were put on level {levels[0]!r} "
            f"(their sub-codes follow them): {', '.join(defaulted[:5])}{' ...' if len(defaulted) > 5 else ''}"
        )


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def parse_description(text: str) -> dict:
    """Our labelled description back into fields; unlabelled text becomes the definition."""
    text = (text or "").strip()
    fields = {key: "" for key, _ in DESCRIPTION_LABELS}
    fields["short_definition"] = ""
    labels = {label.lower(): key for key, label in DESCRIPTION_LABELS}
    pattern = re.compile(r"^(%s):[ \t]*" % "|".join(re.escape(label) for _, label in DESCRIPTION_LABELS), re.IGNORECASE | re.MULTILINE)
    matches = list(pattern.finditer(text))
    if not matches:
        fields["definition"] = text
        return fields
    fields["short_definition"] = text[: matches[0].start()].strip()
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        fields[labels[match.group(1).lower()]] = text[match.end(): end].strip()
    return fields


def parse_codebook_element(book, levels: Sequence[str]) -> tuple[list[dict], list[str]]:
    """Nodes and warnings from a ``<CodeBook>`` (or any element holding ``<Codes>``/``<Sets>``)."""
    warnings: list[str] = []
    codes_el = next((c for c in book if _local(c) == "Codes"), None)
    if codes_el is None:
        raise UserError("the REFI-QDA file has no <Codes> element")
    level_by_lower = {lv.lower(): lv for lv in levels}
    marked_level: dict[str, str] = {}  # guid -> the level its description's marker names
    in_level_set: set[str] = set()

    def convert(element) -> dict:
        name = (element.get("name") or "").strip()
        if not name:
            raise UserError("a <Code> in the REFI-QDA file has no name")
        raw_guid = element.get("guid")
        if not raw_guid:
            raise UserError(f"code {name!r} in the REFI-QDA file has no guid")
        node = {f: None for f in NODE_FIELDS}
        node.update(name=name, guid=cb.normalise_guid(raw_guid), children=[])
        codable = (element.get("isCodable") or "true").strip().lower()
        node["codable"] = codable in ("true", "1")
        node["colour"] = element.get("color") or None
        for child in element:
            tag = _local(child)
            if tag == "Description":
                text, marked = split_marker(child.text, LEVEL_MARKER)
                if marked is not None and marked.lower() in level_by_lower:
                    marked_level[node["guid"]] = level_by_lower[marked.lower()]
                else:
                    text = child.text or ""  # not our marker: the user's own text
                node.update({k: v or None for k, v in parse_description(text).items()})
            elif tag == "Code":
                node["children"].append(convert(child))
            elif tag:
                warnings.append(f"<{tag}> of code {name!r} could not be carried over")
        return node

    nodes = [convert(c) for c in codes_el if _local(c) == "Code"]
    by_guid = {n["guid"]: n for n in _walk(nodes)}
    sets_el = next((c for c in book if _local(c) == "Sets"), None)
    for set_el in (sets_el if sets_el is not None else []):
        if _local(set_el) != "Set":
            continue
        set_name = (set_el.get("name") or "").strip()
        members = []
        for member in set_el:
            if _local(member) == "MemberCode" and member.get("guid"):
                guid = cb.normalise_guid(member.get("guid"))
                if guid in by_guid:
                    members.append(by_guid[guid])
        kind, _, value = set_name.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if not value and set_name.lower() in level_by_lower:
            kind, value = "level", set_name
        if kind == "level":
            if value.lower() not in level_by_lower:
                raise UserError(f"unknown level {value!r} (set {set_name!r}); this study's levels are: {', '.join(levels)}")
            for node in members:
                node["level"] = level_by_lower[value.lower()]
                in_level_set.add(node["guid"])
        elif kind == "secondary level":
            for node in members:
                node["secondary_levels"] = (node["secondary_levels"] or []) + [value]
        elif kind == "polarity" and value.lower() in CODE_POLARITIES:
            for node in members:
                node["polarity"] = value.lower()
        elif kind == "status" and value.lower() in CODE_STATUSES:
            for node in members:
                node["status"] = value.lower()
        else:
            warnings.append(f"set {set_name!r} ({len(members)} codes) could not be carried over: it is not a level of this study")
    recovered = 0
    for guid, level in marked_level.items():
        if guid not in in_level_set:  # the marker is the fallback: a level set wins
            by_guid[guid]["level"] = level
            by_guid[guid][LEVEL_FROM_DESCRIPTION] = True
            recovered += 1
    if recovered:
        warnings.append(f"{recovered} code level(s) read from the '{LEVEL_MARKER}: ...' line of their descriptions "
                        "(no level set names them: the file went through a tool that drops sets)")
    separate_case_clashes(nodes, warnings)
    assign_top_levels(nodes, levels, warnings)
    for node in _walk(nodes):
        if node["status"] == "merged":
            warnings.append(f"code {node['name']!r} was merged; its merge target is not in the file, so it is imported as retired")
            node["status"] = "retired"
    return nodes, warnings


def levels_from_descriptions(nodes: list[dict]) -> dict[str, str]:
    """{code path: level} of the nodes whose level :func:`parse_codebook_element` read from the
    level marker of their description."""
    found: dict[str, str] = {}

    def walk(siblings: list[dict], parent: list[str]) -> None:
        for node in siblings:
            path = [*parent, node["name"]]
            if node.get(LEVEL_FROM_DESCRIPTION):
                found[cb.join_path(path)] = node["level"]
            walk(node.get("children") or [], path)

    walk(nodes, [])
    return found


def marked_top_levels(codes_el) -> list[str]:
    """The levels named by the level markers of the top-level codes of ``<Codes>``, in order of
    first appearance, when every top-level code carries one (as every export of this codebook
    does); else []. How a project whose level sets were dropped gets its levels back."""
    found: list[str] = []
    tops = [c for c in codes_el if _local(c) == "Code"] if codes_el is not None else []
    for code in tops:
        description = next((c for c in code if _local(c) == "Description"), None)
        _, value = split_marker(description.text if description is not None else "", LEVEL_MARKER)
        if value is None:
            return []
        if value.lower() not in {level.lower() for level in found}:
            found.append(value)
    return found


def read_qdc(data: bytes, levels: Sequence[str]) -> tuple[list[dict], list[str]]:
    try:
        root = security.parse_xml(data, "the REFI-QDA codebook")
    except etree.XMLSyntaxError as exc:
        raise UserError(f"the REFI-QDA codebook is not well-formed XML: {exc}")
    if _local(root) == "Project":
        root = next((c for c in root if _local(c) == "CodeBook"), None)
        if root is None:
            raise UserError("the REFI-QDA project has no <CodeBook>")
    elif _local(root) != "CodeBook":
        raise UserError(f"the file is not a REFI-QDA codebook: its root element is <{_local(root)}>, not <CodeBook>")
    return parse_codebook_element(root, levels)


def read_file(path: str | Path, levels: Sequence[str]) -> tuple[list[dict], list[str], str]:
    path = Path(path)
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"cannot tell the format of {path.name!r}: use a .yaml, .csv, .xlsx or .qdc file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}")
    return (*read_bytes(data, fmt, levels), fmt)


def read_bytes(data: bytes, fmt: str, levels: Sequence[str]) -> tuple[list[dict], list[str]]:
    """Nodes and warnings from a codebook file of ``fmt``; a file above ``security.MAX_STRUCTURED_BYTES`` is refused."""
    security.check_input_size("the codebook file", len(data), security.MAX_STRUCTURED_BYTES)
    if fmt == "yaml":
        return read_yaml(decode_utf8("the YAML file", data, retry="try again"))
    if fmt == "csv":
        return read_csv(data, levels)
    if fmt == "xlsx":
        return read_xlsx(data, levels)
    if fmt == "qdc":
        return read_qdc(data, levels)
    raise UserError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


# --- checking and importing ----------------------------------------------------------------
def _check_nodes(nodes: list[dict], study: Study) -> None:
    """Validate the whole file (names, levels, colours, choices, GUIDs, merge cycles)."""
    guids: dict[str, str] = {}
    paths: dict[str, dict] = {}

    def check(siblings: list[dict], parent_path: str | None, parent_level: str | None):
        seen: dict[str, str] = {}
        for node in siblings:
            name = " ".join(str(node.get("name") or "").split())
            if not name:
                raise UserError(f"a code {'under ' + repr(parent_path) if parent_path else 'at the top'} has no name")
            node["name"] = name
            where = f"code {name!r}: "
            if name.lower() in seen:
                place = f"under {parent_path!r}" if parent_path else "at the top of the codebook"
                raise UserError(f"duplicate code name {name!r} at one level of the tree ({place})")
            seen[name.lower()] = name
            path = cb.join_path([*cb.split_path(parent_path), name]) if parent_path else cb.escape_name(name)
            node["_path"] = path
            paths[path.lower()] = node
            level = node.get("level") or parent_level
            if not level:
                raise UserError(f"{where}no level given (and no parent to take it from)")
            secondary = node.get("secondary_levels") or []
            if isinstance(secondary, str):
                secondary = [s.strip() for s in re.split(r"[;,]", secondary) if s.strip()]
            node["level"], node["secondary_levels"] = cb.check_levels(study, str(level), [str(s) for s in secondary], where)
            node["colour"] = cb.normalise_colour(node.get("colour"), where)
            node["polarity"] = cb.check_choice(node.get("polarity") or "none", CODE_POLARITIES, "polarity", where)
            node["origin"] = cb.check_choice(node.get("origin") or "a priori", CODE_ORIGINS, "origin", where)
            node["status"] = cb.check_choice(node.get("status") or "active", CODE_STATUSES, "status", where)
            if node.get("codable") is None:
                node["codable"] = True
            elif not isinstance(node["codable"], bool):
                raise UserError(f"{where}codable must be true or false, not {node['codable']!r}")
            try:
                node["guid"] = cb.normalise_guid(node.get("guid"))
            except UserError as exc:
                raise UserError(where + exc.message)
            if node["guid"] in guids:
                raise UserError(f"{where}GUID {node['guid']} is used twice (also by {guids[node['guid']]!r})")
            guids[node["guid"]] = name
            origin_at = node.get("origin_at")
            if isinstance(origin_at, (dt.date, dt.datetime)) and not isinstance(origin_at, dt.datetime):
                origin_at = dt.datetime.combine(origin_at, dt.time())
            if isinstance(origin_at, str) and origin_at.strip():
                try:
                    origin_at = dt.datetime.fromisoformat(origin_at.strip())
                except ValueError:
                    raise UserError(f"{where}invalid origin date {origin_at!r}; use YYYY-MM-DDTHH:MM:SS")
            node["origin_at"] = origin_at if isinstance(origin_at, dt.datetime) else None
            for key in ("origin_by", *cb.TEXT_FIELDS):
                value = node.get(key)
                node[key] = "" if value is None else str(value).strip()
            check(node.get("children") or [], path, node["level"])

    check(nodes, None, None)
    # merge targets must exist and must not form a cycle
    for node in paths.values():
        target = node.get("merged_into")
        if target:
            if str(target).lower() not in paths:
                raise UserError(f"code {node['name']!r} is merged into {target!r}, which is not in the file")
            if node["status"] != "merged":
                raise UserError(f"code {node['name']!r} names a merge target but its status is {node['status']!r}, not 'merged'")
        elif node["status"] == "merged":
            raise UserError(f"code {node['name']!r} has status 'merged' but no 'merged_into' target")
    for node in paths.values():
        seen, current = [], node
        while current.get("merged_into"):
            if current["_path"] in seen:
                raise UserError(f"merge targets form a cycle: {' -> '.join(seen + [current['_path']])}")
            seen.append(current["_path"])
            current = paths[str(current["merged_into"]).lower()]


def import_nodes(session: Session, study: Study, nodes: list[dict], replace: bool = False, source: str = "") -> dict:
    """Write checked nodes into the study's codebook (all or nothing, inside the caller's transaction).

    Without ``replace`` the study's codebook must be empty. With ``replace`` the file becomes the
    codebook: codes are matched by GUID, then by path, and updated in place (so references stay
    attached); new codes are added; existing codes missing from the file are retired, never deleted.
    """
    if not nodes:
        raise UserError("the file holds no codes")
    _check_nodes(nodes, study)
    existing = cb.all_codes(session, study)
    if existing and not replace:
        raise UserError(
            f"this study already has a codebook ({len(existing)} codes); import with --replace to update it "
            "(codes missing from the file are retired, their codings are kept)"
        )
    existing_paths = cb.code_paths(existing)
    by_guid = {c.guid: c for c in existing}
    by_path = {existing_paths[c.id].lower(): c for c in existing}
    used: set[int] = set()
    written: dict[str, Code] = {}
    counts = {"added": 0, "updated": 0, "retired": 0}

    def write(siblings: list[dict], parent: Code | None):
        # One flush per sibling group (not per code): the children need their parents' ids.
        placed = []
        for order, node in enumerate(siblings):
            code = by_guid.get(node["guid"]) or by_path.get(node["_path"].lower())
            if code is not None and code.id in used:
                code = None
            values = {
                "parent_id": parent.id if parent else None, "name": node["name"], "codable": node["codable"],
                "level": node["level"], "secondary_levels": node["secondary_levels"], "colour": node["colour"],
                "polarity": node["polarity"], "origin": node["origin"], "origin_by": node["origin_by"],
                "status": node["status"], "sort_order": order, "merged_into_id": None,
                **{k: node[k] for k in cb.TEXT_FIELDS},
            }
            if node["origin_at"]:
                values["origin_at"] = node["origin_at"]
            if code is None:
                code = Code(study_id=study.id, guid=node["guid"], **values)
                session.add(code)
                counts["added"] += 1
            else:
                used.add(code.id)
                changed = False
                for key, value in values.items():
                    current = getattr(code, key)
                    if key == "origin_at" and current.replace(microsecond=0) == value.replace(microsecond=0):
                        continue
                    if current != value:
                        setattr(code, key, value)
                        changed = True
                counts["updated"] += changed
            placed.append((node, code))
        session.flush()
        for node, code in placed:
            used.add(code.id)
            written[node["_path"].lower()] = code
        for node, code in placed:
            if node.get("children"):
                write(node["children"], code)

    write(nodes, None)
    for node in _walk(nodes):
        if node.get("merged_into"):
            written[node["_path"].lower()].merged_into_id = written[str(node["merged_into"]).lower()].id
    for code in existing:
        if code.id not in used and code.status == "active":
            code.status = "retired"
            counts["retired"] += 1
    session.flush()
    _final_sibling_check(session, study)
    audit.record(session, "codebook", "import", None, study.id, source=source, replace=replace, **counts)
    return counts


def _final_sibling_check(session: Session, study: Study) -> None:
    seen: dict[tuple, Code] = {}
    for code in cb.all_codes(session, study):
        key = (code.parent_id, code.name.lower())
        if key in seen:
            raise UserError(
                f"after the import two codes named {code.name!r} would sit at one level of the tree "
                "(one of them is not in the file); rename one in the file or in the codebook first"
            )
        seen[key] = code


def import_file(session: Session, study: Study, path: str | Path, replace: bool = False) -> dict:
    """Read a .yaml/.csv/.xlsx/.qdc file and import it; returns counts and what could not be carried."""
    nodes, warnings, fmt = read_file(path, study.levels)
    counts = import_nodes(session, study, nodes, replace=replace, source=Path(path).name)
    return {"file": str(path), "format": fmt, **counts, "not_carried_over": warnings}


def import_data(session: Session, study: Study, data: bytes, fmt: str, replace: bool = False, source: str = "") -> dict:
    nodes, warnings = read_bytes(data, fmt, study.levels)
    counts = import_nodes(session, study, nodes, replace=replace, source=source)
    return {"file": source, "format": fmt, **counts, "not_carried_over": warnings}


def shipped_codebooks() -> list[Path]:
    """The codebook files shipped inside the package (``casestudy/codebook/shipped/*.yaml``)."""
    return shipped.shipped_files(SHIPPED_DIR)


def shipped_catalogue() -> list[dict]:
    """One record per shipped codebook: ``name`` (for :func:`load_shipped`), ``title``,
    ``levels``, ``codes`` (how many, categories included) and ``file``."""

    def count(nodes) -> int:
        return sum(1 + count(node.get("children") or []) for node in nodes or [])

    records = []
    for path in shipped_codebooks():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        records.append({
            "name": path.stem, "title": data.get("title", ""), "levels": list(data.get("levels") or []),
            "codes": count(data.get("codes")), "file": str(path),
        })
    return records


def shipped_preview(name: str) -> list[dict]:
    """The codes of the shipped codebook ``name`` in tree order, for a preview before loading it:
    ``depth`` (0 for a top-level code), ``name``, ``level`` and ``short_definition``."""
    data = yaml.safe_load(shipped.shipped_file(SHIPPED_DIR, name, "codebook").read_text(encoding="utf-8")) or {}
    rows: list[dict] = []

    def walk(nodes, depth: int) -> None:
        for node in nodes or []:
            rows.append({"depth": depth, "name": node.get("name", ""), "level": node.get("level", ""),
                         "short_definition": node.get("short_definition", "")})
            walk(node.get("children"), depth + 1)

    walk(data.get("codes"), 0)
    return rows


def load_shipped(session: Session, study: Study, name: str = "mbt-implementation", replace: bool = False) -> dict:
    """Import the shipped codebook ``name`` into ``study`` (as :func:`import_file` does a file)."""
    return import_file(session, study, shipped.shipped_file(SHIPPED_DIR, name, "codebook"), replace=replace)

