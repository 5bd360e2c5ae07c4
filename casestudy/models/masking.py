"""Masking tables: the per-study identity register and masked (then released) texts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow
from casestudy.models.core import Case

__all__ = ["MASK_STATUSES", "MASKED_TEXT_KINDS", "RegisterEntry", "MaskedText"]

MASK_STATUSES = ("draft", "released")
# What a masked text is: a case's narrative (what the panel reads) or its short case summary.
MASKED_TEXT_KINDS = ("narrative", "summary")


class RegisterEntry(Versioned, Base):
    """One identity to mask (researchers only): the term, its variants and its replacement."""

    __tablename__ = "register_entry"
    __table_args__ = (UniqueConstraint("study_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    term: Mapped[str] = mapped_column(String(300))
    variants: Mapped[list] = mapped_column(default=list)
    replacement: Mapped[str] = mapped_column(String(300), default="")
    # Only the options that differ from casestudy.masking.OPTION_DEFAULTS.
    options: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"register entry {self.id} ({self.kind})"


class MaskedText(Versioned, Base):
    """A masked version of one source text of a case; frozen with its hash once released.

    ``source_ref`` names where the source came from, e.g. 'reconstruction_version:12' (an agreed
    member-checked version) or 'pasted'. ``replacements`` and ``candidates`` hold offsets into
    ``source_text`` with a review status each; a candidate with reason "linkage" is instead the
    accepted linkage finding (kind, term, cases, where, who, when, reason) of the masked text.
    """

    __tablename__ = "masked_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    text_kind: Mapped[str] = mapped_column(String(20), default="narrative", server_default="narrative")
    source_hash: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    masked_text: Mapped[str] = mapped_column(Text)
    replacements: Mapped[list] = mapped_column(default=list)
    candidates: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None]
    released_hash: Mapped[str | None] = mapped_column(String(64))
    released_by: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship()

    def audit_label(self) -> str:
        return f"masked text {self.id}"
