"""Real browser: a retrieved segment's link opens the coding page on that interview, at the passage."""

from __future__ import annotations

import re

import pytest

from casestudy import db as dbmod
from casestudy.models import Interview

from tests.conftest import login_as_admin

pytestmark = pytest.mark.browser


def test_jump_from_retrieval_to_the_transcript(browser_server, browser_page):
    page = browser_page
    page.set_default_timeout(90_000)  # the demo's retrieval page renders ~700 segments' worth of data
    login_as_admin(page, browser_server["base"])
    page.get_by_role("link", name="Retrieval and matrices").click()
    first = page.get_by_role("link", name="Open in transcript").first
    first.wait_for()
    interview_id, start, end = map(int, re.search(r"interview=(\d+)&at=(\d+)-(\d+)", first.get_attribute("href")).groups())
    store = dbmod.Store(browser_server["url"])
    with store.read() as session:
        interview = session.get(Interview, interview_id)
        name, passage = interview.file_name, interview.text[start:end]
    store.dispose()
    first.click()
    page.get_by_role("heading", name="Coding").wait_for()
    assert re.search(r"/coding\?interview=\d+&at=\d+-\d+", page.url)
    # the workbench scrolls to the passage and flashes exactly that span
    page.wait_for_function(f"() => document.querySelector('[data-testid=coding-workbench]')?.dataset.flash === '{start}-{end}'")
    assert passage[:40].split("\n")[0] in page.locator("[data-testid='span-selector']").inner_text()
    chosen = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first  # not the sidebar study switcher
    shown = chosen.inner_text() + " ".join(i.input_value() for i in chosen.locator("input").all()) + (chosen.locator("input").first.get_attribute("aria-label") or "")
    assert name in shown, shown  # the interview the link named
    # still signed in (the link navigates inside the session)
    page.get_by_text("Signed in as").wait_for()
