"""Codebook tables: codes in a tree per study, and a snapshot of every code change (as-of views)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from casestudy.models.base import Base, Versioned, utcnow

__all__ = ["CODE_ORIGINS", "CODE_POLARITIES", "CODE_STATUSES", "Code", "CodeRevision"]

CODE_ORIGINS = ("a priori", "emergent")
CODE_POLARITIES = ("none", "facilitator", "barrier", "both")
CODE_STATUSES = ("active", "merged", "retired")


class Code(Versioned, Base):
    """One code or category of a study's codebook. Codes are never deleted: they are retired or merged."""

    __tablename__ = "code"
    __table_args__ = (
        Index("ix_code_study_parent", "study_id", "parent_id"),
        Index("ix_code_study_guid", "study_id", "guid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"))
    # Stable identity across exports (REFI-QDA guid), lower-case, without braces.
    guid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    codable: Mapped[bool] = mapped_column(default=True)  # False: a pure category
    level: Mapped[str] = mapped_column(String(60))
    secondary_levels: Mapped[list] = mapped_column(default=list)
    short_definition: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[str] = mapped_column(Text, default="")
    when_to_use: Mapped[str] = mapped_column(Text, default="")
    when_not_to_use: Mapped[str] = mapped_column(Text, default="")
    example: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(20), default="a priori")
    origin_by: Mapped[str] = mapped_column(String(200), default="")
    origin_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    colour: Mapped[str | None] = mapped_column(String(7))  # '#RRGGBB'
    polarity: Mapped[str] = mapped_column(String(20), default="none")
    status: Mapped[str] = mapped_column(String(20), default="active")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("code.id", ondelete="SET NULL"))
    sort_order: Mapped[int] = mapped_column(default=0)
    sources: Mapped[str] = mapped_column(Text, default="")  # where the code comes from (reference note)


class CodeRevision(Base):
    """The full state of a code after each change; the codebook as of a date is rebuilt from these."""

    __tablename__ = "code_revision"
    __table_args__ = (Index("ix_code_revision_study_at", "study_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"), index=True)
    study_id: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    snapshot: Mapped[dict] = mapped_column(default=dict)


def code_snapshot(code: Code) -> dict:
    """Every column of a code as plain JSON values."""
    out = {}
    for attr in inspect(Code).column_attrs:
        value = getattr(code, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


@event.listens_for(Session, "after_flush")
def _snapshot_codes(session: Session, _context) -> None:
    rows = []
    actor = session.info.get("actor", "system")
    now = utcnow()
    for obj, action in [(o, "create") for o in session.new] + [(o, "update") for o in session.dirty]:
        if not isinstance(obj, Code):
            continue
        if action == "update" and not session.is_modified(obj, include_collections=False):
            continue
        rows.append({"code_id": obj.id, "study_id": obj.study_id, "at": now, "actor": actor, "action": action, "snapshot": code_snapshot(obj)})
    if rows:
        session.connection().execute(insert(CodeRevision.__table__), rows)
