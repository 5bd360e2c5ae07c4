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

__all__ = ["SPEAKER_ROLES", "InterviewGuide", "Interview", "SpeakerTurn", "Sentence"]

SPEAKER_ROLES = ("interviewer", "respondent", "other")


class InterviewGuide(Base):
    """One version of a study's semi-structured interview guide (never changed once stored).

    ``number`` counts the study's guide versions from 1; ``document`` is the guide as plain
    data (see :mod:`casestudy.interviews.guide`), ``sha256`` of its canonical JSON, so storing
    the same guide again adds no version.
    """

    __tablename__ = "interview_guide"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    document: Mapped[dict] = mapped_column(default=dict)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"interview guide {self.number}"


class Interview(Versioned, Base):
    """One imported source text of a case. ``sha256`` is of the original file's bytes (one import per study).

    ``kind`` is ``interview`` (a transcript: it has a respondent) or ``document`` (meeting
    minutes, an internal report, an incident log...: no respondent, ``document_type`` says what
    it is, optionally tied to one of the case's periods). Both are coded, retrieved, cited and
    masked alike. The interview session is recorded in plain columns (interviewer, observer,
    date, duration, audio reference, ``session_status``, ``observer_note``, ``checked_at``);
    :func:`casestudy.interviews.sessions.session_record` reads them. ``guide_id`` is the guide
    version the interview followed (none: the study's newest guide); ``probe_start_turn`` is the
    turn at which the interviewer moved on to the probes, when set by hand.
    """

    __tablename__ = "interview"
    __table_args__ = (UniqueConstraint("study_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="interview", server_default="interview")
    document_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("interview_guide.id", ondelete="SET NULL"))
    probe_start_turn: Mapped[int | None]
    session_status: Mapped[str] = mapped_column(String(12), default="transcribed", server_default="transcribed")
    observer_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    checked_at: Mapped[dt.date | None]
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
    # The period of its case the interview or document is about (None: not tied to one); its codings take
    # it unless a coding names its own.
    period_id: Mapped[int | None] = mapped_column(ForeignKey("case_period.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    study: Mapped[Study] = relationship()
    case: Mapped[Case] = relationship()
    respondent: Mapped[Respondent | None] = relationship()
    guide: Mapped[InterviewGuide | None] = relationship()

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
