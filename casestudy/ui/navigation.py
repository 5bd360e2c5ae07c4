"""Pages by role. Each module in ``casestudy.ui.pages`` declares ``PAGE`` and ``render()``.

Only the pages of the current principal's audience are handed to ``st.navigation``, so a page
outside the role does not exist for that session (typing its URL lands on the role's default
page); each page also checks the principal itself at the top. Every page has a stable URL
(``PageSpec.url_path``): a signed-in browser that reloads or opens a bookmark lands on it (the
session cookie signs it in on the first run). A visitor who is not signed in sees the login
form under that same URL (every page path is then an alias of the login page), and once signed
in the same URL shows the page itself. :func:`route_page_load` makes the paths Streamlit alone
would answer with "Page not found" (the first page's own path, such as ``/overview``, a page's
``aliases``, a page outside the role) reach a page. A request for a page outside the
role, by URL or by in-session navigation, is logged as a refusal (:func:`log_refused_request`).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import streamlit as st

from casestudy import access, logs
from casestudy.ui import pages as pages_package
from casestudy.ui.current_study import study_switcher
from casestudy.ui.session import awaiting_cookie, current_principal, hold_until_cookie, store, sync_cookie
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
    #: Other paths that open this page when typed or bookmarked (e.g. a researcher's ``/panel``).
    aliases: tuple[str, ...] = ()


def _page_modules():
    modules = []
    for info in pkgutil.iter_modules(pages_package.__path__):
        module = importlib.import_module(f"{pages_package.__name__}.{info.name}")
        if hasattr(module, "PAGE") and hasattr(module, "render"):
            modules.append(module)
    return sorted(modules, key=lambda m: (m.PAGE.order, m.PAGE.title))


def researcher_pages() -> list[PageSpec]:
    """The researcher's pages in sidebar order (the chain's order: study, interviews, codebook,
    coding, analysis, reconstruction, masking, panel, reports, exchange, administration)."""
    return [m.PAGE for m in _page_modules() if {"researcher", "admin"}.intersection(m.PAGE.audience)]


def page_link(url_path: str, label: str | None = None, **kwargs) -> None:
    """A link to the navigation's page ``url_path``, labelled with the page's title unless
    ``label`` is given (pages are callables, so st.page_link needs an st.Page with the same
    url_path; it matches the page by that path)."""
    module = next(m for m in _page_modules() if m.PAGE.url_path == url_path)
    spec: PageSpec = module.PAGE
    page = st.Page(module.render, title=spec.title, url_path=spec.url_path, icon=spec.icon)
    st.page_link(page, label=label or spec.title, **kwargs)


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
    modules = _page_modules()
    for module in modules:
        spec: PageSpec = module.PAGE
        if not audience.intersection(spec.audience):
            continue
        page = st.Page(module.render, title=spec.title, url_path=spec.url_path, icon=spec.icon, default=first)
        first = False
        sections.setdefault(spec.section, []).append(page)
    if ANONYMOUS in audience:
        # Sign in first, under the page's own URL: after the login the same URL shows the page.
        entry = next(m for m in modules if ANONYMOUS in m.PAGE.audience)
        section = sections.setdefault(entry.PAGE.section, [])
        section.extend(st.Page(entry.render, title=entry.PAGE.title, url_path=m.PAGE.url_path)
                       for m in modules if ANONYMOUS not in m.PAGE.audience)
    return sections


def page_for(url_path: str):
    """The ``st.Page`` of the page module with this url_path (for ``st.page_link`` / ``st.switch_page``)."""
    module = next(m for m in _page_modules() if m.PAGE.url_path == url_path)
    return st.Page(module.render, title=module.PAGE.title, url_path=url_path, icon=module.PAGE.icon)


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


def _known_paths() -> list[str]:
    """Every page path and alias of every role."""
    return [path for m in _page_modules() for path in (m.PAGE.url_path, *m.PAGE.aliases)]


def route_page_load(sections: dict[str, list]) -> None:
    """Point a request at the page it names, so no bookmark ends in "Page not found".

    Streamlit finds a page by path only among the non-default pages: the first page of the
    navigation answers at ``/`` alone, so a bookmarked or reloaded ``/overview`` (or ``/login``,
    or an expert's ``/panel``) would be "Page not found". Such a request (a page load names its
    page by path; in-session navigation and the first run after a login by hash) is pointed at
    the page by its hash: the default page for its own path, a page of this role for one of its
    ``aliases``, and the default page for the path of a page outside the role (after
    :func:`log_refused_request` logged it). An unknown path still gets Streamlit's "Page not found".
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    manager = getattr(get_script_run_ctx(), "pages_manager", None)
    if manager is None:
        return
    pages = [page for section in sections.values() for page in section]
    wanted_hash, wanted_name = manager.intended_page_script_hash, manager.intended_page_name
    if wanted_hash:
        if any(page._script_hash == wanted_hash for page in pages):
            return
        path = next((p for p in _known_paths() if calc_hash(p) == wanted_hash), None)
    else:
        path = wanted_name or None
        if path is None or any(page.url_path == path for page in pages):
            return  # the app's root, or a page Streamlit finds by its path
    if path is None:
        return
    by_path = {page._url_path: page for page in pages}
    target = by_path.get(path) or next(
        (by_path[m.PAGE.url_path] for m in _page_modules() if path in m.PAGE.aliases and m.PAGE.url_path in by_path), None)
    if target is None and path in _known_paths():
        target = next(page for page in pages if page._default)
    if target is not None:
        manager.set_script_intent(target._script_hash, "")


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
        if ANONYMOUS in spec.audience or any(path in m.PAGE.aliases and audience.intersection(m.PAGE.audience)
                                             for m in _page_modules()):
            return  # the login page (a signed-in bookmark of it) or an alias of one of the role's pages
        if not audience.intersection(spec.audience):
            access.log_refusal(store(), principal, f"page {path}", "page outside the role (navigation)")
    except Exception as exc:  # noqa: BLE001 - the page still falls back; never hide it
        logs.log_unexpected(exc, where="log refused page")


def build_navigation():
    st.set_page_config(page_title="Casestudy", layout="wide")
    principal = current_principal()
    log_refused_request(principal)
    sections = pages_for(principal)
    route_page_load(sections)
    is_researcher = principal is not None and principal.is_researcher
    navigation = st.navigation(sections, position="sidebar" if is_researcher else "hidden", expanded=True)
    if is_researcher:
        study_switcher(principal)
        sidebar_account(principal)
    # Always the first block of the page, empty or not, so the page's own elements keep their
    # places when the cookie poster comes and goes (no stale copies while it reruns).
    with st.container():
        sync_cookie()
    if awaiting_cookie():  # the page after a login waits for its cookie: F5 then keeps the login
        hold_until_cookie()
    return navigation
