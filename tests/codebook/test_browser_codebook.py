"""Real browser: the codebook page shows the tree and a code's definition; an expert cannot reach it."""

from __future__ import annotations

import pytest

from casestudy import access
from casestudy import config
from casestudy import db as dbmod
from casestudy import study as studies

from tests.base.test_browser_shell import _wait_for_app

pytestmark = pytest.mark.browser


def test_researcher_opens_the_codebook(browser_server, browser_page):
    page = browser_page
    page.goto(browser_server["base"])
    _wait_for_app(page)
    page.get_by_role("textbox", name="User name").fill("admin")
    page.get_by_label("Password", exact=True).fill(config.DEMO_ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Codebook").click()
    page.get_by_role("heading", name="Codebook").wait_for()
    page.get_by_role("tab", name="team (16)").wait_for()
    page.get_by_text("When not to use:").first.wait_for()
    page.get_by_text("Do not code text on the category itself.").first.wait_for()  # the first code's definition


def test_expert_cannot_reach_the_codebook(browser_server, browser_page):
    store = dbmod.Store(browser_server["url"])
    with store.write() as session:
        _, secret = access.issue_token(session, studies.get_study(session).id, "expert", "panel_member", 1)
    store.dispose()
    page = browser_page
    page.goto(f"{browser_server['base']}/codebook?token={secret}")
    _wait_for_app(page)
    page.get_by_role("heading", name="Expert panel").wait_for()
    body = page.inner_text("body")
    assert "When not to use" not in body and "Primary clinician" not in body
