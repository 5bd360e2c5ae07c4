"""Who is using this browser session, checked on every rerun on the server.

A researcher logs in with a password; a respondent or an expert arrives with ``?token=...``.
The principal is re-resolved on every rerun (so revocation and deactivation act at once) and a
researcher session ends after ``SESSION_IDLE_MINUTES`` without activity.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

import streamlit as st

from casestudy import access, config, logs
from casestudy.access import Principal
from casestudy.db import Store
from casestudy.errors import UserError
from casestudy.migrate import get_store

PRINCIPAL_KEY = "_principal"
TOKEN_KEY = "_token_secret"
LAST_SEEN_KEY = "_last_seen"
NOTICE_KEY = "_notice"


@st.cache_resource(show_spinner=False)
def _cached_store(url: str) -> Store:
    # Never loads the demo by itself: an empty database shows the "create the administrator"
    # form; the demo is loaded only when asked for (`casestudy demo load`, which `make run` runs).
    return get_store(url)


def store() -> Store:
    return _cached_store(config.database_url())


def _resolve_token_principal(secret: str) -> Principal | None:
    try:
        return access.resolve_token(store(), secret)
    except UserError as exc:
        st.session_state[NOTICE_KEY] = exc.message
        return None


def current_principal() -> Principal | None:
    """The principal for this rerun; None for an anonymous visitor."""
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

    principal = st.session_state.get(PRINCIPAL_KEY)
    if principal is None:
        return None
    now = time.time()
    last_seen = st.session_state.get(LAST_SEEN_KEY, now)
    if now - last_seen > config.SESSION_IDLE_MINUTES * 60:
        logout("Your session ended after a period of inactivity; please log in again.")
        return None
    st.session_state[LAST_SEEN_KEY] = now
    with store().read() as session:
        fresh = access.current_researcher(session, principal.subject_id)
    if fresh is None:
        logout("Your account is no longer active.")
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
    principal = access.login(store(), username, password, client=_client_address())
    st.session_state[PRINCIPAL_KEY] = principal
    st.session_state[LAST_SEEN_KEY] = time.time()
    return principal


def logout(notice: str | None = None) -> None:
    for key in (PRINCIPAL_KEY, TOKEN_KEY, LAST_SEEN_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
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
