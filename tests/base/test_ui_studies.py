"""AppTest of studies in the app: first start, the create form, the switcher, the guard, empty studies."""

from __future__ import annotations

import pytest

from casestudy import access, users
from casestudy import study as studies
from casestudy.models import AuditEvent
from casestudy.ui import current_study

PASSWORD = "a long enough password"


def _signed_in(new_app, store, username, query=None):
    with store.read() as session:
        principal = access.researcher(users.get_user(session, username))
    at = new_app(query)
    at.session_state["_principal"] = principal
    return at


def _elements(block):
    """Every element under a block, in page order."""
    for child in getattr(block, "children", {}).values():
        if getattr(child, "children", None):
            yield from _elements(child)
        else:
            yield child


@pytest.fixture
def admin_only(store):
    with store.write() as session:
        users.add_user(session, "root", PASSWORD, "admin")
    return store


def test_create_form_keeps_typed_values_and_shows_the_message_at_the_field(admin_only, app_env):
    at = _signed_in(app_env(admin_only), admin_only, "root")
    at.run()
    assert at.title[0].value == "Welcome to Casestudy"
    at.text_input(key="first_start_title").input("Day programme study")
    at.text_input(key="first_start_language").input("nl")
    at.text_input(key="first_start_levels").input("org, org")
    at.button(key="first_start_create").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["study levels must be distinct and not empty"]
    assert at.text_input(key="first_start_title").value == "Day programme study"  # kept
    assert at.text_input(key="first_start_levels").value == "org, org"
    # The message sits right under the levels field, before the codebook choice.
    order = [getattr(el, "key", None) or el.type for el in _elements(at.main)]
    levels = order.index("first_start_levels")
    assert order[levels + 1:levels + 3] == ["error", "first_start_codebook"], " ".join(order)
    # A shipped codebook with a preview of its codes, then a study with it.
    at.text_input(key="first_start_levels").input("organization, team, therapist")
    at.selectbox(key="first_start_codebook").select("empty-three-level")
    at.run()
    assert any("Preview of Empty three-level codebook: 3 codes" in c.value for c in at.caption)
    assert any("**Team** (team)" in m.value for m in at.markdown)
    at.button(key="first_start_create").click()
    at.run()
    assert not at.exception and not at.error
    assert any("Started the study “Day programme study” with 3 codes" in s.value for s in at.success)
    with admin_only.read() as session:
        [study] = studies.list_studies(session)
        assert (study.title, study.language) == ("Day programme study", "nl")
        assert [(m.user.username, m.role) for m in studies.list_members(session, study)] == [("root", "owner")]
    assert at.query_params[current_study.QUERY_PARAM] == str(study.id)


def test_first_start_loads_the_demo_with_progress(admin_only, app_env):
    at = _signed_in(app_env(admin_only), admin_only, "root")
    at.default_timeout = 120
    at.run()
    at.button(key="load_demo").click()
    at.run()
    assert not at.exception and not at.error
    assert any("Loaded the demo study" in s.value for s in at.success)
    assert at.title[0].value.startswith("MBT implementation")  # the overview of the demo
    with admin_only.read() as session:
        demo_study = studies.get_study(session)
        assert {m.user.username for m in studies.list_members(session, demo_study)} == {"admin", "coder1", "coder2"}


def test_login_page_names_the_demo_accounts_in_demo_mode(demo_store, app_env, monkeypatch):
    at = app_env(demo_store)()
    at.run()
    assert any("Sign in as `admin` with password `demo-admin-2026`" in i.value for i in at.info)
    monkeypatch.setenv("CASESTUDY_DEMO", "0")
    at = app_env(demo_store)()
    at.run()
    assert not any("demo-admin-2026" in i.value for i in at.info)


@pytest.fixture
def two_studies(demo_store):
    """The demo (coder1 codes it) and a second, empty study that only 'ann' belongs to."""
    with demo_store.write() as session:
        ann = users.add_user(session, "ann", PASSWORD, "coder")
        second = studies.create_study(session, "Second study", owner=ann)
        demo_id = studies.get_study(session).id
        return {"demo": demo_id, "second": second.id}


def test_switcher_changes_the_study_of_every_page(demo_store, two_studies, app_env):
    at = _signed_in(app_env(demo_store), demo_store, "admin")
    at.run()
    switcher = at.sidebar.selectbox(key=current_study.SWITCHER_KEY)
    assert switcher.options == ["MBT implementation in seven programmes (demo)", "Second study", "New study…"]
    assert at.title[0].value.startswith("MBT implementation")
    switcher.select_index(1)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Second study"
    assert at.query_params[current_study.QUERY_PARAM] == str(two_studies["second"])
    assert any("No cases yet" in i.value for i in at.info)


def test_every_page_on_an_empty_study_shows_no_error(demo_store, two_studies, app_env):
    from streamlit.testing.v1 import AppTest

    from casestudy.ui.navigation import _page_modules

    app_env(demo_store)
    with demo_store.read() as session:
        ann = access.researcher(users.get_user(session, "ann"))  # owns only the empty second study
    failures = {}
    for module in _page_modules():
        if "researcher" not in module.PAGE.audience:
            continue
        at = AppTest.from_string(f"from {module.__name__} import render\nrender()\n", default_timeout=30)
        at.session_state["_principal"] = ann
        at.run()
        if at.exception or at.error:
            failures[module.PAGE.url_path] = [e.value for e in at.exception] + [e.value for e in at.error]
    assert failures == {}


def test_pages_without_a_study_say_start_one(admin_only, app_env):
    from streamlit.testing.v1 import AppTest

    app_env(admin_only)  # the pages open this store
    with admin_only.write() as session:
        users.add_user(session, "cora", PASSWORD, "coder")
        users.add_user(session, "vera", PASSWORD, "viewer")
        studies.create_study(session, "Hidden")  # exists, but cora and vera are no members
    for username, expected in (("cora", "Start a study first"), ("vera", "not a member of any study")):
        with admin_only.read() as session:
            principal = access.researcher(users.get_user(session, username))
        for page in ("cases", "interviews", "codebook", "overview"):
            at = AppTest.from_string(f"from casestudy.ui.pages.{page} import render\nrender()\n", default_timeout=30)
            at.session_state["_principal"] = principal
            at.run()
            assert not at.exception and not at.error, (username, page)
            assert any(expected in i.value for i in at.info), (username, page, [i.value for i in at.info])


def test_a_study_in_the_url_is_checked_and_the_refusal_logged(demo_store, two_studies, app_env):
    at = _signed_in(app_env(demo_store), demo_store, "coder1", {"study": str(two_studies["second"])})
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["you are not a member of this study; ask its owner or the administrator to add you"]
    assert not any("Second study" in t.value for t in at.title)
    with demo_store.read() as session:
        refused = session.query(AuditEvent).filter(AuditEvent.entity == "access", AuditEvent.action == "refused").all()
    assert [(e.actor, e.study_id) for e in refused] == [("coder1", two_studies["second"])]
    # Without the URL's study, coder1 works on the demo, the only study they belong to.
    at = _signed_in(app_env(demo_store), demo_store, "coder1")
    at.run()
    assert at.title[0].value.startswith("MBT implementation")
    assert at.sidebar.selectbox(key=current_study.SWITCHER_KEY).options == ["MBT implementation in seven programmes (demo)", "New study…"]


def test_study_page_members_and_last_owner(demo_store, two_studies, app_env):
    at = _signed_in(app_env(demo_store), demo_store, "ann", {"study": str(two_studies["second"])})
    at.run()
    from streamlit.testing.v1 import AppTest

    with demo_store.read() as session:
        principal = access.researcher(users.get_user(session, "ann"))
    page = AppTest.from_string("from casestudy.ui.pages.studies import render\nrender()\n", default_timeout=30)
    page.session_state["_principal"] = principal
    page.query_params["study"] = str(two_studies["second"])
    page.run()
    assert page.title[0].value == "Second study"
    page.selectbox(key="member_add_user").select("coder1")
    page.run()
    page.selectbox(key="member_add_role_coder1").select("viewer")
    page.button(key="member_add").click()
    page.run()
    assert any("Added coder1 as viewer" in s.value for s in page.success)
    page.selectbox(key="member_remove_user").select("ann")
    page.button(key="member_remove").click()
    page.run()
    assert [e.value for e in page.error] == ["ann is the last owner of 'Second study'; make another member owner first"]
    with demo_store.read() as session:
        second = studies.get_study(session, two_studies["second"])
        assert {(m.user.username, m.role) for m in studies.list_members(session, second)} == {("ann", "owner"), ("coder1", "viewer")}


def test_study_page_renames_archives_and_unarchives(demo_store, two_studies, app_env):
    from streamlit.testing.v1 import AppTest

    app_env(demo_store)
    with demo_store.read() as session:
        ann = access.researcher(users.get_user(session, "ann"))
    page = AppTest.from_string("from casestudy.ui.pages.studies import render\nrender()\n", default_timeout=30)
    page.session_state["_principal"] = ann
    page.run()
    assert page.title[0].value == "Second study"
    page.text_input(key="rename_title").input("Second study, renamed")
    page.button[[b.label for b in page.button].index("Rename")].click()
    page.run()
    assert any("Renamed the study to “Second study, renamed”" in s.value for s in page.success)
    page.checkbox(key="archive_confirm").check()
    page.run()
    page.button(key="archive_study").click()
    page.run()
    assert not page.exception
    # ann has no active study left: the page offers a new one and lists the archived one.
    assert "Archived studies" in [h.value for h in page.subheader]
    page.button(key=f"unarchive_{two_studies['second']}").click()
    page.run()
    assert any("is back in the study list" in s.value for s in page.success)
    assert page.title[0].value == "Second study, renamed"
    # coder1 (a coder of the demo, not a member here) cannot rename the demo: owners only.
    with demo_store.read() as session:
        coder = access.researcher(users.get_user(session, "coder1"))
    page = AppTest.from_string("from casestudy.ui.pages.studies import render\nrender()\n", default_timeout=30)
    page.session_state["_principal"] = coder
    page.run()
    assert page.title[0].value.startswith("MBT implementation")
    assert any("Only the study's owners can rename or archive it." in i.value for i in page.info)
    assert not [b for b in page.button if b.label in ("Rename", "Archive this study", "Add", "Remove")]
