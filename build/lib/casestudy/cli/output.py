"""Printing command results as an aligned table, JSON or CSV."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

DATA_FORMATS = ("table", "json", "csv")


def plain(value: Any) -> Any:
    """JSON-friendly form of dataclasses, dates and nested containers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def _csv_cell(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _cell(value)


def emit(data: Any, fmt: str = "table", columns: Sequence[str] | None = None, out: TextIO | None = None) -> None:
    """Print a list of records (dicts or dataclasses) or a single record."""
    out = out or sys.stdout
    data = plain(data)
    if fmt == "json":
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    records = data if isinstance(data, list) else [data]
    if columns is None:
        columns = []
        for record in records:
            for key in record:
                if key not in columns:
                    columns.append(key)
    if fmt == "csv":  # through tabular: formula-like text cells are neutralised
        from casestudy.tabular import csv_text

        out.write(csv_text(columns, ([_csv_cell(record.get(c)) for c in columns] for record in records)))
        return
    if not records:
        out.write("(none)\n")
        return
    rows = [[_cell(record.get(c)) for c in columns] for record in records]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
