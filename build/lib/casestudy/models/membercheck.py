"""Narrative reconstructions, their frozen versions, member-check rounds and responses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow

__all__ = [
    "VERSION_STATUSES", "DECISIONS", "CHANNELS", "POLARITIES",
    "Reconstruction", "ReconstructionVersion", "MemberCheckRound", "ReviewResponse", "ParagraphComment",
    "CaseSummary",
]

VERSION_STATUSES = ("draft", "under_review", "superseded", "agreed")
DECISIONS = ("none", "agree", "changes_needed")
CHANNELS = ("link", "offline")
POLARITIES = ("facilitator", "barrier")


class Reconstruction(Versioned, Base):
    """The researcher's working draft of one case's narrative (edited freely, never sent)."""

    __tablename__ = "reconstruction"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class ReconstructionVersion(Base):
    """A frozen text. Only its status (and the lock on agreement) changes after creation."""

    __tablename__ = "reconstruction_version"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    change_note: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    locked: Mapped[bool] = mapped_column(default=False)
    agreed_at: Mapped[dt.datetime | None]

    def audit_label(self) -> str:
        return f"reconstruction version {self.number}"


class MemberCheckRound(Base):
    __tablename__ = "member_check_round"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("reconstruction_version.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    opened_by: Mapped[str] = mapped_column(String(200), default="")

    version: Mapped[ReconstructionVersion] = relationship()
    responses: Mapped[list[ReviewResponse]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="ReviewResponse.id"
    )


class ReviewResponse(Versioned, Base):
    """One respondent's answer in one round; saved on every change, submitted once."""

    __tablename__ = "review_response"
    __table_args__ = (UniqueConstraint("round_id", "respondent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("member_check_round.id", ondelete="CASCADE"), index=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(20), default="none")
    general_comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10), default="link")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    # The SHA-256 of the text the respondent decided on, copied at submission.
    version_hash: Mapped[str] = mapped_column(String(64), default="")
    # The final_text consent recorded when the case was agreed on this response's version.
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_record.id", ondelete="SET NULL"))

    round: Mapped[MemberCheckRound] = relationship(back_populates="responses")
    comments: Mapped[list[ParagraphComment]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="ParagraphComment.paragraph_index"
    )


class ParagraphComment(Versioned, Base):
    __tablename__ = "paragraph_comment"
    __table_args__ = (UniqueConstraint("response_id", "paragraph_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("review_response.id", ondelete="CASCADE"), index=True)
    paragraph_index: Mapped[int]
    paragraph_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed: Mapped[bool] = mapped_column(default=False)
    processed_how: Mapped[str] = mapped_column(Text, default="")
    processed_by: Mapped[str] = mapped_column(String(200), default="")
    processed_at: Mapped[dt.datetime | None]

    response: Mapped[ReviewResponse] = relationship(back_populates="comments")


class CaseSummary(Versioned, Base):
    """The structured summary of a case that feeds Table 1.

    ``component_outcomes``: [{"component": "PH", "outcome_class": "mixed"}, ...];
    ``determinants``: [{"label": ..., "polarity": "facilitator"|"barrier", "code_ref": ...}], where
    code_ref is a codebook code id or path (no foreign key: the codebook links it later).
    """

    __tablename__ = "case_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    programme: Mapped[str] = mapped_column(Text, default="")
    outcome_class: Mapped[str] = mapped_column(String(20), default="unknown")
    component_outcomes: Mapped[list] = mapped_column(default=list)
    outcome_descriptors: Mapped[str] = mapped_column(Text, default="")
    determinants: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
