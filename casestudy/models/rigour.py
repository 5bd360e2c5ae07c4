"""Rigour records of a study: sign-offs by a second researcher, the ethics status and the
researchers' own answers to the reporting checklists (COREQ, SRQR)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow
from casestudy.models.core import User
from casestudy.reports.constants import CHECKLISTS  # re-exported
from casestudy.rigour_constants import ETHICS_STATES, SIGNOFF_KINDS  # re-exported

__all__ = [
    "SIGNOFF_KINDS", "ETHICS_STATES", "CHECKLISTS",
    "SignoffRequirement", "Signoff", "EthicsStatus", "ChecklistAnswer",
]


class SignoffRequirement(Base):
    """The study requires a sign-off for one kind of thing (a row present means required)."""

    __tablename__ = "signoff_requirement"
    __table_args__ = (UniqueConstraint("study_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"sign-off required for {self.kind}"


class Signoff(Base):
    """A second researcher's sign-off of one thing (``kind``, ``target_id``) as it was.

    ``content_hash`` is the SHA-256 of the signed content; once the content changes the hash no
    longer matches and the sign-off no longer counts (the row stays as the record of what was
    signed). ``target_id`` is an interview id (codings), a reconstruction version id or a masked
    text id, by ``kind``.
    """

    __tablename__ = "signoff"
    __table_args__ = (Index("ix_signoff_target", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    signer: Mapped[User] = relationship()

    def audit_label(self) -> str:
        return f"sign-off of {self.kind} {self.target_id}"


class EthicsStatus(Versioned, Base):
    """A study's ethics status: approved (body, reference, date), not required (with the reason)
    or pending."""

    __tablename__ = "ethics_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    approved_on: Mapped[dt.date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"ethics status ({self.status})"


class ChecklistAnswer(Versioned, Base):
    """A researcher's own answer to one item of a reporting checklist of the study."""

    __tablename__ = "checklist_answer"
    __table_args__ = (UniqueConstraint("study_id", "checklist", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    checklist: Mapped[str] = mapped_column(String(10))
    item: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"{self.checklist} item {self.item}"
