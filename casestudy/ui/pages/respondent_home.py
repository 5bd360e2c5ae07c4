"""What a respondent sees through their link: the version of their case under review.

Every comment is saved on the server as soon as the box loses focus (``on_change``), so a reload
or a closed tab loses nothing. All reads go through ``membercheck.review_for(principal)``, which
returns only this respondent's case, the version under review and their own comments.
"""

from __future__ import annotations

import streamlit as st

from casestudy import access
from casestudy.errors import UserError
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.ui.markdown import show_markdown
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import (
    current_principal,
    principal_or_stop,
    store,
    user_errors,
)

PAGE = PageSpec(title="Your review", url_path="review", audience=("respondent",), order=0)

SAVED_KEY = "_review_saved"
PENDING_KEY = "_review_pending_decision"
CHOICES = {"agree": "I agree with this version", "changes_needed": "Changes needed"}


def _save(kind: str, key: str, index: int | None = None) -> None:
    """on_change callback: write the box's text to the store at once."""
    principal = current_principal()
    try:
        with store().write(principal.actor if principal else "respondent") as session:
            if kind == "comment":
                reconstruction_membercheck.save_comment(session, principal, index, st.session_state.get(key, ""))
            else:
                reconstruction_membercheck.save_general_comment(session, principal, st.session_state.get(key, ""))
        st.session_state[SAVED_KEY] = "Saved."
    except UserError as exc:
        st.session_state[SAVED_KEY] = f"Not saved: {exc.message}"


def _box(key: str, value: str) -> str:
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def render() -> None:
    principal = principal_or_stop(access.RESPONDENT)
    view = None
    with user_errors("review"), store().read() as session:
        view = reconstruction_membercheck.review_for(session, principal)
    if view is None:
        return
    st.title("Your review")
    st.markdown(f"The reconstruction of **{view.case}**" + (f", version {view.version}" if view.version else "") + ".")
    if view.state in ("waiting", "withdrawn"):
        st.info(view.message)
        return
    if view.state == "open":
        _render_open(principal, view)
    else:
        _render_read_only(view)


def _render_open(principal, view: reconstruction_membercheck.ReviewView) -> None:
    st.write(
        "Please read the text below. You can add a comment to any paragraph; what you type is saved as soon as you "
        "leave the box, so you can stop and come back to this link later. When you are done, tell us whether you "
        "agree with this version."
    )
    for index, paragraph in enumerate(view.paragraphs):
        with st.container(border=True):
            show_markdown(paragraph)
            key = _box(f"review_{view.round}_p{index}", view.comments.get(index, ""))
            st.text_area(f"Your comment on paragraph {index + 1}", key=key, on_change=_save, args=("comment", key, index),
                         height=68, placeholder="Optional: what is missing, wrong or unclear here?")
    key = _box(f"review_{view.round}_general", view.general_comment)
    st.text_area("General comment", key=key, on_change=_save, args=("general", key), placeholder="Optional")
    notice = st.session_state.pop(SAVED_KEY, "")
    if notice:
        (st.caption if notice == "Saved." else st.warning)(notice)
    pending = st.session_state.get(PENDING_KEY)
    if pending is None:
        left, right = st.columns(2)
        if left.button(CHOICES["agree"], key="review_agree", type="primary"):
            st.session_state[PENDING_KEY] = "agree"
            st.rerun()
        if right.button(CHOICES["changes_needed"], key="review_changes"):
            st.session_state[PENDING_KEY] = "changes_needed"
            st.rerun()
        return
    st.warning(f"You chose **{CHOICES[pending]}**. After confirming you cannot change your answer for this version.")
    left, right = st.columns(2)
    if left.button("Confirm", key="review_confirm", type="primary"):
        done = False
        with user_errors("review submit"), store().write(principal.actor) as session:
            reconstruction_membercheck.submit_decision(session, principal, pending, view.content_hash)
            done = True
        st.session_state.pop(PENDING_KEY, None)
        if done:  # rerun only after the transaction has committed
            st.rerun()
    if right.button("Go back", key="review_cancel"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()


def _render_read_only(view: reconstruction_membercheck.ReviewView) -> None:
    st.success(view.message)
    st.markdown(f"Your answer: **{CHOICES.get(view.decision, view.decision)}**"
                + (f" (sent {view.submitted_at:%Y-%m-%d %H:%M} UTC)" if view.submitted_at else ""))
    for index, paragraph in enumerate(view.paragraphs):
        show_markdown(paragraph)
        if view.comments.get(index):
            st.caption(f"Your comment on paragraph {index + 1}: {view.comments[index]}")
    if view.general_comment:
        st.caption(f"Your general comment: {view.general_comment}")
    st.download_button("Download a printable copy", reconstruction_membercheck.printable_review(view), file_name=f"review-{view.case}-v{view.version}.html".replace(" ", "-"),
                       mime="text/html", key="review_print")
