"""Periods of a case (e.g. before and during a reorganisation) and the case's note on whom they leave out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casestudy.models.base import Base, Versioned, utcnow

__all__ = ["CasePeriod", "CasePeriodNote"]


class CasePeriod(Versioned, Base):
    """A named stretch of a case's history. ``starts``/``ends`` are ISO dates as entered:
    ``YYYY-MM`` (a whole month) or ``YYYY-MM-DD``."""

    __tablename__ = "case_period"
    __table_args__ = (UniqueConstraint("case_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    starts: Mapped[str] = mapped_column(String(10))
    ends: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set when the researcher said explicitly that this period may overlap the case's others.
    overlap_allowed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CasePeriodNote(Versioned, Base):
    """What falls between or outside the periods and is left out (e.g. patients who started in the interim)."""

    __tablename__ = "case_period_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    exclusion: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
