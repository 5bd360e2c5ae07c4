"""Settings of the installation an administrator changes at run time (``app_setting`` rows).

The one so far is the **public URL**: the address respondents and experts open, the start of
every link the app makes (member-check links, expert links). It comes from, in this order:

1. the environment variable ``CASESTUDY_PUBLIC_URL`` (the deployment wins: whoever runs the
   server knows its address; the admin page then shows the setting as fixed by the server);
2. the ``public_url`` setting, stored in the database (admin page, ``casestudy settings set
   public-url URL``);
3. nothing configured: a caller that knows the address the browser used passes it as
   ``fallback``; the CLI falls back to :data:`LOCAL_URL`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import AppSetting, utcnow

PUBLIC_URL = "public_url"
PUBLIC_URL_ENV = "CASESTUDY_PUBLIC_URL"
LOCAL_URL = "http://127.0.0.1:8501"
MAX_URL_CHARS = 300
SETTING_NAMES = {"public-url": PUBLIC_URL}  # CLI spelling -> stored key


@dataclass(frozen=True)
class PublicUrl:
    """The public URL in force and where it comes from (``environment``, ``setting`` or ``none``)."""

    url: str | None
    source: str
    stored: str | None  # the database setting, shown even when the environment overrides it


def check_public_url(value: str) -> str:
    """A public URL, normalised (no trailing slash), or UserError saying what is wrong.

    Accepted: ``http`` or ``https``, a host, an optional port and an optional path prefix (a
    server behind a reverse proxy), at most ``MAX_URL_CHARS`` characters. Refused: other
    schemes, user names or passwords in the URL, a query or fragment, ``.`` or ``..`` path
    segments, backslashes, spaces and control characters.
    """
    text = (value or "").strip()
    if not text:
        raise UserError("the public URL is empty; give the address people open, e.g. https://casestudy.example.org")
    if len(text) > MAX_URL_CHARS:
        raise UserError(f"the public URL has {len(text)} characters; at most {MAX_URL_CHARS} are allowed")
    if re.search(r"[\s\\\x00-\x1f\x7f]", text):
        raise UserError("the public URL cannot contain spaces, backslashes or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UserError(f"the public URL is not a valid address ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UserError("the public URL must start with http:// or https://")
    if not parts.hostname:
        raise UserError("the public URL has no host name, e.g. https://casestudy.example.org")
    if parts.username is not None or parts.password is not None:
        raise UserError("the public URL cannot contain a user name or password")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise UserError("the public URL cannot have a query (?) or fragment (#); links add their own")
    segments = [s for s in parts.path.split("/") if s]
    if any(s in (".", "..") or re.fullmatch(r"(%2e|\.){1,2}", s, re.IGNORECASE) for s in segments):
        raise UserError("the public URL cannot contain '.' or '..' path segments")
    if any("%2f" in s.lower() or "%5c" in s.lower() for s in segments):
        raise UserError("the public URL cannot contain encoded slashes")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{port}" if port is not None else "")
    path = "/" + "/".join(segments) if segments else ""
    return f"{parts.scheme.lower()}://{netloc}{path}"


def public_url(session: Session) -> PublicUrl:
    """The public URL in force, by the order in the module docstring."""
    row = session.get(AppSetting, PUBLIC_URL)
    stored = row.value if row is not None and row.value else None
    from_env = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if from_env:
        try:
            return PublicUrl(check_public_url(from_env), "environment", stored)
        except UserError as exc:
            raise UserError(f"{PUBLIC_URL_ENV} is not usable: {exc.message}") from None
    if stored:
        return PublicUrl(stored, "setting", stored)
    return PublicUrl(None, "none", None)


def link_base(session: Session, fallback: str | None = None, *, explicit: str | None = None) -> str:
    """The start of every link the app makes.

    ``explicit`` (a command's ``--base-url``, checked: a bad one is a UserError) wins; then the
    public URL; then ``fallback`` (the address the browser used, when it is a valid one); then
    :data:`LOCAL_URL`.
    """
    if explicit:
        return check_public_url(explicit)
    configured = public_url(session).url
    if configured:
        return configured
    if fallback:
        try:
            return check_public_url(fallback)
        except UserError:
            pass
    return LOCAL_URL


def set_public_url(session: Session, value: str | None, actor: str) -> str | None:
    """Store the public URL (checked by :func:`check_public_url`); empty or None clears it.

    Returns the stored value. The change is audited (the ``app_setting`` row); the environment
    variable, when set, still wins (see :func:`public_url`).
    """
    url = check_public_url(value) if (value or "").strip() else ""
    row = session.get(AppSetting, PUBLIC_URL)
    if row is None:
        row = AppSetting(key=PUBLIC_URL, value=url, updated_by=actor)
        session.add(row)
    else:
        row.value, row.updated_at, row.updated_by = url, utcnow(), actor
    session.flush()
    return url or None


def same_origin(first: str | None, second: str | None) -> bool:
    """Whether two addresses share scheme, host and port (paths are ignored)."""
    def origin(url: str | None):
        try:
            parts = urlsplit(url or "")
            return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        except ValueError:
            return None
    return origin(first) is not None and origin(first) == origin(second)
