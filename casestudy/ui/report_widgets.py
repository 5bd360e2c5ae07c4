"""Report pieces the result pages share: a table as shown on screen, its downloads in every
format, and a figure with its HTML/PNG/SVG downloads."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pandas as pd
import streamlit as st

from casestudy.reports import plots
from casestudy.reports import render as reports
from casestudy.ui.session import user_errors

FORMAT_LABELS = {"csv": "CSV", "xlsx": "XLSX", "docx": "DOCX", "tex": "LaTeX", "md": "Markdown", "json": "JSON"}


def downloads(key: str, tables, json_data, csv_table=None, paragraphs=()) -> None:
    columns = st.columns(len(FORMAT_LABELS))
    for column, (fmt, label) in zip(columns, FORMAT_LABELS.items()):
        if fmt == "json":
            data = json.dumps(json_data, ensure_ascii=False, indent=2)
        else:
            with column, st.spinner(f"{label}…"):
                data = reports.render(tables, fmt, csv_table=csv_table, paragraphs=paragraphs)
        column.download_button(label, data, file_name=f"{key}.{fmt}", mime=reports.MEDIA_TYPES[fmt], key=f"dl_{key}_{fmt}")


def show_table(table: reports.ReportTable) -> None:
    st.markdown(f"**{table.title}**")
    # Exactly rounded Decimals (as exported) are shown as their text: Arrow cannot hold them in a text column.
    rows = [[str(v) if isinstance(v, Decimal) else v for v in row] for row in table.rows]
    st.dataframe(pd.DataFrame(rows, columns=table.columns), hide_index=True, width="stretch")
    for note in table.notes:
        st.caption(note)


@st.cache_resource(show_spinner=False)
def _warm_renderer():
    """Once per server process: start kaleido's Chromium in the background while the user looks
    at the figures, so that the first PNG/SVG takes about a second instead of ten."""
    return plots.warm_up_renderer()


def figure(fig, key: str) -> None:
    _warm_renderer()
    st.plotly_chart(fig, key=f"fig_{key}")
    cols = st.columns(3)
    cols[0].download_button("HTML", plots.figure_bytes(fig, "html", self_contained=False), help="loads plotly.js from its CDN; the CLI writes a self-contained file", file_name=f"{key}.html", mime="text/html", key=f"dl_fig_{key}_html")
    digest = hashlib.sha256(fig.to_json().encode("utf-8")).hexdigest()  # a changed figure is rendered anew
    for column, fmt in zip(cols[1:], ("png", "svg")):
        state_key = f"_fig_{key}_{fmt}"
        prepared = st.session_state.get(state_key)
        if (prepared is None or prepared[0] != digest) and column.button(f"Prepare {fmt.upper()}", key=f"prep_{key}_{fmt}"):
            with user_errors("figure"), st.spinner(f"Rendering the {fmt.upper()}..."):
                st.session_state[state_key] = prepared = (digest, plots.figure_bytes(fig, fmt))
        if prepared is not None and prepared[0] == digest:  # offered in the same run: no second rerun of the page
            column.download_button(fmt.upper(), prepared[1], file_name=f"{key}.{fmt}", mime=f"image/{'svg+xml' if fmt == 'svg' else 'png'}", key=f"dl_fig_{key}_{fmt}")
