"""Real browser: first start on an empty database, a study created through the form, the switcher."""

from __future__ import annotations

import pytest

from casestudy import db as dbmod
from casestudy import migrate

from tests.conftest import ROOT, require_chromium, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser


def _settled(page) -> None:
    wait_for_app(page)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && !document.querySelector('[data-stale=\"true\"]')",
        timeout=60_000)


@pytest.fixture
def empty_server(tmp_path):
    require_chromium()
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    store = dbmod.Store(url)
    migrate.upgrade(store)
    store.dispose()
    with streamlit_server(ROOT / "app.py", {"CASESTUDY_DATABASE_URL": url, "CASESTUDY_DEMO": "0"}, tmp_path / "streamlit.log") as base:
        yield {"base": base, "log": tmp_path / "streamlit.log"}



def _open_list(page, selectbox) -> None:
    """Open a selectbox's option list; at the foot of a long sidebar a click may only focus it,
    so the keyboard opens it then."""
    selectbox.scroll_into_view_if_needed()
    selectbox.click()
    if not page.get_by_role("listbox").is_visible():
        page.keyboard.press("ArrowDown")
    page.get_by_role("listbox").wait_for()

def test_first_start_then_two_studies_through_the_switcher(empty_server, browser_page):
    page = browser_page
    page.goto(empty_server["base"])
    _settled(page)
    page.get_by_label("Administrator user name").wait_for(timeout=90_000)  # a cold server imports every page first
    page.get_by_label("Administrator user name").fill("root")
    page.get_by_label("Password (at least 10 characters)").fill("a long admin secret")
    page.get_by_label("Repeat password").fill("a long admin secret")
    page.get_by_role("button", name="Create administrator").click()
    page.get_by_role("heading", name="Welcome to Casestudy").wait_for()
    page.get_by_role("button", name="Explore the demo study").wait_for()
    _settled(page)
    # A bad title keeps the other typed values; the message sits at the field.
    page.get_by_role("textbox", name="Language of the transcripts").fill("nl")
    page.keyboard.press("Tab")
    _settled(page)
    page.get_by_role("button", name="Create the study").click()
    page.get_by_text("a study needs a title").wait_for()
    assert page.get_by_role("textbox", name="Language of the transcripts").input_value() == "nl"
    page.get_by_role("textbox", name="Title").fill("Study one")
    page.keyboard.press("Tab")
    _settled(page)
    page.get_by_role("button", name="Create the study").click()
    page.get_by_role("heading", name="Study one").wait_for()
    _settled(page)
    assert "study=1" in page.url
    # A second study from the switcher's "New study…".
    switcher = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
    _open_list(page, switcher)
    page.get_by_role("option", name="New study…").click()
    page.get_by_role("heading", name="Start a new study").wait_for()
    _settled(page)
    page.get_by_role("textbox", name="Title").fill("Study two")
    page.keyboard.press("Tab")
    _settled(page)
    page.get_by_role("button", name="Create the study").click()
    page.get_by_text("Started the study “Study two”").wait_for()
    _settled(page)
    assert "study=2" in page.url
    _open_list(page, switcher)
    options = page.get_by_role("option").all_inner_texts()
    assert options == ["Study one", "Study two", "New study…"]
    page.get_by_role("option", name="Study one").click()
    page.get_by_role("heading", name="Study one").wait_for()
    _settled(page)
    assert "study=1" in page.url
    # Every researcher page on the empty study: no error element.
    for path in ("cases", "interviews", "codebook", "coding"):
        page.locator(f"[data-testid='stSidebarNav'] a[href*='/{path}?'], [data-testid='stSidebarNav'] a[href$='/{path}']").first.click()
        page.wait_for_url(f"**/{path}**")
        _settled(page)
        assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0, path
    assert "Traceback" not in empty_server["log"].read_text()
