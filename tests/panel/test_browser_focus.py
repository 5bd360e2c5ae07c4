"""Real browser: a focus-group participant rates through their link, reloads and finds every
rating, sees no outcome data while blind; a researcher enters a split consensus "2/3"."""

from __future__ import annotations

import time

import pytest

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.panel import focus
from tests.conftest import login_as_admin, save_shot, wait_for_app

pytestmark = pytest.mark.browser


def _radios(page):
    return page.locator("[data-testid='stRadio']")


def _checked(page, index):
    checked = _radios(page).nth(index).locator("input[type='radio']:checked")
    return checked.first.get_attribute("value") if checked.count() else None


def _until(condition, timeout=60.0):  # generous: the test machine may be shared
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        time.sleep(0.2)
    return condition()


def _shot(page, name):
    save_shot(page, f"focus-{name}.png", full_page=False)


def test_participant_rates_reloads_and_sees_no_outcomes(browser_server, browser_page):
    store = dbmod.Store(browser_server["url"])
    with store.write("tester") as session:
        study = studies.get_study(session)
        group = focus.get_group(session, study)
        person = focus.add_participant(session, group, "Browser Tester", "therapist", ["organization"])
        secret = focus.issue_link(session, person, browser_server["base"])["link"].split("token=")[1]
        case = studies.get_case(session, study, "Case B")
        outcome_texts = [c.outcome_description for c in studies.list_cases(session, study)] + [case.organisation.name]
    principal = access.resolve_token(store, secret)

    def saved():
        with store.read() as session:
            return {k: v for k, v in focus.participant_view(session, principal).ratings.items() if v is not None}

    page = browser_page
    page.set_default_timeout(60_000)
    page.goto(f"{browser_server['base']}/?token={secret}")
    wait_for_app(page)
    page.get_by_role("heading", name="Adherence before and during the reorganisation").wait_for()
    page.get_by_text("Rated: 0 of 14").wait_for()
    # O1 PRE-REORG = 6, O1 REORG = 3, O2 REORG = 2: each click is saved on the server at once
    for index, score, key in ((0, 6, "O1|PRE-REORG"), (1, 3, "O1|REORG"), (3, 2, "O2|REORG")):
        _radios(page).nth(index).get_by_text(str(score), exact=True).click()
        assert _until(lambda key=key, score=score: saved().get(key) == score), key
    page.get_by_text("Rated: 3 of 14").wait_for()
    _shot(page, "participant-rated")
    html = page.content()

    page.reload()  # F5: the same link finds every rating again
    wait_for_app(page)
    page.get_by_text("Rated: 3 of 14").wait_for()
    assert _until(lambda: [_checked(page, i) for i in range(4)] == ["5", "2", None, "1"])  # option index = score - 1
    html += page.content()
    assert saved() == {"O1|PRE-REORG": 6, "O1|REORG": 3, "O2|REORG": 2}
    # Blind to outcomes: no outcome class or description, no organisation, no Table 1 anywhere on the page.
    for text in outcome_texts + ["Outcome of the case", "Table 1"]:
        assert text not in html, text
    page.get_by_text("Still to rate before you can submit").wait_for()
    store.dispose()


def test_researcher_enters_a_split_consensus(browser_server, browser_page):
    page = browser_page
    page.set_default_timeout(60_000)
    login_as_admin(page, browser_server["base"])
    page.locator("[data-testid='stSidebarNav']").get_by_text("Periods and focus groups", exact=True).click()
    page.get_by_role("heading", name="Periods and focus groups").wait_for()
    page.get_by_label("Case").first.click()
    page.get_by_role("option", name="Case B").click()
    page.get_by_text("Round 3: consensus", exact=True).click()
    form = page.locator("[data-testid='stForm']").filter(has_text="The team's make-up is balanced").first
    field = form.get_by_label("PRE-REORG: consensus", exact=True)
    field.fill("5/6")
    form.get_by_role("button", name="Save consensus").click()
    page.get_by_text("Consensus on T1 saved.").wait_for()
    _shot(page, "consensus-saved")
    store = dbmod.Store(browser_server["url"])
    with store.read() as session:
        cells = {(c["item"], c["period"]): c for c in focus.consensus_of(session, focus.get_group(session, studies.get_study(session)))}
    assert cells[("T1", "PRE-REORG")]["score"] == "5/6" and cells[("T1", "REORG")]["score"] == "2/3"
    assert len(cells[("T1", "PRE-REORG")]["agreed_by"]) >= 7
    # A split of non-adjacent points is refused with the rule, nothing is stored.
    form = page.locator("[data-testid='stForm']").filter(has_text="The team's make-up is balanced").first
    form.get_by_label("REORG: consensus", exact=True).fill("2/4")
    form.get_by_role("button", name="Save consensus").click()
    page.get_by_text("does not join two adjacent points").wait_for()
    with store.read() as session:
        cells = {(c["item"], c["period"]): c["score"] for c in focus.consensus_of(session, focus.get_group(session, studies.get_study(session)))}
    assert cells[("T1", "REORG")] == "2/3"
    store.dispose()
