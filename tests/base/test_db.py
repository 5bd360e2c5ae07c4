"""The store: pragmas, transactions, migrations, backups, bad URLs, killed writers."""

from __future__ import annotations


import alembic.command
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from casestudy import db as dbmod
from casestudy import migrate
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Base, Case, Study

from tests.conftest import POSTGRES_URL

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite-specific behaviour")


@sqlite_only
def test_sqlite_pragmas(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == dbmod.SQLITE_BUSY_TIMEOUT_MS


def test_migrations_match_models(store):
    """Every table and column in the models exists in the migrations and vice versa."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert without_unnamed_sqlite_fks(diff, store) == []


def without_unnamed_sqlite_fks(diff: list, store) -> list:
    """``diff`` less the pairs "remove unnamed FK / add the same FK named" on SQLite.

    A column added to a large table with ALTER TABLE (revision 0018: a rebuild would cascade-
    delete the rows that hang on it) can only carry an inline reference, whose name SQLAlchemy's
    SQLite reflection does not read; the constraint itself is the same (columns, table, action).
    """
    if store.engine.dialect.name != "sqlite":
        return diff

    def signature(fk):
        return fk.table.name, tuple(c.name for c in fk.columns), fk.referred_table.name if fk.referred_table is not None else fk.elements[0].target_fullname.split(".")[0]

    removed = {signature(d[1]) for d in diff if d[0] == "remove_fk" and d[1].name is None}
    added = {signature(d[1]) for d in diff if d[0] == "add_fk"}
    paired = removed & added
    return [d for d in diff if not (d[0] in ("remove_fk", "add_fk") and signature(d[1]) in paired)]


def test_upgrade_is_idempotent_and_reports_heads(store):
    assert migrate.pending_revisions(store) == set()
    assert migrate.upgrade(store) is None
    assert migrate.current_revisions(store)


@sqlite_only
def test_upgrade_backs_up_sqlite_file_first(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    store = dbmod.Store(f"sqlite:///{path}")
    assert migrate.upgrade(store) is None  # a new, empty database needs no backup
    with store.write() as session:
        studies.create_study(session, "Old study")
    # Pretend a newer revision is pending; the backup must be taken before alembic runs.
    calls = []
    monkeypatch.setattr(migrate, "schema_is_current", lambda s: False)  # the quick check, too, sees it
    monkeypatch.setattr(migrate, "pending_revisions", lambda s: {"9999_future"})
    monkeypatch.setattr(alembic.command, "upgrade", lambda cfg, target: calls.append((target, sorted(tmp_path.glob("*.bak")))))
    backup = migrate.upgrade(store)
    assert backup is not None and backup.exists()
    assert calls == [("heads", [backup])]
    import sqlite3

    copy = sqlite3.connect(backup)
    assert copy.execute("select title from study").fetchone() == ("Old study",)
    copy.close()


def test_write_transaction_is_all_or_nothing(store):
    with pytest.raises(UserError):
        with store.write() as session:
            study = studies.create_study(session, "S")
            studies.add_case(session, study, "Unit 1", "Case A")
            studies.add_case(session, study, "Unit 1", "Case B")  # duplicate internal label
    with store.read() as session:
        assert session.scalar(select(func.count(Study.id))) == 0
        assert session.scalar(select(func.count(Case.id))) == 0
        assert session.scalar(select(func.count(AuditEvent.id))) == 0


def test_every_change_is_audited(store):
    with store.write("alice") as session:
        study = studies.create_study(session, "S")
        case = studies.add_case(session, study, "Unit 1", "Case A", outcome_class="mixed")
    with store.write("bob") as session:
        session.get(Case, case.id).outcome_class = "positive"
    with store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "case").order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action) for e in events] == [("alice", "create"), ("bob", "update")]
    assert events[0].entity_id == case.id
    assert events[1].detail["outcome_class"] == ["mixed", "positive"]


def test_concurrent_edit_is_rejected_not_overwritten(store):
    with store.write() as session:
        study = studies.create_study(session, "S")
        case_id = studies.add_case(session, study, "Unit 1", "Case A").id
    # Two researchers open the same case (version 1) and both save.
    with store.read() as session:
        seen_by_first = seen_by_second = session.get(Case, case_id).version
    with store.write("first") as session:
        dbmod.apply_edit(session, Case, case_id, seen_by_first, outcome_description="first")
    with pytest.raises(UserError, match="someone else saved.*first"):
        with store.write("second") as session:
            dbmod.apply_edit(session, Case, case_id, seen_by_second, outcome_description="second")
    with store.read() as session:
        case = session.get(Case, case_id)
        assert (case.outcome_description, case.version) == ("first", 2)


def test_stale_orm_update_becomes_user_error(store):
    with store.write() as session:
        case_id = studies.add_case(session, studies.create_study(session, "S"), "Unit 1", "Case A").id
    with pytest.raises(UserError, match="someone else saved"):
        with store.write() as session:
            case = session.get(Case, case_id)
            session.execute(text("UPDATE \"case\" SET version = version + 1 WHERE id = :id"), {"id": case_id})
            case.outcome_description = "lost?"
            session.flush()


@pytest.mark.parametrize("url", ["not a url", "foo://x/y", "postgresql+nosuchdriver://u@h/db"])
def test_bad_database_url_is_one_line_user_error(url):
    with pytest.raises(UserError) as info:
        dbmod.Store(url)
    assert "\n" not in info.value.message and "cannot use database URL" in info.value.message


@sqlite_only
def test_unopenable_sqlite_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot"):
        migrate.get_store(f"sqlite:///{blocker}/sub/db.sqlite")


# Killed writers (big transaction, bulk import, burst of saves) on both backends: tests/test_concurrency.py


def test_writers_of_one_process_take_turns_in_arrival_order_and_time_out_cleanly():
    import threading
    import time

    from casestudy.db import BUSY_MESSAGE, WriterQueue

    queue, order, started = WriterQueue(), [], []
    holder_in, holder_go = threading.Event(), threading.Event()

    def holder():
        with queue.turn(5):
            holder_in.set()
            holder_go.wait(5)
            with queue.turn(5):  # re-entrant for the thread that holds it
                order.append("holder")

    def writer(name):
        started.append(name)
        with queue.turn(5):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    holder_in.wait(5)
    waiting = []
    for name in ("a", "b", "c"):
        waiting.append(threading.Thread(target=writer, args=(name,)))
        waiting[-1].start()
        while name not in started:
            time.sleep(0.001)
        time.sleep(0.02)  # queued before the next arrives
    with pytest.raises(UserError) as refused:
        with queue.turn(0.05):
            pass
    assert refused.value.message == BUSY_MESSAGE
    holder_go.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert order == ["holder", "a", "b", "c"]
    with queue.turn(0.05):  # free again
        pass
