"""Run one page's render() under AppTest: set session_state['_page_module'] (and a principal)."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st  # noqa: E402

importlib.import_module(st.session_state["_page_module"]).render()
