"""Sign-offs in a real browser: the owner requires them on the Study page, the Overview lists what
awaits one, a second researcher signs off an interview's codings from its link, the author is
told they cannot, and a reload keeps the sign-off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casestudy import config
from casestudy import db as dbmod
from casestudy.models import Signoff, SignoffRequirement
from tests.conftest import demo_copy_server, login_as_admin, save_shot, wait_for_app


@pytest.fixture(scope="module")
def signoff_server(tmp_path_factory, demo_template, chromium_browser):
    with demo_copy_server(tmp_path_factory, demo_template, "signoffs") as server:
        yield server


def _sidebar(page, name):
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()
    wait_for_app(page)


@pytest.mark.browser
def test_require_list_sign_and_refuse_the_author(signoff_server, chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        login_as_admin(page, signoff_server["base"])
        _sidebar(page, "Study")
        page.get_by_role("tab", name="Ethics and sign-offs").click()
        page.get_by_text("Require a sign-off of an interview's codings").click()
        page.get_by_role("button", name="Save the sign-off settings").click()
        page.get_by_text("Saved what requires a sign-off.").wait_for()

        _sidebar(page, "Overview")
        page.get_by_text("Awaiting a sign-off (14)").wait_for()
        save_shot(page, "signoff_overview.png")
        page.get_by_role("link", name="Sign off").first.click()  # opens the first interview on the Coding page
        wait_for_app(page)
        box = page.locator(".st-key-signoff_box_codings_1")
        box.get_by_text("requires a second researcher's sign-off here").wait_for()
        box.get_by_label("Note (what you checked)").fill("compared with the codebook")
        box.get_by_role("button", name="Sign off").click()
        box.get_by_text("You signed off the codings of interview case-a-manager.txt (Case A).").wait_for()
        box.get_by_text("Signed off by a second researcher; the signed content is unchanged.").wait_for()
        box.scroll_into_view_if_needed()
        save_shot(page, "signoff_coding_signed.png")
        page.reload()  # F5: the sign-off is the database's, not the browser's
        wait_for_app(page)
        page.locator(".st-key-signoff_box_codings_1").get_by_text("compared with the codebook").wait_for(state="attached")  # a grid cell (drawn on a canvas)
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
    finally:
        context.close()

    with dbmod.Store(signoff_server["url"]).read() as session:
        (signoff,) = session.scalars(select(Signoff)).all()
        assert (signoff.kind, signoff.target_id, signoff.signer.username, signoff.note) == (
            "codings", 1, "admin", "compared with the codebook")
        assert [r.kind for r in session.scalars(select(SignoffRequirement))] == ["codings"]

    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:  # coder1 coded the interview: no button, the reason instead
        page.goto(signoff_server["base"] + "/coding?interview=1")
        wait_for_app(page)
        page.get_by_role("textbox", name="User name").fill("coder1")
        page.get_by_label("Password", exact=True).fill(config.DEMO_CODER_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        box = page.locator(".st-key-signoff_box_codings_1")
        box.get_by_text("You cannot sign this off: you wrote the codings of interview case-a-manager.txt").wait_for()
        assert box.get_by_role("button", name="Sign off").count() == 0
        box.scroll_into_view_if_needed()
        save_shot(page, "signoff_coding_author.png")
    finally:
        context.close()
