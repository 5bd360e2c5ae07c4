"""Outcomes and case summaries: descriptors per case, each component's sustainment, the outcome
distribution, the masked case summaries with the appendix, and full reconstructions on request."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.masking import summaries
from casestudy.models import SUSTAINMENT
from casestudy.reconstruction import case_summary
from casestudy.reconstruction import outcomes as case_outcomes
from casestudy.reports import outcomes as outcome_reports
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.report_widgets import downloads, show_table
from casestudy.ui.session import (
    principal_or_stop,
    rerun_with,
    show_flash,
    store,
    user_errors,
)

PAGE = PageSpec(title="Outcomes and summaries", url_path="outcomes", audience=("researcher",), section="Results", order=96)


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Outcomes and summaries")
    st.caption("What happened to each case, the outcome distribution for the results section, and the short case "
               "summaries that the appendix prints (masked and released like the narratives).")
    show_flash("outcomes")
    tabs = st.tabs(["Distribution", "Descriptors per case", "Sustainment", "Case summaries"])
    with tabs[0]:
        _distribution(principal)
    with tabs[1]:
        _descriptors(principal)
    with tabs[2]:
        _sustainment(principal)
    with tabs[3]:
        _summaries(principal)


def _distribution(principal) -> None:
    left, right = st.columns(2)
    decimals = left.number_input("Decimals of the percentages", 0, 3, 0, key="outcome_decimals")
    rounding = right.radio("Rounding", ["half-up", "half-even"], horizontal=True, key="outcome_rounding")
    with user_errors("outcome distribution"), store().read() as session:
        try:
            tables = outcome_reports.distribution_tables(session, current_study(session), principal, int(decimals), rounding)
        except UserError as exc:
            if exc.message != outcome_reports.NO_CASES:
                raise
            st.info(exc.message[0].upper() + exc.message[1:] + ".")  # an empty state, not an error
            return
        for table in tables:
            show_table(table)
        downloads("outcomes", tables, outcome_reports.distribution_json(tables))


def _descriptors(principal) -> None:
    with user_errors("outcome descriptors"), store().read() as session:
        study = current_study(session)
        descriptors = [d.name for d in case_outcomes.list_descriptors(session, study)]
        rows = case_outcomes.case_outcomes(session, study, principal)
    if not descriptors:
        st.info("The study has no outcome descriptors yet: add your own, or the reference study's set.")
    left, right = st.columns([3, 1])
    name = left.text_input("New descriptor", key="descriptor_name", placeholder="e.g. waiting list grew")
    if right.button("Add", key="descriptor_add", disabled=not principal.can_edit):
        _write(principal, lambda session, study: case_outcomes.add_descriptor(session, study, principal, name), f"Added {name!r}.")
    if st.button("Add the reference study's descriptors", key="descriptor_defaults", disabled=not principal.can_edit):
        _write(principal, lambda session, study: case_outcomes.add_default_descriptors(session, study, principal), "Added the reference descriptors.")
    if not descriptors or not rows:
        return
    grid = pd.DataFrame([{"case": r["case"], **{d: any(x["descriptor"] == d for x in r["descriptors"]) for d in descriptors}} for r in rows])
    edited = st.data_editor(grid, hide_index=True, disabled=["case"] if principal.can_edit else True, key="descriptor_grid")
    notes = {(r["case"], x["descriptor"]): x["note"] for r in rows for x in r["descriptors"]}
    if principal.can_edit and st.button("Save the descriptors", key="descriptor_save"):
        def save(session, study):
            for record in edited.to_dict("records"):
                case = studies.get_case(session, study, record["case"])
                for descriptor in descriptors:
                    has = (record["case"], descriptor) in notes
                    if bool(record[descriptor]) and not has:
                        case_outcomes.tag_case(session, study, principal, case, descriptor)
                    elif not record[descriptor] and has:
                        case_outcomes.untag_case(session, study, principal, case, descriptor)
        _write(principal, save, "Saved the descriptors per case.")


def _sustainment(principal) -> None:
    with user_errors("sustainment"), store().read() as session:
        rows = case_outcomes.case_outcomes(session, current_study(session), principal)
    components = [(r["case"], c) for r in rows for c in r["components"]]
    if not components:
        st.info("No programme components yet: add them to the cases (Cases and respondents).")
        return
    st.dataframe(pd.DataFrame([{"case": case, "component": c["type"], "sustainment": c["text"]} for case, c in components]),
                 hide_index=True, width="stretch")
    if not principal.can_edit:
        return
    with st.form("sustainment_form"):
        choice = st.selectbox("Component", range(len(components)), format_func=lambda i: f"{components[i][0]}: {components[i][1]['number']}. {components[i][1]['type']}")
        value = st.radio("Sustainment", list(SUSTAINMENT), horizontal=True, format_func=lambda v: case_outcomes.SUSTAINMENT_LABELS[v])
        stopped = st.date_input("Discontinued on (only for a discontinued component)", value=None)
        note = st.text_input("Note")
        if st.form_submit_button("Save"):
            case, component = components[choice]
            _write(principal, lambda session, study: case_outcomes.set_sustainment(
                session, study, principal, studies.get_case(session, study, case), component["number"], value, stopped, note),
                f"Saved the sustainment of {case} {component['type']}.")


def _summaries(principal) -> None:
    with user_errors("case summaries"), store().read() as session:
        study = current_study(session)
        overview = summaries.summary_overview(session, study, principal)
        releases = case_summary.releases(session, study, principal)
    if not overview:
        st.info(outcome_reports.NO_CASES[0].upper() + outcome_reports.NO_CASES[1:] + ".")
        return
    st.dataframe(pd.DataFrame([{"case": r["case"], "version": r["version"], "words": r["words"], "masked": r["masked_status"],
                                "masked text": r["masked_id"], "check": "; ".join(r["warnings"]) or "fits a paragraph"} for r in overview]),
                 hide_index=True, width="stretch")
    st.caption("The summary is written with the reconstruction (page Reconstructions) and frozen with each version. "
               "Mask it from the agreed version here, then review and release it on the Masking page like a narrative.")
    cases = [r["case"] for r in overview]
    if principal.can_edit and cases:
        left, right = st.columns([3, 1])
        case = left.selectbox("Case", cases, key="summary_case")
        if right.button("Mask its summary", key="summary_mask"):
            _write(principal, lambda session, study: summaries.generate_summary(session, study, principal, studies.get_case(session, study, case)),
                   f"Drafted the masked summary of {case}: review and release it on the Masking page.")
    with user_errors("appendix"), store().read() as session:
        study = current_study(session)
        if any(r["released"] for r in overview):
            left, right = st.columns(2)
            left.download_button("Appendix (Markdown)", summaries.appendix_document(session, study, principal, "md"),
                                 file_name="case-summaries.md", mime="text/markdown", key="appendix_md")
            right.download_button("Appendix (DOCX)", summaries.appendix_document(session, study, principal, "docx"),
                                  file_name="case-summaries.docx", key="appendix_docx")
    st.subheader("Full reconstruction on request")
    st.caption("The full reconstructions stay with the research team. Each release to someone who asks for one is kept in the audit log.")
    if principal.can_edit and cases:
        with st.form("release_form"):
            case = st.selectbox("Case", cases)
            requested_by = st.text_input("Requested by")
            reason = st.text_input("Reason")
            if st.form_submit_button("Release the latest version"):
                with user_errors("release on request"), store().write(principal.actor) as session:
                    study = current_study(session)
                    release = case_summary.release_on_request(session, study, principal, studies.get_case(session, study, case), requested_by, reason)
                st.session_state["_release"] = release
    release = st.session_state.get("_release")
    if release:
        st.download_button(f"Download {release['case']}, version {release['version']} (Markdown)", case_summary.release_markdown(release),
                           file_name=f"{release['case']}-reconstruction.md", mime="text/markdown", key="release_download")
    if releases:
        st.dataframe(pd.DataFrame(releases)[["at", "actor", "case", "number", "requested_by", "reason"]], hide_index=True, width="stretch")


def _write(principal, change, message: str) -> None:
    """Run ``change(session, study)`` in one transaction, then rerun with ``message``."""
    done = False
    with user_errors("outcomes"), store().write(principal.actor) as session:
        change(session, current_study(session))
        done = True
    if done:
        rerun_with(message, "outcomes")
