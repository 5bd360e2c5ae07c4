"""Bulk loads through the fast path of each backend: COPY on PostgreSQL, executemany on SQLite.

``bulk_insert(session, table, rows)`` writes many rows inside the caller's writing transaction
(so it is all-or-nothing with the rest of the step) and logs ONE summary audit event instead of
one per row. Python-side column defaults (``default=utcnow``, ``default=""``, ``version`` = 1...)
are filled in on both backends, so a bulk-loaded row looks exactly like an ORM-created one.
Rows are dicts keyed by column name; a missing key gets the column default or NULL.

``stage_rows`` / ``insert_staged`` split a big load in two so that it holds the global write lock
only briefly (see ``Store.staged_write``): the rows are first copied into a TEMPORARY table of the
caller's connection while no write lock is held (temporary tables are private to a connection:
writing them takes no lock on the shared database, on SQLite as on PostgreSQL), then one
``INSERT ... SELECT`` inside the short writing transaction moves them into the real table, all
or nothing. The database does that move without a round trip per row: 50,000 codings in about
0.4 s on a loaded two-core machine, against 3.4 s for the same rows sent from Python.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import uuid
from dataclasses import dataclass

from sqlalchemy import JSON, Column, MetaData, Table, func, insert, select
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


def _write_rows(connection, into: Table, target: Table, rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], int]:
    """Write ``rows``, completed with ``target``'s Python defaults, into ``into`` (``target`` itself
    or its stage) chunk by chunk: COPY on PostgreSQL (psycopg), executemany otherwise.

    Returns the columns written (those of the first row, plus defaulted ones) and the row count.
    """
    use_copy = connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"
    defaults = _defaults(target)
    columns: list[str] = []
    count = 0
    for chunk in _chunks(rows):
        if not columns:
            columns = _columns_for(target, chunk[0])
        complete = [_complete(target, columns, defaults, row) for row in chunk]
        if use_copy:
            _copy(connection, into, columns, complete)
        else:
            connection.execute(insert(into), complete)
        count += len(complete)
    return columns, count


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
    try:
        _, count = _write_rows(session.connection(), target, target, rows)
    except Exception as exc:
        if not _is_integrity_error(exc):
            raise
        raise UserError(f"the rows for {target.name} clash with existing data or each other ({_first_line(exc)}); nothing was saved")
    if audit_event and count:
        audit.record(session, target.name, "bulk_insert", study_id=study_id, rows=count, **detail)
    return count


@dataclass(frozen=True)
class Staged:
    """Rows waiting in a temporary table of one connection for :func:`insert_staged`."""

    target: Table
    stage: Table
    columns: tuple[str, ...]
    rows: int


def stage_rows(session: Session, table: Any, rows: Iterable[Mapping[str, Any]]) -> Staged:
    """Copy ``rows`` (completed with ``table``'s Python defaults) into a new temporary table.

    Holds no lock on the shared database: call it in the read phase of ``Store.staged_write``.
    The temporary table has the target's columns but none of its constraints; they are checked
    when :func:`insert_staged` moves the rows.
    """
    target = table_of(table)
    stage = Table(f"stage_{target.name}_{uuid.uuid4().hex[:12]}", MetaData(),
                  *(Column(c.name, c.type) for c in target.columns), prefixes=["TEMPORARY"])
    connection = session.connection()
    stage.create(connection)
    columns, count = _write_rows(connection, stage, target, rows)
    return Staged(target, stage, tuple(columns), count)


def insert_staged(session: Session, staged: Staged, *, mapped: Mapping[str, Mapping[Any, Any]] | None = None,
                  study_id: int | None = None, audit_event: bool = True, **detail: Any) -> int:
    """Move staged rows into their table in the caller's (writing) transaction; drops the stage.

    ``mapped`` names columns whose staged values are placeholders for what is known only in the
    writing transaction (the ids of rows it has just created), each with its map placeholder ->
    value; every staged placeholder must be in its map. The maps go into temporary tables too,
    so the move stays one statement however many rows and placeholders there are.

    Returns the number of rows inserted. A clash with a constraint (a row stored meanwhile by
    someone else, a code deleted meanwhile) is a UserError and nothing is inserted.
    """
    connection = session.connection()
    maps: list[Table] = []
    try:
        if staged.rows:
            names = list(staged.columns)
            values = {name: staged.stage.c[name] for name in names}
            for name, mapping in (mapped or {}).items():
                values[name], table = _mapped_value(connection, staged, name, mapping)
                maps.append(table)
            statement = insert(staged.target).from_select(names, select(*(values[name] for name in names)))
            try:
                connection.execute(statement)
            except Exception as exc:
                if not _is_integrity_error(exc):
                    raise
                raise UserError(f"the rows for {staged.target.name} clash with data saved meanwhile ({_first_line(exc)}); "
                                "nothing was saved; try again")
    finally:
        for table in maps:
            _drop(connection, table)
        drop_stage(session, staged)
    if audit_event and staged.rows:
        audit.record(session, staged.target.name, "bulk_insert", study_id=study_id, rows=staged.rows, **detail)
    return staged.rows


def _mapped_value(connection, staged: Staged, name: str, mapping: Mapping[Any, Any]):
    """(the mapped value of column ``name`` for each staged row, the temporary table of the map)."""
    if name not in staged.columns:
        raise ValueError(f"{name} is not a staged column of {staged.target.name}")
    column = staged.stage.c[name]
    table = Table(f"{staged.stage.name}_{name}", MetaData(), Column("key", column.type, primary_key=True),
                  Column("value", staged.target.c[name].type), prefixes=["TEMPORARY"])
    table.create(connection)
    if mapping:
        connection.execute(insert(table), [{"key": key, "value": value} for key, value in mapping.items()])
    unmapped = connection.scalar(select(func.count()).select_from(staged.stage)
                                 .where(~select(table.c.key).where(table.c.key == column).exists()))
    if unmapped:
        raise ValueError(f"{unmapped} staged row(s) of {staged.target.name} have a {name} placeholder missing from its map")
    return select(table.c.value).where(table.c.key == column).scalar_subquery(), table


def _drop(connection, table: Table) -> None:
    try:
        table.drop(connection, checkfirst=True)
    except Exception:  # noqa: BLE001 - the transaction failed; the temporary table goes with the connection
        pass


def drop_stage(session: Session, staged: Staged) -> None:
    """Drop the temporary table (it would otherwise live as long as the pooled connection)."""
    _drop(session.connection(), staged.stage)


def _first_line(exc: Exception) -> str:
    """The database's own first line of an error (the constraint), without SQL or parameters."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


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


__all__ = ["Staged", "bulk_insert", "drop_stage", "insert_staged", "stage_rows", "table_of"]
