"""What a focus-group participant sees through their link: every item of their levels, for every
period, rated alone (round 1), then submitted.

Each rating is saved on the server the moment it is given (radio on_change), so a reload or
another device with the same link continues where the participant left off. The page shows only
what :func:`casestudy.panel.focus.participant_view` returns for this participant's principal:
their items, the periods, their own ratings and, only for a participant who is not blind to
outcomes, the case's outcome.
"""

from __future__ import annotations

import re
import time

import streamlit as st

from casestudy import access
from casestudy.panel import focus
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import (
    current_principal,
    principal_or_stop,
    store,
    user_errors,
)

PAGE = PageSpec(title="Your ratings", url_path="ratings", audience=("participant",), order=0)

SAVED_KEY = "_participant_saved"
ERROR_KEY = "_participant_error"


def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text or "")


def _save(item_key: str, period: str, widget_key: str) -> None:
    """on_change callback: one short write transaction per rating."""
    try:
        principal = access.require_kind(current_principal(), access.PARTICIPANT)
        with store().write(principal.actor) as session:
            focus.save_rating(session, principal, item_key, period, st.session_state.get(widget_key))
        st.session_state[SAVED_KEY] = time.strftime("%H:%M:%S")
        st.session_state.pop(ERROR_KEY, None)
    except Exception as exc:  # noqa: BLE001 - shown on the next run
        st.session_state[ERROR_KEY] = getattr(exc, "message", None) or "your rating could not be saved; please try again"


def render() -> None:
    principal = principal_or_stop(access.PARTICIPANT)
    view = None
    with user_errors("participant view"), store().read() as session:
        view = focus.participant_view(session, principal)
    if view is None:
        return
    st.title(view.title)
    if view.submitted:
        st.success("Thank you. Your ratings are submitted and locked; the group discusses a summary of everyone's ratings next.")
    if st.session_state.get(ERROR_KEY):
        st.error(st.session_state[ERROR_KEY])
    st.markdown(
        f"Please rate each item for each period on your own ({_md(view.instrument['title'])}). "
        "Rate from what you saw yourself; there are no right answers. Every rating is saved as soon as you give it, "
        "so you can close this page and come back later with the same link."
    )
    periods_text = "; ".join(f"**{_md(p['name'])}**: {p['from']} to {p['to']}" + (f" ({_md(p['description'])})" if p["description"] else "")
                             for p in view.periods)
    st.markdown(f"Periods: {periods_text}")
    if view.outcome is not None:  # only a participant who is not blind to outcomes gets this at all
        st.info(f"Outcome of the case: {_md(view.outcome['class'])}. {_md(view.outcome['description'])}")
    st.markdown("**Scale:** " + " · ".join(f"{p['point']} = {_md(p['label'])}" for p in view.instrument["points"]))
    st.progress(view.done / view.total if view.total else 1.0, text=f"Rated: {view.done} of {view.total}")
    if st.session_state.get(SAVED_KEY):
        st.caption(f"All ratings are saved automatically (last save {st.session_state[SAVED_KEY]}).")

    points = [p["point"] for p in view.instrument["points"]]
    labels = {p["point"]: p["label"] for p in view.instrument["points"]}
    level = None
    for item in view.items:
        if item["level"] != level:
            level = item["level"]
            st.subheader(level.capitalize())
        with st.container(border=True):
            st.markdown(f"**{_md(item['key'])}. {_md(item['text'])}**")
            if item["sub_criteria"]:
                with st.expander("What this item covers"):
                    for sub in item["sub_criteria"]:
                        threshold = f" *(threshold: {_md(sub['threshold'])})*" if sub["threshold"] else ""
                        st.markdown(f"{_md(sub['letter'])}. {_md(sub['text'])}{threshold}")
            columns = st.columns(len(view.periods))
            for column, period in zip(columns, view.periods):
                key = f"fg|{item['key']}|{period['name']}"
                current = view.ratings.get(focus.rating_key(item["key"], period["name"]))
                column.radio(period["name"], points, index=points.index(current) if current in points else None, key=key,
                             horizontal=True, disabled=view.submitted, format_func=str,
                             help=" · ".join(f"{p} = {labels[p]}" for p in points),
                             on_change=_save, args=(item["key"], period["name"], key))
    if view.submitted:
        return
    st.divider()
    if view.missing:
        st.warning("Still to rate before you can submit:\n\n" + "\n".join(f"- {_md(m)}" for m in view.missing))
    if st.button("Submit my ratings", type="primary", key="participant_submit", disabled=bool(view.missing)):
        submitted = False
        with user_errors("participant submit"), store().write(principal.actor) as session:
            focus.submit_ratings(session, principal)
            submitted = True
        if submitted:
            st.rerun()
