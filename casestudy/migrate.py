"""Alembic migrations applied from code: the app and the CLI upgrade automatically.

Each stage of the chain adds its own named revision under ``migrations/versions`` (released
revisions are never edited). :func:`get_store` is how the app and the CLI open a database:
the process-wide :class:`~casestudy.db.Store` for a URL, upgraded once. This module builds on
:mod:`casestudy.db`, never the other way round.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory  # noqa: F401  (used by scripts and tests)

from casestudy import config
from casestudy.db import Store, sqlite_backup, translate_db_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(store: Store) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def pending_revisions(store: Store) -> set[str]:
    """Heads of the migration scripts not yet applied to the database."""
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
    """Back up a SQLite file, then upgrade to every head. Returns the backup path, if any."""

    with translate_db_errors(store.url):
        if not pending_revisions(store):
            return None
        # An empty database has nothing to lose; anything else is copied before it changes.
        backup = sqlite_backup(store) if current_revisions(store) else None
        cfg = alembic_config(store)
        # A writer transaction: several app processes starting at once upgrade one after another.
        with store.writer_engine().begin() as connection:
            if not pending_revisions(store):  # another process may have upgraded meanwhile
                return None
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")
        return backup


def current_revisions(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


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
