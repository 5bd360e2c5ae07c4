"""Coding tables: span codings by coders, memos, and decisions on code suggestions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.coding.constants import RELATION_KINDS  # re-exported
from casestudy.models.base import Base, Versioned, utcnow
from casestudy.models.codebook import Code
from casestudy.models.core import Case, User
from casestudy.models.interviews import Interview

__all__ = [
    "MEMO_TARGETS", "CODING_ACTION_KINDS", "RELATION_KINDS", "Coding", "Memo", "SuggestionDecision", "CodingAction",
    "CodeRelation", "code_relation_evidence",
]

MEMO_TARGETS = ("coding", "code", "interview", "case")
# What a coder can undo: applying codes, removing codings, moving a coding's boundaries, changing
# its code or memo, and the bulk removal and recoding of several codings.
CODING_ACTION_KINDS = ("apply", "remove", "move", "recode", "edit", "bulk_remove", "bulk_recode", "period")


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
    # The period of the case the coded passage speaks about (None: not tied to one); a period
    # in use cannot be removed.
    period_id: Mapped[int | None] = mapped_column(ForeignKey("case_period.id", ondelete="RESTRICT"), index=True)
    # How the coded passage came up: "spontaneous", "probe" (after a probe) or "" (not marked,
    # e.g. a document); suggested from the interview guide unless set by hand (``elicitation_manual``).
    elicitation: Mapped[str] = mapped_column(String(12), default="", server_default="")
    elicitation_manual: Mapped[bool] = mapped_column(default=False, server_default=false())
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


class CodingAction(Base):
    """One undoable coding action of one coder in one study (their last 50 are kept).

    ``before`` and ``after`` list the affected codings as plain snapshots (id, interview, code,
    coder, span, lines, memo, origin, version): ``before`` as they were, ``after`` as the action
    left them (an apply has no ``before``, a removal no ``after``). ``seq`` counts the coder's
    actions in the study; ``undone`` marks the actions a redo can bring back.
    """

    __tablename__ = "coding_action"
    __table_args__ = (UniqueConstraint("study_id", "user_id", "seq", name="uq_coding_action_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    before: Mapped[list] = mapped_column(default=list)
    after: Mapped[list] = mapped_column(default=list)
    undone: Mapped[bool] = mapped_column(default=False)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"coding action {self.seq} ({self.kind})"


#: The codings that show a code relation at work in its case.
code_relation_evidence = Table(
    "code_relation_evidence",
    Base.metadata,
    Column("relation_id", ForeignKey("code_relation.id", ondelete="CASCADE"), primary_key=True),
    Column("coding_id", ForeignKey("coding.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CodeRelation(Versioned, Base):
    """In one case, how one code acts on another (``kind`` from RELATION_KINDS), with a note and
    the codings that show it."""

    __tablename__ = "code_relation"
    __table_args__ = (
        UniqueConstraint("case_id", "source_code_id", "target_code_id", "kind", name="uq_code_relation_link"),
        CheckConstraint("source_code_id <> target_code_id", name="distinct_codes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    source_code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="RESTRICT"), index=True)
    target_code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    source: Mapped[Code] = relationship(foreign_keys=[source_code_id])
    target: Mapped[Code] = relationship(foreign_keys=[target_code_id])
    evidence: Mapped[list[Coding]] = relationship(secondary=code_relation_evidence, order_by=Coding.id)

    def audit_label(self) -> str:
        return f"relation {self.id} ({self.kind})"
