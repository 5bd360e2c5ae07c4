"""Interview tables: the imported transcript, its speaker turns and its sentences.

Every offset is a code-point offset into ``Interview.text`` (the normalised text: newlines as
``\\n``, Unicode NFC). Later stages (coding, quotes, REFI-QDA export) rely on these names:
``Interview.text``, ``SpeakerTurn(speaker, role, start, end, text_start, time)`` and
``Sentence(start, end, turn_ordinal)``; spans are half-open ``[start, end)``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow
from casestudy.models.core import Case, Respondent, Study

__all__ = ["SPEAKER_ROLES", "Interview", "SpeakerTurn", "Sentence"]

SPEAKER_ROLES = ("interviewer", "respondent", "other")


class Interview(Versioned, Base):
    """One imported transcript. ``sha256`` is of the original file's bytes (one import per study)."""

    __tablename__ = "interview"
    __table_args__ = (UniqueConstraint("study_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10))
    date: Mapped[dt.date | None]
    interviewer: Mapped[str] = mapped_column(String(200), default="")
    observer: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int | None]
    audio_ref: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Detected speaker label -> interviewer / respondent / other (editable).
    speaker_roles: Mapped[dict] = mapped_column(default=dict)
    warnings: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    study: Mapped[Study] = relationship()
    case: Mapped[Case] = relationship()
    respondent: Mapped[Respondent] = relationship()

    def audit_label(self) -> str:
        return self.file_name


class SpeakerTurn(Base):
    """A turn: ``[start, end)`` covers the whole turn incl. timestamp and label; the words start at ``text_start``."""

    __tablename__ = "speaker_turn"
    __table_args__ = (UniqueConstraint("interview_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # (interview_id, ordinal) is unique, which also indexes interview_id.
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    speaker: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="other")
    start: Mapped[int]
    end: Mapped[int]
    text_start: Mapped[int]
    time: Mapped[str] = mapped_column(String(60), default="")


class Sentence(Base):
    """A sentence ``[start, end)`` inside the words of turn ``turn_ordinal``."""

    __tablename__ = "sentence"
    __table_args__ = (UniqueConstraint("interview_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # (interview_id, ordinal) is unique, which also indexes interview_id.
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    start: Mapped[int]
    end: Mapped[int]
    turn_ordinal: Mapped[int | None]
