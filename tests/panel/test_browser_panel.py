"""Real browser: an expert opens the link, rates two cases, reloads, finds the answers, finishes, submits."""

from __future__ import annotations

import time

import pytest

from casestudy import access
from casestudy import db as dbmod
from casestudy.masking import workflow as masking_workflow
from casestudy import study as studies
from casestudy.panel import members
from casestudy.panel import answers as panel_answers

pytestmark = pytest.mark.browser

ITEMS = ("combination", "organization", "team", "therapist")


def _wait(page):
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_load_state("networkidle")


def _radio_groups(page):
    return page.locator("[data-testid='stRadio']")


def _saved_count(store, principal) -> int:
    with store.read() as session:
        return sum(1 for v in panel_answers.expert_view(session, principal).answers.values() if v is not None)


def _rate_case(page, scores, store, principal):
    """Rate the four statements of the case on screen (radio groups 1..4; group 0 picks the part).

    After each click, wait until the server has saved it (the autosave runs in the click's rerun).
    """
    for index, score in enumerate(scores, start=1):
        before = _saved_count(store, principal)
        _radio_groups(page).nth(index).get_by_text(str(score), exact=True).click()
        deadline = time.time() + 15
        while _saved_count(store, principal) == before and time.time() < deadline:
            time.sleep(0.1)
        assert _saved_count(store, principal) == before + 1


def _checked(page, index):
    checked = _radio_groups(page).nth(index).locator("input[type='radio']:checked")
    return checked.first.get_attribute("value") if checked.count() else None


def _ratings_shown(page, expected, timeout=15.0):
    """The checked option (0-based option index = score) of statements 1-4, once the page has settled."""
    deadline = time.time() + timeout
    while True:
        shown = [_checked(page, i) for i in range(1, 5)]
        if shown == expected or time.time() > deadline:
            return shown
        time.sleep(0.2)


def test_expert_rates_reloads_finishes_and_submits(browser_server, browser_page):
    store = dbmod.Store(browser_server["url"])
    with store.write("tester") as session:
        study = studies.get_study(session)
        member = members.get_member(session, study, "E18")  # invited, never opened
        secret = members.invite(session, study, member, browser_server["base"])["link"].split("token=")[1]
        others = [m.name for m in members.list_members(session, study)]
        register = [e.term for e in masking_workflow.list_entries(session, study)]
        internal = [c.internal_label for c in studies.list_cases(session, study)]
        orgs = sorted({c.organisation.name for c in studies.list_cases(session, study) if c.organisation})
    principal = access.resolve_token(store, secret)
    page = browser_page
    page.goto(f"{browser_server['base']}/?token={secret}")
    _wait(page)
    page.get_by_role("heading", name="Expert panel").wait_for()
    with store.read() as session:
        order = [c.label for c in panel_answers.expert_view(session, principal).cases]
    page.get_by_role("heading", name=order[0], exact=True).wait_for()
    _rate_case(page, (4, 3, 5, 2), store, principal)
    page.get_by_role("button", name=f"Next: 2. {order[1]}").click()
    page.get_by_role("heading", name=order[1], exact=True).wait_for()
    _rate_case(page, (5, 4, 4, 3), store, principal)

    # A reload (or another device with the same link) finds every answer again.
    page.reload()
    _wait(page)
    page.get_by_role("heading", name=order[0], exact=True).wait_for()
    page.get_by_text("Progress: 8 of 30 required answers").wait_for()
    assert _ratings_shown(page, ["4", "3", "5", "2"]) == ["4", "3", "5", "2"]
    page.get_by_role("button", name=f"Next: 2. {order[1]}").click()
    page.get_by_role("heading", name=order[1], exact=True).wait_for()
    assert _ratings_shown(page, ["5", "4", "4", "3"]) == ["5", "4", "4", "3"]
    with store.read() as session:
        view = panel_answers.expert_view(session, principal)
    assert view.answers[f"team|{order[0]}"] == 5 and view.status == "in_progress"

    # The remaining cases are rated through the library (as from a second device); the lists in the browser.
    with store.write("tester") as session:
        for label in order[2:]:
            for key in ITEMS:
                panel_answers.save_answer(session, principal, key, 4, label)
    _radio_groups(page).first.get_by_text("Determinants", exact=True).click()
    box = page.get_by_label("Looking at all cases together")
    box.fill("leadership\nbudget\ntraining")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Confirm this order").wait_for()
    page.get_by_role("button", name="Move up").nth(2).click()  # training one place up
    page.get_by_text("This order is saved.").wait_for()
    with store.read() as session:
        assert panel_answers.expert_view(session, principal).answers["recurring_order"] == ["leadership", "training", "budget"]
    _radio_groups(page).first.get_by_text("Check and submit", exact=True).click()
    page.get_by_text("Everything required is answered").wait_for()
    html = page.content()
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_text("Your answers were submitted").wait_for()
    page.get_by_role("button", name="Download a printable copy").wait_for()
    page.get_by_text("Show my answers here").click()
    page.get_by_text("Ratings per case").wait_for()
    html += page.content()
    with store.read() as session:
        assert members.get_member(session, studies.get_study(session), "E18").status == "submitted"
    store.dispose()

    # What the expert's browser received names no identity: register terms, internal labels,
    # organisations, or the other experts.
    for text in register + internal + orgs + others:
        assert text not in html, text
