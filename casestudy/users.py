"""Researcher accounts: admin, coder, viewer. Passwords are argon2 hashes."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import audit, security
from casestudy.errors import UserError
from casestudy.models import USER_ROLES, User, utcnow

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{2,100}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(username: str) -> bool:
    """True when a user name holds a line break or another control character (log injection)."""
    return CONTROL_CHARACTERS.search(username) is not None


def printable_name(username: str, limit: int = 100) -> str:
    """The user name as it may appear in the audit log: control characters escaped, shortened."""
    return CONTROL_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), username)[:limit]


def add_user(session: Session, username: str, password: str, role: str = "coder", display_name: str = "") -> User:
    if has_control_characters(username):
        raise UserError("a user name cannot contain line breaks or other control characters")
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError(
            f"invalid user name {username!r}: use 2-100 letters, digits, '.', '_', '-' or '@'"
        )
    if role not in USER_ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(USER_ROLES)}")
    if session.scalar(select(User).where(func.lower(User.username) == username.lower())):
        raise UserError(f"a user named {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise UserError(f"no user named {username!r}")
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = get_user(session, username)
    user.password_hash = security.hash_password(password)
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    user = get_user(session, username)
    user.active = active
    return user


def has_users(session: Session) -> bool:
    return session.scalar(select(func.count(User.id))) > 0


def authenticate(
    session: Session, username: str, password: str, *, at: dt.datetime | None = None, client: str | None = None
) -> User | None:
    """The active user with these credentials, or None; either way the attempt is logged.

    Callers commit before reporting a failure, so refused attempts stay in the audit log
    (see :func:`casestudy.access.login`, which also throttles by these events); ``at`` and
    ``client`` go into the logged event.
    """
    extra = {"client": client} if client else {}
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        security.verify_dummy(password)
    elif user.active and security.verify_password(user.password_hash, password):
        user.last_login_at = at or utcnow()
        audit.record(session, "user_account", "login", entity_id=user.id, at=at, username=user.username, **extra)
        return user
    audit.record(session, "user_account", "login_failed", at=at, username=printable_name(username), **extra)
    return None


def create_first_admin(session: Session, username: str, password: str, display_name: str = "") -> User:
    """The first-start path: allowed only while there is no account at all."""
    if has_users(session):
        raise UserError("an administrator already exists; log in instead")
    return add_user(session, username, password, role="admin", display_name=display_name)
