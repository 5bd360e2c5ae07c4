"""AppTest of the codebook page and the reusable definition panel."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from casestudy import access
from casestudy.codebook import tree as cb
from casestudy import study as studies
from casestudy import users

SCRIPT = "from casestudy.ui.pages.codebook import render\nrender()\n"


@pytest.fixture
def page(demo_store, monkeypatch):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", demo_store.url)

    def open_as(username="admin"):
        with demo_store.read() as session:
            user = next(u for u in users.list_users(session) if u.username == username)
        at = AppTest.from_string(SCRIPT, default_timeout=30)
        at.session_state["_principal"] = access.researcher(user)
        return at.run()

    return open_as


def test_page_shows_tree_by_level_and_definitions(page):
    at = page()
    assert not at.exception
    assert at.title[0].value == "Codebook"
    assert [t.label for t in at.tabs] == ["organization (24)", "team (16)", "therapist (4)"]
    first = at.dataframe[0].value
    assert first["Code"].iloc[0] == "Organization" and "Codings" in first.columns
    at.selectbox(key="codebook_code").select("Team/Primary clinician").run()
    text = " ".join(m.value for m in at.markdown)
    assert "**When not to use:**" in text and "Primary clinician" in text


def test_search_and_edit_with_confirmation(page, demo_store):
    at = page()
    at.text_input(key="codebook_search").input("drop-out").run()
    assert "Team/Commitment and drop-out" in at.dataframe[0].value["Code"].tolist()
    at.selectbox(key="codebook_code").select("Team/Treatment review").run()
    # retire needs the confirmation box first
    assert at.button(key="retire_button").disabled
    at.checkbox(key="retire_confirm").check().run()
    at.button(key="retire_button").click().run()
    assert any("Retired" in s.value for s in at.success)
    with demo_store.read() as session:
        assert cb.get_code(session, studies.get_study(session), "Team/Treatment review").status == "retired"


def test_add_and_bad_merge_show_messages(page, demo_store):
    at = page()
    at.text_input(key="add_name").input("Peer coaching")
    at.selectbox(key="add_parent").select("Team")
    at.selectbox(key="add_level").select("team")
    at.button[[b.label for b in at.button].index("Add code")].click().run()
    assert any("Added Team/Peer coaching" in s.value for s in at.success), [e.value for e in at.error]
    at.text_input(key="add_name").input("peer coaching")
    at.selectbox(key="add_parent").select("Team")
    at.selectbox(key="add_level").select("team")
    at.button[[b.label for b in at.button].index("Add code")].click().run()
    assert [e.value for e in at.error] == ["a code named 'Peer coaching' already exists under 'Team'"]
    at.selectbox(key="codebook_code").select("Team").run()
    at.selectbox(key="merge_target").select("Team/Primary clinician")
    at.checkbox(key="merge_confirm").check().run()
    at.button(key="merge_button").click().run()
    assert [e.value for e in at.error][-1] == "cannot merge 'Team' into its own sub-code 'Primary clinician'; move that sub-code out first"


def test_viewer_sees_no_edit_controls(page, demo_store):
    with demo_store.write() as session:
        users.add_user(session, "viewer1", "a long viewer secret", "viewer")
        studies.add_member(session, studies.get_study(session), "viewer1")
    at = page("viewer1")
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert "Retire" not in labels and "Add a code" not in labels and "Export" in labels


def test_edit_saves_and_refuses_a_stale_version(page, demo_store):
    at = page()
    with demo_store.read() as session:
        code_id = cb.get_code(session, studies.get_study(session), "Team/Crisis management").id
    at.selectbox(key="codebook_code").select("Team/Crisis management").run()
    at.text_area(key=f"edit_{code_id}_example").input("A new invented example.")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert any(s.value == "Saved." for s in at.success), [e.value for e in at.error]
    with demo_store.write("coder2") as session:  # someone else saves in between
        cb.edit_code(session, cb.get_code(session, studies.get_study(session), "Team/Crisis management"), definition="Changed elsewhere.")
    at.text_area(key=f"edit_{code_id}_example").input("Mine.")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert any("someone else saved this item in the meantime" in e.value for e in at.error)
    with demo_store.read() as session:
        code = cb.get_code(session, studies.get_study(session), "Team/Crisis management")
        assert (code.example, code.definition) == ("A new invented example.", "Changed elsewhere.")


def test_definition_panel_for_the_coding_page(demo_store, monkeypatch):
    """The coding page calls show_code_definition(code) with a Code row or a record."""
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", demo_store.url)
    script = (
        "from casestudy import study as studies\n"
        "from casestudy.codebook import tree as cb\n"
        "from casestudy.ui.session import store\n"
        "from casestudy.ui.codebook_panel import show_code_definition\n"
        "with store().read() as session:\n"
        "    code = cb.get_code(session, studies.get_study(session), 'Leadership')\n"
        "    show_code_definition(code, compact=True)\n"
    )
    at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Leadership**" in text and "**When to use:**" in text and "**Example:**" not in text
    assert "level: team (also organization)" in at.caption[0].value
