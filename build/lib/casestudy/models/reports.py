"""Reports stage: determinant mappings confirmed by a researcher (free text -> canonical label)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casestudy.models.base import Base, Versioned, utcnow

__all__ = ["DeterminantMapping"]


class DeterminantMapping(Versioned, Base):
    """One confirmed mapping; ``determinant_text`` is normalised (case and whitespace ignored)."""

    __tablename__ = "determinant_mapping"
    __table_args__ = (UniqueConstraint("study_id", "determinant_text", name="uq_determinant_mapping_study_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    determinant_text: Mapped[str] = mapped_column(String(500))
    canonical: Mapped[str] = mapped_column(String(300))
    # A codebook code id when the canonical label is a code (no FK: the codebook lives in another stage).
    code_id: Mapped[int | None] = mapped_column(default=None)
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def audit_label(self) -> str:
        return f"{self.determinant_text} -> {self.canonical}"
