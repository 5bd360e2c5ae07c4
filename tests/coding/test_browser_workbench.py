"""The coding workbench in a real browser: stripes, apply by click and keyboard, edits in place, undo."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from casestudy import db as dbmod
from casestudy import migrate, users
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans, stripes
from casestudy.interviews import store as interviews_store
from casestudy.models import Coding, CodingAction, Interview
from tests.coding.test_browser_span_selector import SELECT_JS  # one selection helper for both transcript views
from tests.conftest import ROOT, require_chromium, streamlit_server, wait_for_app, wait_for_idle

pytestmark = pytest.mark.browser

PASSWORD = "a long password"
TEXT = (
    "Interviewer: How did the programme start?\n"
    "Ann: The board supported us from day one 😀 and the budget was enough for two years.\n"
    "Interviewer: And the team?\n"
    "Ann: The team was small. Leadership was strong, and the supervisor knew everyone well.\n"
)



@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("workbench")
    url = f"sqlite:///{folder / 'workbench.sqlite'}"
    store = dbmod.Store(url)
    migrate.upgrade(store)
    with store.write("setup") as session:
        study = studies.create_study(session, "Workbench study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        studies.add_member(session, study, users.add_user(session, "coder1", PASSWORD, "coder"))
        org = codebook.add_code(session, study, "Support", "organization", codable=False, origin="a priori")
        codebook.add_code(session, study, "Board support", "organization", parent=org, origin="a priori", short_definition="Backing from the board")
        codebook.add_code(session, study, "Budget", "organization", parent=org, origin="a priori")
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        (interview,) = interviews_store.import_interviews(session, study, [interviews_store.ImportItem("ann.txt", TEXT.encode(), "Case A", "Ann")])
        interview_id = interview.id
    with streamlit_server(ROOT / "app.py", {"CASESTUDY_DATABASE_URL": url}, folder / "streamlit.log") as base:
        yield {"base": base, "store": store, "interview": interview_id}
    store.dispose()


def _code_id(store, path: str) -> int:
    with store.read() as session:
        return codebook.get_code(session, studies.get_study(session), path).id


def _reset(store, codings: list[tuple[str, str]] = ()) -> None:
    """No codings and no history, then ``codings`` = [(code path, passage)] by coder1."""
    with store.write("test") as session:
        session.execute(delete(CodingAction))
        session.execute(delete(Coding))
        study = studies.get_study(session)
        interview = session.query(Interview).one()
        coder = spans.get_coder(session, "coder1")
        for path, passage in codings:
            start = TEXT.index(passage)
            spans.apply_codes(session, interview, [codebook.get_code(session, study, path)], coder, start, start + len(passage))


def _codings(store) -> list[tuple[str, str]]:
    with store.read() as session:
        return sorted((c.code.name, TEXT[c.start : c.end]) for c in session.query(Coding))


def _open(page, base: str) -> None:
    page.goto(base)
    wait_for_app(page)
    page.get_by_role("textbox", name="User name").fill("coder1")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("[data-testid='stSidebarNav'] a[href$='/coding']").click()
    page.locator("[data-testid='span-selector'] .cw-line").first.wait_for(timeout=60_000)  # a loaded runner is slow
    wait_for_idle(page)


def _settled(page) -> None:
    """Wait until the server answered every operation the workbench sent and its rerun ended."""
    page.wait_for_function("() => document.querySelector('[data-testid=coding-workbench]')?.dataset.pending === '0'")
    wait_for_idle(page)


def _stripes(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid=cw-stripe]')].map(s => ({
        id: +s.dataset.id, lane: +s.dataset.lane, start: +s.dataset.start, end: +s.dataset.end, label: s.innerText}))""")


def _select(page, start_needle: str, end_needle: str) -> None:
    page.evaluate(SELECT_JS, [start_needle, end_needle])
    page.locator("[data-testid='cw-pending']", has_text="Selected").wait_for()


def test_overlapping_codings_get_two_lanes_with_names(workbench, browser_page):
    store = workbench["store"]
    _reset(store, [("Support/Board support", "The board supported us from day one"), ("Support/Budget", "day one 😀 and the budget")])
    _open(browser_page, workbench["base"])
    shown = _stripes(browser_page)
    assert sorted(s["lane"] for s in shown) == [0, 1]
    assert any("Board support" in s["label"] for s in shown) and any("Budget" in s["label"] for s in shown)
    # The browser's lanes are the library's.
    assert {s["id"]: s["lane"] for s in shown} == stripes.assign_lanes([(s["id"], s["start"], s["end"]) for s in shown])


def test_apply_by_click_then_selection_and_codes_clear(workbench, browser_page):
    store = workbench["store"]
    _reset(store)
    page = browser_page
    _open(page, workbench["base"])
    _select(page, "Leadership was", "strong")
    page.locator("[data-testid='cw-tree'] .cw-node", has_text="Leadership").locator(".cw-name").click()
    page.locator("[data-testid='cw-stripe']").first.wait_for()
    _settled(page)
    assert _codings(store) == [("Leadership", "Leadership was strong")]
    assert "Select a passage" in page.locator("[data-testid='cw-pending']").inner_text()
    # Tick two codes: the pending panel lists exactly them; Apply clears both and the selection.
    _select(page, "The board", "day one")
    page.get_by_label("choose Support/Board support").check()
    page.get_by_label("choose Support/Budget").check()
    chosen = page.locator("[data-testid='cw-chosen']").all_inner_texts()
    assert [c.rstrip("×").strip() for c in chosen] == ["Support/Board support", "Support/Budget"]
    page.locator("[data-testid='cw-apply']").click()
    _settled(page)
    assert _codings(store) == [("Board support", "The board supported us from day one"), ("Budget", "The board supported us from day one"),
                               ("Leadership", "Leadership was strong")]
    assert page.locator("[data-testid='cw-chosen']").count() == 0
    assert not page.get_by_label("choose Support/Budget").is_checked()
    assert page.evaluate("() => window.getSelection().isCollapsed")
    assert len(_stripes(page)) == 3


def test_apply_by_keyboard_digit_and_enter(workbench, browser_page):
    store = workbench["store"]
    _reset(store, [("Support/Budget", "the budget was enough")])  # Budget is now recent code 1
    page = browser_page
    _open(page, workbench["base"])
    assert "Budget" in page.locator("[data-testid='cw-recent']").inner_text()
    _select(page, "The team", "small")
    page.keyboard.press("1")
    assert page.locator("[data-testid='cw-chosen']").all_inner_texts()[0].startswith("Support/Budget")
    page.keyboard.press("Enter")
    _settled(page)
    assert ("Budget", "The team was small") in _codings(store)
    # Esc clears a chosen code and the selection.
    _select(page, "Leadership", "strong")
    page.keyboard.press("1")
    page.keyboard.press("Escape")
    assert page.locator("[data-testid='cw-chosen']").count() == 0
    assert "Select a passage" in page.locator("[data-testid='cw-pending']").inner_text()


def test_drag_handle_moves_boundary_to_a_word_edge(workbench, browser_page):
    store = workbench["store"]
    _reset(store, [("Leadership", "Leadership was")])
    page = browser_page
    _open(page, workbench["base"])
    page.locator("[data-testid='cw-stripe']").click()
    handle = page.locator("[data-testid='cw-handle-end']")
    handle.wait_for()
    wait_for_idle(page)  # the detail box above the text has opened: measure after the layout settled
    box = handle.bounding_box()
    # Drop the end inside "strong" (the middle of the word): it snaps to the end of "strong".
    target = page.evaluate("""() => {
        const line = [...document.querySelectorAll('[data-testid=span-selector] .cw-line')].find(l => l.textContent.includes('strong'));
        const node = line.firstChild; const i = node.data.indexOf('strong') + 3;
        const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
        const rect = r.getBoundingClientRect(); return {x: rect.left + 1, y: rect.top + rect.height / 2};
    }""")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"], target["y"], steps=6)
    page.mouse.up()
    _settled(page)
    assert _codings(store) == [("Leadership", "Leadership was strong")]


def test_undo_and_redo_with_the_keyboard(workbench, browser_page):
    store = workbench["store"]
    _reset(store)
    page = browser_page
    _open(page, workbench["base"])
    _select(page, "The board", "day one")
    page.locator("[data-testid='cw-tree'] .cw-node", has_text="Budget").locator(".cw-name").click()
    _settled(page)
    assert len(_codings(store)) == 1
    page.keyboard.press("Control+z")
    _settled(page)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=cw-stripe]').length === 0")
    assert _codings(store) == []
    assert "undid" in page.locator("[data-testid='cw-status']").inner_text()
    page.keyboard.press("Control+Shift+z")
    _settled(page)
    page.locator("[data-testid='cw-stripe']").first.wait_for()
    assert _codings(store) == [("Budget", "The board supported us from day one")]


def test_shift_click_selects_several_codings_to_remove(workbench, browser_page):
    store = workbench["store"]
    _reset(store, [("Leadership", "Leadership was strong"), ("Support/Budget", "the budget was enough"), ("Support/Board support", "The board supported us")])
    page = browser_page
    _open(page, workbench["base"])
    stripes_shown = page.locator("[data-testid='cw-stripe']")
    stripes_shown.filter(has_text="Leadership").click()
    stripes_shown.filter(has_text="Budget").click(modifiers=["Shift"])
    assert page.locator("[data-testid='cw-picked']").inner_text() == "2 codings selected"
    page.locator("[data-testid='cw-remove']").click()
    _settled(page)
    assert _codings(store) == [("Board support", "The board supported us")]
    assert len(_stripes(page)) == 1


def test_retrieved_segment_opens_its_passage_scrolled_and_flashed(workbench, browser_page):
    store = workbench["store"]
    _reset(store, [("Leadership", "Leadership was strong")])
    page = browser_page
    _open(page, workbench["base"])
    page.locator("[data-testid='stSidebarNav'] a[href$='/analysis']").click()
    page.get_by_role("link", name="Open in transcript").first.click()
    start = TEXT.index("Leadership was strong")
    page.wait_for_function(f"() => document.querySelector('[data-testid=coding-workbench]')?.dataset.flash === '{start}-{start + 21}'")
    assert page.evaluate("() => CSS.highlights.has('cw-flash')")


def _periods_of_codings(store) -> dict[str, str]:
    """{coded passage: the name of the coding's own period, "" for none}."""
    with store.read() as session:
        return {TEXT[c.start : c.end]: interviews_store.periods_name(session, c.period_id) for c in session.query(Coding)}


def test_period_selector_sets_the_period_of_picked_codings_and_undo_takes_it_back(workbench, browser_page):
    from casestudy import periods as case_periods

    store = workbench["store"]
    _reset(store, [("Leadership", "Leadership was strong"), ("Support/Budget", "the budget was enough")])
    with store.write("test") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case A")
        for name, starts, ends in (("PRE-REORG", "2004-08", "2007-12"), ("REORG", "2008-09", "2011-04")):
            if case_periods.find_period(session, case, name) is None:
                case_periods.add_period(session, case, name, starts, ends)
        interviews_store.set_interview_period(session, study, workbench["interview"], "PRE-REORG")
    page = browser_page
    try:
        _open(page, workbench["base"])
        stripes_shown = page.locator("[data-testid='cw-stripe']")
        stripes_shown.filter(has_text="Leadership").click()
        detail = page.locator("[data-testid='cw-detail']")
        shown = detail.locator("[data-testid='cw-period-shown']")
        assert shown.inner_text() == "period PRE-REORG (the interview's)"
        selector = detail.locator("[data-testid='cw-period']")
        assert selector.locator("option").all_inner_texts() == ["the interview's period (PRE-REORG)", "PRE-REORG", "REORG"]
        selector.select_option("REORG")
        _settled(page)
        assert _periods_of_codings(store) == {"Leadership was strong": "REORG", "the budget was enough": ""}
        page.wait_for_function("() => document.querySelector('[data-testid=cw-period-shown]')?.innerText === 'period REORG (its own)'")
        assert "period REORG for 1 coding(s)" in page.locator("[data-testid='cw-status']").inner_text()
        # Two codings with different periods: the selector says so and sets one for both.
        stripes_shown.filter(has_text="Budget").click(modifiers=["Shift"])
        assert page.locator("[data-testid='cw-picked']").inner_text() == "2 codings selected"
        assert shown.inner_text() == "mixed periods"
        selector.select_option("PRE-REORG")
        _settled(page)
        assert _periods_of_codings(store) == {"Leadership was strong": "PRE-REORG", "the budget was enough": "PRE-REORG"}
        page.wait_for_function("() => document.querySelector('[data-testid=cw-period-shown]')?.innerText === 'period PRE-REORG (its own)'")
        # The workbench's undo takes the whole change back in one step, then the first one.
        page.keyboard.press("Control+z")
        _settled(page)
        assert _periods_of_codings(store) == {"Leadership was strong": "REORG", "the budget was enough": ""}
        assert "undid: set the period of codings (2 coding(s))" in page.locator("[data-testid='cw-status']").inner_text()
        page.wait_for_function("() => document.querySelector('[data-testid=cw-period-shown]')?.innerText === 'mixed periods'")
        # Back to the interview's period: the coding names none of its own.
        page.locator("[data-testid='cw-detail'] button", has_text="Done").click()
        stripes_shown.filter(has_text="Leadership").click()
        selector.select_option(label="the interview's period (PRE-REORG)")
        _settled(page)
        assert _periods_of_codings(store)["Leadership was strong"] == ""
        page.wait_for_function("() => document.querySelector('[data-testid=cw-period-shown]')?.innerText === \"period PRE-REORG (the interview's)\"")
    finally:
        with store.write("test") as session:  # the other tests' interview has no period
            interviews_store.set_interview_period(session, studies.get_study(session), workbench["interview"], None)
            session.query(Coding).update({Coding.period_id: None})
