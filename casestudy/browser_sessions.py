"""Researchers' browser sessions: a random server-side id, kept only as its SHA-256.

A login (:func:`start`) creates a ``browser_session`` row for the account and returns a
one-time *handover* code. The browser posts that code once (within ``HANDOVER_SECONDS``) to
the server's cookie route, which calls :func:`adopt`: a fresh 256-bit session secret is made,
its hash stored, and the secret set as an HttpOnly cookie; the handover code is void from then
on. So the session secret itself is never visible to page scripts, never in a URL and never
stored in clear. The tab that logged in also knows its session by row id (server-side memory,
:func:`resolve_id`); other tabs and reloads find it by the cookie (:func:`resolve`).

Every resolution re-checks the row and the account: an ended session, one idle for more than
``config.SESSION_IDLE_MINUTES``, one older than ``config.SESSION_MAX_HOURS`` or one whose
account is deactivated is refused (:class:`SessionEnded`, with the message to show) and ended
on the server at once. :func:`end` ends it at logout. Starting, adopting and ending are
audited (the hashes are redacted); the last-seen time is refreshed at most every
``TOUCH_SECONDS`` without an audit event, as it is no change anyone made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casestudy import access, config, security
from casestudy.db import Store
from casestudy.errors import UserError
from casestudy.models import BrowserSession, User, utcnow

HANDOVER_SECONDS = 120  # the browser collects its cookie right after the login page reran
TOUCH_SECONDS = 60  # last_seen_at is refreshed at most this often (idle expiry is in minutes)
MAX_CLIENT_CHARS = 100

IDLE = "Your session ended after a period of inactivity; please log in again."
EXPIRED = "Your session has reached its maximum length; please log in again."
INACTIVE = "Your account is no longer active."
ENDED = "You have been signed out; please log in again."

_END_MESSAGES = {"idle": IDLE, "expired": EXPIRED, "account inactive": INACTIVE}

Clock = Callable[[], dt.datetime]


class SessionEnded(UserError):
    """A session that does not (or no longer) sign anyone in; ``message`` says why."""


@dataclass(frozen=True)
class Started:
    """A new session: its row id (for the tab that logged in) and the one-time handover code."""

    session_id: int
    handover: str


def start(store: Store, principal: access.Principal, *, client: str | None = None, clock: Clock = utcnow) -> Started:
    """Open a session for a researcher who has just logged in (``access.login``)."""
    if not principal.is_researcher:
        raise UserError("only a researcher account can open a browser session")
    now = clock()
    handover = security.new_token_secret()
    with store.write(actor=principal.actor) as session:
        row = BrowserSession(
            user_id=principal.subject_id, handover_hash=security.hash_token(handover), created_at=now,
            last_seen_at=now, expires_at=now + dt.timedelta(hours=config.SESSION_MAX_HOURS),
            client=(client or "")[:MAX_CLIENT_CHARS],
        )
        session.add(row)
        session.flush()
        return Started(row.id, handover)


def adopt(store: Store, handover: str | None, *, clock: Clock = utcnow) -> str | None:
    """Exchange a fresh handover code for the session's cookie secret (once); None if refused.

    Refused: an unknown or already used code, one older than ``HANDOVER_SECONDS``, a session
    already ended.
    """
    handover = (handover or "").strip()
    if not 20 <= len(handover) <= 200:
        return None
    now = clock()
    secret = security.new_token_secret()
    with store.write(actor="browser session") as session:
        row = session.scalar(select(BrowserSession).where(BrowserSession.handover_hash == security.hash_token(handover)))
        if (row is None or row.ended_at is not None or row.session_hash is not None
                or now - row.created_at > dt.timedelta(seconds=HANDOVER_SECONDS)):
            return None
        session.info["actor"] = _actor(session, row)
        row.handover_hash = None
        row.session_hash = security.hash_token(secret)
    return secret


def resolve(store: Store, secret: str | None, *, clock: Clock = utcnow) -> tuple[int, access.Principal]:
    """The (session id, researcher) behind a cookie secret; SessionEnded when it signs no one in."""
    secret = (secret or "").strip()
    if not 20 <= len(secret) <= 200:
        raise SessionEnded(ENDED)
    with store.read() as session:
        row_id = session.scalar(select(BrowserSession.id).where(BrowserSession.session_hash == security.hash_token(secret)))
    if row_id is None:
        raise SessionEnded(ENDED)
    return row_id, resolve_id(store, row_id, clock=clock)


def resolve_id(store: Store, session_id: int, *, clock: Clock = utcnow) -> access.Principal:
    """The researcher of a session known by id (server-side memory of the tab that logged in).

    Refuses, and ends on the server, a session that is idle, too old or whose account is no
    longer active; refreshes its last-seen time.
    """
    now = clock()
    with store.read() as session:
        row = session.get(BrowserSession, session_id)
        if row is None:
            raise SessionEnded(ENDED)
        if row.ended_at is not None:  # e.g. ended by another tab's rerun: say why all the same
            raise SessionEnded(_END_MESSAGES.get(row.end_reason, ENDED))
        principal = access.current_researcher(session, row.user_id)
        reason = _end_reason(row, principal, now)
        needs_touch = (now - row.last_seen_at).total_seconds() > TOUCH_SECONDS
    if reason is not None:
        end_id(store, session_id, reason[0], clock=clock)
        raise SessionEnded(reason[1])
    if needs_touch:
        with store.write(actor=principal.actor) as session:
            # A Core update: refreshing the clock is no change to audit.
            session.execute(update(BrowserSession).where(BrowserSession.id == session_id).values(last_seen_at=now))
    return principal


def _end_reason(row: BrowserSession, principal: access.Principal | None, now: dt.datetime) -> tuple[str, str] | None:
    if principal is None:
        return "account inactive", INACTIVE
    if now >= row.expires_at:
        return "expired", EXPIRED
    if now - row.last_seen_at > dt.timedelta(minutes=config.SESSION_IDLE_MINUTES):
        return "idle", IDLE
    return None


def end(store: Store, secret: str | None, reason: str = "logout", *, clock: Clock = utcnow) -> bool:
    """End the session behind a cookie secret; True when one was open."""
    secret = (secret or "").strip()
    if not 20 <= len(secret) <= 200:
        return False
    with store.read() as session:
        row_id = session.scalar(select(BrowserSession.id).where(BrowserSession.session_hash == security.hash_token(secret)))
    return row_id is not None and end_id(store, row_id, reason, clock=clock)


def end_id(store: Store, session_id: int, reason: str = "logout", *, clock: Clock = utcnow) -> bool:
    """End a session by id (logout, idle, expired...); True when it was still open."""
    with store.write(actor="browser session") as session:
        row = session.get(BrowserSession, session_id)
        if row is None or row.ended_at is not None:
            return False
        session.info["actor"] = _actor(session, row)
        row.ended_at = clock()
        row.end_reason = reason[:40]
        row.handover_hash = None
    return True


def end_for_user(session: Session, user_id: int, reason: str, *, clock: Clock = utcnow) -> int:
    """End every open session of an account inside the caller's transaction; how many."""
    rows = session.scalars(select(BrowserSession).where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None)))
    count = 0
    for row in rows:
        row.ended_at, row.end_reason, row.handover_hash = clock(), reason[:40], None
        count += 1
    return count


def open_sessions(session: Session, *, clock: Clock = utcnow) -> list[dict]:
    """The sessions still signing someone in (not ended, not idle, not expired), newest first."""
    now = clock()
    idle_since = now - dt.timedelta(minutes=config.SESSION_IDLE_MINUTES)
    rows = session.execute(
        select(BrowserSession, User.username).join(User, User.id == BrowserSession.user_id)
        .where(BrowserSession.ended_at.is_(None), BrowserSession.expires_at > now, BrowserSession.last_seen_at >= idle_since)
        .order_by(BrowserSession.id.desc())
    ).all()
    return [{"id": row.id, "user": username, "started": row.created_at, "last_seen": row.last_seen_at,
             "expires": row.expires_at, "client": row.client} for row, username in rows]


def _actor(session: Session, row: BrowserSession) -> str:
    user = session.get(User, row.user_id)
    return user.username if user is not None else "browser session"
