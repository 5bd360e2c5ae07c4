"""A densely coded interview in a real browser: the stripes of one passage at a time, following
the text as the coder scrolls, and a passage chosen on the page scrolls the text to it."""

from __future__ import annotations

import random

import pytest

from casestudy import access, migrate, users
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans, stripes
from casestudy.interviews import store as interviews_store
from tests.coding.test_browser_workbench import (  # one sign-in and page opening for both
    PASSWORD,
    _open,
)
from tests.conftest import ROOT, require_chromium, streamlit_server, wait_for_idle

pytestmark = pytest.mark.browser

CODINGS = 1_300  # three passages of at most stripes.MAX_MARKS starts


def _text(length: int) -> str:
    rng = random.Random(7)
    words = "the team board budget supervision we they felt said training ward staff time money".split()  # noqa: SIM905
    lines, size = [], 0
    while size < length:
        line = ("Interviewer: " if len(lines) % 2 == 0 else "Ann: ") + " ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) + "."
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("dense")
    url = f"sqlite:///{folder / 'dense.sqlite'}"
    store = dbmod.Store(url)
    migrate.upgrade(store)
    text = _text(40_000)
    with store.write("setup") as session:
        study = studies.create_study(session, "Dense study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        studies.add_member(session, study, users.add_user(session, "coder1", PASSWORD, "coder"))
        codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        codebook.add_code(session, study, "Budget", "organization", origin="a priori")
        (interview,) = interviews_store.import_interviews(session, study, [interviews_store.ImportItem("ann.txt", text.encode(), "Case A", "Ann")])
        rng = random.Random(11)
        rows = ["interview,coder,code,start,end"]
        for _ in range(CODINGS):
            start = rng.randrange(0, len(text) - 200)
            rows.append(f"{interview.id},coder1,{rng.choice(['Leadership', 'Budget'])},{start},{start + rng.randint(20, 150)}")
        spans.import_codings_csv(session, study, "\n".join(rows) + "\n")
        interview_id = interview.id
    with store.read() as session:
        passages = stripes.workbench_window(session, interview_id, access.researcher(users.get_user(session, "coder1"))).passages
    with streamlit_server(ROOT / "app.py", {"CASESTUDY_DATABASE_URL": url}, folder / "streamlit.log") as base:
        yield {"base": base, "passages": passages}
    store.dispose()


def _shown(page) -> dict:
    return page.evaluate("""() => {
        const root = document.querySelector('[data-testid=coding-workbench]');
        const scroller = root.querySelector('.cw-scroll');
        const top = scroller.scrollTop, bottom = top + scroller.clientHeight;
        const stripes = [...root.querySelectorAll('[data-testid=cw-stripe]')];
        return {passage: root.dataset.passage, marks: stripes.length, top,
                starts: stripes.map((s) => +s.dataset.start), ends: stripes.map((s) => +s.dataset.end),
                inView: stripes.filter((s) => parseFloat(s.style.top) < bottom && parseFloat(s.style.top) + parseFloat(s.style.height) > top).length};
    }""")


def test_stripes_follow_the_scrolled_passage_and_a_chosen_passage_scrolls_the_text(dense, browser_page):
    page = browser_page
    passages = dense["passages"]
    assert len(passages) == 3
    _open(page, dense["base"])
    page.locator("[data-testid='cw-stripe']").first.wait_for()
    first = _shown(page)
    low, high = passages[0]
    assert first["passage"] == "0/3" and first["inView"] > 0
    assert all(s < high and e > low for s, e in zip(first["starts"], first["ends"]))  # only the first passage's codings
    assert first["marks"] <= stripes.MAX_MARKS + 200
    # Scrolling to the end brings the last passage's stripes, drawn where the coder looks.
    page.evaluate("() => { const s = document.querySelector('.cw-scroll'); s.scrollTop = s.scrollHeight; }")
    page.wait_for_function("() => document.querySelector('[data-testid=coding-workbench]').dataset.passage === '2/3'")
    wait_for_idle(page)
    last = _shown(page)
    low, high = passages[2]
    assert last["inView"] > 0 and all(s < high and e > low for s, e in zip(last["starts"], last["ends"]))
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stSelectbox']")]
        .filter(box => (box.querySelector('label')?.innerText || '').trim() === 'Passage')
        .some(box => (box.innerText + ' ' + [...box.querySelectorAll('input')].map(i => i.value).join(' ')).includes('3 of 3'))""")
    # Choosing a passage on the page scrolls the text to it (and the stripes stay those of it).
    box = page.locator("[data-testid='stSelectbox']", has_text="Passage")
    box.click()
    page.get_by_role("option", name="2 of 3", exact=False).click()
    page.wait_for_function("() => document.querySelector('[data-testid=coding-workbench]').dataset.passage === '1/3'")
    wait_for_idle(page)
    page.wait_for_timeout(600)  # a scroll request would come 150 ms after the scrolling stops
    chosen = _shown(page)
    assert chosen["passage"] == "1/3" and chosen["inView"] > 0 and 0 < chosen["top"] < last["top"]
