"""Writing tables to CSV and XLSX safely: the one place every export goes through.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab / carriage
return) are neutralised with a leading apostrophe, so an exported quote such as "=HYPERLINK(...)"
or "-2+3" can never execute in Excel or LibreOffice. Numbers stay numbers (a Decimal with its
rounded decimals as the number format).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)


def neutralise(value: Any) -> Any:
    """The value, made inert for spreadsheets when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def read_csv(text: str, required: Sequence[str], what: str = "CSV") -> list[dict[str, str]]:
    """The rows of a CSV text as dicts keyed by the lower-cased, trimmed header names, values
    trimmed, blank lines skipped; a byte-order mark is ignored.

    Raises UserError when a ``required`` column is missing (naming the columns it found)."""
    from casestudy.errors import UserError

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(f"the {what} lacks the column(s) {', '.join(missing)}; it has: {', '.join(h for h in header if h) or 'none'}")
    rows = []
    for raw in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if any(row.values()):
            rows.append(row)
    return rows


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 CSV text (RFC 4180: CRLF rows, no BOM) with a header row; text cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    first = _FORMULA_FIRST
    # Inlined neutralise(): this loop is the hot path of every large export.
    writer.writerows(
        ["" if v is None else ("'" + v if v.__class__ is str and v[:1] in first else v) for v in row] for row in rows
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header and rows, with an optional title row above and note rows below."""

    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str | None = None
    notes: Sequence[str] = ()


#: Column widths in characters: at least the header, at most this much (longer text wraps).
MAX_COLUMN_WIDTH = 60


def xlsx_bytes(
    sheets: dict[str, Sheet | tuple[Sequence[str], Iterable[Sequence[Any]]]],
    title: str | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """An XLSX workbook, one sheet per entry: a bold title row and a blank row (when there is a
    title), the bold header row, frozen so that it stays in view, the rows, a blank row and the
    note rows. A value is a :class:`Sheet` or ``(columns, rows)``; ``title`` and ``notes`` apply to
    sheets that have none of their own.

    Numbers are stored as numbers: a :class:`~decimal.Decimal` keeps the decimals it was rounded
    to as its number format (Decimal('4.10') -> 4.1 shown as 4.10), ints and floats are written
    as they are. Strings are written as strings (never as formulas) and also neutralised. Column
    widths follow the longest value (up to :data:`MAX_COLUMN_WIDTH` characters, beyond which the
    text wraps).
    """
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    header_format = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "bottom"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    number_formats: dict[int, Any] = {}

    def number_format(places: int):
        if places not in number_formats:
            number_formats[places] = workbook.add_format({"num_format": "0." + "0" * places if places else "0"})
        return number_formats[places]

    for name, value in sheets.items():
        sheet_spec = value if isinstance(value, Sheet) else Sheet(*value)
        sheet_title = sheet_spec.title if sheet_spec.title is not None else title
        sheet_notes = list(sheet_spec.notes) or list(notes)
        sheet = workbook.add_worksheet(_sheet_name(name))
        widths = [len(str(header)) for header in sheet_spec.columns]
        row_index = 0
        if sheet_title:
            sheet.write_string(row_index, 0, str(neutralise(sheet_title)), bold)
            row_index += 2
        for col, header in enumerate(sheet_spec.columns):
            sheet.write_string(row_index, col, str(neutralise(header)), header_format)
        sheet.freeze_panes(row_index + 1, 0)
        row_index += 1
        for row in sheet_spec.rows:
            for col, cell in enumerate(row):
                _write_cell(sheet, row_index, col, cell, number_format, wrap)
                if cell is not None:
                    while col >= len(widths):
                        widths.append(0)
                    widths[col] = max(widths[col], len(str(cell)))
            row_index += 1
        if sheet_notes:
            row_index += 1
            for note in sheet_notes:
                sheet.write_string(row_index, 0, str(neutralise(note)))
                row_index += 1
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width, 4) + 2, MAX_COLUMN_WIDTH))
    workbook.close()
    return buffer.getvalue()


def _write_cell(sheet, row: int, col: int, value: Any, number_format=None, wrap=None) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal):
        places = -value.as_tuple().exponent if value.is_finite() else 0
        sheet.write_number(row, col, float(value), number_format(max(places, 0)) if number_format else None)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value)
    else:
        text = str(neutralise(str(value)))
        sheet.write_string(row, col, text, wrap if wrap is not None and len(text) > MAX_COLUMN_WIDTH else None)


def _sheet_name(name: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip() or "Sheet"
    return cleaned[:31]


def write(path: str | Path, data: bytes | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# --- reading tables back (bounded) ----------------------------------------------------------
def unneutralise(value: Any) -> Any:
    """Undo :func:`neutralise`: text written as ``'=...`` reads back as ``=...``."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def read_csv_rows(data: bytes | str, what: str = "the CSV file") -> list[list[str]]:
    """The rows of a CSV file (UTF-8, a byte-order mark removed), neutralised cells restored.

    Bounded like every structured upload (``security.MAX_STRUCTURED_BYTES``, at most
    ``security.MAX_TABLE_ROWS`` rows and ``security.MAX_TABLE_CELLS`` cells); a malformed or
    empty file is one UserError naming ``what``."""
    from casestudy import security
    from casestudy.errors import UserError
    from casestudy.text import decode_utf8

    if isinstance(data, bytes):
        security.check_input_size(what, len(data), security.MAX_STRUCTURED_BYTES)
        data = decode_utf8(what, data, retry="try again")
    else:
        security.check_input_size(what, len(data.encode("utf-8", "surrogatepass")), security.MAX_STRUCTURED_BYTES)
    table: list[list[str]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(data.lstrip("\ufeff"), newline=""), strict=True):
            table.append([unneutralise(cell) for cell in row])
            cells += len(row)
            security.check_table_bounds(what, len(table) - 1, cells)
    except csv.Error as exc:
        raise UserError(f"{what} is malformed: {exc}")
    if not table:
        raise UserError(f"{what} is empty")
    return table


def read_xlsx_sheets(data: bytes, what: str = "the XLSX file") -> dict[str, list[list[Any]]]:
    """Every sheet of a workbook as rows of values (formulas not evaluated), neutralised text
    restored; bounded like :func:`read_csv_rows` and by ``security.MAX_XLSX_UNPACKED_BYTES``
    unpacked (zip bombs)."""
    import zipfile

    import openpyxl

    from casestudy import security
    from casestudy.errors import UserError

    security.check_input_size(what, len(data), security.MAX_STRUCTURED_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            security.check_zip_unpacked_size(what, archive, security.MAX_XLSX_UNPACKED_BYTES)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise UserError(f"{what} is malformed or not an Excel workbook ({type(exc).__name__})")
    sheets: dict[str, list[list[Any]]] = {}
    rows = cells = 0
    try:
        for sheet in workbook.worksheets:
            table = []
            for row in sheet.iter_rows(values_only=True):
                table.append([unneutralise(cell) for cell in row])
                rows += 1
                cells += len(row)
                security.check_table_bounds(what, rows, cells)
            sheets[sheet.title] = table
    finally:
        workbook.close()
    return sheets
