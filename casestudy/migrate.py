"""Alembic migrations applied from code: the app and the CLI upgrade automatically.

Each stage of the chain adds its own named revision under ``migrations/versions`` (released
revisions are never edited). :func:`get_store` is how the app and the CLI open a database:
the process-wide :class:`~casestudy.db.Store` for a URL, upgraded once. This module builds on
:mod:`casestudy.db`, never the other way round.
"""

from __future__ import annotations

import ast
import contextlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casestudy import config
from casestudy.db import Store, sqlite_backup, translate_db_errors
from casestudy.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that need it: opening a database that is already at
# every head (the common case) never loads it (see schema_is_current).


def alembic_config(store: Store) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def pending_revisions(store: Store) -> set[str]:
    """Heads of the migration scripts not yet applied to the database."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(store))
    with store.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(script.get_heads())
    if heads <= current:
        return set()
    applied = set()
    for rev in current:
        applied |= {r.revision for r in script.iterate_revisions(rev, "base")}
    return heads - applied


def upgrade(store: Store):
    """Back up a SQLite file, then upgrade to every head. Returns the backup path, if any.

    A database already at every head returns ``None`` without loading Alembic.
    """
    if schema_is_current(store):
        return None
    from alembic import command

    with translate_db_errors(store.url):
        if not pending_revisions(store):
            return None
        # An empty database has nothing to lose; anything else is copied before it changes.
        backup = sqlite_backup(store) if current_revisions(store) else None
        cfg = alembic_config(store)
        # A writer transaction: several app processes starting at once upgrade one after another.
        with migration_connection(store) as connection:
            if not pending_revisions(store):  # another process may have upgraded meanwhile
                return None
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")
        return backup


@contextlib.contextmanager
def migration_connection(store: Store) -> Iterator:
    """A writer transaction for Alembic to migrate in; on SQLite without foreign-key enforcement.

    SQLite changes most of a table's definition by rebuilding it (Alembic's batch mode: copy,
    ``DROP``, rename), and with foreign keys on, that ``DROP`` deletes every row of every child
    table through ``ON DELETE CASCADE``: rebuilding ``study`` emptied the whole database. SQLite's
    documented procedure (https://sqlite.org/lang_altertable.html, "making other kinds of table
    schema changes") turns enforcement off outside the transaction and runs ``PRAGMA
    foreign_key_check`` before the commit; any dangling reference rolls the whole upgrade back.
    PostgreSQL alters tables in place and needs none of it.
    """
    with store.writer_engine().connect() as connection:
        driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
        if driver:
            driver.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction, so before BEGIN
        try:
            with connection.begin():
                yield connection
                if driver:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        table, rowid, parent, _ = dangling[0]
                        raise UserError(f"the upgrade was rolled back and nothing was changed: {len(dangling)} row(s) point at "
                                        f"rows that do not exist (first: table {table}, row {rowid}, missing in {parent}); "
                                        "repair them or restore a backup, then upgrade again")
        finally:
            if driver:
                driver.execute("PRAGMA foreign_keys=ON")


def delete_cascading(connection, table: str, where: str, _depth: int = 0) -> None:
    """For migrations: delete the rows of ``table`` that match the SQL condition ``where`` and do
    what their foreign keys' ``ON DELETE CASCADE`` and ``SET NULL`` would have done.

    Under :func:`migration_connection` SQLite enforces no foreign keys, so a plain ``DELETE`` would
    leave the children behind (and the final ``foreign_key_check`` would roll the upgrade back);
    this walks SQLite's own foreign-key list, grandchildren first. PostgreSQL cascades itself.
    ``table`` and ``where`` are the migration's own SQL, never user input.
    """
    if connection.dialect.name == "sqlite":
        if _depth > 8:
            raise RuntimeError(f"foreign keys nest too deep below {table}")
        tables = [name for (name,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for child in tables:
            for fk in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{child}")').mappings().all():
                if fk["table"] != table:
                    continue
                matches = f'"{fk["from"]}" IN (SELECT "{fk["to"] or "id"}" FROM "{table}" WHERE {where})'
                if not connection.exec_driver_sql(f'SELECT EXISTS (SELECT 1 FROM "{child}" WHERE {matches})').scalar():
                    continue  # nothing below: also ends the walk down a table that refers to itself
                if fk["on_delete"] == "CASCADE":
                    delete_cascading(connection, child, matches, _depth + 1)
                elif fk["on_delete"] == "SET NULL":
                    connection.exec_driver_sql(f'UPDATE "{child}" SET "{fk["from"]}" = NULL WHERE {matches}')
    connection.exec_driver_sql(f'DELETE FROM "{table}" WHERE {where}')


def current_revisions(store: Store) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


_REVISION_LINE = re.compile(r"^(revision|down_revision|depends_on)\s*=\s*(.+?)\s*$", re.M)


def script_heads() -> set[str] | None:
    """The heads of the migration scripts, read from their plain ``revision = ...`` lines.

    Cheap (no Alembic import). ``None`` when a script does not have the plain literal form or
    uses ``depends_on``; then only Alembic can tell.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {name: value for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8"))}
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
            depends = ast.literal_eval(found.get("depends_on", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or depends is not None:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, (tuple, list)) and all(isinstance(d, str) for d in down):
            parents.update(down)
        elif down is not None:
            return None
    return (revisions - parents) or None


def schema_is_current(store: Store) -> bool:
    """True when the database records exactly the heads of the migration scripts (no Alembic).

    False whenever this cannot be read cheaply (no version table yet, unusual scripts); the
    caller then asks Alembic, which decides and upgrades.
    """
    heads = script_heads()
    if heads is None:
        return False
    try:
        with store.engine.connect() as connection:
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        return False
    return current == heads


# --- the process-wide stores ------------------------------------------------------------
_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(url: str | None = None, upgraded: bool = True) -> Store:
    """The process-wide store for ``url`` (default from the environment), upgraded once."""
    resolved = config.database_url(url)
    with _stores_lock:
        store = _stores.get(resolved)
        if store is None:
            store = Store(resolved)
            if upgraded:
                upgrade(store)
            _stores[resolved] = store
        return store


def close_stores() -> None:
    """Close the connections of every store :func:`get_store` handed out (they stay usable)."""
    with _stores_lock:
        for store in _stores.values():
            store.dispose()
