"""The sign-off box the Coding, Reconstructions and Masking pages show for the thing on screen.

It shows whether the study requires a second researcher's sign-off, every sign-off given (who,
when, the hash and whether it still matches the content) and, for a researcher who may sign,
a note and a *Sign off* button. The rules are the library's (:mod:`casestudy.signoffs`,
:func:`casestudy.reports.progress.sign_off`); the box only shows them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import signoffs
from casestudy.reports import progress
from casestudy.ui.current_study import current_study
from casestudy.ui.session import rerun_with, show_flash, store, user_errors

STATE_MESSAGES = {
    signoffs.SIGNED: (st.success, "Signed off by a second researcher; the signed content is unchanged."),
    signoffs.AWAITING: (st.warning, "This study requires a second researcher's sign-off here before it can go on."),
    signoffs.INVALIDATED: (st.warning, "The content changed after its sign-off: a second researcher has to sign it off again."),
    signoffs.NOT_REQUIRED: (st.caption, "This study does not require a sign-off here; a second researcher may still sign it off."),
}


def signoff_panel(principal, kind: str, target_id: int, key: str) -> None:
    """The box for ``kind`` / ``target_id`` of the current study (``key`` keeps widgets apart)."""
    where = f"signoff {kind}"
    shown = None
    with user_errors(where), store().read() as session:
        target = progress.signoff_target(session, current_study(session), kind, target_id)
        shown = (signoffs.state_of(session, target), signoffs.signoffs_of(session, target),
                 signoffs.refusal(session, principal, target), target.label, target.content_hash)
    if shown is None:
        return
    state, records, refused, label, content_hash = shown
    with st.container(border=True, key=f"signoff_box_{key}"):
        st.markdown(f"**Sign-off** of {label}")
        show_flash(where)
        show, message = STATE_MESSAGES[state]
        show(message)
        if records:
            st.dataframe(pd.DataFrame([{
                "Signed by": r.signer, "When (UTC)": f"{r.signed_at:%Y-%m-%d %H:%M}", "Note": r.note,
                "Still matches": "yes" if r.valid else "no, the content changed", "sha256": r.content_hash[:12],
            } for r in records]), hide_index=True, width="stretch")
        st.caption(f"Content now: sha256 {content_hash[:12]}…")
        if refused:
            st.caption(f"You cannot sign this off: {refused}.")
            return
        note = st.text_input("Note (what you checked)", key=f"signoff_note_{key}")
        if st.button("Sign off", key=f"signoff_button_{key}", icon=":material/verified:"):
            signed = False
            with user_errors(where), store().write(principal.actor) as session:
                progress.sign_off(session, principal, current_study(session), kind, target_id, note)
                signed = True
            if signed:
                rerun_with(f"You signed off {label}.", where)
