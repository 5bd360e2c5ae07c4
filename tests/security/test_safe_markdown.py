"""Expert and respondent pages render a narrative's Markdown, and nothing in it runs.

The helper (``casestudy.ui.markdown``) is checked on its output and in a real browser, where a
hostile text with HTML, scripts, event handlers and ``javascript:`` links must render its
headings, emphasis and lists and execute nothing.
"""

from __future__ import annotations

import pytest

from casestudy.ui.markdown import safe_markdown
from tests.conftest import ROOT, require_chromium, streamlit_server, wait_for_app

HOSTILE = """# A day programme decided from above

The *manager* wrote **the plan** alone.

- first item
- second item

<script>window.__pwned = 1</script>
<img src=x onerror="window.__pwned = 2">
<iframe src="javascript:window.__pwned=3"></iframe>
<a href="javascript:window.__pwned=4" onclick="window.__pwned=5">raw html link</a>

[plain link](javascript:window.__pwned=6) and [entity link](jav&#x61;script:window.__pwned=7)
[spaced link](java	script:window.__pwned=8) and [autolink](<javascript:window.__pwned=9>)
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ![pixel](javascript:x)

[ref link][r] and [safe](https://example.org/page) and [anchor](#part-2)

[r]: vbscript:msgbox(1)
"""


@pytest.mark.parametrize("target", [
    "javascript:alert(1)", "JavaScript:alert(1)", "jav&#x61;script:alert(1)",
    "data:text/html;base64,xx", "vbscript:x", "file:///etc/passwd", "&#106;avascript:1", " javascript:1",
])
def test_unsafe_link_targets_become_anchors(target):
    out = safe_markdown(f"[x]({target})")
    assert "script:" not in out.lower().replace("&#x61;", "a") and "data:" not in out and "file:" not in out
    assert out.startswith("[x](")


@pytest.mark.parametrize("target", ["https://example.org/a?b=1", "http://x.org", "mailto:a@b.org", "#part", "other/page"])
def test_safe_targets_are_kept(target):
    assert safe_markdown(f"[x]({target})") == f"[x]({target})"


def test_html_is_escaped_and_markdown_kept():
    out = safe_markdown(HOSTILE)
    assert "<" not in out
    assert out.startswith("# A day programme decided from above")
    assert "- first item" in out and "*manager*" in out and "[r]: #" in out


@pytest.mark.browser
def test_hostile_markdown_renders_and_runs_nothing(tmp_path, chromium_browser):
    require_chromium()
    with streamlit_server(ROOT / "tests" / "apps" / "markdown_app.py", {}, tmp_path / "streamlit.log") as base:
        context = chromium_browser.new_context()
        try:
            page = context.new_page()
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(base)
            wait_for_app(page)
            page.get_by_role("heading", name="A day programme decided from above").wait_for()
            body = page.locator("[data-testid='stMarkdownContainer']").first
            assert body.locator("em", has_text="manager").count() == 1
            assert body.locator("strong", has_text="the plan").count() == 1
            assert body.locator("li").count() == 2
            assert body.locator("script, iframe, img[onerror], [onclick]").count() == 0
            assert "<script>" in body.inner_text()  # shown as the characters typed
            hrefs = body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
            assert hrefs and not [h for h in hrefs if ":" in h and not h.startswith(("https:", "http:", "mailto:"))], hrefs
            for link in body.locator("a").all():
                if link.get_attribute("href") != "https://example.org/page":
                    link.evaluate("a => a.click()")
            page.wait_for_timeout(500)
            assert page.evaluate("() => window.__pwned") is None and dialogs == []
        finally:
            context.close()
