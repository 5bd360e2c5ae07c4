""""Make a mistake in every form": a failed submit keeps what was typed and shows the message in
the form; a successful one empties the form and the page shows the new state at once."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from casestudy import access, users
from casestudy.ui.session import LAST_SEEN_KEY, PRINCIPAL_KEY


def _script():
    import importlib

    import streamlit as st

    importlib.import_module(f"casestudy.ui.pages.{st.session_state['_page_module']}").render()


def _page(store, app_env, module: str) -> AppTest:
    app_env(store)
    with store.read() as session:
        admin = next(u for u in users.list_users(session) if u.role == "admin")
        principal = access.researcher(admin)
    at = AppTest.from_function(_script, default_timeout=60)
    at.session_state[PRINCIPAL_KEY] = principal
    at.session_state[LAST_SEEN_KEY] = time.time()
    at.session_state["_page_module"] = module
    return at.run()


def _submit(at, form: str, label: str) -> AppTest:
    return at.button(key=f"FormSubmitter:{form}-{label}").click().run()


def test_accounts_form(demo_store, app_env):
    at = _page(demo_store, app_env, "users_admin")
    at.text_input(key="add_user_username").input("noor")
    at.text_input(key="add_user_display_name").input("Noor Visser")
    at.text_input(key="add_user_password").input("short")
    _submit(at, "add_user", "Add account")
    assert not at.exception and at.error
    assert (at.text_input(key="add_user_username").value, at.text_input(key="add_user_display_name").value) == ("noor", "Noor Visser")
    at.text_input(key="add_user_password").input("a much longer password 2026")
    _submit(at, "add_user", "Add account")
    assert any(s.value == "Added noor." for s in at.success) and not at.error
    assert "noor" in at.dataframe[0].value["User"].tolist()  # the table shows the new account at once
    assert at.text_input(key="add_user_username").value == ""


def test_panel_member_form(demo_store, app_env):
    at = _page(demo_store, app_env, "panel")
    at.text_input(key="panel_member_name").input("Vera Nieuwkoop")
    at.text_input(key="panel_member_email").input("not an address")
    _submit(at, "panel_add_member", "Add member")
    assert not at.exception and at.error
    assert at.text_input(key="panel_member_name").value == "Vera Nieuwkoop"
    at.text_input(key="panel_member_email").input("vera@example.org")
    _submit(at, "panel_add_member", "Add member")
    assert any(s.value == "Added E21." for s in at.success) and not at.error
    assert at.text_input(key="panel_member_name").value == ""
    assert "E21" in at.dataframe[0].value["pseudonym"].tolist()


def test_masking_register_form(demo_store, app_env):
    at = _page(demo_store, app_env, "masking")
    existing = at.dataframe[0].value["term"].tolist()[0]
    at.text_input(key="reg_term").input(existing)
    at.text_input(key="reg_replacement").input("[someone]")
    _submit(at, "register_add", "Add to register")
    assert any("already has" in e.value for e in at.error)
    assert (at.text_input(key="reg_term").value, at.text_input(key="reg_replacement").value) == (existing, "[someone]")
    at.text_input(key="reg_term").input("Zeewolde")
    at.text_input(key="reg_replacement").input("[town]")
    _submit(at, "register_add", "Add to register")
    assert any(s.value == "Added Zeewolde." for s in at.success) and not at.error
    assert "Zeewolde" in at.dataframe[0].value["term"].tolist() and at.text_input(key="reg_term").value == ""


def test_codebook_add_form(demo_store, app_env):
    at = _page(demo_store, app_env, "codebook")
    at.text_input(key="add_name").input("")
    at.text_input(key="add_short").input("A definition typed before the mistake")
    at.button(key="FormSubmitter:codebook_add-Add code").click().run()
    assert not at.exception and at.error
    assert at.text_input(key="add_short").value == "A definition typed before the mistake"
    at.text_input(key="add_name").input("Peer coaching")
    at.button(key="FormSubmitter:codebook_add-Add code").click().run()
    assert any(s.value.startswith("Added") and "Peer coaching" in s.value for s in at.success) and not at.error
    assert at.text_input(key="add_name").value == "" and at.text_input(key="add_short").value == ""
