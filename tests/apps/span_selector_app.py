"""Test app for the span selector component (used by tests/test_browser_span_selector.py)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st  # noqa: E402

from casestudy.coding.highlight import Mark
from casestudy.ui.components.span_selector import span_selector  # noqa: E402

TEXT = "Hello 😀 wörld <b>not bold</b>.\nSecond line with café and 🎉 party, then more."
result = span_selector(TEXT, [Mark(7, 6, 14, label="code X"), Mark(8, 10, 20, colour="#9cf")], key="sel")
if result.selection:
    st.session_state["last_selection"] = result.selection
if result.clicked:
    st.session_state["last_clicked"] = result.clicked
selection = st.session_state.get("last_selection")
st.text("selection=" + json.dumps(selection, ensure_ascii=False))
if selection:
    st.text("python=" + json.dumps(TEXT[selection["start"] : selection["end"]], ensure_ascii=False))
st.text("clicked=" + json.dumps(st.session_state.get("last_clicked")))
