"""Backups that do not depend on the backend: one zip archive with every table as JSON lines.

Archive layout::

    manifest.json          format, format_version, app_version, created_at, source_backend,
                           alembic_revisions, and per table (dependency order): name, file,
                           columns, rows, sha256
    tables/<table>.jsonl   one JSON object per row (column -> value), ordered by primary key

Values are JSON: text, numbers, booleans and JSON columns as they are; dates, times and
timestamps as ISO 8601 strings (naive UTC, as stored); decimals as strings; binary as base64.
On restore each value is decoded by the type of its target column, so a study moves between
SQLite and PostgreSQL in both directions.

Restoring builds the schema at the archive's own migration revisions, loads the rows (COPY on
PostgreSQL), resets PostgreSQL sequences, then upgrades to the current revisions, so an archive
from an older version comes back through the regular migrations. It runs in ONE writing
transaction: all of it or nothing. It refuses a database that holds any rows unless ``force``.
Tables are discovered from the database itself, so tables added by later stages are covered
without changes here.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import errno
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Time,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from casestudy import __version__, audit, migrate
from casestudy.bulk import bulk_insert
from casestudy.db import Store, translate_db_errors
from casestudy.errors import UserError

FORMAT = "casestudy-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SKIP_TABLES = {"alembic_version"}
FETCH_ROWS = 2_000


# --- values -------------------------------------------------------------------------------
def encode(value: Any) -> Any:
    """A JSON-ready form of a database value."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decode(column_type: Any, value: Any) -> Any:
    """The Python value for a column of ``column_type`` from its archived JSON form."""
    if value is None or isinstance(column_type, JSON):
        return value
    if isinstance(column_type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, Time):
        return dt.time.fromisoformat(value)
    if isinstance(column_type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column_type, Float):
        return float(value)
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return decimal.Decimal(value)
    return value


# --- helpers ------------------------------------------------------------------------------
def _reflect(connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return metadata


def _data_tables(metadata: MetaData) -> list[Table]:
    return [t for t in metadata.sorted_tables if t.name not in SKIP_TABLES]


def _ordered(table: Table):
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _row_count(connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


# --- backup -------------------------------------------------------------------------------
def backup(store: Store, path: str | Path) -> dict:
    """Write the whole database to ``path`` (a zip archive); returns the manifest.

    The tables are read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on
    SQLite), so a backup taken while people work is consistent.
    """
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{target} is a folder; give a file name for the backup, e.g. study.casestudy.zip")
    if migrate.pending_revisions(store):
        raise UserError("the database is not at the current version; run 'python -m casestudy db upgrade' first")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".backup-", suffix=".zip", dir=target.parent)
    except OSError as exc:
        raise UserError(f"cannot write the backup to {target}: {exc.strerror}")
    os.close(handle)
    engine = store.engine.execution_options(isolation_level="REPEATABLE READ") if store.is_postgres else store.engine
    try:
        with translate_db_errors(store.url), engine.connect() as connection, connection.begin():
            revisions = sorted(MigrationContext.configure(connection).get_current_heads())
            tables = []
            with zipfile.ZipFile(temp_name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for table in _data_tables(_reflect(connection)):
                    tables.append(_write_table(connection, archive, table))
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "app_version": __version__,
                    "created_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(),
                    "source_backend": store.engine.dialect.name,
                    "alembic_revisions": revisions,
                    "tables": tables,
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        os.replace(temp_name, target)
    except BaseException as exc:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise UserError("the disk is full: the backup was not written; free some space and try again") from None
        raise
    return manifest


def _write_table(connection, archive: zipfile.ZipFile, table: Table) -> dict:
    name = f"tables/{table.name}.jsonl"
    # Columns by name: databases upgraded along different migration paths order a table's
    # columns differently, and the archive must not depend on that.
    order = [c.name for c in table.columns]
    columns = sorted(order)
    digest = hashlib.sha256()
    count = 0
    result = connection.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(_ordered(table))
    with archive.open(name, "w") as raw:
        for row in result:
            values = dict(zip(order, row))
            line = (json.dumps({c: encode(values[c]) for c in columns}, ensure_ascii=False) + "\n").encode("utf-8")
            digest.update(line)
            raw.write(line)
            count += 1
    return {"name": table.name, "file": name, "columns": columns, "rows": count, "sha256": digest.hexdigest()}


# --- reading archives ---------------------------------------------------------------------
def read_manifest(path: str | Path) -> dict:
    """The manifest of an archive; anything that is not a Casestudy backup is a UserError."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except FileNotFoundError:
        raise UserError(f"no backup file at {path}")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError, IsADirectoryError):
        raise UserError(f"{path} is not a Casestudy backup (no readable {MANIFEST} in a zip archive)")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"{path} is not a Casestudy backup")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise UserError(f"{path} was written by a newer Casestudy (backup format {manifest['format_version']}); upgrade first")
    return manifest


def _rows(archive: zipfile.ZipFile, entry: dict, table: Table) -> Iterator[dict]:
    """Decoded rows of one archived table; checks the checksum and row count at the end."""
    types = {c.name: c.type for c in table.columns}
    unknown = [c for c in entry["columns"] if c not in types]
    if unknown:
        raise UserError(
            f"the backup has column(s) {', '.join(unknown)} in {table.name} that this version does not know at "
            "the backup's revision; the archive does not match its manifest"
        )
    digest = hashlib.sha256()
    count = 0
    try:
        raw = archive.open(entry["file"])
    except KeyError:
        raise UserError(f"the backup lacks {entry['file']}; it is incomplete")
    with raw, io.BufferedReader(raw) as lines:
        for line in lines:
            digest.update(line)
            count += 1
            try:
                record = json.loads(line)
                yield {key: decode(types[key], value) for key, value in record.items()}
            except (ValueError, TypeError, KeyError) as exc:
                raise UserError(f"the backup is damaged: {entry['file']} line {count}: {exc}")
    if count != entry["rows"] or digest.hexdigest() != entry["sha256"]:
        raise UserError(f"the backup is damaged: {entry['file']} does not match its manifest (rows or checksum)")


# --- restore ------------------------------------------------------------------------------
def database_rows(store: Store) -> dict[str, int]:
    """Row counts of the non-empty data tables (an empty or brand-new database gives {})."""
    with translate_db_errors(store.url), store.engine.connect() as connection:
        return {t.name: n for t in _data_tables(_reflect(connection)) if (n := _row_count(connection, t))}


def restore(store: Store, path: str | Path, *, force: bool = False, actor: str = "restore") -> dict:
    """Replace the (empty) database behind ``store`` with the archive's content; returns a summary.

    All-or-nothing: on any problem the database is left exactly as it was.
    """
    manifest = read_manifest(path)
    revisions = list(manifest.get("alembic_revisions") or [])
    script = ScriptDirectory.from_config(migrate.alembic_config(store))
    for revision in revisions:
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise UserError(
                f"the backup is at migration revision {revision!r}, which this version of Casestudy does not know; "
                "restore it with the version that wrote it (or a newer one)"
            )
    total = 0
    with translate_db_errors(store.url), zipfile.ZipFile(path) as archive:
        # The backup's own revision first, then every later one: a rebuilt table must not cascade.
        with migrate.migration_connection(store) as connection:
            existing = _reflect(connection)
            filled = {t.name: n for t in _data_tables(existing) if (n := _row_count(connection, t))}
            if filled and not force:
                summary = ", ".join(f"{n} in {name}" for name, n in list(filled.items())[:5])
                raise UserError(
                    f"the database is not empty ({summary}); restore only into an empty database, "
                    "or pass --force to replace its content"
                )
            existing.drop_all(connection)
            cfg = migrate.alembic_config(store)
            cfg.attributes["connection"] = connection
            for revision in revisions:
                command.upgrade(cfg, revision)
            schema = _reflect(connection)
            session = Session(bind=connection)
            session.info["actor"] = actor
            entries = {entry["name"]: entry for entry in manifest["tables"]}
            missing = sorted(set(entries) - set(schema.tables))
            if missing:
                raise UserError(f"the backup has table(s) {', '.join(missing)} that its own revision does not define")
            for table in _data_tables(schema):
                if table.name in entries:
                    total += bulk_insert(session, table, _rows(archive, entries[table.name], table), audit_event=False)
            if store.is_postgres:
                _reset_sequences(connection, schema)
            command.upgrade(cfg, "heads")
            audit.record(
                session, "database", "restore", file=Path(path).name, rows=total,
                source_backend=manifest.get("source_backend"), app_version=manifest.get("app_version"),
                revisions=", ".join(revisions), replaced_rows=sum(filled.values()),
            )
            session.close()
    return {
        "file": str(path),
        "tables": len(manifest["tables"]),
        "rows": total,
        "source_backend": manifest.get("source_backend"),
        "archive_revisions": revisions,
        "database_revisions": migrate.current_revisions(store),
        "replaced_rows": sum(filled.values()),
    }


def _reset_sequences(connection, metadata: MetaData) -> None:
    """Point every serial/identity sequence past the restored ids (PostgreSQL)."""
    preparer = connection.dialect.identifier_preparer
    for table in _data_tables(metadata):
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = preparer.quote(keys[0].name)
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({column}), 0) + 1, false) "
                f"FROM {preparer.format_table(table)}"
            ),
            {"table": preparer.format_table(table), "column": keys[0].name},
        )


__all__ = ["backup", "restore", "read_manifest", "database_rows", "encode", "decode"]
