"""Researcher login; on first start, creating the administrator account."""

from __future__ import annotations

import streamlit as st

from casestudy import config, demo, users
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import login, show_notice, store, user_errors

PAGE = PageSpec(title="Log in", url_path="login", audience=("anonymous",), order=0)


def render() -> None:
    st.title("Casestudy")
    show_notice()
    with store().read() as session:
        first_start = not users.has_users(session)
    if first_start:
        _create_admin_form()
    else:
        _demo_hint()
        _login_form()
    st.caption("Respondents and experts: open the personal link you received; no login is needed.")


def _demo_hint() -> None:
    """On a demo server with the demo loaded: how to sign in to it (never outside demo mode)."""
    if not config.demo_mode():
        return
    with store().read() as session:
        loaded = demo.is_loaded(session)
    if loaded:
        coders = " or ".join(f"`{name}`" for name in config.DEMO_CODER_USERNAMES)
        st.info(f"**Demo study loaded.** Sign in as `{config.DEMO_ADMIN_USERNAME}` with password "
                f"`{config.DEMO_ADMIN_PASSWORD}`, or as a coder: {coders} with password `{config.DEMO_CODER_PASSWORD}`.")


def _login_form() -> None:
    with st.form("login"):
        st.subheader("Researcher login")
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        with user_errors("login"):
            login(username, password)
            st.rerun()


def _create_admin_form() -> None:
    st.info("No account exists yet. Create the administrator account for this installation.")
    with st.form("create_admin"):
        username = st.text_input("Administrator user name", key="admin_username")
        display_name = st.text_input("Full name", key="admin_display_name")
        password = st.text_input("Password (at least 10 characters)", type="password", key="admin_password")
        repeat = st.text_input("Repeat password", type="password", key="admin_password_repeat")
        submitted = st.form_submit_button("Create administrator")
    if submitted:
        with user_errors("create admin"):
            if password != repeat:
                st.error("The passwords differ.")
                return
            with store().write(actor=username or "setup") as session:
                users.create_first_admin(session, username, password, display_name)
            login(username, password)
            st.rerun()
