"""The whole study in the browser, on an empty database, through the UI alone (issue 15).

A new researcher starts a server on an empty database and, only by clicking and typing in the
browser, creates the administrator, a study, two cases with a respondent and consent each,
imports a .txt and a .vtt transcript, codes a passage of each by selecting it with the mouse,
writes a reconstruction per case and has it member-checked through the respondents' links
(each respondent opens their link in a browser of their own and agrees), masks and releases
it, runs a panel with two experts through their links, and downloads Table 2 as XLSX and DOCX,
whose cells must be the experts' ratings as mean (range).

Library calls only read, for the assertions; every change goes through the pages: the first
start's "Start a new study" form, the Cases page's forms and consent grid, the coding workbench
(a mouse selection, then a click on the code in its tree), the public URL on the Accounts page
(every link starts with it). Each step is one helper named after what the researcher does, so a
page rewrite changes one helper. Every wait is on a visible result, with generous timeouts: a
loaded 2-core machine takes many seconds per rerun.

The test prints its duration per stage (run with ``-s``). Measured 2026-12-02 on the shared
2-core machine at a load average of about 10: 297 s and 325 s in all (panel about 100 s, member
check 50-65 s). ``JOURNEY_SHOTS=DIR`` keeps a screenshot of each stage (and of a failure) in DIR.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.masking import workflow as masking_workflow
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire
from casestudy.panel.results import short_label
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from tests.conftest import ROOT, require_chromium, streamlit_server, wait_for_app, wait_for_idle

pytestmark = pytest.mark.browser

ADMIN_USER, ADMIN_NAME, ADMIN_PASSWORD = "lead", "Lena Lead", "a journey through 2026"
STUDY_TITLE = "Day programmes in two regions"
CODE_NAME = "Leadership support"


@dataclass(frozen=True)
class CaseSpec:
    internal: str
    public: str
    organisation: str
    outcome: str
    respondent: str
    role: str
    transcript_name: str
    transcript: str
    coded_phrase: str
    narrative: str
    masked_as: str


CASES = (
    CaseSpec(
        internal="Unit North", public="Case A", organisation="Riverside Clinic", outcome="positive",
        respondent="Mira Jansen", role="manager", transcript_name="north-manager.txt",
        transcript=(
            "Interviewer: How did the day programme start?\n\n"
            "Mira Jansen: The board gave us two years and a budget. Our director came to every team meeting "
            "in the first months, and that made the difference for the therapists.\n\n"
            "Interviewer: And later?\n\n"
            "Mira Jansen: Later we trained our own supervisors.\n"
        ),
        coded_phrase="Our director came to every team meeting",
        narrative=(
            "# A programme carried by its director\n\n"
            "At Riverside Clinic the board gave the day programme two years and a budget.\n\n"
            "The director attended every team meeting in the first months, which the team saw as decisive."
        ),
        masked_as="[the institution]",
    ),
    CaseSpec(
        internal="Unit South", public="Case B", organisation="Hillcrest Hospital", outcome="negative",
        respondent="Tom Bakker", role="therapist", transcript_name="south-therapist.vtt",
        transcript=(
            "WEBVTT\n\n"
            "00:00:01.000 --> 00:00:04.000\n<v Interviewer>How did the programme end?\n\n"
            "00:00:05.000 --> 00:00:12.000\n<v Tom Bakker>Nobody from management ever asked how the groups went. "
            "We stopped after a year.\n"
        ),
        coded_phrase="Nobody from management ever asked how the groups went",
        narrative=(
            "# A programme left to itself\n\n"
            "At Hillcrest Hospital management never asked how the groups went.\n\n"
            "The team stopped the programme after one year."
        ),
        masked_as="[the hospital]",
    ),
)

# Two experts' ratings per case, in the questionnaire's order of the four statements (0-5).
EXPERTS = (
    ("Erin Expert", "erin@example.org", {"Case A": (5, 4, 4, 3), "Case B": (2, 1, 3, 2)}),
    ("Pim Panel", "pim@example.org", {"Case A": (4, 4, 5, 3), "Case B": (1, 1, 2, 4)}),
)
DETERMINANTS = ("leadership", "budget")


# --- the server and the browser ------------------------------------------------------------
@pytest.fixture
def empty_server(tmp_path):
    """A production-mode server (no demo accounts) over a database file that does not exist yet."""
    require_chromium()
    url = f"sqlite:///{tmp_path / 'journey.sqlite'}"
    env = {"CASESTUDY_DATABASE_URL": url, "CASESTUDY_DEMO": "0", "CASESTUDY_DATA_DIR": str(tmp_path / "data")}
    with streamlit_server(ROOT / "app.py", env, tmp_path / "streamlit.log") as base:
        yield {"base": base, "url": url, "env": env, "log": tmp_path / "streamlit.log", "data": tmp_path / "data"}


def _new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def _idle(page) -> None:
    """Wait until the app has finished the rerun an action started (the script state Streamlit
    keeps on its root element; a short pause first lets a just-sent rerun begin)."""
    wait_for_idle(page, timeout=60_000)


def _shot(page, name: str) -> None:
    import os

    folder = os.environ.get("JOURNEY_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _open_page(page, title: str, heading: str | None = None) -> None:
    """Go to a researcher page through the sidebar (a typed URL would start a new session) and
    wait for its heading (the page title unless given)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=heading or title, exact=True).wait_for()
    _idle(page)


def _expander(page, title: str):
    expander = page.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text=title))
    details = expander.get_by_test_id("stExpanderDetails")
    if not details.is_visible():
        expander.locator("summary").click()
        details.wait_for()
    return expander


def _choose(scope, label: str, option: str | re.Pattern) -> None:
    """Pick an option of a selectbox by its label."""
    box = scope.get_by_role("combobox", name=label, exact=True)
    current = box.input_value()
    if (option == current) if isinstance(option, str) else bool(option.search(current)):
        return
    page = getattr(scope, "page", scope)  # a Locator knows its page; a Page is one
    choice = page.get_by_role("option", name=option).first
    box.click()
    try:
        choice.wait_for(timeout=2_000)
    except PlaywrightTimeout:  # the click focused the box without opening its list
        box.press("ArrowDown")
    choice.click()
    _idle(page)
    pattern = re.compile(re.escape(option)) if isinstance(option, str) else option
    expect(box).to_have_value(pattern)


def _press(scope, name: str | re.Pattern) -> None:
    """Click a button after the field being typed in has been left (focus moves to the button
    first): clicking straight out of a field re-renders the form under the pointer, and that
    click is sometimes lost."""
    button = scope.get_by_role("button", name=name)
    button.focus()
    button.click()


def _confirmed(page, message: str | re.Pattern) -> None:
    """Wait for an action's confirmation. It may sit inside an expander that the rerun closed
    (the Cases page does that today), so being in the page is enough."""
    page.get_by_text(message).first.wait_for(state="attached")
    _idle(page)


def _tab(page, name: str):
    page.get_by_role("tab", name=name, exact=True).click()
    return page.get_by_role("tabpanel", name=name, exact=True)


# --- the researcher's steps ----------------------------------------------------------------
def _create_admin(page, base: str) -> None:
    page.goto(base)
    wait_for_app(page)
    page.get_by_role("textbox", name="Administrator user name", exact=True).fill(ADMIN_USER)
    page.get_by_role("textbox", name="Full name", exact=True).fill(ADMIN_NAME)
    page.get_by_label("Password (at least 10 characters)").fill(ADMIN_PASSWORD)
    page.get_by_label("Repeat password").fill(ADMIN_PASSWORD)
    _press(page, "Create administrator")
    page.get_by_text(f"Signed in as {ADMIN_USER}").wait_for()


def _start_study(page, title: str, language: str = "en") -> None:
    """The first start on an empty database: "Start a new study" with the default levels and no codebook."""
    page.get_by_role("heading", name="Start a new study").wait_for()
    _idle(page)
    page.get_by_role("textbox", name="Title", exact=True).fill(title)
    page.get_by_role("textbox", name="Language of the transcripts", exact=True).fill(language)
    page.keyboard.press("Tab")
    _idle(page)
    _press(page, "Create the study")
    page.get_by_text(f"Started the study “{title}”").first.wait_for()
    _idle(page)
    _open_page(page, "Overview", heading=title)


def _set_public_url(page, base: str) -> None:
    """The administrator sets the address people outside open (Accounts page): every link starts with it."""
    _open_page(page, "Accounts")
    field = page.get_by_role("textbox", name=re.compile("Address people outside open"))
    field.fill(base)
    _press(page, "Save public URL")
    page.get_by_text(f"Links to respondents and experts start with {base}").wait_for()
    _idle(page)


def _add_case(page, case: CaseSpec) -> None:
    form = _expander(page, "Add a case")
    form.get_by_role("textbox", name="Internal label", exact=True).fill(case.internal)
    form.get_by_role("textbox", name="Public label", exact=True).fill(case.public)
    form.get_by_role("textbox", name="Organisation (internal only)", exact=True).fill(case.organisation)
    _choose(form, "Outcome", case.outcome)
    _press(form, "Add case")
    _confirmed(page, f"Added {case.public}.")


def _add_respondent(page, case: CaseSpec) -> None:
    form = _expander(page, "Add a respondent")
    _choose(form, "Case", case.public)
    form.get_by_role("textbox", name="Name", exact=True).fill(case.respondent)
    _choose(form, "Role", case.role)
    _press(form, "Add respondent")
    _confirmed(page, f"Added {case.respondent} to {case.public}.")


def _record_consent(page, respondents: int) -> None:
    """Tick interview and member check for every respondent in the consent grid, then one save.

    The grid draws on a canvas: the keyboard moves through it (columns Case, Respondent,
    interview, recording, member check, final text, Date; rows in the cases' order)."""
    save = page.get_by_role("button", name="Save consent changes")
    save.wait_for()
    grid = page.locator("[data-testid='stDataFrame']").last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # the first row's Case cell
    for _ in range(2):
        page.keyboard.press("ArrowRight")  # the interview column
    for column in range(2):  # interview down the rows, then member check back up
        for row in range(respondents):
            page.keyboard.press(" ")
            if row < respondents - 1:
                page.keyboard.press("ArrowDown" if column == 0 else "ArrowUp")
        if column == 0:
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")  # past recording
    page.wait_for_timeout(500)  # the grid hands its edits to the form after the last key press
    save.click()
    _confirmed(page, f"Consent saved: {2 * respondents} recorded, 0 withdrawn")


def _add_code(page, name: str, level: str, short_definition: str) -> None:
    form = _expander(page, "Add a code")
    form.get_by_role("textbox", name="Name", exact=True).fill(name)
    _choose(form, "Level", level)
    form.get_by_role("textbox", name="Short definition", exact=True).fill(short_definition)
    _press(form, "Add code")
    _confirmed(page, f"Added {name}.")


def _import_transcript(page, case: CaseSpec, path: Path) -> None:
    panel = _tab(page, "Import")
    panel.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    _idle(page)
    _choose(panel, "Case", case.public)
    _idle(page)
    _choose(panel, "Respondent", re.compile(re.escape(case.respondent)))
    _idle(page)
    panel.get_by_role("button", name="Import 1 file").click()
    page.get_by_text(re.compile(rf"Imported {re.escape(path.name)} \(interview \d+\)")).wait_for()
    _idle(page)
    # The uploaded file stays in the uploader: remove it before the next one.
    panel.get_by_role("button", name=f"Remove {path.name}").click()
    _idle(page)


def _code_span(page, interview: str, phrase: str, code_path: str) -> None:
    """Select ``phrase`` in the transcript with the mouse and apply one code to it."""
    _choose(page, "Interview", re.compile(re.escape(interview)))
    _idle(page)
    view = page.get_by_test_id("span-selector")
    view.get_by_text(phrase[:20], exact=False).first.wait_for()
    view.scroll_into_view_if_needed()
    box = page.evaluate(
        """(phrase) => {
            const root = document.querySelector('[data-testid="span-selector"]');
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const i = node.textContent.indexOf(phrase);
                if (i < 0) continue;
                const first = document.createRange(); first.setStart(node, i); first.setEnd(node, i + 1);
                const last = document.createRange(); last.setStart(node, i + phrase.length - 1); last.setEnd(node, i + phrase.length);
                const a = first.getBoundingClientRect(), b = last.getBoundingClientRect();
                return {x0: a.left + 1, y0: a.top + a.height / 2, x1: b.right - 1, y1: b.top + b.height / 2};
            }
            return null;
        }""",
        phrase,
    )
    assert box is not None, f"{phrase!r} is not in the transcript view"
    page.mouse.move(box["x0"], box["y0"])
    page.mouse.down()
    page.mouse.move(box["x1"], box["y1"], steps=8)
    page.mouse.up()
    page.locator("[data-testid='cw-pending']", has_text="Selected").wait_for()
    # A click on the code in the workbench's tree applies it to the selection.
    page.locator("[data-testid='cw-tree'] .cw-node", has_text=code_path).locator(".cw-name").first.click()
    page.locator("[data-testid='cw-stripe']", has_text=code_path).first.wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=coding-workbench]').dataset.pending === '0'", timeout=60_000)


def _write_reconstruction(page, case: CaseSpec) -> None:
    _choose(page, "Case", re.compile(rf"^{re.escape(case.public)}\b"))
    _idle(page)
    editor = _tab(page, "Editor")
    editor.get_by_role("textbox", name="Narrative (Markdown)", exact=True).fill(case.narrative)
    editor.get_by_role("textbox", name="Short summary (one paragraph)", exact=True).fill(case.narrative.splitlines()[-1])
    editor.get_by_role("textbox", name="Change note for a new version", exact=True).fill("first full draft")
    _press(editor, "Save as new version")
    page.get_by_text("Saved version 1.").wait_for()
    _idle(page)


def _send_member_check(page, case: CaseSpec, base: str) -> list[str]:
    """Send the latest version to the member check; returns the respondents' links shown once."""
    panel = _tab(page, "Member check")
    send = panel.get_by_role("button", name=re.compile(r"Send version \d+ to the member check"))
    panel.get_by_text(f"Links start with {base}").wait_for()  # the public URL the administrator set
    send.click()
    page.get_by_text("Links for the respondents").wait_for()
    links = [text for text in panel.get_by_test_id("stCode").all_inner_texts() if "token=" in text]
    assert len(links) == 1, links
    return [re.search(r"https?://\S+token=\S+", text).group(0) for text in links]


def _respondent_agrees(browser, link: str, case: CaseSpec) -> None:
    """The respondent opens their link in their own browser, reads the text and agrees."""
    page = _new_page(browser)
    try:
        page.goto(link)
        wait_for_app(page)
        page.get_by_role("heading", name="Your review").wait_for()
        page.get_by_text(case.narrative.splitlines()[2][:30]).wait_for()
        _shot(page, f"respondent-{case.public}")
        page.get_by_role("button", name="I agree with this version").click()
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("Your answer:").wait_for()
    finally:
        page.context.close()


def _add_register_entry(page, term: str, replacement: str, kind: str) -> None:
    panel = _tab(page, "Register")
    panel.get_by_role("textbox", name="Term", exact=True).fill(term)
    panel.get_by_role("textbox", name="Replacement", exact=True).fill(replacement)
    _choose(panel, "Kind", kind)
    _press(panel, "Add to register")
    page.get_by_text(f"Added {term}.").wait_for()
    _idle(page)


def _mask_and_release(page, case: CaseSpec) -> None:
    panel = _tab(page, "Generate")
    _choose(panel, "Case", case.public)
    _idle(page)
    panel.get_by_role("button", name="Generate from the agreed reconstruction").click()
    made = page.get_by_text(re.compile(r"Draft \d+ from reconstruction"))
    draft = re.search(r"Draft (\d+)", made.inner_text()).group(1)
    _idle(page)
    # The review tab lists the new draft at once (no navigation); its picker keeps the text
    # reviewed before, so pick the new one.
    review = _tab(page, "Review and release")
    _choose(review, "Masked text", draft)
    _press(review, "Accept all proposed")
    _idle(page)
    review.get_by_role("button", name="Release to the panel").click()
    page.get_by_text("Released; sha256").wait_for()
    _idle(page)


def _add_panel_member(page, name: str, email: str) -> None:
    form = _expander(page, "Add a member")
    form.get_by_role("textbox", name="Name", exact=True).fill(name)
    form.get_by_role("textbox", name="E-mail", exact=True).fill(email)
    _press(form, "Add member")
    page.get_by_text(re.compile(r"Added E\d+\.")).wait_for()
    _idle(page)


def _invite_panel(page, count: int) -> dict[str, str]:
    """Invite every new member; returns {member name: link} as the page shows them once."""
    panel = _tab(page, "Links and reminders")
    panel.get_by_role("button", name=f"Invite all new members ({count})").click()
    page.get_by_text("Links (copy them now").wait_for(state="attached")
    _idle(page)
    # The rerun shows the Members tab again; the links are on the tab the researcher was on.
    panel = _tab(page, "Links and reminders")
    panel.get_by_text("Links (copy them now").wait_for()
    shown = panel.inner_text()
    links = {name: link for name, link in re.findall(r"E\d+: (.+?) \([^)]*\)\s+(https?://\S+token=\S+)", shown)}
    assert len(links) == count, links
    return links


def _expert_rates_and_submits(browser, link: str, ratings: dict[str, tuple[int, ...]]) -> None:
    """The expert opens their link, rates every case on screen, lists determinants and submits."""
    page = _new_page(browser)
    try:
        page.goto(link)
        wait_for_app(page)
        page.get_by_role("heading", name="Expert panel").wait_for()
        heading = page.locator("h3").filter(has_text=re.compile(r"^Case [A-Z]$")).first
        label = None
        for position in range(1, len(ratings) + 1):
            if label is not None:  # the next case's heading, not the last one's before the rerun replaced it
                expect(heading).not_to_have_text(label, timeout=60_000)
                _idle(page)
            heading.wait_for()
            label = heading.inner_text().strip()
            groups = page.get_by_test_id("stRadio")
            for index, score in enumerate(ratings[label], start=1):
                groups.nth(index).get_by_text(str(score), exact=True).click()
                _idle(page)
            _shot(page, f"expert-{label}")
            next_button = page.get_by_role("button", name=re.compile(r"^Next: "))
            next_button.click()
            _idle(page)
        box = page.get_by_role("textbox", name=re.compile("Looking at all cases together"))
        box.fill("\n".join(DETERMINANTS))
        page.keyboard.press("Control+Enter")
        page.get_by_role("button", name="Confirm this order").click()
        page.get_by_text("This order is saved.").wait_for()
        page.get_by_test_id("stRadio").first.get_by_text("Check and submit", exact=True).click()
        page.get_by_text("Everything required is answered").wait_for()
        page.get_by_role("button", name="Submit my answers").click()
        page.get_by_text("Your answers were submitted").wait_for()
    finally:
        page.context.close()


def _download_table2(page, fmt_label: str, target: Path) -> Path:
    panel = page.get_by_role("tabpanel", name="Table 2", exact=True)
    with page.expect_download() as download:
        panel.get_by_role("button", name=fmt_label, exact=True).click()
    download.value.save_as(target)
    return target


# --- expected cells --------------------------------------------------------------------------
def _printed(scores: list[int]) -> str:
    """Table 2's cell by the report rules: the mean rounded half up to one decimal, then the range."""
    mean = (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{mean} ({min(scores)}-{max(scores)})"


def _expected_cells(statements: list[str]) -> dict[tuple[str, str], str]:
    return {
        (statement, short_label(case.public)): _printed([ratings[case.public][n] for _, _, ratings in EXPERTS])
        for n, statement in enumerate(statements)
        for case in CASES
    }


def _xlsx_cells(path: Path, statements: list[str]) -> dict[tuple[str, str], str]:
    import openpyxl

    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header = next(row for row in rows if row and row[0] == "Statement")
    return _cells(rows, header, statements)


def _docx_cells(path: Path, statements: list[str]) -> dict[tuple[str, str], str]:
    import docx

    table = docx.Document(str(path)).tables[0]
    rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
    header = next(row for row in rows if row and row[0] == "Statement")
    return _cells(rows, header, statements)


def _cells(rows, header, statements: list[str]) -> dict[tuple[str, str], str]:
    """{(statement, case column): cell} of the case columns (the Average column is left out)."""
    cases = {short_label(case.public) for case in CASES}
    return {(row[0], column): value for row in rows if row and row[0] in statements
            for column, value in zip(header[1:], row[1:]) if column in cases}


# --- the journey -----------------------------------------------------------------------------
@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds the block takes to ``timings[stage]`` (printed with the total)."""
    started = time.monotonic()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.monotonic() - started


def _journey(page, browser, server: dict, folder: Path, timings: dict[str, float]) -> tuple[Path, Path]:
    """Every step of the study through the pages; returns the downloaded Table 2 (XLSX, DOCX)."""
    base = server["base"]
    with _timed(timings, "admin and study"):
        _create_admin(page, base)
        _start_study(page, STUDY_TITLE)
        _set_public_url(page, base)

    with _timed(timings, "cases, respondents, consent"):
        _open_page(page, "Cases and respondents")
        for case in CASES:
            _add_case(page, case)
        for case in CASES:
            _add_respondent(page, case)
        _record_consent(page, len(CASES))
        _shot(page, "cases")

    with _timed(timings, "codebook and transcripts"):
        _open_page(page, "Codebook")
        _add_code(page, CODE_NAME, "organization", "Managers and directors visibly back the programme")
        _open_page(page, "Interviews")
        for case in CASES:
            path = folder / case.transcript_name
            path.write_text(case.transcript, encoding="utf-8")
            _import_transcript(page, case, path)
        _shot(page, "interviews")

    with _timed(timings, "coding"):
        _open_page(page, "Coding")
        for case in CASES:
            _code_span(page, case.transcript_name, case.coded_phrase, CODE_NAME)
        _shot(page, "coding")

    with _timed(timings, "reconstruction and member check"):
        _open_page(page, "Reconstructions", heading="Reconstructions and member check")
        for case in CASES:
            _write_reconstruction(page, case)
            for link in _send_member_check(page, case, base):
                _respondent_agrees(browser, link, case)
        _shot(page, "reconstructions")

    with _timed(timings, "masking"):
        _open_page(page, "Masking")
        for case in CASES:
            _add_register_entry(page, case.organisation, case.masked_as, "organisation")
        for case in CASES:
            _mask_and_release(page, case)
        _shot(page, "masking")

    with _timed(timings, "panel"):
        _open_page(page, "Expert panel")
        for name, email, _ in EXPERTS:
            _add_panel_member(page, name, email)
        links = _invite_panel(page, len(EXPERTS))
        for name, _, ratings in EXPERTS:
            _expert_rates_and_submits(browser, links[name], ratings)

    with _timed(timings, "reports"):
        _open_page(page, "Reports")
        page.get_by_text("Table 2. Expert ratings per case").first.wait_for()
        _shot(page, "reports")
        return _download_table2(page, "XLSX", folder / "table2.xlsx"), _download_table2(page, "DOCX", folder / "table2.docx")


@pytest.mark.timeout(900)  # a loaded machine can take several times the usual figure
def test_whole_study_in_the_browser_on_an_empty_database(empty_server, chromium_browser, tmp_path):
    started, timings = time.monotonic(), {}
    page = _new_page(chromium_browser)
    try:
        xlsx, docx_path = _journey(page, chromium_browser, empty_server, tmp_path, timings)
    except Exception:
        _shot(page, "failure")
        raise
    finally:
        page.context.close()
    elapsed = time.monotonic() - started
    print(f"\njourney: {elapsed:.1f} s through the browser ("
          + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in timings.items()) + ")")

    # What was stored, read back through the library.
    store = dbmod.Store(empty_server["url"])
    try:
        with store.read() as session:
            study = studies.get_study(session)
            assert study.title == STUDY_TITLE
            statements = [i.label for i in panel_questionnaire.current_questionnaire(session, study).items if i.kind == "likert_per_case"]
            for case_spec in CASES:
                case = studies.get_case(session, study, case_spec.public)
                assert reconstruction_membercheck.agreed_version(session, case).number == 1
                released = [m for m in masking_workflow.list_masked(session, study, case) if m.status == "released"]
                assert len(released) == 1
                assert case_spec.masked_as in released[0].masked_text and case_spec.organisation not in released[0].masked_text
            assert sorted(m.status for m in panel_members.list_members(session, study)) == ["submitted"] * len(EXPERTS)
    finally:
        store.dispose()
    expected = _expected_cells(statements)
    assert _xlsx_cells(xlsx, statements) == expected
    assert _docx_cells(docx_path, statements) == expected
    log = empty_server["data"] / "casestudy.log"
    assert not log.exists() or "unexpected failure" not in log.read_text(encoding="utf-8")
