"""Coding tables: span codings by coders, memos, and decisions on code suggestions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow
from casestudy.models.codebook import Code
from casestudy.models.core import User
from casestudy.models.interviews import Interview

__all__ = ["MEMO_TARGETS", "Coding", "Memo", "SuggestionDecision"]

MEMO_TARGETS = ("coding", "code", "interview", "case")


class Coding(Versioned, Base):
    """A code applied by one coder to the half-open span [start, end) of an interview's text.

    Offsets are code points into ``Interview.text``; ``start_line``/``end_line`` are the citation
    line numbers of the first and last character (the text never changes after import).
    """

    __tablename__ = "coding"
    __table_args__ = (
        UniqueConstraint("interview_id", "code_id", "coder_id", "start", "end", name="uq_coding_span"),
        Index("ix_coding_study_code", "study_id", "code_id"),
        Index("ix_coding_interview", "interview_id", "start"),
        CheckConstraint('"end" > start AND start >= 0', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"))
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="RESTRICT"), index=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    start_line: Mapped[int]
    end_line: Mapped[int]
    memo: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(20), default="manual")  # manual, suggestion, import
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    interview: Mapped[Interview] = relationship()
    code: Mapped[Code] = relationship()
    coder: Mapped[User] = relationship()

    def audit_label(self) -> str:
        return f"coding {self.id} [{self.start}, {self.end})"


class Memo(Versioned, Base):
    """A researcher's memo on a coding, a code, an interview or a case."""

    __tablename__ = "memo"
    __table_args__ = (Index("ix_memo_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship()


class SuggestionDecision(Base):
    """A researcher's answer to a suggested code for a sentence, so it is not offered again."""

    __tablename__ = "suggestion_decision"
    __table_args__ = (UniqueConstraint("sentence_id", "code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(10))  # accepted, rejected
    confidence: Mapped[float | None]
    decided_by: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
