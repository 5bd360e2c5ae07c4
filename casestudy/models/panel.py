"""Expert-panel tables: members, questionnaires (versioned, frozen once opened), answers, timings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow
from casestudy.panel.constants import EXPERTISE_FIELDS, ITEM_KINDS  # re-exported

__all__ = [
    "MEMBER_STATUSES", "ITEM_KINDS", "EXPERTISE_FIELDS", "PanelMember", "Questionnaire", "QuestionnaireItem",
    "Answer", "CaseTiming", "DelphiPlan", "PanelRound", "RoundResponse",
]

# new: added, not yet invited; the rest is the invitation funnel.
MEMBER_STATUSES = ("new", "invited", "opened", "in_progress", "submitted", "declined")


class PanelMember(Versioned, Base):
    """One invited expert. Name, e-mail and organisation stay with the researchers; exports use the pseudonym."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("study_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(300), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    expertise: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="new")
    # Invitation order (0-based); it picks the member's Williams case order.
    position: Mapped[int | None]
    case_order: Mapped[list] = mapped_column(default=list)  # case ids in the order shown
    questionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20), default="online")  # online or import
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    invited_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime | None]
    declined_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]

    def audit_label(self) -> str:
        return f"panel member {self.pseudonym}"


class Questionnaire(Versioned, Base):
    """One version of the panel questionnaire; ``frozen_at`` is set when the first expert opens it."""

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # version number 1, 2, ...
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")
    scale_min: Mapped[int] = mapped_column(default=0)
    scale_max: Mapped[int] = mapped_column(default=5)
    scale_labels: Mapped[dict] = mapped_column(default=dict)  # {"0": "...", "5": "..."}
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    frozen_at: Mapped[dt.datetime | None]

    items: Mapped[list[QuestionnaireItem]] = relationship(
        back_populates="questionnaire", cascade="all, delete-orphan", order_by="QuestionnaireItem.ordinal"
    )

    def audit_label(self) -> str:
        return f"questionnaire version {self.number}"


class QuestionnaireItem(Versioned, Base):
    __tablename__ = "questionnaire_item"
    __table_args__ = (UniqueConstraint("questionnaire_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(300), default="")  # short wording for tables and exports
    text: Mapped[str] = mapped_column(Text)  # the wording the expert reads
    required: Mapped[bool] = mapped_column(default=True)
    options: Mapped[dict] = mapped_column(default=dict)  # ordered_list: {"source": key of the free list}

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="items")

    def audit_label(self) -> str:
        return f"questionnaire item {self.key}"


class Answer(Base):
    """One answer: a rating of one case, a list, or a comment. Saved by upsert on (member, item, case_slot)."""

    __tablename__ = "panel_answer"
    __table_args__ = (UniqueConstraint("member_id", "item_id", "case_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_item.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    case_slot: Mapped[int] = mapped_column(default=0)  # case_id, or 0 for items across cases
    value: Mapped[dict] = mapped_column(default=dict)  # {"v": score | [texts] | text}
    shown_position: Mapped[int | None]  # 1-based position of the case in the expert's order
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    saves: Mapped[int] = mapped_column(default=1)


class CaseTiming(Base):
    """Seconds an expert spent with one case on screen (summed over visits)."""

    __tablename__ = "panel_case_timing"
    __table_args__ = (UniqueConstraint("member_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    seconds: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DelphiPlan(Versioned, Base):
    """The Delphi stopping rule of a study's panel, chosen before any feedback is seen: fixed
    (``fixed_at``) when round 1 closes. ``rule`` is consensus, stability or either."""

    __tablename__ = "panel_delphi_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), unique=True)
    rule: Mapped[str] = mapped_column(String(20), default="consensus")
    iqr_max: Mapped[float] = mapped_column(Float, default=1.0)  # consensus: IQR <= iqr_max
    change_max: Mapped[float] = mapped_column(Float, default=0.15)  # stability: share of answers changed <= change_max
    quartile_method: Mapped[str] = mapped_column(String(30), default="linear")
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    set_by: Mapped[str] = mapped_column(String(200), default="")
    fixed_at: Mapped[dt.datetime | None]

    def audit_label(self) -> str:
        return "Delphi stopping rule"


class PanelRound(Versioned, Base):
    """One Delphi round. Round 1 is the panel's questionnaire as the members answered it
    (``questionnaire_id`` empty); from round 2 a round has its own copy of the rating items."""

    __tablename__ = "panel_round"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    questionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire.id", ondelete="RESTRICT"))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(200), default="")
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return f"Delphi round {self.number}"


class RoundResponse(Base):
    """One expert's part in a round from round 2 on: open until they submit it."""

    __tablename__ = "panel_round_response"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("panel_round.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, started, submitted
    started_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime | None]
