"""Small shared pieces of page layout."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from casestudy.ui.session import logout, rerun_with, show_flash


def sidebar_account(principal) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{principal.name}** ({principal.role})")
        if st.button("Log out", key="logout_button"):
            logout("You have been logged out.")
            st.rerun()


CASE_PARAM = "case"


def preselect_case(key: str, labels: list[str]) -> None:
    """Call before the case picker keyed ``key``: a link that names a case (``?case=Case G``,
    as the overview's next-action links do) chooses it; after that the picker's choice is kept
    in the URL, so F5 and a bookmark reopen the same case and the user's later choice stands."""
    applied_key = f"_case_param_{key}"  # the ?case= this session has already applied
    wanted = st.query_params.get(CASE_PARAM)
    if wanted is not None and wanted != st.session_state.get(applied_key) and wanted in labels:
        st.session_state[key] = wanted
    chosen = st.session_state.get(key)
    if chosen in labels and chosen != wanted:
        st.query_params[CASE_PARAM] = chosen
    st.session_state[applied_key] = st.query_params.get(CASE_PARAM)


CLEAR_KEY = "_forms_to_clear"


def form_start(form: str) -> None:
    """Call before a form's widgets. A form keeps what was typed while its submit fails (the
    message shows under its button); after :func:`form_done` its fields start empty again and
    the success message shows here."""
    for key in st.session_state.get(CLEAR_KEY, {}).pop(form, []):
        st.session_state.pop(key, None)  # before the widget exists in this run: back to its default
    show_flash(form)


def form_done(form: str, message: str, keys: Iterable[str]) -> None:
    """After a form's write has committed: empty the widgets ``keys`` and rerun the page, so the
    views that depend on the write show the new state (see :func:`session.rerun_with`)."""
    st.session_state.setdefault(CLEAR_KEY, {})[form] = list(keys)
    rerun_with(message, form)


def passage_link(place, label: str = "Open in transcript", container=None) -> None:
    """A link that opens the coding page on a passage (``place``: casestudy.coding.places.Place)
    in this session, so the login and the page's choices stay."""
    from casestudy.ui.pages import coding as coding_page  # a page module: imported when a link is drawn

    page = st.Page(coding_page.render, title=coding_page.PAGE.title, url_path=coding_page.PAGE.url_path)
    (container or st).page_link(page, label=label, query_params=place.query)
