"""Run one page module directly (AppTest): the page named by the query parameter ``page``."""

import importlib

import streamlit as st

name = st.query_params.get("page", "overview")
importlib.import_module(f"casestudy.ui.pages.{name}").render()
