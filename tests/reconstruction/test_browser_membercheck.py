"""Real browser: a respondent comments, reloads without losing text, and agrees; the other
respondent's link shows neither those comments, another case, nor any researcher page."""

from __future__ import annotations

import pytest

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.reconstruction import membercheck as reconstruction_membercheck

pytestmark = pytest.mark.browser

COMMENT = "The funding really was for one year only."


from tests.conftest import wait_for_app as _wait_for_app


def _links(url: str) -> dict[str, str]:
    store = dbmod.Store(url)
    with store.write("test") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case G")
        links = {}
        for respondent in case.respondents:
            _, links[respondent.role] = access.issue_token(session, study.id, "respondent", "respondent", respondent.id)
    store.dispose()
    return links


def test_respondent_reviews_reloads_and_agrees_privately(browser_server, browser_page):
    from playwright.sync_api import expect  # retries until the value is there (the rerun streams in)

    base, page = browser_server["base"], browser_page
    links = _links(browser_server["url"])
    page.goto(f"{base}/?token={links['therapist']}")
    _wait_for_app(page)
    page.get_by_role("heading", name="Your review").wait_for()
    box = page.get_by_label("Your comment on paragraph 2")
    box.fill(COMMENT)
    box.press("Tab")  # a text area commits on blur
    page.get_by_text("Saved.", exact=True).wait_for()

    page.reload()
    _wait_for_app(page)
    page.get_by_role("heading", name="Your review").wait_for()
    expect(page.get_by_label("Your comment on paragraph 2")).to_have_value(COMMENT)

    page.get_by_role("button", name="I agree with this version").click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Everyone agreed on this version").wait_for()
    store = dbmod.Store(browser_server["url"])
    with store.read() as session:
        case = studies.get_case(session, studies.get_study(session), "Case G")
        assert reconstruction_membercheck.agreed_version(session, case) is not None
    store.dispose()

    # The manager's link: same case, but not the therapist's comments, no other case, no researcher page.
    for path in ("", "overview", "reconstructions", "cases", "accounts", "audit"):
        page.goto(f"{base}/{path}?token={links['manager']}")
        _wait_for_app(page)
        page.get_by_role("heading", name="Your review").wait_for()
        page.get_by_text("Your answer:").wait_for()
        page.get_by_text("one-year funding opportunity", exact=False).wait_for()
        body = page.inner_text("body")
        assert "Case G" in body and "Starting MBT in a hurry" in body
        assert COMMENT not in body
        for forbidden in ("Case A", "Case F", "Unit 3", "Duinzicht", "Reconstructions and member check", "Accounts", "Log out"):
            assert forbidden not in body
