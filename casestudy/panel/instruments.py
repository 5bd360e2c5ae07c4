"""Rating instruments as data: a checklist or audit scale with items grouped by level.

An :class:`Instrument` has a name, a title, a version, its levels in order (e.g. organization,
team, therapist) with the items of each, and one :class:`~casestudy.panel.scale.Scale` on which
every point is labelled. An item has a key (unique in the instrument), a text, an optional
secondary level (another level of the instrument it also concerns) and optional lettered
sub-criteria, each with an optional threshold (e.g. "at most four weeks").

YAML is the native format (lossless; :func:`instrument_yaml` / :func:`read_instrument_yaml`)::

    format: casestudy-instrument
    format_version: 1
    name: my-checklist
    title: ...
    version: "1"
    scale: {min: 1, max: 5, labels: {1: very poor, 2: poor, 3: adequate, 4: good, 5: very good}}
    levels:
      - level: organization
        items:
          - key: "1"
            text: ...
            secondary_level: team          # optional
            sub_criteria:                  # optional
              - {letter: a, text: ..., threshold: ...}

Reading is defensive: at most :data:`MAX_BYTES` of YAML and :data:`MAX_ITEMS` items, no
anchors or aliases (a small file cannot expand into a huge one), plain data only
(``security.load_yaml``). CSV (:func:`instrument_csv`) and XLSX (:func:`instrument_xlsx`) carry
the same content as tables: the instrument's fields (``field,value``: name, title, version,
source, description, scale_min, scale_max, ``label N``) and one row per item and one per
sub-criterion; they read back through the bounded readers of :mod:`casestudy.tabular`. The instruments shipped with Casestudy live in
``panel/shipped/`` and load by name (:func:`load_shipped`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from casestudy import security, shipped, tabular
from casestudy.errors import UserError
from casestudy.panel.scale import Scale
from casestudy.text import collapse_spaces, decode_utf8

FORMAT_NAME = "casestudy-instrument"
FORMAT_VERSION = 1
MAX_BYTES = 1_000_000
MAX_ITEMS = 2000
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
CSV_COLUMNS = ("item", "level", "secondary_level", "sub_criterion", "text", "threshold")
FIELD_COLUMNS = ("field", "value")
TOP_FIELDS = {"format", "format_version", "name", "title", "version", "source", "description", "scale", "levels"}
ITEM_FIELDS = {"key", "text", "secondary_level", "sub_criteria"}
SUB_FIELDS = {"letter", "text", "threshold"}


@dataclass(frozen=True)
class SubCriterion:
    letter: str
    text: str
    threshold: str = ""


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    level: str
    secondary_level: str = ""
    sub_criteria: tuple[SubCriterion, ...] = ()


@dataclass(frozen=True)
class Level:
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Instrument:
    """A rating instrument; construct through :func:`build_instrument` (which checks it)."""

    name: str
    title: str
    version: str
    scale: Scale
    levels: tuple[Level, ...]
    source: str = ""
    description: str = ""

    @property
    def items(self) -> list[Item]:
        """Every item, level by level in the instrument's order."""
        return [item for level in self.levels for item in level.items]

    @property
    def level_names(self) -> list[str]:
        return [level.name for level in self.levels]

    def find_item(self, label: str) -> Item | None:
        """The item whose key or text is ``label`` (case and spacing ignored), else None."""
        wanted = collapse_spaces(label).casefold()
        return next((i for i in self.items if wanted in (i.key.casefold(), collapse_spaces(i.text).casefold())), None)

    def as_document(self) -> dict:
        """The YAML document (plain data) of this instrument."""
        def item_document(item: Item) -> dict:
            out: dict = {"key": item.key, "text": item.text}
            if item.secondary_level:
                out["secondary_level"] = item.secondary_level
            if item.sub_criteria:
                out["sub_criteria"] = [
                    {"letter": s.letter, "text": s.text, **({"threshold": s.threshold} if s.threshold else {})}
                    for s in item.sub_criteria
                ]
            return out

        document: dict = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": self.name,
                          "title": self.title, "version": self.version}
        if self.source:
            document["source"] = self.source
        if self.description:
            document["description"] = self.description
        document["scale"] = {"min": self.scale.min, "max": self.scale.max, "labels": dict(sorted(self.scale.labels.items()))}
        document["levels"] = [{"level": level.name, "items": [item_document(i) for i in level.items]} for level in self.levels]
        return document

    def summary(self) -> dict:
        """name, title, version, levels with their item counts, items, scale legend."""
        return {"name": self.name, "title": self.title, "version": self.version,
                "levels": {level.name: len(level.items) for level in self.levels},
                "items": len(self.items), "scale": self.scale.legend()}


# --- building and checking --------------------------------------------------------------------
def _text(value, where: str, required: bool = True) -> str:
    if value is None:
        value = ""
    if isinstance(value, (dict, list)):
        raise UserError(f"{where} must be text, not a {'mapping' if isinstance(value, dict) else 'list'}")
    text = collapse_spaces(str(value))
    if required and not text:
        raise UserError(f"{where} is missing or empty")
    return text


def _mapping(value, where: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a mapping of fields")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return value


def _list(value, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{where} must be a list")
    return value


def _scale(value) -> Scale:
    scale = _mapping(value, "the scale", {"min", "max", "labels"})
    low, high = scale.get("min"), scale.get("max")
    if not isinstance(low, int) or not isinstance(high, int) or isinstance(low, bool) or isinstance(high, bool):
        raise UserError("the scale needs whole numbers 'min' and 'max'")
    labels = scale.get("labels")
    if labels is not None and not isinstance(labels, dict):
        raise UserError("the scale's 'labels' must map each point to its label")
    result = Scale.defined(low, high, labels)
    unlabelled = [p for p in range(result.min, result.max + 1) if p not in result.labels]
    if unlabelled:
        raise UserError(f"an instrument labels every point of its scale; no label for {', '.join(map(str, unlabelled))}")
    return result


def build_instrument(document) -> Instrument:
    """An :class:`Instrument` from its plain-data document (as in the YAML file), checked whole.

    UserError names the first problem: a missing title, an unlabelled scale point, a duplicate
    level or item key, a secondary level that is not another level of the instrument, a repeated
    sub-criterion letter, more than :data:`MAX_ITEMS` items, an unknown field."""
    document = _mapping(document, "the instrument", TOP_FIELDS)
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise UserError(f"the file is not a rating instrument (format {document.get('format')!r}, expected {FORMAT_NAME!r})")
    if document.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise UserError(f"unsupported instrument format version {document.get('format_version')!r}; this version reads {FORMAT_VERSION}")
    name = _text(document.get("name"), "the instrument's name")
    title = _text(document.get("title"), "the instrument's title")
    version = _text(document.get("version"), "the instrument's version")
    scale = _scale(document.get("scale"))
    raw_levels = _list(document.get("levels"), "'levels'")
    if not raw_levels:
        raise UserError("the instrument has no levels: give 'levels' with at least one level and its items")
    level_names: list[str] = []
    for number, raw in enumerate(raw_levels, start=1):
        raw = _mapping(raw, f"level {number}", {"level", "items"})
        level = _text(raw.get("level"), f"the name of level {number}")
        if level.casefold() in (n.casefold() for n in level_names):
            raise UserError(f"level {level!r} is listed twice")
        level_names.append(level)
    count = sum(len(_list(_mapping(raw, "level", {"level", "items"}).get("items"), "items")) for raw in raw_levels)
    if count > MAX_ITEMS:
        raise UserError(f"the instrument has {count} items; at most {MAX_ITEMS} are allowed")
    keys: dict[str, str] = {}
    levels = []
    for level, raw in zip(level_names, raw_levels):
        items = []
        for number, raw_item in enumerate(_list(raw.get("items"), f"the items of level {level!r}"), start=1):
            where = f"item {number} of level {level!r}"
            raw_item = _mapping(raw_item, where, ITEM_FIELDS)
            key = _text(raw_item.get("key"), f"the key of {where}")
            where = f"item {key!r}"
            if key.casefold() in keys:
                raise UserError(f"item key {key!r} is used twice (levels {keys[key.casefold()]!r} and {level!r})")
            keys[key.casefold()] = level
            secondary = _text(raw_item.get("secondary_level"), f"the secondary level of {where}", required=False)
            if secondary:
                match = next((n for n in level_names if n.casefold() == secondary.casefold()), None)
                if match is None:
                    raise UserError(f"{where}: secondary level {secondary!r} is not a level of the instrument ({', '.join(level_names)})")
                if match == level:
                    raise UserError(f"{where}: the secondary level must differ from its level {level!r}")
                secondary = match
            subs = []
            letters: set[str] = set()
            for s_number, raw_sub in enumerate(_list(raw_item.get("sub_criteria"), f"the sub-criteria of {where}"), start=1):
                s_where = f"sub-criterion {s_number} of {where}"
                raw_sub = _mapping(raw_sub, s_where, SUB_FIELDS)
                letter = _text(raw_sub.get("letter"), f"the letter of {s_where}")
                if letter.casefold() in letters:
                    raise UserError(f"{where}: sub-criterion {letter!r} is listed twice")
                letters.add(letter.casefold())
                subs.append(SubCriterion(letter, _text(raw_sub.get("text"), f"the text of {s_where}"),
                                         _text(raw_sub.get("threshold"), f"the threshold of {s_where}", required=False)))
            items.append(Item(key, _text(raw_item.get("text"), f"the text of {where}"), level, secondary, tuple(subs)))
        levels.append(Level(level, tuple(items)))
    if not keys:
        raise UserError("the instrument has no items")
    return Instrument(name, title, version, scale, tuple(levels),
                      _text(document.get("source"), "the source", required=False),
                      _text(document.get("description"), "the description", required=False))


# --- YAML, CSV and XLSX -----------------------------------------------------------------------
def read_instrument_yaml(data: str | bytes) -> Instrument:
    """An instrument from YAML text or UTF-8 bytes, read by the one bounded YAML reader
    (:func:`casestudy.security.load_yaml`: at most :data:`MAX_BYTES`, no anchors or aliases),
    checked whole by :func:`build_instrument`."""
    if isinstance(data, bytes):
        security.check_input_size("the instrument file", len(data), MAX_BYTES)
        data = decode_utf8("the instrument file", data, retry="try again")
    try:
        document = security.load_yaml(data, "the instrument file", max_bytes=MAX_BYTES)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"the instrument file is malformed YAML{where}: {getattr(exc, 'problem', None) or exc}")
    return build_instrument(document)


def instrument_yaml(instrument: Instrument) -> str:
    """The instrument as YAML; :func:`read_instrument_yaml` reads it back to an equal instrument."""
    return yaml.safe_dump(instrument.as_document(), sort_keys=False, allow_unicode=True, width=100)


def instrument_rows(instrument: Instrument) -> list[list[str]]:
    """Rows of :data:`CSV_COLUMNS`: one per item (no sub-criterion), then one per sub-criterion."""
    rows = []
    for item in instrument.items:
        rows.append([item.key, item.level, item.secondary_level, "", item.text, ""])
        rows += [[item.key, item.level, item.secondary_level, s.letter, s.text, s.threshold] for s in item.sub_criteria]
    return rows


def field_rows(instrument: Instrument) -> list[list]:
    """The instrument's own fields as (field, value) rows: name, title, version, source,
    description, scale_min, scale_max and one ``label <point>`` per scale point."""
    rows = [["name", instrument.name], ["title", instrument.title], ["version", instrument.version],
            ["source", instrument.source], ["description", instrument.description],
            ["scale_min", instrument.scale.min], ["scale_max", instrument.scale.max]]
    rows += [[f"label {point}", label] for point, label in sorted(instrument.scale.labels.items())]
    return rows


def instrument_csv(instrument: Instrument) -> str:
    """The instrument as one CSV: its :func:`field_rows` (``field,value``), a blank row, then the
    item table (:data:`CSV_COLUMNS`). :func:`read_instrument_table` reads it back whole."""
    fields = tabular.csv_text(FIELD_COLUMNS, field_rows(instrument))
    return fields + "\r\n" + tabular.csv_text(CSV_COLUMNS, instrument_rows(instrument))


def instrument_xlsx(instrument: Instrument) -> bytes:
    """The instrument as a workbook: sheet ``Instrument`` (field, value) and sheet ``Items``."""
    return tabular.xlsx_bytes({"Instrument": (FIELD_COLUMNS, field_rows(instrument)),
                               "Items": (CSV_COLUMNS, instrument_rows(instrument))})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def instrument_from_tables(field_table: list[list], item_table: list[list], what: str) -> Instrument:
    """An instrument from its field rows and its item table (header :data:`CSV_COLUMNS` first);
    UserError names the row of the first problem (then :func:`build_instrument` checks the whole)."""
    document: dict = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
    labels: dict = {}
    scale: dict = {}
    for number, row in enumerate(field_table, start=1):
        cells = [_cell(c) for c in row]
        if not any(cells) or cells[:2] == list(FIELD_COLUMNS):
            continue
        field, value = cells[0].casefold(), (cells[1] if len(cells) > 1 else "")
        if field.startswith("label "):
            labels[field.removeprefix("label ").strip()] = value
        elif field in ("scale_min", "scale_max"):
            try:
                scale[field.removeprefix("scale_")] = int(value)
            except ValueError:
                raise UserError(f"{what}: {field} must be a whole number, not {value!r}")
        elif field in ("name", "title", "version", "source", "description"):
            if value:
                document[field] = value
        else:
            raise UserError(f"{what}, field row {number}: unknown field {cells[0]!r}; use name, title, version, source, "
                            "description, scale_min, scale_max or 'label N'")
    document["scale"] = {**scale, "labels": labels}
    if not item_table:
        raise UserError(f"{what} has no item table (header: {', '.join(CSV_COLUMNS)})")
    header = [_cell(c).casefold() for c in item_table[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UserError(f"{what}: the item table misses column(s) {', '.join(missing)}")
    index = {c: header.index(c) for c in CSV_COLUMNS}
    levels: dict[str, list[dict]] = {}
    items: dict[str, dict] = {}
    for number, row in enumerate(item_table[1:], start=2):
        cells = {c: (_cell(row[i]) if i < len(row) else "") for c, i in index.items()}
        if not any(cells.values()):
            continue
        key, level = cells["item"], cells["level"]
        if not key or not level:
            raise UserError(f"{what}, item row {number}: every row needs an item and a level")
        if cells["sub_criterion"]:
            item = items.get(key.casefold())
            if item is None:
                raise UserError(f"{what}, item row {number}: sub-criterion {cells['sub_criterion']!r} of item {key!r} "
                                "comes before the item's own row")
            sub = {"letter": cells["sub_criterion"], "text": cells["text"]}
            if cells["threshold"]:
                sub["threshold"] = cells["threshold"]
            item.setdefault("sub_criteria", []).append(sub)
            continue
        if key.casefold() in items:
            raise UserError(f"{what}, item row {number}: item {key!r} is listed twice")
        item = {"key": key, "text": cells["text"]}
        if cells["secondary_level"]:
            item["secondary_level"] = cells["secondary_level"]
        items[key.casefold()] = item
        levels.setdefault(level, []).append(item)
    document["levels"] = [{"level": level, "items": level_items} for level, level_items in levels.items()]
    return build_instrument(document)


def read_instrument_table(data: bytes | str, fmt: str) -> Instrument:
    """An instrument from its CSV (:func:`instrument_csv`) or XLSX (:func:`instrument_xlsx`) form,
    read through the bounded readers of :mod:`casestudy.tabular`."""
    if fmt == "xlsx":
        if isinstance(data, str):
            raise UserError("an XLSX instrument must be read as bytes")
        sheets = tabular.read_xlsx_sheets(data, "the instrument workbook")
        by_name = {name.casefold(): rows for name, rows in sheets.items()}
        if "items" not in by_name:
            raise UserError("the instrument workbook has no sheet 'Items'")
        return instrument_from_tables(by_name.get("instrument", []), by_name["items"], "the instrument workbook")
    table = tabular.read_csv_rows(data, "the instrument CSV")
    start = next((i for i, row in enumerate(table) if [_cell(c).casefold() for c in row[:2]] == ["item", "level"]), None)
    if start is None:
        raise UserError(f"the instrument CSV has no item table (a header row {', '.join(CSV_COLUMNS)})")
    return instrument_from_tables(table[:start], table[start:], "the instrument CSV")


def read_instrument(data: bytes, fmt: str) -> Instrument:
    """An instrument file in ``fmt`` (``yaml``, ``csv`` or ``xlsx``)."""
    if fmt in ("yaml", "yml"):
        return read_instrument_yaml(data)
    if fmt in ("csv", "xlsx"):
        return read_instrument_table(data, fmt)
    raise UserError(f"unknown instrument format {fmt!r}; use one of {', '.join(EXPORTERS)}")


EXPORTERS = {"yaml": instrument_yaml, "csv": instrument_csv, "xlsx": instrument_xlsx}


def export(instrument: Instrument, fmt: str) -> str | bytes:
    """The instrument as ``yaml`` or ``csv`` text, or ``xlsx`` bytes; each reads back equal."""
    if fmt not in EXPORTERS:
        raise UserError(f"unknown instrument format {fmt!r}; use one of {', '.join(EXPORTERS)}")
    return EXPORTERS[fmt](instrument)


# --- shipped instruments --------------------------------------------------------------------
def shipped_instruments() -> list[Path]:
    """The instrument files shipped inside the package (``casestudy/panel/shipped/*.yaml``)."""
    return shipped.shipped_files(SHIPPED_DIR)


def load_shipped(name: str) -> Instrument:
    """The shipped instrument ``name`` (its file name without ``.yaml``), read and checked."""
    path = shipped.shipped_file(SHIPPED_DIR, name, "instrument")
    return read_instrument_yaml(path.read_bytes())


def shipped_catalogue() -> list[dict]:
    """One record per shipped instrument: ``name`` (for :func:`load_shipped`), ``title``,
    ``version``, ``levels`` (item count per level), ``items``, ``scale`` (its legend)."""
    return [load_shipped(path.stem).summary() for path in shipped_instruments()]
