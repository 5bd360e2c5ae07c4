"""The audit log: every change to the store is recorded through one code path.

An ``after_flush`` hook on every ORM session writes one AuditEvent per inserted, updated or
deleted row, with the changed fields, so no feature can forget to log. Actions that change no
row (a login, an export, a refused token) are logged with :func:`record`. Bulk Core inserts log
one summary event through :func:`record` as well.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from casestudy.models import AuditEvent, utcnow

# Never copied into the log: secrets, and bulky texts (their length is logged instead).
SECRET_FIELDS = {"password_hash", "token_hash", "session_hash", "handover_hash"}
MAX_VALUE_CHARS = 200


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"… ({len(value)} characters)"
    return value


def _field_value(key: str, value: Any) -> Any:
    return "<redacted>" if key in SECRET_FIELDS else _plain(value)


def _row_event(obj: Any, action: str, actor: str) -> dict:
    state = inspect(obj)
    mapper = state.mapper
    detail: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if action == "update":
            history = state.attrs[key].history
            if history.has_changes():
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                detail[key] = [_field_value(key, old), _field_value(key, new)]
        elif action == "create":
            value = getattr(obj, key, None)
            if value is not None and key != "id":
                detail[key] = _field_value(key, value)
    if action == "delete":
        detail["label"] = obj.audit_label() if hasattr(obj, "audit_label") else str(obj)
    identity = mapper.primary_key_from_instance(obj)
    return {
        "at": utcnow(),
        "actor": actor,
        "study_id": _study_of(obj),
        "entity": mapper.local_table.name,
        "entity_id": identity[0] if len(identity) == 1 and isinstance(identity[0], int) else None,
        "action": action,
        "detail": detail,
    }


def _study_of(obj: Any) -> int | None:
    if type(obj).__name__ == "Study":
        return obj.id
    study_id = getattr(obj, "study_id", None)
    return study_id if isinstance(study_id, int) else None


@event.listens_for(Session, "after_flush")
def _log_flush(session: Session, _context) -> None:
    actor = session.info.get("actor", "system")
    rows = []
    for obj in session.new:
        if not isinstance(obj, AuditEvent):
            rows.append(_row_event(obj, "create", actor))
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) or not session.is_modified(obj, include_collections=False):
            continue
        event_row = _row_event(obj, "update", actor)
        if event_row["detail"]:
            rows.append(event_row)
    for obj in session.deleted:
        if not isinstance(obj, AuditEvent):
            rows.append(_row_event(obj, "delete", actor))
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def record(
    session: Session,
    entity: str,
    action: str,
    entity_id: int | None = None,
    study_id: int | None = None,
    *,
    at: dt.datetime | None = None,
    **detail: Any,
) -> None:
    """Log an action that is not a plain row change (login, export, refused access...).

    ``at`` (naive UTC, default now) lets a caller with an injected clock (the login throttle)
    keep its events on the same clock as its decisions.
    """
    session.connection().execute(
        insert(AuditEvent.__table__),
        [
            {
                "at": at or utcnow(),
                "actor": session.info.get("actor", "system"),
                "study_id": study_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "detail": {k: _plain(v) for k, v in detail.items()},
            }
        ],
    )


def events(
    session: Session,
    entity: str | None = None,
    entity_id: int | None = None,
    study_id: int | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    """The newest audit events first, optionally for one entity or study."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if study_id is not None:
        query = query.where(AuditEvent.study_id == study_id)
    return list(session.scalars(query))
