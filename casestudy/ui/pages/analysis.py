"""Retrieval of coded segments, case x code and co-occurrence matrices, role comparison, memos."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import matrices as coding_matrices
from casestudy.coding import retrieval as coding_retrieval
from casestudy.coding import spans
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Retrieval and matrices", url_path="analysis", audience=("researcher",), section="Analysis", order=35)


def render() -> None:
    principal_or_stop()
    st.title("Retrieval and matrices")
    with store().read() as session:
        study = studies.get_study(session)
        codes = codebook.all_codes(session, study)
        paths = codebook.code_paths(codes)
        cases = {c.public_label: c.id for c in studies.list_cases(session, study)}
        from casestudy.users import list_users

        coders = [u.username for u in list_users(session) if u.role in ("admin", "coder")]
        levels = list(study.levels)
    retrieval, matrices, compare, memos = st.tabs(["Coded segments", "Matrices", "Manager vs therapist", "Memos"])
    with retrieval:
        cols = st.columns(5)
        chosen_codes = cols[0].multiselect("Codes", sorted(paths.values()), key="ret_codes")
        level = cols[1].selectbox("Level", ["(any)", *levels], key="ret_level")
        chosen_cases = cols[2].multiselect("Cases", list(cases), key="ret_cases")
        role = cols[3].selectbox("Role", ["(any)", "manager", "therapist", "other"], key="ret_role")
        chosen_coders = cols[4].multiselect("Coders", coders, key="ret_coders")
        by_path = {p: i for i, p in paths.items()}
        flt = coding_retrieval.SegmentFilter(
            code_ids=[by_path[p] for p in chosen_codes] or None,
            level=None if level == "(any)" else level,
            case_ids=[cases[c] for c in chosen_cases] or None,
            role=None if role == "(any)" else role,
        )
        with user_errors("retrieval"), store().read() as session:
            if chosen_coders:
                flt.coder_ids = [spans.get_coder(session, c).id for c in chosen_coders]
            found = coding_retrieval.segments(session, study, flt)
            st.caption(f"{len(found)} segment(s)")
            for segment in found[:200]:
                with st.container(border=True):
                    st.markdown(
                        f"**{segment['code']}** · {segment['case']} · {segment['respondent']} ({segment['role']}) · "
                        f"{segment['interview']} lines {segment['start_line']}-{segment['end_line']} · coder {segment['coder']}"
                    )
                    st.markdown(f"…{_md(segment['before'])}**{_md(segment['text'])}**{_md(segment['after'])}…")
                    if segment["memo"]:
                        st.caption(f"Memo: {segment['memo']}")
            if len(found) > 200:
                st.info("Showing the first 200; export for all.")
            st.download_button("Export CSV", coding_retrieval.export_segments(session, study, "csv", flt), "segments.csv", "text/csv", key="ret_csv")
            st.download_button("Export XLSX", coding_retrieval.export_segments(session, study, "xlsx", flt), "segments.xlsx", key="ret_xlsx")
    with matrices:
        measure = st.radio("Measure", coding_matrices.MATRIX_MEASURES, horizontal=True, key="matrix_measure")
        with user_errors("matrix"), store().read() as session:
            rows, columns, matrix = coding_matrices.case_code_matrix(session, study, measure)
            labels, co = coding_matrices.cooccurrence_matrix(session, study)
        if columns:
            frame = pd.DataFrame(matrix, index=rows, columns=columns)
            st.plotly_chart(px.imshow(frame, text_auto=True, aspect="auto", color_continuous_scale="Blues", title=f"Case x code ({measure})"), key="matrix_chart")
            st.download_button("Matrix CSV", coding_matrices.matrix_table(rows, columns, matrix, "csv", "case"), "case-code.csv", key="matrix_csv")
            st.download_button("Matrix XLSX", coding_matrices.matrix_table(rows, columns, matrix, "xlsx", "case"), "case-code.xlsx", key="matrix_xlsx")
            st.plotly_chart(px.imshow(pd.DataFrame(co, index=labels, columns=labels), text_auto=True, aspect="auto", title="Code co-occurrence (overlapping codings)"), key="co_chart")
        else:
            st.info("No codings yet.")
    with compare:
        if cases:
            label = st.selectbox("Case", list(cases), key="compare_case")
            with store().read() as session:
                rows = coding_matrices.role_comparison(session, study, studies.get_case(session, study, label))
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
            st.caption("'only' names the role that alone raised a code in this case.")
    with memos:
        text = st.text_input("Search memos", key="memo_search")
        kind = st.selectbox("Attached to", ["(any)", "coding", "code", "interview", "case"], key="memo_kind")
        with store().read() as session:
            rows = spans.memos(session, study, None if kind == "(any)" else kind, None, text or None)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _md(text: str) -> str:
    """Text shown verbatim inside markdown (escape markdown syntax)."""
    for ch in "\\`*_{}[]<>()#+-.!|~$":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")
