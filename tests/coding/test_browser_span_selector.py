"""The span selector in a real browser: selections come back as exact code-point offsets."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, require_chromium, streamlit_server

pytestmark = pytest.mark.browser

TEXT = "Hello 😀 wörld <b>not bold</b>.\nSecond line with café and 🎉 party, then more."

SELECT_JS = """
([needleStart, needleEnd]) => {
  const root = document.querySelector('[data-testid="span-selector"]');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const points = [];
  let node;
  while ((node = walker.nextNode())) points.push(node);
  function locate(needle, atEnd) {
    for (const n of points) {
      const i = n.textContent.indexOf(needle);
      if (i >= 0) return [n, atEnd ? i + needle.length : i];
    }
    throw new Error('not found: ' + needle);
  }
  const [sNode, sOff] = locate(needleStart, false);
  const [eNode, eOff] = locate(needleEnd, true);
  const range = document.createRange();
  range.setStart(sNode, sOff);
  range.setEnd(eNode, eOff);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  root.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
}
"""


@pytest.fixture(scope="module")
def selector_app(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("selector")
    with streamlit_server(ROOT / "tests" / "apps" / "span_selector_app.py", {}, folder / "log.txt") as base:
        yield base


def _read(page, prefix):
    locator = page.get_by_text(prefix, exact=False).first
    return json.loads(locator.inner_text().split("=", 1)[1])


@pytest.mark.parametrize(
    "start_needle,end_needle",
    [("café", "🎉 party"), ("😀", "bold"), ("Hello", "more.")],
)
def test_selection_offsets_are_code_points(selector_app, browser_page, start_needle, end_needle):
    page = browser_page
    page.goto(selector_app)
    page.locator("[data-testid='span-selector']").wait_for()
    page.evaluate(SELECT_JS, [start_needle, end_needle])
    page.wait_for_function("() => !document.body.innerText.includes('selection=null')")
    selection = _read(page, "selection=")
    start = TEXT.index(start_needle)
    end = TEXT.index(end_needle) + len(end_needle)
    assert (selection["start"], selection["end"]) == (start, end)
    assert _read(page, "python=") == TEXT[start:end]


def test_click_on_highlight_reports_marks(selector_app, browser_page):
    page = browser_page
    page.goto(selector_app)
    page.locator("[data-testid='span-selector'] .mk").first.wait_for()
    page.locator("[data-testid='span-selector'] [data-m='7,8']").click()
    page.wait_for_function("() => !document.body.innerText.includes('clicked=null')")
    assert _read(page, "clicked=")["ids"] == [7, 8]
