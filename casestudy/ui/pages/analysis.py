"""Retrieval of coded segments, case x code matrices by coder, co-occurrence, role comparison,
code relations per case, memos. Every segment and matrix cell links to its place in the transcript."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from casestudy import periods as case_periods
from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, network, spans
from casestudy.coding import matrices as coding_matrices
from casestudy.coding import relations as coding_relations
from casestudy.coding import retrieval as coding_retrieval
from casestudy.coding.constants import ELICITATION_FILTERS, MATRIX_COMBINE, RELATION_KINDS
from casestudy.coding.places import Place
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import passage_link

PAGE = PageSpec(title="Retrieval and matrices", url_path="analysis", audience=("researcher",), section="Analysis", order=65)

COMBINE_LABELS = {"union": "Union (any chosen coder)", "intersection": "Intersection (every chosen coder)", "each": "Each coder"}
SEGMENTS_PER_PAGE = 50
ELICITATION_LABELS = {"(any)": "(any)", "spontaneous": "spontaneous", "probe": "after a probe", "unmarked": "not marked"}


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Retrieval and matrices")
    with store().read() as session:
        study = current_study(session)
        codes = codebook.all_codes(session, study)
        paths = codebook.code_paths(codes)
        cases = {c.public_label: c.id for c in studies.list_cases(session, study)}
        period_choices = case_periods.period_names(session, study.id)
        visible = blinding.visible_coders(session, study, principal)
        coders = [u.username for u in users.list_users(session) if u.role in ("admin", "coder") and (visible is None or u.id in visible)]
        levels = list(study.levels)
    if study.blind_coding and visible is not None:
        st.info("Blind coding is on: you see only your own codings until the study owner turns it off.")
    # Only the open tab runs: retrieval with context, two matrices and a network at once took
    # seconds per rerun on a large study (on_change="rerun" makes the tabs lazy).
    retrieval, matrices, compare, relations_tab, memos = st.tabs(
        ["Coded segments", "Matrices", "Manager vs therapist", "Code relations", "Memos"], key="analysis_tab", on_change="rerun")
    if retrieval.open:
        with retrieval:
            _retrieval(principal, study, paths, cases, coders, levels, period_choices)
    if matrices.open:
        with matrices:
            _matrices(principal, study, coders, period_choices)
    if compare.open:
        with compare:
            _role_comparison(principal, study, cases)
    if relations_tab.open:
        with relations_tab:
            _relations(principal, study, paths, cases)
    if memos.open:
        with memos:
            _memos(study)


def _role_comparison(principal, study, cases) -> None:
    if not cases:
        st.info("Add cases first.")
        return
    label = st.selectbox("Case", list(cases), key="compare_case")
    with user_errors("comparison"), store().read() as session:
        rows = coding_matrices.role_comparison(session, study, studies.get_case(session, study, label), principal=principal)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("'only' names the role that alone raised a code in this case.")


def _memos(study) -> None:
    text = st.text_input("Search memos", key="memo_search")
    kind = st.selectbox("Attached to", ["(any)", "coding", "code", "interview", "case"], key="memo_kind")
    with store().read() as session:
        rows = spans.memos(session, study, None if kind == "(any)" else kind, None, text or None)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _retrieval(principal, study, paths, cases, coders, levels, period_choices) -> None:
    cols = st.columns(7 if period_choices else 6)
    chosen_codes = cols[0].multiselect("Codes", sorted(paths.values()), key="ret_codes")
    level = cols[1].selectbox("Level", ["(any)", *levels], key="ret_level")
    chosen_cases = cols[2].multiselect("Cases", list(cases), key="ret_cases")
    role = cols[3].selectbox("Role", ["(any)", "manager", "therapist", "other"], key="ret_role")
    chosen_coders = cols[4].multiselect("Coders", coders, key="ret_coders")
    elicited = cols[5].selectbox("Elicitation", ["(any)", *ELICITATION_FILTERS], format_func=ELICITATION_LABELS.get, key="ret_elicitation",
                                 help="Spontaneous or after a probe of the interview guide (Coding page, mode Elicitation)")
    chosen_periods = cols[6].multiselect("Periods", [*period_choices, coding_retrieval.NO_PERIOD], key="ret_periods",
                                         help="The coding's period, else its interview's") if period_choices else []
    by_path = {p: i for i, p in paths.items()}
    flt = coding_retrieval.SegmentFilter(
        code_ids=[by_path[p] for p in chosen_codes] or None,
        level=None if level == "(any)" else level,
        case_ids=[cases[c] for c in chosen_cases] or None,
        role=None if role == "(any)" else role,
        periods=chosen_periods or None,
        elicitation=None if elicited == "(any)" else elicited,
    )
    with user_errors("retrieval"), store().read() as session:
        if chosen_coders:
            flt.coder_ids = [spans.get_coder(session, c).id for c in chosen_coders]
        found = coding_retrieval.segments(session, study, flt, principal=principal)
        pages = max(1, -(-len(found) // SEGMENTS_PER_PAGE))
        number = st.number_input(f"Page (of {pages})", 1, pages, 1, key="ret_page") if pages > 1 else 1
        first = (number - 1) * SEGMENTS_PER_PAGE
        shown = found[first : first + SEGMENTS_PER_PAGE]
        st.caption(f"{len(found)} segment(s)" + (f"; showing {first + 1}-{first + len(shown)}" if pages > 1 else ""))
        for segment in shown:
            with st.container(border=True):
                head, link = st.columns([4, 1])
                head.markdown(
                    f"**{segment['code']}** · {segment['case']} · "
                    + (f"{segment['respondent']} ({segment['role']}) · " if segment["respondent"] else "document · ")
                    + f"{segment['interview']} lines {segment['start_line']}-{segment['end_line']} · coder {segment['coder']}"
                    + (f" · period {segment['period']}" if segment["period"] else "")
                    + (f" · {ELICITATION_LABELS[segment['elicitation']]}" if segment["elicitation"] else "")
                )
                passage_link(Place(segment["interview_id"], segment["start"], segment["end"]), container=link)
                st.markdown(f"…{_md(segment['before'])}**{_md(segment['text'])}**{_md(segment['after'])}…")
                if segment["memo"]:
                    st.caption(f"Memo: {segment['memo']}")
    # Built when pressed, not on every rerun (an XLSX of every segment takes seconds).
    st.download_button("Export CSV", lambda: _export(study, flt, principal, "csv"), "segments.csv", "text/csv", key="ret_csv",
                       on_click="ignore")
    st.download_button("Export XLSX", lambda: _export(study, flt, principal, "xlsx"), "segments.xlsx", key="ret_xlsx", on_click="ignore")


def _export(study, flt, principal, fmt: str) -> str | bytes:
    with store().read() as session:
        return coding_retrieval.export_segments(session, study, fmt, flt, principal=principal)


def _matrices(principal, study, coders, period_choices) -> None:
    cols = st.columns([2, 3, 3, 2])
    measure = cols[0].radio("Measure", coding_matrices.MATRIX_MEASURES, key="matrix_measure")
    elicited = cols[3].radio("Elicitation", ["(any)", *ELICITATION_FILTERS], format_func=ELICITATION_LABELS.get, key="matrix_elicitation")
    flt = coding_retrieval.SegmentFilter(elicitation=None if elicited == "(any)" else elicited)
    chosen = cols[1].multiselect("Coders (empty: every coder you may see)", coders, key="matrix_coders")
    combine = cols[2].radio("Combine coders", MATRIX_COMBINE, format_func=COMBINE_LABELS.get, key="matrix_combine",
                            help="A cell counts coded passages: overlapping codings of a code in an interview are one passage")
    by_period = st.toggle("One row per case and period (the periods side by side)", key="matrix_by_period") if period_choices else False
    with user_errors("matrix"), store().read() as session:
        coder_ids = [spans.get_coder(session, c).id for c in chosen] or None
        found = coding_matrices.code_matrix(session, study, measure, flt, principal=principal, coders=coder_ids, combine=combine,
                                            by_period=by_period)
        labels, co = coding_matrices.cooccurrence_matrix(session, study, flt, principal=principal)
        if not found.columns:
            st.info("No codings yet." if combine != "intersection" else "The chosen coders coded no passage in common.")
            return
        frame = pd.DataFrame(found.matrix, index=found.rows, columns=found.columns)
        st.plotly_chart(px.imshow(frame, text_auto=True, aspect="auto", color_continuous_scale="Blues",
                                  title=f"Case x code ({measure}; {COMBINE_LABELS[combine].lower()}: {', '.join(found.coders) or 'no coder'})")
                        .update_yaxes(dtick=1),  # every row labelled, also with a row per case and period
                        key="matrix_chart")
        _cell_passages(found)
        st.download_button("Matrix CSV", coding_matrices.matrix_table(found.rows, found.columns, found.matrix, "csv", "case"), "case-code.csv", key="matrix_csv")
        st.download_button("Matrix XLSX", coding_matrices.matrix_table(found.rows, found.columns, found.matrix, "xlsx", "case"), "case-code.xlsx", key="matrix_xlsx")
        st.plotly_chart(px.imshow(pd.DataFrame(co, index=labels, columns=labels), text_auto=True, aspect="auto",
                                  title="Code co-occurrence (overlapping codings)"), key="co_chart")


def _cell_passages(found) -> None:
    """From a number to the text: the passages behind one cell, each with its link."""
    st.markdown("**Passages behind a cell**")
    cols = st.columns(2)
    row = cols[0].selectbox("Row", found.rows, key="cell_row")
    column = cols[1].selectbox("Code", found.columns, key="cell_code")
    passages = found.passages.get((found.rows.index(row), found.columns.index(column)), [])
    if not passages:
        st.caption("No coded passage in this cell.")
    for number, place in enumerate(passages[:50]):
        passage_link(place, label=f"Passage {number + 1}: interview {place.interview_id}, characters {place.start}-{place.end}")
    if len(passages) > 50:
        st.caption(f"…and {len(passages) - 50} more (see Coded segments).")


def _relations(principal, study, paths, cases) -> None:
    if not cases:
        st.info("Add cases first.")
        return
    label = st.selectbox("Case", list(cases), key="relations_case")
    with user_errors("relations"), store().read() as session:
        case = studies.get_case(session, study, label)
        rows = coding_relations.relations(session, study, case, principal=principal)
        evidence = coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(case_ids=[case.id]), with_context=False,
                                             principal=principal)
    if rows:
        st.plotly_chart(network.relation_figure(rows, f"How the codes interact in {label}"), key="relations_chart")
        for row in rows:
            with st.container(border=True):
                arrow = "→" if row["directed"] else "↔"
                st.markdown(f"**{row['source']}** {arrow} *{row['kind']}* {arrow} **{row['target']}** · by {row['by']}")
                if row["note"]:
                    st.caption(row["note"])
                for item in row["evidence"]:
                    cols = st.columns([5, 1])
                    cols[0].markdown(f"> {_md(item['text'])}  \n{item['code']} · {item['coder']}")
                    passage_link(Place(item["interview_id"], item["start"], item["end"]), container=cols[1])
                if principal.can_edit and st.button("Remove relation", key=f"relation_remove_{row['id']}"):
                    with user_errors("remove relation"), store().write(principal.actor) as session:
                        coding_relations.remove_relation(session, study, row["id"], by=spans.get_coder(session, principal.name))
                    st.rerun()
    else:
        st.caption(f"No code relations in {label} yet.")
    if not principal.can_edit:
        return
    options = {paths[c]: c for c in sorted(paths, key=paths.get)}
    choices = {f"{s['code']} · {s['coder']} · {s['interview']} lines {s['start_line']}-{s['end_line']}: {s['text'][:60]}": s["coding_id"]
               for s in evidence}
    with st.form("relation_add", clear_on_submit=True):
        st.markdown(f"**Link two codes in {label}**")
        cols = st.columns([3, 2, 3])
        source = cols[0].selectbox("Code", list(options), key="relation_source")
        kind = cols[1].selectbox("Relation", RELATION_KINDS, key="relation_kind")
        target = cols[2].selectbox("Other code", list(options), key="relation_target")
        note = st.text_area("Note", key="relation_note")
        cited = st.multiselect("Evidence (codings in this case)", list(choices), key="relation_evidence")
        added = False
        if st.form_submit_button("Add relation"):
            with user_errors("add relation"), store().write(principal.actor) as session:
                coding_relations.add_relation(
                    session, study, studies.get_case(session, study, label), codebook.get_code(session, study, options[source]),
                    codebook.get_code(session, study, options[target]), kind, by=spans.get_coder(session, principal.name),
                    note=note, evidence_ids=[choices[c] for c in cited])
                added = True
    if added:
        st.rerun()  # outside the transaction: the network above shows the new relation


def _md(text: str) -> str:
    """Text shown verbatim inside markdown (escape markdown syntax)."""
    for ch in "\\`*_{}[]<>()#+-.!|~$":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")
