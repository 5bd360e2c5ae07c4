"""Showing a code's definition: used by the codebook page and beside the text while coding.

``show_code_definition(code)`` takes a record from ``casestudy.codebook.records`` /
``code_record`` (a dict) or a ``Code`` row, and renders all its definition fields compactly.
"""

from __future__ import annotations

import streamlit as st

from casestudy.codebook import tree as cb

FIELD_LABELS = (
    ("definition", "Definition"),
    ("when_to_use", "When to use"),
    ("when_not_to_use", "When not to use"),
    ("example", "Example"),
    ("sources", "Sources"),
)


def _as_record(code) -> dict:
    if isinstance(code, dict):
        return code
    return cb.code_record(code, {code.id: code.name})


def code_caption(record: dict) -> str:
    levels = record["level"] + (f" (also {', '.join(record['secondary_levels'])})" if record.get("secondary_levels") else "")
    parts = [f"level: {levels}"]
    if record.get("polarity") and record["polarity"] != "none":
        parts.append(f"polarity: {record['polarity']}")
    parts.append(f"origin: {record.get('origin', '')}" + (f" by {record['origin_by']}" if record.get("origin_by") else ""))
    if record.get("status") and record["status"] != "active":
        parts.append(f"status: {record['status']}" + (f" into {record['merged_into']}" if record.get("merged_into") else ""))
    if not record.get("codable", True):
        parts.append("category (not codable)")
    return " · ".join(parts)


def show_code_definition(code, *, compact: bool = False) -> None:
    """Render a code's definition fields; ``compact`` shows only short definition, use and non-use."""
    record = _as_record(code)
    colour = record.get("colour") or "#888888"
    st.markdown(f"<span style='color:{colour}'>&#9632;</span> **{record['name']}**", unsafe_allow_html=True)
    st.caption(code_caption(record))
    if record.get("short_definition"):
        st.markdown(f"*{record['short_definition']}*")
    fields = FIELD_LABELS[1:3] if compact else FIELD_LABELS
    for key, label in fields:
        if record.get(key):
            st.markdown(f"**{label}:** {record[key]}")
