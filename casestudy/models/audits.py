"""Rating instruments stored in a study (versioned, frozen once used), audits of a case on an
instrument, and focus groups that rate periods and agree consensus scores."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casestudy.models.base import Base, Versioned, utcnow

__all__ = [
    "PARTICIPANT_ROLES",
    "AuditScore",
    "FocusConsensus",
    "FocusGroup",
    "FocusNote",
    "FocusParticipant",
    "FocusRating",
    "InstrumentAudit",
    "StoredInstrument",
]

PARTICIPANT_ROLES = ("manager", "therapist", "researcher", "other")


class StoredInstrument(Versioned, Base):
    """One version of an instrument in a study; ``document`` is its YAML document as plain data.

    ``frozen_at`` is set when an audit or a focus group first uses it; from then on it cannot
    change (a new ``instrument_version`` is imported instead)."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("study_id", "name", "instrument_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    instrument_version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    document: Mapped[dict] = mapped_column(default=dict)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    frozen_at: Mapped[dt.datetime | None]
    frozen_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"instrument {self.name} version {self.instrument_version}"


class InstrumentAudit(Versioned, Base):
    """One audit of a case (optionally one period of it) on one instrument version."""

    __tablename__ = "instrument_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("case_period.id", ondelete="SET NULL"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="RESTRICT"))
    label: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[dt.date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"audit {self.label}"


class AuditScore(Versioned, Base):
    """One rater's score of one item in one audit, with its evidence."""

    __tablename__ = "audit_score"
    __table_args__ = (UniqueConstraint("audit_id", "item_key", "rater"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("instrument_audit.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(60))
    rater: Mapped[str] = mapped_column(String(200))
    score: Mapped[int | None]
    coding_ids: Mapped[list] = mapped_column(default=list)
    documents: Mapped[list] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FocusGroup(Versioned, Base):
    """A focus group rating the periods of one case on one instrument version, in three rounds."""

    __tablename__ = "focus_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300))
    split_rule: Mapped[str] = mapped_column(String(20), default="midpoint")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"focus group {self.title}"


class FocusParticipant(Versioned, Base):
    """A focus-group participant; name stays with the researchers, the pseudonym goes into exports."""

    __tablename__ = "focus_participant"
    __table_args__ = (UniqueConstraint("group_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("focus_group.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    levels: Mapped[list] = mapped_column(default=list)  # the instrument's levels they can judge
    blind: Mapped[bool] = mapped_column(default=True)  # blind to outcomes: their pages show none
    submitted_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"participant {self.pseudonym}"


class FocusRating(Base):
    """Round 1: one participant's own rating of one item for one period (upserted on autosave)."""

    __tablename__ = "focus_rating"
    __table_args__ = (UniqueConstraint("participant_id", "item_key", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("focus_participant.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(60))
    period_id: Mapped[int] = mapped_column(ForeignKey("case_period.id", ondelete="CASCADE"))
    score: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    saves: Mapped[int] = mapped_column(default=1)


class FocusNote(Versioned, Base):
    """Round 2: the discussion notes on one item."""

    __tablename__ = "focus_note"
    __table_args__ = (UniqueConstraint("group_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("focus_group.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FocusConsensus(Versioned, Base):
    """Round 3: the group's consensus score of one item for one period: ``low`` = ``high`` for a
    whole point, ``high`` = ``low + 1`` for a split such as 2/3."""

    __tablename__ = "focus_consensus"
    __table_args__ = (UniqueConstraint("group_id", "item_key", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("focus_group.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(60))
    period_id: Mapped[int] = mapped_column(ForeignKey("case_period.id", ondelete="CASCADE"))
    low: Mapped[int]
    high: Mapped[int]
    agreed_by: Mapped[list] = mapped_column(default=list)  # pseudonyms
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
