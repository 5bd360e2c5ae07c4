"""Tables of the web server: researchers' browser sessions and the installation's settings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casestudy.models.base import Base, utcnow

__all__ = ["BrowserSession", "AppSetting"]


class BrowserSession(Base):
    """A researcher's signed-in browser, found by the SHA-256 of a random secret.

    The secret travels only in an HttpOnly cookie; the row keeps its hash. ``handover_hash`` is
    the hash of a one-time code with which the browser collects that cookie right after the
    login (``browser_sessions.adopt``); until then ``session_hash`` is empty. A session ends
    (``ended_at``, ``end_reason``) at logout, after ``SESSION_IDLE_MINUTES`` without activity,
    at ``expires_at`` or when its account is deactivated; an ended session never works again.
    """

    __tablename__ = "browser_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handover_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    client: Mapped[str] = mapped_column(String(100), default="")


class AppSetting(Base):
    """One setting of the installation an administrator can change (e.g. the public URL)."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    def audit_label(self) -> str:
        return self.key
