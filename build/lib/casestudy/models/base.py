"""Declarative base shared by every table, with naming conventions Alembic relies on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Naive UTC 'now': every timestamp in the store is naive UTC, on every backend."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict: JSON, list: JSON, dt.datetime: DateTime()}

    def audit_label(self) -> str:
        """A short human label used in the audit log."""
        for attr in ("name", "title", "username", "internal_label", "public_label"):
            value = getattr(self, attr, None)
            if value:
                return str(value)
        return f"{type(self).__name__} {getattr(self, 'id', '?')}"


class Versioned:
    """Optimistic locking: a save based on an outdated row raises instead of overwriting."""

    version: Mapped[int] = mapped_column(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}
