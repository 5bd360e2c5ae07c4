"""Bulk inserts: COPY on PostgreSQL, executemany on SQLite, one audit event, all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casestudy import bulk
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Case, ConsentRecord, Study

from tests.conftest import POSTGRES_URL


def _respondent(store):
    with store.write() as session:
        study = studies.create_study(session, "S")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        respondent = studies.add_respondent(session, case, "R", "manager")
        return study.id, respondent.id


def test_bulk_insert_uses_backend_fast_path_and_one_audit_event(store, monkeypatch):
    study_id, respondent_id = _respondent(store)
    calls = []
    real_copy = bulk._copy
    monkeypatch.setattr(bulk, "_copy", lambda *a: (calls.append(len(a[3])), real_copy(*a)))
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 400)
    rows = (
        {"respondent_id": respondent_id, "scope": "interview", "given_on": dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
         "note": f"=odd\ttext\n{i} ü \\ \"q\""}
        for i in range(1000)
    )
    with store.write("loader") as session:
        before = session.scalar(select(func.count(AuditEvent.id)))
        assert bulk.bulk_insert(session, ConsentRecord, rows, study_id=study_id, source="test") == 1000
    with store.read() as session:
        records = session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert len(records) == 1000
    assert records[7].note == "=odd\ttext\n7 ü \\ \"q\"" and records[7].given_on == dt.date(2024, 1, 8)
    assert all(r.recorded_at is not None and r.withdrawn_on is None for r in records)  # Python defaults filled
    assert [(e.actor, e.entity, e.action, e.detail) for e in events] == [
        ("loader", "consent_record", "bulk_insert", {"rows": 1000, "source": "test"})
    ]
    assert calls == ([400, 400, 200] if POSTGRES_URL else [])  # COPY only on PostgreSQL


def test_bulk_insert_json_defaults_and_table_name(store):
    with store.write() as session:
        bulk.bulk_insert(session, "study", [{"title": "A", "levels": ["x", "y"]}, {"title": "B", "levels": ["z"]}])
    with store.read() as session:
        rows = session.scalars(select(Study).order_by(Study.id)).all()
    assert [(s.title, s.levels, s.version, s.language) for s in rows] == [("A", ["x", "y"], 1, "en"), ("B", ["z"], 1, "en")]


def test_bulk_insert_is_all_or_nothing(store):
    study_id, _ = _respondent(store)
    rows = [{"study_id": study_id, "internal_label": f"Unit {i}", "public_label": f"Case {i}"} for i in range(2, 50)]
    rows.append({"study_id": study_id, "internal_label": "Unit 1", "public_label": "Case dup"})  # duplicate
    with pytest.raises(UserError, match="clash"):
        with store.write() as session:
            bulk.bulk_insert(session, Case, rows)
    with store.read() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "bulk_insert")) == 0


def test_bulk_insert_rejects_unknown_and_uneven_columns(store):
    with pytest.raises(UserError, match="no column"):
        with store.write() as session:
            bulk.bulk_insert(session, Study, [{"title": "A", "colour": "red"}])
    with pytest.raises(UserError, match="same columns"):
        with store.write() as session:
            bulk.bulk_insert(session, Study, [{"title": "A"}, {"title": "B", "id": 99}])
    with store.write() as session:
        assert bulk.bulk_insert(session, Study, []) == 0
