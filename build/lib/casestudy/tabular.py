"""Writing tables to CSV and XLSX safely: the one place every export goes through.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab / carriage
return) are neutralised with a leading apostrophe, so an exported quote such as "=HYPERLINK(...)"
or "-2+3" can never execute in Excel or LibreOffice. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)


def neutralise(value: Any) -> Any:
    """The value, made inert for spreadsheets when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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


def xlsx_bytes(
    sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]],
    title: str | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """An XLSX workbook, one sheet per entry; optional title above and notes below each table.

    Strings are written as strings (never as formulas) and also neutralised.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    for name, (columns, rows) in sheets.items():
        sheet = workbook.add_worksheet(_sheet_name(name))
        row_index = 0
        if title:
            sheet.write_string(row_index, 0, title, bold)
            row_index += 2
        for col, header in enumerate(columns):
            sheet.write_string(row_index, col, str(neutralise(header)), bold)
        row_index += 1
        for row in rows:
            for col, value in enumerate(row):
                _write_cell(sheet, row_index, col, value)
            row_index += 1
        if notes:
            row_index += 1
            for note in notes:
                sheet.write_string(row_index, 0, str(neutralise(note)))
                row_index += 1
    workbook.close()
    return buffer.getvalue()


def _write_cell(sheet, row: int, col: int, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(neutralise(str(value))))


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
