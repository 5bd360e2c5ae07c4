"""Researcher accounts (administrators only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import users
from casestudy.models import USER_ROLES
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Accounts", url_path="accounts", audience=("admin",), section="Administration", order=90)


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
    with st.form("add_user", clear_on_submit=True):
        st.subheader("Add an account")
        username = st.text_input("User name")
        display_name = st.text_input("Full name")
        role = st.selectbox("Role", USER_ROLES, index=1)
        password = st.text_input("Initial password", type="password")
        if st.form_submit_button("Add account"):
            with user_errors("add user"), store().write(principal.actor) as session:
                users.add_user(session, username, password, role, display_name)
                st.success(f"Added {username}.")
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
