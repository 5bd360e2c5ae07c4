"""Real browser: a researcher stays signed in across F5, bookmarks and new tabs, on every page.

The server is the one ``make run`` starts (``streamlit run app.py``, an ``st.App`` with the
session-cookie routes). Logout and server-side expiry end the session: its cookie no longer
signs anyone in.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from casestudy import access, config, security, users
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.models import BrowserSession, utcnow
from casestudy.ui import navigation
from casestudy.ui.server import COOKIE_NAME
from tests.base.test_browser_pages import ADMIN_ONLY, RESEARCHER_PAGES, VIEWER
from tests.conftest import server_log_problems, login_as_admin, wait_for_app

pytestmark = pytest.mark.browser

ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


PATIENCE_MS = 60_000  # a loaded 2-core machine renders a page in seconds, not milliseconds


def _patient(page):
    page.set_default_timeout(PATIENCE_MS)
    return page


def _settled(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _signed_in_on(page, path: str) -> None:
    """The sidebar shows the account and marks ``path`` as the page on screen."""
    page.get_by_text("Signed in as").wait_for()
    current = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']")
    href = current.get_attribute("href")
    expected = "/" if path == RESEARCHER_PAGES[0] else f"/{path}"
    assert href.endswith(expected), (path, href)


def _session_cookie(context) -> dict:
    cookies = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert cookies, "no session cookie was set"
    return cookies[0]


def _wait_for_cookie(page) -> dict:
    """The session cookie, once the page has collected it (generous: a loaded machine is slow)."""
    for _ in range(300):
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            break
        page.wait_for_timeout(100)
    return _session_cookie(page.context)


def _no_page_not_found(page, where: str) -> None:
    assert "Page not found" not in page.inner_text("body"), where
    assert page.locator(ERRORS).all_inner_texts() == [], where


def _role_login(page, base: str, who: str) -> None:
    if who == "admin":
        login_as_admin(page, base)
        return
    username, password = {"coder": ("coder1", config.DEMO_CODER_PASSWORD), "viewer": VIEWER}[who]
    page.goto(base)
    wait_for_app(page)
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Signed in as").wait_for()


def _add_viewer(url: str) -> None:
    store = dbmod.Store(url)
    try:
        with store.write("test") as session:
            if not any(u.username == VIEWER[0] for u in users.list_users(session)):
                users.add_user(session, VIEWER[0], VIEWER[1], "viewer")
                studies.add_member(session, studies.get_study(session), VIEWER[0], "viewer")
    finally:
        store.dispose()


@pytest.mark.timeout(900)  # 20 pages loaded twice: minutes on a loaded machine, over the default 300 s
@pytest.mark.parametrize("who", ["admin", "coder", "viewer"])
def test_every_page_survives_reload_and_bookmark(browser_server, browser_page, who):
    """Each page of the role, opened by its URL (a bookmark: a new Streamlit session) and then
    reloaded (F5), shows that page, signed in, with the study of the URL; never "Page not found"."""
    page = _patient(browser_page)
    base = browser_server["base"]
    _add_viewer(browser_server["url"])
    _role_login(page, base, who)
    cookie = _wait_for_cookie(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["value"] not in page.url
    study_id = _demo_study_id(browser_server["url"])
    titles = {spec.url_path: spec.title for spec in navigation.researcher_pages()}
    for path in [p for p in RESEARCHER_PAGES if who == "admin" or p not in ADMIN_ONLY]:
        page.goto(f"{base}/{path}?study={study_id}")
        # F5 is a page load like a bookmark's; the other roles' pages are each loaded once.
        for how in ("bookmark", "F5") if who == "admin" else ("bookmark",):
            _settled(page)
            _signed_in_on(page, path)
            current = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']")
            assert current.inner_text().strip() == titles[path], (path, how)
            page.locator("h1").first.wait_for()
            _no_page_not_found(page, f"{path} ({how})")
            if path not in ADMIN_ONLY:  # account pages are not about a study
                assert f"study={study_id}" in page.url, (path, how, page.url)
            if how == "bookmark":
                page.reload()
    assert not server_log_problems(browser_server["log"].read_text(encoding="utf-8"))


def _demo_study_id(url: str) -> int:
    store = dbmod.Store(url)
    try:
        with store.read() as session:
            return studies.get_study(session).id
    finally:
        store.dispose()


@pytest.mark.parametrize("path, heading", [("panel", "Expert panel"), ("review", "Your review"), ("", None)])
def test_link_pages_survive_reload_and_their_own_path(browser_server, browser_page, path, heading):
    """An expert's or respondent's link opened under its page's own path, and reloaded, is their page."""
    store = dbmod.Store(browser_server["url"])
    try:
        with store.write("test") as session:
            study = studies.get_study(session)
            if heading == "Your review":
                respondent = studies.get_case(session, study, "Case G").respondents[0]
                _, secret = access.issue_token(session, study.id, "respondent", "respondent", respondent.id)
            else:
                _, secret = access.issue_token(session, study.id, "expert", "panel_member", 1)
    finally:
        store.dispose()
    page = _patient(browser_page)
    page.goto(f"{browser_server['base']}/{path}?token={secret}")
    for how in ("link", "F5"):
        _settled(page)
        page.get_by_role("heading", name=heading or "Expert panel").first.wait_for()
        _no_page_not_found(page, f"{path} ({how})")
        assert f"token={secret}" in page.url
        if how == "link":
            page.reload()


@pytest.mark.parametrize("path, title", [
    ("overview", "Overview"),
    ("analysis", "Retrieval and matrices"),
    ("interviews?case=Case%20C", "Interviews"),
    ("cases", "Cases and respondents"),
    ("reconstructions?case=Case%20D", "Reconstructions"),
    ("panel", "Expert panel"),  # the experts' path: a researcher means the researchers' page
    ("login", "Overview"),
])
def test_bookmark_opened_signed_out_shows_the_page_after_sign_in(browser_server, browser_page, path, title):
    """A signed-out bookmark shows the login under its URL, then the page itself with the URL's
    study and case; F5 keeps both."""
    page = _patient(browser_page)
    base = browser_server["base"]
    study_id = _demo_study_id(browser_server["url"])
    separator = "&" if "?" in path else "?"
    page.goto(f"{base}/{path}{separator}study={study_id}")
    _settled(page)
    _no_page_not_found(page, f"{path} (signed out)")
    page.get_by_role("textbox", name="User name").fill("admin")
    page.get_by_label("Password", exact=True).fill(config.DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for how in ("sign-in", "F5"):
        _settled(page)
        page.get_by_text("Signed in as").wait_for()
        current = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']")
        assert current.inner_text().strip() == title, (path, how)
        _no_page_not_found(page, f"{path} ({how})")
        assert f"study={study_id}" in page.url, (path, how, page.url)
        if "case=" in path:
            case = path.split("case=")[1].replace("%20", " ")
            _picker_shows(page, case)
            assert "case=Case" in page.url, (path, how, page.url)
        if how == "sign-in":
            _wait_for_cookie(page)  # F5 before the page collected its cookie would sign out
            page.reload()


def _picker_shows(page, value: str, label: str = "Case") -> None:
    """Wait until the main area's picker ``label`` shows ``value`` (as text or as its input's value)."""
    page.wait_for_function("""([wanted, label]) => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stSelectbox']")]
        .filter(box => (box.querySelector('label')?.innerText || '').trim() === label)
        .some(box => (box.innerText + ' ' + [...box.querySelectorAll('input')].map(i => i.value).join(' ')).includes(wanted))""",
                           arg=[value, label], timeout=PATIENCE_MS)


def _signed_in_at(browser_page, base: str, path: str):
    """The patient page, signed in as the administrator (cookie stored), settled on ``path``."""
    page = _patient(browser_page)
    login_as_admin(page, base)
    _wait_for_cookie(page)
    page.goto(f"{base}/{path}")
    _settled(page)
    return page


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the main area's picker whose text holds ``label``."""
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option").filter(has_text=option).first.click()


def test_case_chosen_in_a_picker_stays_after_reload(browser_server, browser_page):
    """The case picker's choice is kept in the URL (?case=), so F5 reopens the same case."""
    page = _signed_in_at(browser_page, browser_server["base"], "reconstructions")
    _choose(page, "Case", "Case E")
    page.wait_for_function("() => location.search.includes('case=Case')", timeout=PATIENCE_MS)
    _settled(page)
    assert "Case+E" in page.url or "Case%20E" in page.url, page.url
    page.reload()
    _settled(page)
    _picker_shows(page, "Case E")


def test_interview_chosen_on_the_coding_page_stays_after_reload(browser_server, browser_page):
    """The coding page keeps its interview in the URL (?interview=), so F5 reopens it (it
    reopened the first interview), and choosing an interview keeps the mode the coder is in."""
    page = _signed_in_at(browser_page, browser_server["base"], "coding")
    mode = page.locator("[data-testid='stMain'] [data-testid='stButtonGroup']").get_by_role("radio", name="Sentences")
    mode.click()
    _settled(page)
    _choose(page, "Interview", "Ruben de Wit")
    page.wait_for_function("() => location.search.includes('interview=')", timeout=PATIENCE_MS)
    _settled(page)
    _picker_shows(page, "Ruben de Wit", "Interview")
    assert mode.get_attribute("aria-checked") == "true"
    page.reload()
    _settled(page)
    _picker_shows(page, "Ruben de Wit", "Interview")
    assert "interview=" in page.url and "study=" in page.url, page.url


def test_reload_at_once_after_the_login_stays_signed_in(browser_server, browser_page):
    """The signed-in page shows only once the cookie is stored: a reload the moment it appears
    (a user's quick F5, a script's goto) keeps the login."""
    page = _patient(browser_page)
    base = browser_server["base"]
    login_as_admin(page, base)  # returns when the overview shows
    assert _session_cookie(page.context)  # already there, without waiting
    page.goto(f"{base}/codebook")
    _settled(page)
    _signed_in_on(page, "codebook")


def test_new_tab_stays_signed_in_and_logout_ends_it(browser_server, browser_page):
    page = browser_page
    base = browser_server["base"]
    login_as_admin(page, base)
    cookie = _wait_for_cookie(page)
    tab = page.context.new_page()
    tab.goto(f"{base}/codebook")
    _settled(tab)
    _signed_in_on(tab, "codebook")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("textbox", name="User name").wait_for()
    for _ in range(50):  # the page asks the server to clear the cookie
        if not any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            break
        page.wait_for_timeout(100)
    assert not any(c["name"] == COOKIE_NAME for c in page.context.cookies())
    page.reload()
    _settled(page)
    page.get_by_role("textbox", name="User name").wait_for()

    # The other tab is signed out on its next rerun (the session ended on the server).
    tab.locator("[data-testid='stSidebarNav'] a[href$='/cases']").click()
    tab.get_by_role("textbox", name="User name").wait_for()

    # The old cookie, replayed by another browser, signs no one in.
    replay = page.context.browser.new_context()
    try:
        replay.add_cookies([{key: cookie[key] for key in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
        other = replay.new_page()
        other.goto(f"{base}/cases")
        other.get_by_role("textbox", name="User name").wait_for()
        assert other.get_by_text("Signed in as").count() == 0
    finally:
        replay.close()

    store = dbmod.Store(browser_server["url"])
    try:
        with store.read() as session:
            ended = session.scalars(select(BrowserSession).where(BrowserSession.end_reason == "logout")).all()
        assert ended and all(row.ended_at is not None for row in ended)
    finally:
        store.dispose()


def test_idle_session_is_refused_by_the_server(browser_server, browser_page):
    page = browser_page
    base = browser_server["base"]
    login_as_admin(page, base)
    cookie = _wait_for_cookie(page)
    _settled(page)
    store = dbmod.Store(browser_server["url"])
    try:
        with store.write() as session:  # the last activity was long ago
            newest = session.scalar(select(BrowserSession.id).where(
                BrowserSession.session_hash == security.hash_token(cookie["value"])))
            session.execute(update(BrowserSession).where(BrowserSession.id == newest)
                            .values(last_seen_at=utcnow() - dt.timedelta(hours=3)))
        page.reload()
        _settled(page)
        page.get_by_text("period of inactivity").wait_for()
        page.get_by_role("textbox", name="User name").wait_for()
        with store.read() as session:
            assert session.get(BrowserSession, newest).end_reason == "idle"
    finally:
        store.dispose()
