"""Outcomes and integration: the study's outcome descriptors, the tags cases carry, and the
study's recommendations linked to the panel's determinants."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow

__all__ = ["RECOMMENDATION_AUDIENCES", "OutcomeDescriptor", "CaseOutcomeTag", "Recommendation"]

# The two lists of the reference study's recommendations: for the organisation, and for the team and its therapists.
RECOMMENDATION_AUDIENCES = ("organisation", "team")


class OutcomeDescriptor(Versioned, Base):
    """One study-defined outcome descriptor ("programme stopped", "staff turnover", ...)."""

    __tablename__ = "outcome_descriptor"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"outcome descriptor {self.name}"


class CaseOutcomeTag(Base):
    """A descriptor a case carries, with an optional note (e.g. "four of eleven left")."""

    __tablename__ = "case_outcome_tag"
    __table_args__ = (UniqueConstraint("case_id", "descriptor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    descriptor_id: Mapped[int] = mapped_column(ForeignKey("outcome_descriptor.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    tagged_by: Mapped[str] = mapped_column(String(200), default="")
    tagged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    descriptor: Mapped[OutcomeDescriptor] = relationship()

    def audit_label(self) -> str:
        return f"case {self.case_id} outcome tag {self.descriptor_id}"


class Recommendation(Versioned, Base):
    """One recommendation of the study, for the organisation or for the team and therapists.

    ``determinants``: the canonical determinant labels (of the panel's ranking) it answers.
    """

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    determinants: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"recommendation {self.id} ({self.audience})"
