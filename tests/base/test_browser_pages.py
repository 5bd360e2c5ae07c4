"""Every researcher page opens in a real browser on the demo study without an error."""

from __future__ import annotations

import pytest

from tests.conftest import login_as_admin

pytestmark = pytest.mark.browser

RESEARCHER_PAGES = ["overview", "cases", "interviews", "codebook", "coding", "reconstructions", "analysis", "agreement", "masking", "expert-panel", "reports", "accounts", "audit"]


def test_every_researcher_page_renders(browser_server, browser_page):
    page = browser_page
    login_as_admin(page, browser_server["base"])
    problems = {}
    for path in RESEARCHER_PAGES:
        # Navigate through the sidebar (a fresh URL would start a new, logged-out session).
        if path != "overview":  # the default page is already open (its link is the bare URL)
            page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
        errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").all_inner_texts()
        if errors:
            problems[path] = errors
    assert problems == {}
