"""The coding workbench component: transcript, stripes, code tree and in-place edits in the browser.

The JavaScript (``coding_workbench.js``, package data) keeps the transcript and the marks and
shows every edit at once; it sends one operation at a time through the ``op`` trigger and asks
for the text with ``need_text`` when it does not hold the shown interview version (first mount,
reload). The page answers each operation with the authoritative marks and an ack.
"""

from __future__ import annotations

from importlib import resources

import streamlit as st


def _asset(name: str) -> str:
    return resources.files("casestudy.ui.components").joinpath(name).read_text(encoding="utf-8")


_component = st.components.v2.component(
    "casestudy_coding_workbench", css=_asset("coding_workbench.css"), js=_asset("coding_workbench.js"), isolate_styles=False
)


def coding_workbench(data: dict, key: str, on_op, on_need_text, on_view):
    """Mount the workbench with ``data`` (see :func:`casestudy.ui.pages.coding.workbench_data`).

    ``data["text"]`` is ``None`` unless the browser needs it: marks-only updates stay small.
    ``on_op`` runs when the browser sends an operation (``st.session_state[key]["op"]``),
    ``on_need_text`` when it asks for the transcript (``["need_text"]`` = the text key),
    ``on_view`` when the coder scrolled out of the passage whose stripes it holds (``["view"]`` =
    the character offset now at the top of the view).
    """
    return _component(data=data, key=key, on_op_change=on_op, on_need_text_change=on_need_text, on_view_change=on_view)
