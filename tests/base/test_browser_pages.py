"""Every page, for each role, opens without an error element or a server-side exception.

The demo pass runs in a real browser (admin, coder, viewer, a respondent link, an expert link);
the empty database and the empty study run under AppTest, which is faster and equally strict
about error elements and exceptions.
"""

from __future__ import annotations

import time

import pytest

from casestudy import access, config, users
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.panel import members as panel_members
from casestudy.ui import navigation
from casestudy.ui.session import LAST_SEEN_KEY, PRINCIPAL_KEY
from tests.conftest import wait_for_app

ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
VIEWER = ("pages-viewer", "a long viewer secret 2026")
ADMIN_ONLY = {"accounts", "audit"}
RESEARCHER_PAGES = [s.url_path for s in navigation.researcher_pages()]


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


#: The web server's own noise when a browser tab closes while its websocket is busy (Starlette
#: refuses to send on a closed socket); it is not the app's and no user sees it.
SERVER_NOISE = "starlette.websockets.WebSocketDisconnected"
CONTINUATION = (" ", "\t", "Traceback", "During handling", "The above exception")


def _log_size(log_path) -> int:
    return log_path.stat().st_size if log_path.exists() else 0


def _log_problems(log_path, since: int = 0) -> list[str]:
    """The errors the server logged after byte ``since``: each as its first line and, for a
    traceback, its exception line; the :data:`SERVER_NOISE` tracebacks left out."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        log.seek(since)
        lines = log.read().splitlines()
    problems, i = [], 0
    while i < len(lines):
        first = lines[i]
        if not any(word in first for word in ("Traceback", "Error", "ERROR", "Exception", "unexpected failure")):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(CONTINUATION)):
            j += 1
        last = lines[j] if j > i + 1 and j < len(lines) else first
        if SERVER_NOISE not in last:
            problems.append(f"{first} ... {last}" if last != first else first)
        i = j + 1 if last != first else i + 1
    return problems


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(base)
    wait_for_app(page)
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator("[data-testid='stSidebarNav']").wait_for()
    _settle(page)


@pytest.mark.browser
@pytest.mark.parametrize("who", ["admin", "coder", "viewer"])
def test_every_researcher_page_renders_on_the_demo(browser_server, chromium_browser, who):
    if who == "viewer":
        store = dbmod.Store(browser_server["url"])
        with store.write("test") as session:
            if not any(u.username == VIEWER[0] for u in users.list_users(session)):
                users.add_user(session, VIEWER[0], VIEWER[1], "viewer")
                studies.add_member(session, studies.get_study(session), VIEWER[0], "viewer")
        store.dispose()
    username, password = {"admin": ("admin", config.DEMO_ADMIN_PASSWORD), "coder": ("coder1", config.DEMO_CODER_PASSWORD),
                          "viewer": VIEWER}[who]
    since = _log_size(browser_server["log"])
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        _login(page, browser_server["base"], username, password)
        links = page.locator("[data-testid='stSidebarNav'] a")
        paths = [href.rsplit("/", 1)[-1] for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")]
        expected = [p for p in RESEARCHER_PAGES if who == "admin" or p not in ADMIN_ONLY]
        assert [p or "overview" for p in paths] == expected
        problems = {}
        for path in expected[1:]:
            page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()
            _settle(page)
            errors = page.locator(ERRORS).all_inner_texts()
            if errors:
                problems[path] = errors
        assert problems == {}
    finally:
        context.close()
    assert _log_problems(browser_server["log"], since) == []


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["respondent", "expert"])
def test_link_pages_render_on_the_demo(browser_server, chromium_browser, kind):
    store = dbmod.Store(browser_server["url"])
    with store.write("test") as session:
        study = studies.get_study(session)
        if kind == "respondent":
            respondent = studies.get_case(session, study, "Case G").respondents[0]
            _, secret = access.issue_token(session, study.id, "respondent", "respondent", respondent.id)
        else:
            secret = panel_members.invite(session, study, panel_members.get_member(session, study, "E18"), "http://app")["link"].split("token=")[1]
    store.dispose()
    since = _log_size(browser_server["log"])
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{browser_server['base']}/?token={secret}")
        wait_for_app(page)
        _settle(page)
        page.locator("h1").first.wait_for()
        assert page.locator(ERRORS).all_inner_texts() == []
        assert page.locator("[data-testid='stSidebarNav']").count() == 0  # no researcher navigation for a link
    finally:
        context.close()
    assert _log_problems(browser_server["log"], since) == []


# --- empty database and empty study (AppTest) -------------------------------------------
def _page_script():
    import importlib

    import streamlit as st

    importlib.import_module(f"casestudy.ui.pages.{st.session_state['_page_module']}").render()


def _module_of(url_path: str) -> str:
    return next(m.__name__.rsplit(".", 1)[-1] for m in navigation._page_modules() if m.PAGE.url_path == url_path)


def test_first_start_page_on_an_empty_database(store, app_env):
    at = app_env(store)()
    at.run()
    assert not at.exception and not at.error


@pytest.mark.parametrize("role", ["admin", "coder", "viewer"])
def test_every_researcher_page_on_an_empty_study(store, app_env, role):
    from streamlit.testing.v1 import AppTest

    app_env(store)
    with store.write("test") as session:
        study = studies.create_study(session, "Empty", "en")
        account = users.add_user(session, f"u-{role}", "a long enough secret 2026", role)
        if role != "admin":  # the administrator opens every study; the others are its members
            studies.add_member(session, study, account)
        principal = access.researcher(account)
    problems = {}
    for path in RESEARCHER_PAGES:
        if path in ADMIN_ONLY and role != "admin":
            continue
        at = AppTest.from_function(_page_script, default_timeout=60)
        at.session_state[PRINCIPAL_KEY] = principal
        at.session_state[LAST_SEEN_KEY] = time.time()
        at.session_state["_page_module"] = _module_of(path)
        at.run()
        found = [str(e.value) for e in at.exception] + [e.value for e in at.error]
        if found:
            problems[path] = found
    assert problems == {}
