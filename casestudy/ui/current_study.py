"""The study this browser session works on: chosen in the sidebar, kept in the URL (``?study=ID``).

The choice lives in the session and in the page URL, so a bookmarked or reloaded page reopens
the same study. The URL is only a wish: every page gets its study through :func:`current_study`
or :func:`study_or_stop`, which check the signed-in researcher's membership on the server
(``access.require_study_role``) and log a refusal, whatever id the URL names.
"""

from __future__ import annotations

import sys

import streamlit as st
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.access import Principal
from casestudy.errors import UserError
from casestudy.models import Study
from casestudy.ui.session import current_principal, store, user_errors

QUERY_PARAM = "study"
STATE_KEY = "_current_study_id"
SWITCHER_KEY = "_study_switcher"
NEW_STUDY = 0  # the switcher's "New study…" entry (study ids start at 1)
NEW_STUDY_LABEL = "New study…"
STUDY_PAGE = "studies"  # url_path of the Study page (create, rename, archive, members)
CREATE_REQUEST_KEY = "_study_create_requested"
NO_STUDY = "there is no study to work on yet; start one on the Study page"
FLASH_KEY = "_study_flash"


def flash(message: str) -> None:
    """A success message for the next run of whichever study page opens (after ``st.rerun``)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def current_study_id() -> int | None:
    """The study asked for: ``?study=ID`` in the URL, else the last one chosen in this session."""
    raw = st.query_params.get(QUERY_PARAM)
    if raw is not None and str(raw).strip().isdigit():
        return int(raw)
    return st.session_state.get(STATE_KEY)


def use_study(study_id: int | None) -> None:
    """Make ``study_id`` this session's current study (and put it in the URL); None forgets it."""
    if study_id is None:
        st.session_state.pop(STATE_KEY, None)
        st.query_params.pop(QUERY_PARAM, None)
        return
    st.session_state[STATE_KEY] = int(study_id)
    if st.query_params.get(QUERY_PARAM) != str(study_id):
        st.query_params[QUERY_PARAM] = str(study_id)


def _visible_studies(session: Session, principal: Principal) -> list[Study]:
    return studies.list_studies(session, for_user=principal.subject_id)


def _resolve(session: Session, principal: Principal) -> Study | None:
    """The study asked for when it exists and is active, else the principal's first study.

    A study named in the URL that the principal may not open is still returned: the guard then
    refuses it (and logs it) rather than this quietly opening another one. A study remembered
    in the session (say, from the previous account signed in here) is simply not used.
    """
    raw = st.query_params.get(QUERY_PARAM)
    from_url = int(raw) if raw is not None and str(raw).strip().isdigit() else None
    for wanted in (from_url, st.session_state.get(STATE_KEY)):
        if wanted is None:
            continue
        study = session.get(Study, wanted)
        if study is None or study.archived_at is not None:
            continue
        if wanted == from_url or principal.is_admin or studies.study_role(session, study.id, principal.subject_id):
            return study
    visible = _visible_studies(session, principal)
    return visible[0] if visible else None


def current_study(session: Session, minimum: str | None = None) -> Study:
    """The current study, through the membership guard (the one way pages get their study).

    ``minimum`` defaults to "coder" in a writing session and "viewer" in a reading one, as the
    CLI's ``--study``. Raises AccessDenied (shown and logged by ``user_errors``) or UserError.
    """
    principal = current_principal()
    study = _resolve(session, principal) if principal is not None else None
    if study is None:
        raise UserError(NO_STUDY)
    access.require_study_role(principal, study, minimum or ("coder" if "actor" in session.info else "viewer"))
    return study


def study_or_stop(principal: Principal, minimum: str = "viewer") -> Principal:
    """Top of every researcher page that works on a study (after ``principal_or_stop``).

    Returns the principal scoped to the current study (its ``can_edit`` follows the membership)
    and keeps the study in the URL. Without a study it shows how to start one (on an empty
    database the first-start choice) and stops the page; a refusal is logged, shown, and stops it.
    """
    page = sys._getframe(1).f_globals.get("PAGE")
    where = f"page {page.url_path}" if page is not None else "page"
    scoped = None
    with user_errors(where), store().read() as session:
        study = _resolve(session, principal)
        if study is None:
            database_empty = not studies.has_studies(session)
        else:
            scoped = access.require_study_role(principal, study, minimum)
    if scoped is not None:
        use_study(scoped.study_id)
        show_flash()
        return scoped
    if study is None:
        show_no_study(principal, database_empty, page.title if page is not None else "")
    st.stop()
    raise AssertionError("st.stop() returns only outside Streamlit")


def may_create_studies(principal: Principal) -> bool:
    """The administrator and researchers whose global role is coder may start studies."""
    try:
        access.require_researcher(principal, edit=True)
        return True
    except access.AccessDenied:
        return False


def show_no_study(principal: Principal, database_empty: bool, title: str = "") -> None:
    """What a study page shows when there is no study to open."""
    from casestudy.ui.navigation import page_for

    if database_empty and may_create_studies(principal):
        from casestudy.ui.pages.studies import first_start

        first_start(principal)
        return
    if title:
        st.title(title)
    if may_create_studies(principal):
        st.info("**Start a study first.** This page works on a study, and you have none open yet.")
        st.page_link(page_for(STUDY_PAGE), label="Start a study on the Study page", icon=":material/add_circle:")
    else:
        st.info("You are not a member of any study yet: ask a study's owner or the administrator to add you.")


def _switcher_picked() -> None:
    """on_change of the sidebar picker: a study becomes current; "New study…" asks for the form."""
    choice = st.session_state.get(SWITCHER_KEY)
    if choice == NEW_STUDY:
        st.session_state[CREATE_REQUEST_KEY] = True
    elif choice is not None:
        use_study(choice)


def study_switcher(principal: Principal) -> None:
    """The sidebar's study picker: the principal's active studies and, for creators, "New study…"."""
    from casestudy.ui.navigation import page_for

    with store().read() as session:
        visible = [(s.id, s.title) for s in _visible_studies(session, principal)]
        current = _resolve(session, principal)
    titles = dict(visible)
    current_id = current.id if current is not None and current.id in titles else None
    wants_new = st.session_state.get(SWITCHER_KEY) == NEW_STUDY
    st.session_state[SWITCHER_KEY] = current_id  # the picker always shows the current study
    if wants_new:
        st.switch_page(page_for(STUDY_PAGE))
    options = [study_id for study_id, _ in visible] + ([NEW_STUDY] if may_create_studies(principal) else [])
    if not options:
        return
    with st.sidebar:
        st.selectbox("Study", options, key=SWITCHER_KEY, index=0 if current_id is not None else None, placeholder="Choose a study",
                     on_change=_switcher_picked,
                     format_func=lambda study_id: NEW_STUDY_LABEL if study_id == NEW_STUDY else titles[study_id])
