"""AppTest of the coding workbench (the component's JS does not run here: state is injected)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from casestudy import access
from casestudy import users
from casestudy.models import Coding
from casestudy.ui.pages import coding as page

from tests.conftest import ROOT
from tests.coding.test_coding import TEXT_MANAGER, setup  # noqa: F401
from casestudy.interviews import store as interviews_store
from casestudy.coding import spans


def _app(store, monkeypatch, username="coder1"):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", store.url)
    with store.read() as session:
        user = users.get_user(session, username)
        principal = access.researcher(user)
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=30)
    at.session_state["_page_module"] = "casestudy.ui.pages.coding"
    at.session_state["_principal"] = principal
    return at


def test_select_apply_and_edit(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch)
    at.run()
    assert not at.exception
    assert "Case A" in at.selectbox(key="coding_interview").value
    start = TEXT_MANAGER.index("Leadership was strong")
    at.session_state[page.PENDING] = {"start": start, "end": start + 21, "text": "Leadership was strong"}
    at.multiselect(key="coding_codes").select("Leadership")
    at.run()
    assert any("Selected" in m.value for m in at.markdown)
    at.button(key="coding_apply").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with store.read() as session:
        (saved,) = session.query(Coding).all()
        assert (saved.start, saved.end, saved.coder.username) == (start, start + 21, "coder1")
    # Clicking the highlight opens its editor; removing it deletes the coding.
    at.session_state[page.CLICKED] = {"ids": [saved.id], "offset": start}
    at.run()
    remove = [b for b in at.button if b.label == "Remove"]
    remove[0].click()
    at.run()
    with store.read() as session:
        assert session.query(Coding).count() == 0


def test_viewer_cannot_apply(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch, "viewer")
    at.run()
    at.session_state[page.PENDING] = {"start": 0, "end": 5, "text": "Inter"}
    at.multiselect(key="coding_codes").select("Leadership")
    at.run()
    assert at.button(key="coding_apply").disabled


def test_quick_mode_codes_sentences(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch)
    at.session_state["coding_mode"] = "Sentences"
    at.run()
    key = f"quick_{setup['manager']}"
    at.session_state[key] = {"edited_rows": {1: {"code": "Support/Budget"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="quick_save").click()
    at.run()
    assert not at.exception
    with store.read() as session:
        (saved,) = session.query(Coding).all()
        assert saved.code.name == "Budget"


def _page(store, monkeypatch, module, username="coder1"):
    at = _app(store, monkeypatch, username)
    at.session_state["_page_module"] = module
    return at


def test_analysis_and_agreement_pages(store, setup, monkeypatch):  # noqa: F811
    from casestudy.codebook import tree as codebook
    from casestudy import study as studies

    start = TEXT_MANAGER.index("Leadership was strong")
    with store.write() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["manager"])
        for name in ("coder1", "coder2"):
            spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")], spans.get_coder(session, name), start, start + 21)
    at = _page(store, monkeypatch, "casestudy.ui.pages.analysis")
    at.run()
    assert not at.exception
    assert any("2 segment(s)" in c.value for c in at.caption)
    at = _page(store, monkeypatch, "casestudy.ui.pages.agreement")
    at.run()
    at.button(key="agr_compute").click()
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["code"]) == ["Leadership", "(all codes)"] and table["percent agreement"].iloc[0] == 1.0
