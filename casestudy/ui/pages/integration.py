"""Integration: the panel's ranked determinants beside the cases (codings of the mapped code,
respondents, Table 1) as a heatmap and a table, the determinant-to-code mapping, and the study's
recommendations linked to the determinants."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy.codebook import tree as codebook
from casestudy.errors import UserError
from casestudy.reports import integration, plots
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.report_widgets import downloads, figure, show_table
from casestudy.ui.session import (
    principal_or_stop,
    rerun_with,
    show_flash,
    store,
    user_errors,
)

PAGE = PageSpec(title="Integration", url_path="integration", audience=("researcher",), section="Results", order=98)
NO_CODE = "(no code)"


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Integration")
    st.caption("Each determinant the experts ranked, the codebook code it is mapped to, and per case whether the interviews "
               "coded it (codings, respondents) and whether Table 1 names it.")
    show_flash("integration")
    threshold = st.number_input("Experts needed for the ranking", 1, 50, 2, key="integration_threshold")
    view = None
    with user_errors("integration"), store().read() as session:
        study = current_study(session)
        paths = sorted(codebook.code_paths(codebook.all_codes(session, study)).values(), key=str.casefold)
        recommendations = integration.list_recommendations(session, study, principal)
        try:
            view = integration.integration(session, study, principal, threshold=int(threshold))
        except UserError as exc:
            if exc.message != integration.NO_DETERMINANTS:
                raise
            st.info(exc.message[0].upper() + exc.message[1:] + ".")  # an empty state, not an error
    if view is None:
        return
    if not view.rows:
        st.info("No determinant reaches the threshold yet.")
        return
    tabs = st.tabs(["Heatmap", "Table", "Map determinants to codes", "Recommendations"])
    with tabs[0]:
        if view.unmapped:
            st.warning(f"Not mapped to a code yet: {'; '.join(view.unmapped)} (tab 'Map determinants to codes').")
        with user_errors("integration heatmap"):
            figure(plots.integration_heatmap(view), "integration")
    with tabs[1]:
        table = integration.integration_table(view)
        show_table(table)
        downloads("integration", [table], view.as_json())
    with tabs[2]:
        _mapping(principal, view, paths)
    with tabs[3]:
        _recommendations(principal, view, recommendations)


def _mapping(principal, view, paths: list[str]) -> None:
    st.caption("Codings of the chosen code and of its sub-codes count for the determinant.")
    rows = [{"determinant": r.determinant, "experts": r.n_experts, "code": r.code or NO_CODE} for r in view.rows]
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, key="integration_mapping", disabled=["determinant", "experts"] if principal.can_edit else True,
        column_config={"code": st.column_config.SelectboxColumn("code", options=[NO_CODE, *paths], required=True, width="large")},
    )
    if principal.can_edit and st.button("Save the mapping", key="integration_save_mapping"):
        changed, done = 0, False
        with user_errors("map determinants to codes"), store().write(principal.actor) as session:
            study = current_study(session)
            for before, after in zip(rows, edited.to_dict("records")):
                if after["code"] != before["code"]:
                    changed += integration.map_code(session, study, principal, before["determinant"], None if after["code"] == NO_CODE else after["code"])
            done = True
        if done:
            rerun_with(f"Saved the mapping ({changed} row(s) changed).", "integration")


def _recommendations(principal, view, recommendations) -> None:
    determinants = [r.determinant for r in view.rows]
    tables = integration.recommendation_tables(recommendations, view)
    for table in tables:
        show_table(table)
    if recommendations:
        downloads("recommendations", tables, integration.recommendation_json(recommendations))
    if not principal.can_edit:
        return
    with st.form("recommendation_form", clear_on_submit=True):
        audience = st.radio("List", ["organisation", "team"], horizontal=True,
                            format_func=lambda a: integration.AUDIENCE_LABELS[a].removeprefix("Recommendations for the "))
        text = st.text_area("Recommendation")
        linked = st.multiselect("Determinants it answers", determinants)
        if st.form_submit_button("Add the recommendation"):
            done = False
            with user_errors("add recommendation"), store().write(principal.actor) as session:
                integration.add_recommendation(session, current_study(session), principal, audience, text, linked)
                done = True
            if done:
                rerun_with("Added the recommendation.", "integration")
    if recommendations:
        left, right = st.columns([3, 1])
        chosen = left.selectbox("Remove a recommendation", recommendations, format_func=lambda r: f"{r.audience}: {r.text[:80]}", key="rec_remove")
        if right.button("Remove", key="rec_remove_button"):
            done = False
            with user_errors("remove recommendation"), store().write(principal.actor) as session:
                integration.remove_recommendation(session, current_study(session), principal, chosen.id)
                done = True
            if done:
                rerun_with("Removed the recommendation.", "integration")

