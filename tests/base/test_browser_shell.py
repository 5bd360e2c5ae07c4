"""Real browser (Debian chromium + Playwright): login, overview, and a token kept out."""

from __future__ import annotations

import pytest

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies

pytestmark = pytest.mark.browser


from tests.conftest import login_as_admin, wait_for_app as _wait_for_app


def test_admin_logs_in_and_sees_overview(browser_server, browser_page):
    page = browser_page
    login_as_admin(page, browser_server["base"])
    page.locator("[data-testid='stDataFrame']").wait_for()
    page.get_by_text("Case G").first.wait_for(state="attached")  # grid cells sit under a canvas
    assert page.get_by_role("link", name="Accounts").count() == 1


def test_expert_token_cannot_reach_researcher_pages(browser_server, browser_page):
    store = dbmod.Store(browser_server["url"])
    with store.write() as session:
        study = studies.get_study(session)
        _, secret = access.issue_token(session, study.id, "expert", "panel_member", 1)
    store.dispose()
    page = browser_page
    page.goto(f"{browser_server['base']}/?token={secret}")
    _wait_for_app(page)
    page.get_by_role("heading", name="Expert panel").wait_for()
    # Typing a researcher page's URL keeps the expert on their own page.
    for path in ("overview", "accounts", "cases", "audit"):
        page.goto(f"{browser_server['base']}/{path}?token={secret}")
        _wait_for_app(page)
        page.get_by_role("heading", name="Expert panel").wait_for()
        body = page.inner_text("body")
        assert "Case A" not in body and "Unit" not in body and "Accounts" not in body
        assert "MBT implementation" not in body
