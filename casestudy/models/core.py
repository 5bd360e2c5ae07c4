"""Foundation tables: study, organisations, cases, respondents, consent, users, tokens, audit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudy.models.base import Base, Versioned, utcnow

__all__ = [
    "DEFAULT_LEVELS", "CASE_OUTCOMES", "RESPONDENT_ROLES", "PERSPECTIVES", "CONSENT_SCOPES", "USER_ROLES",
    "STUDY_ROLES", "TOKEN_PURPOSES", "SUSTAINMENT", "Study", "StudyMember", "Organisation", "Case", "ProgrammeComponent", "Respondent", "ConsentRecord",
    "User", "AccessToken", "AuditEvent",
]

DEFAULT_LEVELS = ["organization", "team", "therapist"]
CASE_OUTCOMES = ("positive", "mixed", "negative", "unknown")
RESPONDENT_ROLES = ("manager", "therapist", "other")
PERSPECTIVES = ("top-down", "bottom-up", "other")
CONSENT_SCOPES = ("interview", "recording", "member_check", "final_text")
USER_ROLES = ("admin", "coder", "viewer")
# A member's role in one study, weakest first (the access guard compares positions).
STUDY_ROLES = ("viewer", "coder", "owner")
TOKEN_PURPOSES = ("respondent", "expert", "participant")
# A programme component's external-validity indicator: still running, stopped (on a date) or never started.
SUSTAINMENT = ("sustained", "discontinued", "never_started", "unknown")


class Study(Versioned, Base):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(16), default="en")
    # Ordered level names; the three-level default follows the reference study.
    levels: Mapped[list] = mapped_column(default=lambda: list(DEFAULT_LEVELS))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An archived study keeps all its data but leaves the study lists until it is unarchived.
    archived_at: Mapped[dt.datetime | None]
    # Set by the study owner: coders then see only their own codings (casestudy.coding.blinding).
    blind_coding: Mapped[bool] = mapped_column(default=False, server_default=false())

    organisations: Mapped[list[Organisation]] = relationship(back_populates="study")
    cases: Mapped[list[Case]] = relationship(back_populates="study", order_by="Case.public_label")


class StudyMember(Versioned, Base):
    """A researcher account's role in one study (owner, coder or viewer).

    Researchers see only the studies they are members of; the server administrator
    (``User.role == "admin"``) may open every study without a membership.
    """

    __tablename__ = "study_member"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    def audit_label(self) -> str:
        return f"study {self.study_id} member {self.user_id}"


class Organisation(Versioned, Base):
    """An institution. Internal only: its name never leaves the researcher views."""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str] = mapped_column(Text, default="")

    study: Mapped[Study] = relationship(back_populates="organisations")
    cases: Mapped[list[Case]] = relationship(back_populates="organisation")


class Case(Versioned, Base):
    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("study_id", "internal_label"),
        UniqueConstraint("study_id", "public_label", name="uq_case_study_public_label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    # "Unit 3": the researchers' own label; "Case C": the label experts and readers see.
    internal_label: Mapped[str] = mapped_column(String(100))
    public_label: Mapped[str] = mapped_column(String(100))
    outcome_class: Mapped[str] = mapped_column(String(20), default="unknown")
    outcome_description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    study: Mapped[Study] = relationship(back_populates="cases")
    organisation: Mapped[Organisation | None] = relationship(back_populates="cases")
    components: Mapped[list[ProgrammeComponent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ProgrammeComponent.id"
    )
    respondents: Mapped[list[Respondent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Respondent.id"
    )


class ProgrammeComponent(Versioned, Base):
    """A part of a case's programme, e.g. partial hospitalisation with two groups."""

    __tablename__ = "programme_component"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(50))  # PH, IOP, ...
    groups: Mapped[int | None]
    dosage: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(100), default="")  # running, stopped, never started
    outcome_class: Mapped[str | None] = mapped_column(String(20))
    # The external-validity indicator: whether the component was sustained, and since when it stopped.
    sustainment: Mapped[str] = mapped_column(String(20), default="unknown", server_default="unknown")
    discontinued_on: Mapped[dt.date | None]
    sustainment_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    case: Mapped[Case] = relationship(back_populates="components")


class Respondent(Versioned, Base):
    __tablename__ = "respondent"
    __table_args__ = (UniqueConstraint("case_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    perspective: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="respondents")
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="respondent", cascade="all, delete-orphan", order_by="ConsentRecord.id"
    )


class ConsentRecord(Base):
    """One consent given for one scope; withdrawing sets withdrawn_on, the record stays."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondent.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(20))
    given_on: Mapped[dt.date]
    withdrawn_on: Mapped[dt.date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    respondent: Mapped[Respondent] = relationship(back_populates="consents")


class User(Versioned, Base):
    """A researcher account (admin, coder or viewer)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]


class AccessToken(Base):
    """A link secret for a respondent or an expert. Only the SHA-256 of the secret is stored."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    study_id: Mapped[int | None] = mapped_column(index=True)
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(default=dict)
