"""The HTTP side of the app: the session-cookie routes and the security headers (``st.App``).

``app.py`` serves the Streamlit script through ``st.App(routes=ROUTES, middleware=MIDDLEWARE)``;
``streamlit run app.py`` finds that ``app`` and runs it under uvicorn, so ``make run`` and the
tests start the same server.

Why a cookie route: a Streamlit script cannot set cookies, and an HttpOnly cookie cannot be
set by page JavaScript. So after a login the page's small script (``cookie_sync``) posts the
one-time handover code to ``POST /_cs/session``, whose response sets the session cookie:
``HttpOnly`` (page scripts never see the secret), ``SameSite=Strict`` (no other site can make
the browser send it; Strict does not break bookmarks or links from e-mail, because the script
reads the cookie from the page's own WebSocket request, which is same-site), ``Secure`` with
the ``__Host-`` name prefix when the request came over https, ``Path=/`` and a lifetime no
longer than the session's. ``POST /_cs/logout`` ends the session on the server and clears the
cookie. Both routes refuse a request whose ``Origin`` is neither this server's address nor the
configured public URL (CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casestudy import browser_sessions, config, logs, settings
from casestudy.migrate import get_store

COOKIE_NAME = "casestudy_session"
SECURE_COOKIE_NAME = "__Host-casestudy_session"  # only ever set with Secure, Path=/ and no Domain
COOKIE_NAMES = (SECURE_COOKIE_NAME, COOKIE_NAME)
SESSION_ROUTE = "/_cs/session"
LOGOUT_ROUTE = "/_cs/logout"
MAX_BODY_BYTES = 1024


def session_cookie(cookies) -> str | None:
    """The session secret among a request's cookies (either cookie name), if any."""
    for name in COOKIE_NAMES:
        value = cookies.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _store():
    return get_store(config.database_url())


def _scheme(request: Request) -> str:
    """``https`` when the browser used https, also behind a TLS-terminating reverse proxy.

    A forged ``X-Forwarded-Proto`` only makes the sender's own cookie Secure or its own Origin
    check stricter, so it is safe to believe here.
    """
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return "https" if forwarded == "https" or request.url.scheme == "https" else "http"


def _allowed_origin(request: Request) -> bool:
    """CSRF check: the request's Origin is this server's own address or the public URL."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    own = f"{_scheme(request)}://{request.headers.get('host', '')}"
    if settings.same_origin(origin, own):
        return True
    try:
        with _store().read() as session:
            public = settings.public_url(session).url
    except Exception:  # noqa: BLE001 - an unreadable setting only narrows what is allowed
        public = None
    return bool(public) and settings.same_origin(origin, public)


async def _json_body(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return {}
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _refused(reason: str, status: int = 403) -> JSONResponse:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


async def adopt_session(request: Request) -> Response:
    """``POST /_cs/session {"handover": code}``: set the session cookie for a fresh login."""
    if not _allowed_origin(request):
        return _refused("cross-origin request refused")
    data = await _json_body(request)
    try:
        secret = await run_in_threadpool(browser_sessions.adopt, _store(), str(data.get("handover") or ""))
    except Exception as exc:  # noqa: BLE001 - the browser only learns that it failed
        logs.log_unexpected(exc, where="session cookie")
        return _refused("the session could not be set", 500)
    if secret is None:
        return _refused("this sign-in code is not valid (used, expired or unknown)")
    response = JSONResponse({"ok": True})
    secure = _scheme(request) == "https"
    response.set_cookie(
        SECURE_COOKIE_NAME if secure else COOKIE_NAME, secret, max_age=config.SESSION_MAX_HOURS * 3600,
        path="/", secure=secure, httponly=True, samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def end_session(request: Request) -> Response:
    """``POST /_cs/logout``: end the cookie's session on the server and clear the cookie."""
    if not _allowed_origin(request):
        return _refused("cross-origin request refused")
    secret = session_cookie(request.cookies)
    if secret:
        try:
            await run_in_threadpool(browser_sessions.end, _store(), secret, "logout")
        except Exception as exc:  # noqa: BLE001 - the cookie is cleared anyway
            logs.log_unexpected(exc, where="logout route")
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    response.delete_cookie(SECURE_COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return response


ROUTES = [
    Route(SESSION_ROUTE, adopt_session, methods=["POST"]),
    Route(LOGOUT_ROUTE, end_session, methods=["POST"]),
]


# --- security headers -----------------------------------------------------------------
@cache
def _inline_script_hashes() -> tuple[str, ...]:
    """CSP hashes of the inline scripts in Streamlit's own index.html (read from the install)."""
    import streamlit

    index = Path(streamlit.__file__).parent / "static" / "index.html"
    try:
        html = index.read_text(encoding="utf-8")
    except OSError:
        return ()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    return tuple("'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'" for s in scripts)


def content_security_policy() -> str:
    """The CSP Streamlit works under: scripts only from this server (plus the blob: modules of
    components v2 and Streamlit's own inline bootstrap script, by hash); inline styles (the UI
    library writes them); no plugins, no framing by other sites, forms post only here."""
    script = " ".join(("'self'", "blob:", *_inline_script_hashes()))
    return "; ".join((
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self' blob: data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ))


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets the headers below (WebSockets pass through).

    ``Referrer-Policy: no-referrer`` matters most: respondents and experts open URLs that carry
    their link token, which must never leak to another site through the Referer header.
    """

    def __init__(self, app):
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"content-security-policy", content_security_policy().encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


MIDDLEWARE = [Middleware(SecurityHeaders)]
