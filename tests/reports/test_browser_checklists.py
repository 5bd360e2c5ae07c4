"""The Checklists page in a real browser: COREQ filled from the demo, an answer typed into the grid
and saved, SRQR, and the DOCX download with the methods paragraph."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect
from sqlalchemy import select

from casestudy import db as dbmod
from casestudy.models import ChecklistAnswer
from tests.conftest import demo_copy_server, login_as_admin, save_shot, wait_for_app


@pytest.fixture(scope="module")
def checklist_server(tmp_path_factory, demo_template, chromium_browser):
    with demo_copy_server(tmp_path_factory, demo_template, "checklists") as server:
        yield server


@pytest.mark.browser
def test_fill_an_item_by_hand_and_download_the_docx(checklist_server, chromium_browser, tmp_path):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        login_as_admin(page, checklist_server["base"])
        page.get_by_test_id("stSidebar").get_by_role("link", name="Checklists", exact=True).click()
        wait_for_app(page)
        page.get_by_text("Reporting checklists").wait_for()
        page.get_by_text("12 of 32").wait_for()  # filled from the demo (tests/reports/test_checklists.py names them)
        save_shot(page, "checklists_coreq.png")
        page.get_by_text("Answer an item by hand").wait_for()
        expect(page.get_by_role("combobox", name="Item")).to_have_value("2. Credentials")  # the first missing item is offered first
        page.get_by_text("The degrees or qualifications of those researchers.").wait_for()
        page.get_by_label("Your answer").fill("PhD, clinical psychologist")
        page.get_by_role("button", name="Save the answer").click()
        page.get_by_text("Saved the answer to item 2.").wait_for()
        # the table (after the downloads) shows the answer: the rerun has sent the new downloads
        page.locator("[data-testid='stDataFrame']").get_by_text("PhD, clinical psychologist").wait_for(state="attached")
        page.get_by_text("Answer an item by hand").scroll_into_view_if_needed()
        page.get_by_text("1 of 32").first.wait_for()  # one by hand now
        save_shot(page, "checklists_coreq_saved.png")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download DOCX").click()
        assert download.value.suggested_filename == "coreq.docx"
        document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert document.paragraphs[1].text.startswith("Of the 20 experts invited, 12 returned the questionnaire")
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        assert "PhD, clinical psychologist" in cells
        page.reload()  # F5: the answer is the study's
        wait_for_app(page)
        page.get_by_text("1 of 32").first.wait_for()
        page.get_by_test_id("stButtonGroup").get_by_text("SRQR", exact=True).click()
        page.get_by_text("O'Brien BC").wait_for()
        save_shot(page, "checklists_srqr.png")
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
    finally:
        context.close()
    with dbmod.Store(checklist_server["url"]).read() as session:
        (answer,) = session.scalars(select(ChecklistAnswer)).all()
        assert (answer.checklist, answer.item, answer.text, answer.updated_by) == ("coreq", "2", "PhD, clinical psychologist", "admin")
