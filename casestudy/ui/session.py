"""Who is using this browser session, checked on every rerun on the server.

A researcher logs in with a password; a respondent or an expert arrives with ``?token=...``.
The principal is re-resolved on every rerun, so revocation, logout elsewhere, idle expiry and
deactivation act at once. Where a researcher's principal comes from, first match wins:

1. a ``?token=`` link (respondents and experts; it wins over a login in the same tab);
2. the browser session this tab logged in with (its row id, kept in server-side session state);
3. the session cookie of the browser (``casestudy.ui.server``): a reload (F5), a bookmark or a
   new tab of a signed-in browser finds its session there (``browser_sessions.resolve``);
4. a principal placed in session state by server code without a browser session: the AppTest
   tests, which cannot carry cookies, sign in this way (``PRINCIPAL_KEY``); it ends after
   ``SESSION_IDLE_MINUTES`` without activity and when its account is deactivated.

After a login the page collects its HttpOnly cookie with a one-time handover code
(:func:`sync_cookie`, ``components.cookie_sync``); after a logout it asks the server to clear
it. The session secret is never in a URL and never readable by page scripts.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

import streamlit as st

from casestudy import access, browser_sessions, config, logs, security
from casestudy.access import Principal
from casestudy.db import Store
from casestudy.errors import UserError
from casestudy.migrate import get_store
from casestudy.ui.components.cookie_sync import post_once
from casestudy.ui.server import LOGOUT_ROUTE, SESSION_ROUTE, session_cookie

PRINCIPAL_KEY = "_principal"
TOKEN_KEY = "_token_secret"
LAST_SEEN_KEY = "_last_seen"
NOTICE_KEY = "_notice"
SESSION_ID_KEY = "_browser_session_id"  # the browser_session row this tab signed in with
HANDOVER_KEY = "_session_handover"  # the one-time code the page exchanges for its cookie
HANDOVER_AT_KEY = "_session_handover_at"  # time.monotonic() of the login that issued it
#: How long a tab that just logged in shows "Signing you in" while its page collects the cookie.
COOKIE_WAIT_S = 4.0
CLEAR_COOKIE_KEY = "_clear_session_cookie"  # the page should ask the server to clear the cookie
REFUSED_COOKIE_KEY = "_refused_cookie"  # hash of a cookie already refused in this tab


@st.cache_resource(show_spinner=False)
def _cached_store(url: str) -> Store:
    # Never loads the demo by itself: an empty database shows the "create the administrator"
    # form; the demo is loaded only when asked for (`casestudy demo load`, which `make run` runs).
    return get_store(url)


def store() -> Store:
    """The server's database. If it cannot be opened or upgraded (a UserError: a bad URL, an
    upgrade rolled back), the page shows why and stops, instead of Streamlit's redacted error;
    nothing is cached, so the next rerun tries again once the database is repaired."""
    try:
        return _cached_store(config.database_url())
    except UserError as exc:
        st.error(exc.message)
        st.stop()


def _resolve_token_principal(secret: str) -> Principal | None:
    try:
        return access.resolve_token(store(), secret)
    except UserError as exc:
        st.session_state[NOTICE_KEY] = exc.message
        return None


def current_principal() -> Principal | None:
    """The principal for this rerun; None for an anonymous visitor (order: module docstring)."""
    url_token = st.query_params.get("token")
    if url_token:
        # A link always wins over a researcher login in the same browser tab.
        if st.session_state.get(TOKEN_KEY) != url_token:
            st.session_state.pop(PRINCIPAL_KEY, None)
        st.session_state[TOKEN_KEY] = url_token
    secret = st.session_state.get(TOKEN_KEY)
    if secret:
        principal = _resolve_token_principal(secret)
        if principal is None:
            st.session_state.pop(TOKEN_KEY, None)
            st.session_state.pop(PRINCIPAL_KEY, None)
        return principal

    session_id = st.session_state.get(SESSION_ID_KEY)
    if session_id is None:
        session_id = _session_from_cookie()
    if session_id is not None:
        try:
            return browser_sessions.resolve_id(store(), session_id)
        except browser_sessions.SessionEnded as exc:
            logout(exc.message, end_session=False)
            return None
    return _placed_principal()


def _session_from_cookie() -> int | None:
    """The id of the open session behind this browser's cookie (remembered for the tab), if any."""
    secret = _cookie_secret()
    if not secret:
        return None
    fingerprint = security.hash_token(secret)
    if st.session_state.get(REFUSED_COOKIE_KEY) == fingerprint:
        return None  # refused before in this tab (e.g. just logged out): not asked again
    try:
        session_id, _ = browser_sessions.resolve(store(), secret)
    except browser_sessions.SessionEnded as exc:
        st.session_state[REFUSED_COOKIE_KEY] = fingerprint
        st.session_state[CLEAR_COOKIE_KEY] = True
        if exc.message != browser_sessions.ENDED:
            st.session_state.setdefault(NOTICE_KEY, exc.message)
        return None
    st.session_state[SESSION_ID_KEY] = session_id
    return session_id


def _cookie_secret() -> str | None:
    try:
        return session_cookie(st.context.cookies)
    except Exception:  # noqa: BLE001 - no request context (AppTest): no cookie
        return None


def _placed_principal() -> Principal | None:
    """Rule 4 of the module docstring: a principal server code put in session state."""
    principal = st.session_state.get(PRINCIPAL_KEY)
    if principal is None:
        return None
    now = time.time()
    last_seen = st.session_state.get(LAST_SEEN_KEY, now)
    if now - last_seen > config.SESSION_IDLE_MINUTES * 60:
        logout(browser_sessions.IDLE)
        return None
    st.session_state[LAST_SEEN_KEY] = now
    with store().read() as session:
        fresh = access.current_researcher(session, principal.subject_id)
    if fresh is None:
        logout(browser_sessions.INACTIVE)
        return None
    st.session_state[PRINCIPAL_KEY] = fresh
    return fresh


def _client_address() -> str | None:
    """The browser's address as the server sees it (None where unknown, e.g. under AppTest)."""
    try:
        address = st.context.ip_address
        return address if isinstance(address, str) and address else None
    except Exception:  # noqa: BLE001 - an unknown address only skips the per-client throttle
        return None


def login(username: str, password: str) -> Principal:
    """Check the password (``access.login``: throttle, lockout, audit) and open a browser session.

    This tab is signed in at once; the page then collects the session cookie
    (:func:`sync_cookie`) so reloads and new tabs stay signed in.
    """
    st.session_state.pop(NOTICE_KEY, None)
    client = _client_address()
    principal = access.login(store(), username, password, client=client)
    started = browser_sessions.start(store(), principal, client=client)
    for key in (PRINCIPAL_KEY, LAST_SEEN_KEY, TOKEN_KEY, CLEAR_COOKIE_KEY):
        st.session_state.pop(key, None)
    st.session_state[SESSION_ID_KEY] = started.session_id
    st.session_state[HANDOVER_KEY] = started.handover
    st.session_state[HANDOVER_AT_KEY] = time.monotonic()
    return principal


def logout(notice: str | None = None, *, end_session: bool = True) -> None:
    """Sign this tab out: end its browser session on the server and have the page clear the cookie."""
    session_id = st.session_state.get(SESSION_ID_KEY)
    if end_session and session_id is not None:
        try:
            browser_sessions.end_id(store(), session_id, "logout")
        except Exception as exc:  # noqa: BLE001 - the tab is signed out whatever happens
            logs.log_unexpected(exc, where="logout")
    secret = _cookie_secret()
    if secret:  # the cookie this tab was opened with is ended too: do not sign in with it again
        st.session_state[REFUSED_COOKIE_KEY] = security.hash_token(secret)
    if secret or session_id is not None:
        # The tab that logged in never sees its own cookie (it came after the WebSocket opened).
        st.session_state[CLEAR_COOKIE_KEY] = True
    for key in (PRINCIPAL_KEY, TOKEN_KEY, LAST_SEEN_KEY, SESSION_ID_KEY, HANDOVER_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def sync_cookie() -> None:
    """Set or clear the browser's session cookie when a login or logout in this tab asks for it.

    Call on every rerun (the navigation does): it mounts the invisible poster until the server
    has answered. Without a browser (AppTest) nothing answers and the handover code expires.
    """
    handover = st.session_state.get(HANDOVER_KEY)
    if handover:
        post_once("session", SESSION_ROUTE, {"handover": handover}, handover[:12], on_done=lambda: _synced(HANDOVER_KEY))
    elif st.session_state.get(CLEAR_COOKIE_KEY):
        post_once("logout", LOGOUT_ROUTE, {}, "clear", on_done=lambda: _synced(CLEAR_COOKIE_KEY))


def _synced(key: str) -> None:
    st.session_state.pop(key, None)


def awaiting_cookie() -> bool:
    """Whether this tab has just logged in and its browser has not yet stored the session cookie.

    Until the cookie is stored a reload would open the login again, so the signed-in page is held
    back (:func:`hold_until_cookie`) for at most ``COOKIE_WAIT_S``. Never without a browser on the
    other end (AppTest has no request headers): nothing would answer there.
    """
    issued_at = st.session_state.get(HANDOVER_AT_KEY)
    if not st.session_state.get(HANDOVER_KEY) or issued_at is None or not st.context.headers:
        return False
    return time.monotonic() - issued_at < COOKIE_WAIT_S


def hold_until_cookie() -> None:
    """Show "Signing you in" instead of the page and end this run; the cookie poster's answer
    reruns the app (or, if the browser never answers, a timer does after ``COOKIE_WAIT_S``)."""
    st.caption("Signing you in…")

    @st.fragment(run_every=1.0)
    def _rerun_when_the_wait_is_over() -> None:
        if not awaiting_cookie():
            st.rerun()

    _rerun_when_the_wait_is_over()
    st.stop()


def show_notice() -> None:
    """Show why this tab was signed out (or a link refused) until the next login attempt.

    The notice stays through reruns: the cookie poster reruns the page right after a logout.
    """
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        st.warning(notice)


def principal_or_stop(kind: str = access.RESEARCHER, *, edit: bool = False, admin: bool = False) -> Principal:
    """Server-side guard at the top of every page: wrong role -> the page stops here."""
    principal = current_principal()
    try:
        if kind == access.RESEARCHER:
            return access.require_researcher(principal, edit=edit, admin=admin)
        return access.require_kind(principal, kind)
    except access.AccessDenied as exc:
        page = sys._getframe(1).f_globals.get("PAGE")  # the calling page module's PageSpec
        _log_refusal(exc, f"page {page.url_path}" if page is not None else "page")
        st.error(exc.message)
        st.stop()
        raise  # st.stop raises; this keeps type checkers calm


def _log_refusal(exc: access.AccessDenied, where: str) -> None:
    try:
        access.log_refusal(store(), exc.principal, where, exc.what or exc.message)
    except Exception as log_exc:  # noqa: BLE001 - never hide the refusal itself
        logs.log_unexpected(log_exc, where="log refusal")


@contextlib.contextmanager
def user_errors(where: str = "") -> Iterator[None]:
    """Show a UserError as one message; log anything unexpected and show its reference."""
    try:
        yield
    except access.AccessDenied as exc:  # the refused transaction has ended: log it now
        _log_refusal(exc, where)
        st.error(exc.message)
    except UserError as exc:
        st.error(exc.message)
    except Exception as exc:  # noqa: BLE001 - last resort for the UI
        if type(exc).__name__ in ("StopException", "RerunException"):
            raise
        reference = logs.log_unexpected(exc, where=where)
        st.error(logs.unexpected_message(reference))


FLASH_KEY = "_flash_messages"


def rerun_with(message: str, where: str = "") -> None:
    """After a successful write: keep ``message`` for :func:`show_flash` and rerun the page, so
    that every view on it that depends on the write shows the new state.

    Call it after the ``store().write()`` block has ended: a rerun inside the block would roll
    the transaction back.
    """
    st.session_state.setdefault(FLASH_KEY, {})[where] = message
    st.rerun()


def show_flash(where: str = "") -> None:
    """Show (once) the message that :func:`rerun_with` kept for ``where``."""
    message = st.session_state.get(FLASH_KEY, {}).pop(where, None)
    if message:
        st.success(message)
