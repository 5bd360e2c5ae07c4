"""Small shared pieces of page layout."""

from __future__ import annotations

import streamlit as st

from casestudy.ui.session import logout


def sidebar_account(principal) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{principal.name}** ({principal.role})")
        if st.button("Log out", key="logout_button"):
            logout("You have been logged out.")
            st.rerun()
