"""Concurrency and faults on both backends: simultaneous saves, no lost updates, killed writers.

Run against PostgreSQL with CASESTUDY_TEST_DATABASE_URL (make test-postgres); every test here
works on both backends.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import func, select

from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Case, ConsentRecord, Respondent

from tests.conftest import ROOT
from casestudy import migrate


def _case(store) -> int:
    with store.write() as session:
        return studies.add_case(session, studies.create_study(session, "S"), "Unit 1", "Case A").id


def test_two_simultaneous_saves_second_rejected_with_newer_version(store):
    case_id = _case(store)
    first_inside, release_first = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        with store.write("first") as session:
            dbmod.apply_edit(session, Case, case_id, 1, outcome_description="first text")
            session.flush()
            first_inside.set()
            release_first.wait(10)

    def second():
        try:
            with store.write("second") as session:
                dbmod.apply_edit(session, Case, case_id, 1, outcome_description="second text")
            outcome["second"] = "saved"
        except UserError as exc:
            outcome["second"] = exc

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_inside.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()  # waits for the first writer (SQLite BEGIN IMMEDIATE / PostgreSQL advisory lock)
    time.sleep(0.3)
    release_first.set()
    t1.join(10)
    t2.join(20)
    error = outcome["second"]
    assert isinstance(error, dbmod.EditConflict)
    assert error.version == 2 and error.current == {"outcome_description": "first text"}
    assert "version 2" in error.message and "first text" in error.message
    with store.read() as session:
        case = session.get(Case, case_id)
        assert (case.outcome_description, case.version) == ("first text", 2)
        updates = session.scalars(select(AuditEvent).where(AuditEvent.entity == "case", AuditEvent.action == "update")).all()
    assert [e.actor for e in updates] == ["first"]


def test_read_modify_write_of_unversioned_row_loses_no_update(store):
    """Without row versions, serialised writers still make counter-style updates exact."""
    case_id = _case(store)
    with store.write() as session:
        respondent = studies.add_respondent(session, session.get(Case, case_id), "R", "manager")
        record = ConsentRecord(respondent_id=respondent.id, scope="interview", given_on=dt.date(2024, 1, 1), note="0")
        session.add(record)
        session.flush()
        record_id = record.id
    threads, per_thread, errors = 4, 15, []

    def bump():
        try:
            for _ in range(per_thread):
                with store.write("bump") as session:
                    row = session.get(ConsentRecord, record_id)
                    value = int(row.note)
                    time.sleep(0.001)  # widen the race window
                    row.note = str(value + 1)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=bump) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    with store.read() as session:
        assert session.get(ConsentRecord, record_id).note == str(threads * per_thread)


def test_writer_waiting_too_long_gets_busy_message(db_url, monkeypatch):
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(dbmod, "POSTGRES_LOCK_TIMEOUT_MS", 300)
    store = dbmod.Store(db_url)
    migrate.upgrade(store)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with store.write() as session:
            studies.create_study(session, "holder")
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(UserError, match="busy"):
            with store.write() as session:
                studies.create_study(session, "waiter")
    finally:
        release.set()
        holder.join(10)
    with store.read() as session:
        assert [s.title for s in studies.list_studies(session)] == ["holder"]
    store.dispose()


# --- killed processes -------------------------------------------------------------------
def _run_and_kill(body: str, url: str, wait_for: str, lines: int = 1) -> list[str]:
    script = f"import sys, datetime as dt\nsys.path.insert(0, {str(ROOT)!r})\nURL = {url!r}\n" + textwrap.dedent(body)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    seen = []
    try:
        while len([s for s in seen if s.startswith(wait_for)]) < lines:
            line = process.stdout.readline()
            assert line, "the writer ended before it was killed"
            seen.append(line.strip())
        time.sleep(0.2)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    return seen


def _reopen_and_check(url: str) -> dbmod.Store:
    store = dbmod.Store(url)
    if store.is_sqlite:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert migrate.upgrade(store) is None  # still at the heads, nothing pending
    with store.write() as session:  # the write lock was released by the dead writer
        studies.add_case(session, studies.get_study(session), "Unit after", "Case after")
    return store


def test_killed_during_big_transaction_leaves_nothing_half_written(store):
    with store.write() as session:
        studies.create_study(session, "S")
    _run_and_kill(
        """
        from casestudy import db, study as studies
        store = db.Store(URL)
        with store.write() as session:
            study = studies.get_study(session)
            for i in range(100000):
                studies.add_case(session, study, f"Unit {i}", f"Case {i}")
                if i == 200:
                    print("writing", flush=True)
        """,
        store.url, "writing",
    )
    store.dispose()
    reopened = _reopen_and_check(store.url)
    with reopened.read() as session:
        assert session.scalar(select(func.count(Case.id))) == 1  # only the check's own case
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity == "case")) == 1
    reopened.dispose()


def test_killed_during_bulk_import_leaves_nothing(store):
    with store.write() as session:
        case = studies.add_case(session, studies.create_study(session, "S"), "Unit 1", "Case A")
        respondent_id = studies.add_respondent(session, case, "R", "manager").id
    _run_and_kill(
        f"""
        from casestudy import bulk, db
        from casestudy.models import ConsentRecord
        store = db.Store(URL)
        def rows():
            for i in range(5_000_000):
                if i == 20_000:
                    print("importing", flush=True)
                yield {{"respondent_id": {respondent_id}, "scope": "interview", "given_on": dt.date(2024, 1, 1), "note": f"row {{i}}"}}
        with store.write("importer") as session:
            bulk.bulk_insert(session, ConsentRecord, rows())
        """,
        store.url, "importing",
    )
    store.dispose()
    reopened = _reopen_and_check(store.url)
    with reopened.read() as session:
        assert session.scalar(select(func.count(ConsentRecord.id))) == 0
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "bulk_insert")) == 0
    reopened.dispose()


def test_killed_during_burst_of_small_saves_keeps_every_committed_save_whole(store):
    """A coding burst / questionnaire saves: each save is whole or absent, never half there."""
    with store.write() as session:
        studies.create_study(session, "S")
    seen = _run_and_kill(
        """
        from casestudy import db, study as studies
        store = db.Store(URL)
        for i in range(100000):
            with store.write("burst") as session:
                case = studies.add_case(session, studies.get_study(session), f"Unit {i}", f"Case {i}")
                respondent = studies.add_respondent(session, case, f"R{i}", "therapist")
                studies.record_consent(session, respondent, "interview", dt.date(2024, 1, 1))
            print(f"committed {i}", flush=True)
        """,
        store.url, "committed", lines=30,
    )
    store.dispose()
    reopened = _reopen_and_check(store.url)
    with reopened.read() as session:
        cases = session.scalars(select(Case).where(Case.public_label != "Case after")).all()
        assert len(cases) >= int(seen[-1].split()[1]) + 1  # every reported commit is there
        for case in cases:
            assert len(case.respondents) == 1 and len(case.respondents[0].consents) == 1
        assert session.scalar(select(func.count(Respondent.id))) == len(cases)
    reopened.dispose()
