"""Pages by role. Each module in ``casestudy.ui.pages`` declares ``PAGE`` and ``render()``.

Only the pages of the current principal's audience are handed to ``st.navigation``, so a page
outside the role does not exist for that session (typing its URL lands on the role's default
page); each page also checks the principal itself at the top. A request for a page outside the
role, by URL or by in-session navigation, is logged as a refusal (:func:`log_refused_request`).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import streamlit as st

from casestudy import access, logs
from casestudy.ui import pages as pages_package
from casestudy.ui.session import current_principal, store
from casestudy.ui.widgets import sidebar_account

ANONYMOUS = "anonymous"
AUDIENCE_KEY = "_navigation_audience"


@dataclass(frozen=True)
class PageSpec:
    title: str
    url_path: str
    audience: tuple[str, ...]  # anonymous, researcher, admin, respondent, expert
    section: str = ""
    order: int = 100
    icon: str | None = None


def _page_modules():
    modules = []
    for info in pkgutil.iter_modules(pages_package.__path__):
        module = importlib.import_module(f"{pages_package.__name__}.{info.name}")
        if hasattr(module, "PAGE") and hasattr(module, "render"):
            modules.append(module)
    return sorted(modules, key=lambda m: (m.PAGE.order, m.PAGE.title))


def audience_of(principal) -> set[str]:
    if principal is None:
        return {ANONYMOUS}
    if principal.is_researcher:
        return {"researcher", "admin"} if principal.is_admin else {"researcher"}
    return {principal.kind}


def pages_for(principal) -> dict[str, list]:
    audience = audience_of(principal)
    sections: dict[str, list] = {}
    first = True
    for module in _page_modules():
        spec: PageSpec = module.PAGE
        if not audience.intersection(spec.audience):
            continue
        page = st.Page(module.render, title=spec.title, url_path=spec.url_path, icon=spec.icon, default=first)
        first = False
        sections.setdefault(spec.section, []).append(page)
    return sections


def requested_page() -> str | None:
    """The url_path of the page this rerun asks for (by URL or by page hash), if it names one."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    ctx = get_script_run_ctx()
    manager = getattr(ctx, "pages_manager", None)
    if manager is None:
        return None
    wanted_hash, wanted_name = manager.intended_page_script_hash, manager.intended_page_name
    for module in _page_modules():
        path = module.PAGE.url_path
        if (wanted_hash and wanted_hash == calc_hash(path)) or (not wanted_hash and wanted_name == path):
            return path
    return None


def log_refused_request(principal) -> None:
    """Log a request for a page outside the principal's role (before navigation falls back).

    The first rerun after a login, a logout or a link still names the previous role's page;
    that is not an attempt, so nothing is logged when the audience has just changed.
    """
    audience = audience_of(principal)
    previous = st.session_state.get(AUDIENCE_KEY)
    st.session_state[AUDIENCE_KEY] = sorted(audience)
    if previous is not None and previous != sorted(audience):
        return
    try:
        path = requested_page()
        if path is None:
            return
        spec = next(m.PAGE for m in _page_modules() if m.PAGE.url_path == path)
        if not audience.intersection(spec.audience):
            access.log_refusal(store(), principal, f"page {path}", "page outside the role (navigation)")
    except Exception as exc:  # noqa: BLE001 - the page still falls back; never hide it
        logs.log_unexpected(exc, where="log refused page")


def build_navigation():
    st.set_page_config(page_title="Casestudy", layout="wide")
    principal = current_principal()
    log_refused_request(principal)
    sections = pages_for(principal)
    is_researcher = principal is not None and principal.is_researcher
    navigation = st.navigation(sections, position="sidebar" if is_researcher else "hidden", expanded=True)
    if is_researcher:
        sidebar_account(principal)
    return navigation
