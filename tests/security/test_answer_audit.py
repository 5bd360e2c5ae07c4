"""An expert's answer save records the value in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from casestudy.models import AuditEvent
from tests.panel.test_panel import _member, _open, _principal, _save, _study, _view


def test_answer_saves_record_the_value(store):
    study_id = _study(store, n_cases=2)
    _, secret = _member(store, study_id, "Dana Expert")
    principal = _principal(store, secret)
    _open(store, principal)
    case = _view(store, principal).cases[0].label
    _save(store, principal, "team", 4, case)
    _save(store, principal, "team", 2, case)
    _save(store, principal, "recurring", ["leadership", "budget"])
    with store.read() as session:
        saves = session.scalars(select(AuditEvent).where(AuditEvent.entity == "panel_answer", AuditEvent.action == "save")
                                .order_by(AuditEvent.id)).all()
        assert [(e.detail["item"], e.detail["case"], e.detail["value"]) for e in saves] == [
            ("team", case, 4), ("team", case, 2), ("recurring", None, ["leadership", "budget"])]
        assert all(e.actor == principal.actor for e in saves)
