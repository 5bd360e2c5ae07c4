"""The interview guide and the elicitation marks in a real browser: a whole turn marked after a
probe and handed back to the suggestion on the coding page, the guide beside the transcript."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from casestudy import db as dbmod
from casestudy.coding import elicitation
from casestudy.models import Interview
from tests.conftest import login_as_admin, save_shot, wait_for_app


def _marks_of_turn(url: str, file_name: str, turn: int) -> list[tuple[str, bool]]:
    store = dbmod.Store(url)
    try:
        with store.read() as session:
            interview = session.scalar(select(Interview).where(Interview.file_name == file_name))
            return [(c.elicitation, c.elicitation_manual) for c in elicitation.codings_in_turn(session, interview, turn)]
    finally:
        store.dispose()


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.browser
def test_mark_a_turn_by_hand_and_read_the_guide_beside_the_transcript(browser_server, browser_page):
    page = browser_page
    page.set_default_timeout(60_000)
    url = browser_server["url"]
    assert _marks_of_turn(url, "case-a-manager.txt", 1) == [("spontaneous", False), ("spontaneous", False)]
    login_as_admin(page, browser_server["base"])
    page.locator("[data-testid='stSidebarNav']").get_by_text("Coding", exact=True).click()
    page.get_by_role("heading", name="Coding").wait_for()
    page.locator("[data-testid='stButtonGroup']").get_by_text("Elicitation", exact=True).click()  # the mode (segmented control)
    page.get_by_text("Set for the whole turn").wait_for()
    _choose(page, "Mark", "after a probe")
    page.get_by_role("button", name="Set for the whole turn").click()
    page.get_by_text("Elicitation saved (2 coding(s)).").wait_for()
    assert _marks_of_turn(url, "case-a-manager.txt", 1) == [("probe", True), ("probe", True)]
    save_shot(page, "elicitation_turn_set.png", full_page=False)
    _choose(page, "Mark", "as suggested")
    page.get_by_role("button", name="Set for the whole turn").click()
    # The same message as before shows again: wait for the stored marks instead.
    deadline = time.time() + 30
    while _marks_of_turn(url, "case-a-manager.txt", 1) != [("spontaneous", False), ("spontaneous", False)]:
        assert time.time() < deadline, "the turn was not handed back to the suggestion"
        time.sleep(0.5)

    page.get_by_text("Elicitation saved (2 coding(s)).").wait_for()  # the page has rerun after the write
    wait_for_app(page)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Interviews", exact=True).click()
    page.get_by_role("heading", name="Interviews").wait_for()
    page.get_by_text("For respondents in the role manager.").wait_for()  # the Read tab, beside the transcript
    save_shot(page, "guide_beside_transcript.png", full_page=False)
    page.get_by_role("tab", name="Interview guide").click()
    page.get_by_role("button", name="DOCX").wait_for()
    assert page.get_by_text("5 topics · 5 open questions · 10 probes").is_visible()
