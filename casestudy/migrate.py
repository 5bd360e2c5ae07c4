"""Alembic migrations applied from code: the app and the CLI upgrade automatically.

Each stage of the chain adds its own named revision under ``migrations/versions``. Stages that
grow side by side may form separate branches; ``upgrade`` applies all heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory  # noqa: F401  (used by scripts and tests)

if TYPE_CHECKING:
    from casestudy.db import Store

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
    from casestudy.db import _translate_db_errors, sqlite_backup

    with _translate_db_errors(store.url):
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
