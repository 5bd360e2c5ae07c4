"""A database at the last released revision upgrades to every head keeping every row.

The demo database is taken down to the released revision and up again, on both backends. On
SQLite this is the guard against table rebuilds under foreign-key enforcement: revision 0012
rebuilds ``study``, which with enforcement on emptied every table through ``ON DELETE CASCADE``
(``migrate.migration_connection`` turns it off for the migration and checks afterwards).
"""

from __future__ import annotations

import sqlite3

import pytest
from alembic import command
from sqlalchemy import inspect, text

from casestudy import backup as backups
from casestudy import db as dbmod
from casestudy import migrate
from casestudy.errors import UserError

#: The newest revision on a released main: what existing databases are at.
LAST_RELEASED = "0009_join_stages"


def run(store, action, target: str) -> None:
    cfg = migrate.alembic_config(store)
    with migrate.migration_connection(store) as connection:
        cfg.attributes["connection"] = connection
        action(cfg, target)


def row_counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def test_released_database_upgrades_keeping_every_row(demo_store):
    at_head = row_counts(demo_store)
    run(demo_store, command.downgrade, LAST_RELEASED)
    released = row_counts(demo_store)
    assert released["coding"] > 600 and released["sentence"] > 2000 and released["panel_answer"] > 300
    for table in ("study", "case", "interview", "speaker_turn", "sentence", "code", "coding", "panel_answer", "consent_record"):
        assert released[table] == at_head[table], table  # the way down keeps the old tables' rows too

    assert migrate.upgrade(demo_store) is not None or demo_store.url.startswith("postgresql")
    upgraded = row_counts(demo_store)
    assert {t: upgraded[t] for t in released} == released
    assert migrate.current_revisions(demo_store) and not migrate.pending_revisions(demo_store)
    with demo_store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforcement is back on


def released_with_a_dangling_reference(store) -> None:
    """Take ``store`` (SQLite) down to the released revision and point one coding at no code."""
    if not store.url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL never lets a dangling reference in")
    run(store, command.downgrade, LAST_RELEASED)
    path = store.url.removeprefix("sqlite:///")
    store.dispose()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("UPDATE coding SET code_id = 999999 WHERE id = (SELECT min(id) FROM coding)")
    raw.commit()
    raw.close()


def test_dangling_reference_rolls_the_whole_upgrade_back(demo_store):
    released_with_a_dangling_reference(demo_store)
    before = row_counts(demo_store)

    with pytest.raises(UserError, match=r"rolled back and nothing was changed: 1 row\(s\) .* table coding"):
        migrate.upgrade(demo_store)
    assert migrate.current_revisions(demo_store) == [LAST_RELEASED]
    assert row_counts(demo_store) == before



def test_the_app_shows_a_rolled_back_upgrade_as_one_message(demo_store, app_env):
    released_with_a_dangling_reference(demo_store)
    migrate._stores.pop(demo_store.url, None)
    at = app_env(demo_store)()
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "the upgrade was rolled back and nothing was changed" in at.error[0].value
    assert migrate.current_revisions(demo_store) == [LAST_RELEASED]

def test_backup_from_the_released_revision_restores_keeping_every_row(demo_store, tmp_path, monkeypatch):
    """A backup written by the released version (at its revision) restores into a new SQLite
    file, which then upgrades in the same transaction (its tables rebuilt without cascading)."""
    run(demo_store, command.downgrade, LAST_RELEASED)
    released = row_counts(demo_store)
    with monkeypatch.context() as patch:  # the released version wrote backups at its own head
        patch.setattr(migrate, "pending_revisions", lambda store: set())
        archive = backups.backup(demo_store, tmp_path / "released.zip")
    assert archive["alembic_revisions"] == [LAST_RELEASED]
    target = dbmod.Store(f"sqlite:///{tmp_path / 'restored.sqlite'}")
    backups.restore(target, tmp_path / "released.zip")
    restored = row_counts(target)
    assert {t: restored[t] for t in released if t != "audit_event"} == {t: n for t, n in released.items() if t != "audit_event"}
    assert restored["audit_event"] == released["audit_event"] + 1  # the restore itself
    assert not migrate.pending_revisions(target)
    target.dispose()
