"""Reporting checklists (COREQ, SRQR): filled from the study, completed by hand, exported.

Each item shows what the study holds for it, where that comes from and what is still missing;
the researchers write their own answer where the study cannot (stored per study, editable).
The methods paragraph stands beside the checklist and goes into its DOCX and Markdown export.
The filling, the storage rules and the exports are the library's
(:mod:`casestudy.reports.checklists`, the same as ``casestudy report coreq|srqr``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy.reports import checklists
from casestudy.reports.constants import CHECKLISTS
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, rerun_with, show_flash, store, user_errors

PAGE = PageSpec(title="Checklists", url_path="checklists", audience=("researcher",), section="Results", order=105)
MEDIA = {"md": "text/markdown", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
STATUS_ICONS = {checklists.FILLED: "● filled", checklists.PARTIAL: "◐ partly filled", checklists.BY_HAND: "✎ by hand",
                checklists.MISSING: "○ missing"}
FORMAT_LABELS = {"docx": "Download DOCX", "md": "Download Markdown"}


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Reporting checklists")
    name = st.segmented_control("Checklist", list(CHECKLISTS), format_func=str.upper, default=CHECKLISTS[0],
                                key="checklist_name") or CHECKLISTS[0]
    loaded = None
    with user_errors("checklist"), store().read() as session:
        study = current_study(session, "viewer")
        loaded = (checklists.study_checklist(session, study, principal, name), checklists.methods_paragraph(session, study))
    if loaded is None:
        return
    checklist, methods = loaded
    show_flash("checklist")
    st.caption(checklist.reference)
    counts = checklist.counts()
    columns = st.columns(len(counts))
    for column, (state, count) in zip(columns, counts.items()):
        column.metric(STATUS_ICONS[state], f"{count} of {len(checklist.items)}")
    with st.container(border=True):
        st.markdown("**Methods paragraph** (exported with the checklist)")
        st.write(methods or "The methods paragraph states the panel figures and the ethics status (Study page) once recorded.")
        buttons = st.columns([1.4, 1.8, 3])
        for column, fmt in zip(buttons, ("docx", "md")):
            column.download_button(FORMAT_LABELS[fmt], checklists.export(checklist, fmt, methods), file_name=f"{name}.{fmt}",
                                   mime=MEDIA[fmt], key=f"checklist_download_{fmt}", icon=":material/download:")
    _items(principal, checklist)


def _items(principal, checklist: checklists.Checklist) -> None:
    rows = [{"No.": item.key, "Item": item.title, "Status": STATUS_ICONS[item.status], "Reported": item.answer,
             "Missing": "" if item.manual else item.missing, "Source": "by hand" if item.manual else item.source}
            for item in checklist.items]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3,
                 column_config={"No.": st.column_config.TextColumn(width=40), "Status": st.column_config.TextColumn(width=110),
                                "Reported": st.column_config.TextColumn(width="large"),
                                "Missing": st.column_config.TextColumn(width="medium")})
    if not principal.can_edit:
        st.caption("Your role can read the checklist; coders and owners write the answers.")
        return
    _answer_form(principal, checklist)


def _answer_form(principal, checklist: checklists.Checklist) -> None:
    """Write (or clear) the researchers' own answer to one item; the first item still missing is offered first."""
    st.subheader("Answer an item by hand")
    st.caption("Your answer is stored with the study and replaces the value from the study in the export; "
               "save it empty to show the study's value again.")
    items = {item.key: item for item in checklist.items}
    first_open = next((item.key for item in checklist.items if item.status == checklists.MISSING), checklist.items[0].key)
    key = st.selectbox("Item", list(items), index=list(items).index(first_open), key=f"checklist_item_{checklist.name}",
                       format_func=lambda k: f"{k}. {items[k].title}")
    item = items[key]
    st.markdown(f"*{item.ask}* ({STATUS_ICONS[item.status]})")
    if item.value:
        st.caption(f"From the study ({item.source}): {item.value}")
    with st.form(f"checklist_answer_{checklist.name}_{key}"):
        text = st.text_area("Your answer", value=item.manual, max_chars=checklists.MAX_ANSWER_CHARS,
                            key=f"checklist_text_{checklist.name}_{key}")
        if st.form_submit_button("Save the answer", type="primary"):
            saved = False
            with user_errors("checklist"), store().write(principal.actor) as session:
                checklists.save_answer(session, current_study(session), principal, checklist.name, key, text, item.manual_version)
                saved = True
            if saved:
                rerun_with(f"Saved the answer to item {key}." if text.strip() else f"Cleared the answer to item {key}.", "checklist")
