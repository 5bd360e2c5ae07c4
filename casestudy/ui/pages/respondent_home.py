"""What a respondent sees through their link (the member check fills this in)."""

from __future__ import annotations

import streamlit as st

from ... import access
from ...models import Respondent
from ..navigation import PageSpec
from ..session import principal_or_stop, store

PAGE = PageSpec(title="Your review", url_path="review", audience=("respondent",), order=0)


def render() -> None:
    principal = principal_or_stop(access.RESPONDENT)
    with store().read() as session:
        respondent = session.get(Respondent, principal.subject_id)
        case_label = respondent.case.public_label
    st.title("Your review")
    st.write(f"Thank you for taking part. This page will show the reconstruction of **{case_label}** when it is ready for your review.")
