"""Bulk loads through the fast path of each backend: COPY on PostgreSQL, executemany on SQLite.

``bulk_insert(session, table, rows)`` writes many rows inside the caller's writing transaction
(so it is all-or-nothing with the rest of the step) and logs ONE summary audit event instead of
one per row. Python-side column defaults (``default=utcnow``, ``default=""``, ``version`` = 1...)
are filled in on both backends, so a bulk-loaded row looks exactly like an ORM-created one.
Rows are dicts keyed by column name; a missing key gets the column default or NULL.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

from casestudy import audit
from casestudy.errors import UserError

CHUNK_ROWS = 5_000


def table_of(table: Any) -> Table:
    """A Core Table from a Table, an ORM model class, or a table name in the models."""
    if isinstance(table, Table):
        return table
    if isinstance(getattr(table, "__table__", None), Table):
        return table.__table__
    if isinstance(table, str):
        from casestudy.models import Base

        found = Base.metadata.tables.get(table)
        if found is not None:
            return found
        raise UserError(f"no table named {table!r}")
    raise TypeError(f"not a table: {table!r}")


def _defaults(table: Table) -> dict[str, Any]:
    """Python-side scalar or callable defaults per column (server defaults are left to the server)."""
    found = {}
    for column in table.columns:
        default = column.default
        if default is None or getattr(default, "is_sequence", False):
            continue
        if getattr(default, "is_scalar", False):
            found[column.name] = default.arg
        elif getattr(default, "is_callable", False):
            found[column.name] = default.arg
    return found


def _columns_for(table: Table, first: Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(first) - set(table.columns.keys()))
    if unknown:
        raise UserError(f"table {table.name} has no column(s) {', '.join(unknown)}")
    defaults = _defaults(table)
    names = []
    for column in table.columns:
        if column.name in first or column.name in defaults:
            names.append(column.name)
    return names


def _complete(table: Table, columns: list[str], defaults: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    extra = set(row) - set(columns)
    if extra:
        unknown = sorted(extra - set(table.columns.keys()))
        if unknown:
            raise UserError(f"table {table.name} has no column(s) {', '.join(unknown)}")
        raise UserError(
            f"bulk rows for {table.name} must all name the same columns; {', '.join(sorted(extra))} "
            "appear after the first row only"
        )
    out = {}
    for name in columns:
        if name in row:
            out[name] = row[name]
        elif name in defaults:
            value = defaults[name]
            out[name] = value(None) if callable(value) else value
        else:
            out[name] = None
    return out


def _chunks(rows: Iterable[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK_ROWS)):
        yield chunk


def bulk_insert(
    session: Session,
    table: Any,
    rows: Iterable[Mapping[str, Any]],
    *,
    study_id: int | None = None,
    audit_event: bool = True,
    **detail: Any,
) -> int:
    """Insert ``rows`` into ``table`` in the caller's transaction; returns the number inserted.

    ``detail`` goes into the one summary audit event (e.g. ``source="transcripts.zip"``).
    """
    target = table_of(table)
    connection = session.connection()
    use_copy = connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"
    defaults = _defaults(target)
    columns: list[str] | None = None
    count = 0
    for chunk in _chunks(rows):
        if columns is None:
            columns = _columns_for(target, chunk[0])
        complete = [_complete(target, columns, defaults, row) for row in chunk]
        try:
            if use_copy:
                _copy(connection, target, columns, complete)
            else:
                connection.execute(insert(target), complete)
        except Exception as exc:
            if not _is_integrity_error(exc):
                raise
            first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise UserError(f"the rows for {target.name} clash with existing data or each other ({first_line}); nothing was saved")
        count += len(complete)
    if audit_event and count:
        audit.record(session, target.name, "bulk_insert", study_id=study_id, rows=count, **detail)
    return count


def _is_integrity_error(exc: Exception) -> bool:
    from sqlalchemy.exc import IntegrityError

    if isinstance(exc, IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a pinned dependency
        return False
    return isinstance(exc, psycopg.IntegrityError)


def _copy(connection, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """COPY ... FROM STDIN through psycopg 3 on the session's own connection (same transaction)."""
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(row[name]) if name in json_columns and row[name] is not None else row[name] for name in columns]
                )
    finally:
        cursor.close()


__all__ = ["bulk_insert", "table_of"]
