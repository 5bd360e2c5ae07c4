"""What an expert sees through their link (the panel issue fills this in)."""

from __future__ import annotations

import streamlit as st

from ... import access
from ..navigation import PageSpec
from ..session import principal_or_stop

PAGE = PageSpec(title="Expert panel", url_path="panel", audience=("expert",), order=0)


def render() -> None:
    principal_or_stop(access.EXPERT)
    st.title("Expert panel")
    st.write("Welcome. The questionnaire and the case descriptions appear here once the panel opens.")
