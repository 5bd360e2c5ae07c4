"""The Study page's *Rigour* tab: the ethics status and what requires a second researcher's sign-off.

Everyone who may read the study sees both; the study's owner changes them. The rules (what each
ethics status needs, owner only) are the library's: :mod:`casestudy.ethics`, :mod:`casestudy.signoffs`.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from casestudy import ethics, signoffs
from casestudy.models import SIGNOFF_KINDS, Study
from casestudy.ui.session import rerun_with, show_flash, store, user_errors

WHERE = "study rigour"
STATUS_LABELS = {ethics.APPROVED: "Approved by an ethics board", ethics.NOT_REQUIRED: "Not required",
                 ethics.PENDING: "Pending (asked, not yet decided)"}


def rigour_tab(principal, study_id: int, is_owner: bool) -> None:
    with store().read() as session:
        study = session.get(Study, study_id)
        current = ethics.get_ethics(session, study)
        required = signoffs.required_kinds(session, study)
    show_flash(WHERE)
    st.subheader("Ethics")
    if current is None:
        st.info("No ethics status recorded yet. The methods paragraph and the SRQR checklist (item S9) state it.")
    else:
        st.markdown(f"**{STATUS_LABELS[current.status]}.** {current.sentence}")
        st.caption(f"Recorded by {current.updated_by} on {current.updated_at:%Y-%m-%d %H:%M} UTC")
    if is_owner:
        _ethics_form(principal, study_id, current)
    st.subheader("Sign-offs by a second researcher")
    st.caption("A sign-off is given by an owner or coder of the study who did not write what is signed; it records who, "
               "when, the hash of the content and a note. A changed content needs a new sign-off.")
    wanted = {}
    for kind in SIGNOFF_KINDS:
        wanted[kind] = st.checkbox(f"Require a sign-off of {signoffs.KIND_LABELS[kind]}", value=kind in required,
                                   key=f"require_signoff_{kind}", disabled=not is_owner)
    if is_owner and st.button("Save the sign-off settings", key="signoff_settings_save"):
        saved = False
        with user_errors(WHERE), store().write(principal.actor) as session:
            study = session.get(Study, study_id)
            for kind, on in wanted.items():
                signoffs.set_required(session, study, principal, kind, on)
            saved = True
        if saved:
            rerun_with("Saved what requires a sign-off.", WHERE)
    if not is_owner:
        st.caption("Only the study's owners change these settings.")


def _ethics_form(principal, study_id: int, current: ethics.Ethics | None) -> None:
    states = list(STATUS_LABELS)
    status = st.radio("Ethics status", states, format_func=STATUS_LABELS.get, horizontal=True, key="ethics_status",
                      index=states.index(current.status) if current else 0)
    with st.form("ethics_form"):
        body = reference = reason = ""
        approved_on = None
        if status in (ethics.APPROVED, ethics.PENDING):
            body = st.text_input("Ethics board", value=current.body if current else "", key="ethics_body")
            reference = st.text_input("Reference", value=current.reference if current else "", key="ethics_reference")
        if status == ethics.APPROVED:
            approved_on = st.date_input("Date of approval", value=(current.approved_on if current and current.approved_on else None),
                                        max_value=dt.date.today(), key="ethics_date", format="YYYY-MM-DD")
        if status == ethics.NOT_REQUIRED:
            reason = st.text_area("Why no approval is needed", value=current.reason if current else "", key="ethics_reason")
        if st.form_submit_button("Save the ethics status"):
            saved = False
            with user_errors(WHERE), store().write(principal.actor) as session:
                ethics.set_ethics(session, session.get(Study, study_id), principal, status, body=body, reference=reference,
                                  approved_on=approved_on, reason=reason, expected_version=current.version if current else None)
                saved = True
            if saved:
                rerun_with("Saved the ethics status.", WHERE)
