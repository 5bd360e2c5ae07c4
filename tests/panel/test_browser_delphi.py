"""Real browser: an expert answers a later Delphi round: sees the panel's median and IQR and their
own previous answer, is asked for a reason when revising, revises with one and submits."""

from __future__ import annotations

import time

import pytest

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.panel import delphi
from casestudy.panel import members
from tests.conftest import save_shot

pytestmark = pytest.mark.browser


def _wait(page):
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_load_state("networkidle")


def _shot(page, name):
    save_shot(page, f"delphi-{name}")


def _number(value):
    return f"{value:g}"


def test_expert_revises_in_round_three_with_a_reason(browser_server, browser_page):
    store = dbmod.Store(browser_server["url"])
    with store.write("tester") as session:  # the demo's two rounds are closed: the researcher opens round 3
        study = studies.get_study(session)
        delphi.open_round(session, study, "tester")
        member = members.get_member(session, study, "E03")
        secret = members.new_link(session, study, member, browser_server["base"])["link"].split("token=")[1]
        others = [m.pseudonym for m in members.list_members(session, study) if m.pseudonym != "E03"]
    principal = access.resolve_token(store, secret)
    with store.read() as session:
        view = delphi.expert_round_view(session, principal)
    case = view.cases[0]
    first = view.items_of(case)[0]
    feedback = first.feedback
    new_value = first.previous - 1 if first.previous > 0 else 1

    page = browser_page
    page.goto(f"{browser_server['base']}/?token={secret}")
    _wait(page)
    page.get_by_role("heading", name="Round 3").wait_for()
    page.get_by_role("heading", name=case, exact=True).wait_for()
    form = page.locator("[data-testid='stForm']").first
    form.get_by_text(f"median {_number(feedback['median'])}, interquartile range "
                          f"{_number(feedback['q1'])} to {_number(feedback['q3'])} (IQR {_number(feedback['iqr'])})").first.wait_for()
    form.get_by_text(f"Your answer in the previous round: {first.previous}").first.wait_for()
    html = page.content()
    _shot(page, "browser_round3_feedback.png")

    # A revision without a reason is refused, and nothing is saved.
    form.locator("[data-testid='stRadio']").first.get_by_text(str(new_value), exact=True).click()
    page.get_by_role("button", name=f"Save my answers for {case}").click()
    page.get_by_text("please give a short reason for the change").wait_for()
    with store.read() as session:
        assert delphi.expert_round_view(session, principal).items_of(case)[0].value is None
    _shot(page, "browser_round3_reason_needed.png")

    form.get_by_label("Reason, if you change your answer").first.fill("On a second reading the team carried it")
    page.get_by_role("button", name=f"Save my answers for {case}").click()
    deadline = time.time() + 20
    while time.time() < deadline:
        with store.read() as session:
            saved = delphi.expert_round_view(session, principal).items_of(case)[0]
        if saved.value is not None:
            break
        time.sleep(0.2)
    assert (saved.value, saved.previous, saved.reason) == (new_value, first.previous, "On a second reading the team carried it")
    page.get_by_text("(1 revised)").wait_for()
    # F5: the saved revision and its reason come back from the server
    page.reload()
    _wait(page)
    page.get_by_text("(1 revised)").wait_for()
    form = page.locator("[data-testid='stForm']").first
    assert form.locator("[data-testid='stRadio']").first.locator("input[type='radio']:checked").get_attribute("value") == str(new_value)
    assert form.get_by_label("Reason, if you change your answer").first.input_value() == "On a second reading the team carried it"
    _shot(page, "browser_round3_after_reload.png")

    page.locator("[data-testid='stRadio']").first.get_by_text("Check and submit", exact=True).click()
    page.get_by_text(f"{first.previous} to {new_value} (On a second reading the team carried it)").wait_for()
    page.get_by_role("button", name="Submit my round 3 answers").click()
    page.get_by_text("Your answers for round 3 are submitted and locked").wait_for()
    page.wait_for_timeout(1500)  # the rerun clears the form before the picture
    _shot(page, "browser_round3_submitted.png")
    with store.read() as session:
        results = delphi.delphi_results(session, studies.get_study(session), access.Principal("researcher", 0, "t", role="admin"))
    revision = [r for r in results.revisions if r["round"] == 3]
    assert [(r["expert"], r["case"], r["from"], r["to"]) for r in revision] == [("E03", case, first.previous, new_value)]
    store.dispose()
    # Blind to each other: the page names no other expert.
    for pseudonym in others:
        assert pseudonym not in html
