"""Researcher accounts (administrators only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import settings, users
from casestudy.models import USER_ROLES
from casestudy.ui.links import browser_origin
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import form_done, form_start

PAGE = PageSpec(title="Accounts", url_path="accounts", audience=("admin",), section="Administration", order=200)


def render() -> None:
    principal = principal_or_stop(admin=True)
    st.title("Accounts")
    with store().read() as session:
        accounts = users.list_users(session)
        table = pd.DataFrame(
            [{"User": u.username, "Name": u.display_name, "Role": u.role, "Active": u.active, "Last login": u.last_login_at} for u in accounts]
        )
        names = [u.username for u in accounts]
    st.dataframe(table, hide_index=True, width="stretch")
    form_start("add_user")
    added = None
    with st.form("add_user", clear_on_submit=False):
        st.subheader("Add an account")
        username = st.text_input("User name", key="add_user_username")
        display_name = st.text_input("Full name", key="add_user_display_name")
        role = st.selectbox("Role", USER_ROLES, index=1, key="add_user_role")
        password = st.text_input("Initial password", type="password", key="add_user_password")
        if st.form_submit_button("Add account"):
            with user_errors("add user"), store().write(principal.actor) as session:
                users.add_user(session, username, password, role, display_name)
                added = f"Added {username.strip()}."
    if added:  # the accounts table lists the new account at once
        form_done("add_user", added, ["add_user_username", "add_user_display_name", "add_user_role", "add_user_password"])
    with st.form("deactivate"):
        st.subheader("Activate or deactivate")
        target = st.selectbox("Account", names)
        active = st.checkbox("Active", value=True)
        if st.form_submit_button("Save"):
            with user_errors("set active"), store().write(principal.actor) as session:
                if target == principal.name and not active:
                    st.error("You cannot deactivate your own account.")
                else:
                    users.set_active(session, target, active)
                    st.success("Saved.")
    _public_url_section(principal)


def _public_url_section(principal) -> None:
    """The public URL every link starts with (``casestudy settings set public-url``)."""
    st.subheader("Public URL")
    with store().read() as session:
        current = settings.public_url(session)
    here = browser_origin()
    if current.source == "environment":
        st.info(f"Links start with **{current.url}**, set by the server ({settings.PUBLIC_URL_ENV}); "
                "it wins over the setting below.")
    elif current.url:
        st.caption(f"Links to respondents and experts start with **{current.url}**.")
    else:
        st.caption("Not set: links start with the address of the researcher's browser"
                   + (f" (here {here})." if here else "."))
    if current.url and here and not settings.same_origin(current.url, here):
        st.warning(f"This browser uses {here}, not the public URL {current.url}.")
    with st.form("public_url"):
        value = st.text_input("Address people outside open (http or https; empty clears it)",
                              value=current.stored or "", key="public_url_value", placeholder="https://casestudy.example.org")
        if st.form_submit_button("Save public URL"):
            saved = False
            with user_errors("public url"), store().write(principal.actor) as session:
                settings.set_public_url(session, value, principal.actor)
                saved = True
            if saved:  # rerun after the commit: the lines above show the new address
                st.rerun()
