"""The Reports page in a real browser: a PNG figure through the warmed-up renderer with a spinner,
and an SPSS/Stata file downloaded and read back with pyreadstat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import login_as_admin, save_shot, wait_for_app


def _open_reports(page, base):
    login_as_admin(page, base)
    page.get_by_role("link", name="Reports").click()  # a new page load would be a new, logged-out session
    wait_for_app(page)
    page.get_by_text("Tables and figures for publication").wait_for()


@pytest.mark.browser
def test_png_of_a_figure_and_a_stata_file(browser_server, browser_page, tmp_path):
    import pyreadstat

    page = browser_page
    _open_reports(page, browser_server["base"])
    page.get_by_role("tab", name="Plots").click()
    page.get_by_role("button", name="Prepare PNG").first.wait_for()
    save_shot(page, "reports_plots.png")
    time.sleep(15)  # the user looks at the figures while the renderer warms up in the background
    start = time.perf_counter()
    page.get_by_role("button", name="Prepare PNG").first.click()
    page.get_by_role("button", name="PNG", exact=True).first.wait_for(timeout=30_000)
    seconds = time.perf_counter() - start
    print(f"Prepare PNG -> download offered: {seconds:.2f} s")  # measured, not asserted (bench/figures.py)
    with page.expect_download() as download:
        page.get_by_role("button", name="PNG", exact=True).first.click()
    assert download.value.suggested_filename == "heatmap.png"
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")

    page.get_by_role("tab", name="SPSS / Stata").click()
    page.get_by_text("Data files with variable and value labels").wait_for()
    page.get_by_text("Stata (.dta)").click()
    page.get_by_role("button", name="Prepare file").click()
    page.get_by_role("button", name="Download Stata (.dta)").wait_for(timeout=30_000)
    save_shot(page, "reports_stata.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Stata (.dta)").click()
    assert download.value.suggested_filename == "ratings-long.dta"
    path = tmp_path / "ratings-long.dta"
    path.write_bytes(Path(download.value.path()).read_bytes())
    frame, meta = pyreadstat.read_dta(str(path))
    assert list(frame.columns) == ["expert", "case", "item", "score"] and len(frame) > 100
    assert meta.column_names_to_labels["score"].startswith("Rating (scale")
    assert meta.variable_value_labels["case"]
