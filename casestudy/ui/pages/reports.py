"""Reports: Table 2, determinant rankings, reliability, Table 1, consistency check, plots, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import audit, ethics, tabular
from casestudy.coding import constants as coding_constants
from casestudy.reports import (
    consistency,
    inputs,
    plots,
    rankings,
    reliability,
    statpackages,
)
from casestudy.reports import outcomes as outcome_reports
from casestudy.reports import elicitation as elicitation_report
from casestudy.reports import render as reports
from casestudy.reports import table2 as aggregation
from casestudy.reports.constants import STAT_DATASETS, STAT_FORMATS
from casestudy.text import decode_utf8
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.report_widgets import downloads as _downloads
from casestudy.ui.report_widgets import figure as _figure
from casestudy.ui.report_widgets import show_table as _show
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Reports", url_path="reports", audience=("researcher",), section="Results", order=100)

STAT_FORMAT_LABELS = {"sav": "SPSS (.sav)", "dta": "Stata (.dta)"}
STAT_DATASET_LABELS = {
    "ratings-long": "Ratings, long",
    "ratings-wide": "Ratings, wide",
    "case-code-matrix": "Case x code matrix",
    "segments": "Coded segments",
}
STAT_DATASET_HELP = ("Ratings, long: one row per expert, case and statement. Ratings, wide: one row per expert and case, "
                     "one variable per statement. Case x code matrix: one row per case, one variable per code. "
                     "Coded segments: one row per coded segment with its text.")
def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Reports")
    st.caption("Tables and figures for publication from the expert panel, or from CSV files of a panel run elsewhere.")

    with st.expander("Inputs and options", expanded=True):
        left, right = st.columns(2)
        ratings_file = left.file_uploader("Ratings CSV (expert,case,item,score)", type=["csv"], key="ratings_csv")
        determinants_file = left.file_uploader("Determinants CSV (expert,task,rank,determinant)", type=["csv"], key="determinants_csv")
        mapping_file = left.file_uploader("Mapping CSV (determinant,canonical)", type=["csv"], key="mapping_csv")
        scale_text = right.text_input("Scale of an uploaded ratings CSV (MIN-MAX)", value="", placeholder="the questionnaire's scale", key="scale",
                                      help="Leave empty to use the study questionnaire's scale with its point labels (0-5 without a questionnaire).")
        rounding = right.radio("Rounding", list(aggregation.ROUNDINGS), horizontal=True, key="rounding")
        average = right.radio("Average column", list(aggregation.AVERAGES), format_func=lambda a: aggregation.AVERAGES[a], key="average")
        method = right.selectbox("Quartile method", list(aggregation.QUARTILE_METHODS), format_func=lambda m: f"{m}: {aggregation.QUARTILE_METHODS[m][0]}", key="quartiles")
        experts = right.number_input("Experts who returned the questionnaire (0 = count from the file)", min_value=0, value=0, step=1, key="experts")

    t = r = None
    outcomes: dict[str, str] = {}
    table1_rows: list[dict] = []
    table1_note, table1_unknown = "", []
    figures = ratings = mentions = mapping = None
    scale = inputs.PANEL_SCALE
    with user_errors("reports inputs"):
        with store().read() as session:
            study = current_study(session)
            found = inputs.report_inputs(
                session, study, principal,
                ratings_source=ratings_file.getvalue() if ratings_file else None,
                determinants_source=determinants_file.getvalue() if determinants_file else None,
                mapping_source=mapping_file.getvalue() if mapping_file else None,
                scale_text=scale_text.strip() or None,
            )
            table1_rows = reports.study_table1(session, study, principal)
            table1_note, table1_unknown = outcome_reports.table1_note(outcome_reports.component_types(session, study))
        scale, outcomes, figures = found.scale, found.outcomes, found.figures
        ratings, mentions, mapping = found.ratings, found.mentions, found.mapping
        if ratings:
            t = aggregation.table2(ratings, scale, outcome_by_case=outcomes, rounding=rounding, average=average, quartile_method=method)
        if mentions:
            r = rankings.rank_determinants(mentions, mapping, experts=int(experts) or None)

    tabs = st.tabs(["Table 2", "Rankings", "Reliability", "Table 1", "Consistency check", "Plots", "Methods", "SPSS / Stata", "Elicitation"])
    with tabs[8]:
        _elicitation(principal)
    with tabs[0]:
        if t is None:
            st.info("No expert-panel answers are in the database yet: upload a ratings CSV above.")
        else:
            with user_errors("table 2"):
                tables = reports.table2_tables(t)
                _show(tables[0])
                for warning in t.warnings:
                    st.warning(warning)
                with st.expander("Statistics per cell and level comparison"):
                    _show(tables[1])
                    _show(tables[2])
                _downloads("table2", tables, t.as_json(), csv_table=tables[0])

    with tabs[1]:
        if r is None:
            st.info("Upload a determinants CSV above to rank the determinants.")
        else:
            with user_errors("rankings"):
                tables = reports.rankings_tables(r)
                for table in tables:
                    _show(table)
                if r.kendall_w is not None:
                    st.metric("Kendall's W (tie-corrected)", str(reports.round_decimal(r.kendall_w, 3)),
                              help=f"N = {r.kendall_objects} determinants ranked by m = {r.kendall_raters} experts")
                _downloads("rankings", tables, r.as_json(), csv_table=reports.rankings_long_table(r))
                _mapping_editor(principal, mentions, mapping or {})

    with tabs[2]:
        if t is None:
            st.info("Reliability needs ratings.")
        else:
            replicates = st.number_input("Bootstrap replicates", 0, 10000, 1000, step=100, key="bootstrap")
            if st.button("Compute reliability", key="compute_reliability"):
                with user_errors("reliability"):
                    st.session_state["_reliability"] = reliability.reliability(ratings, scale, replicates=int(replicates), quartile_method=method)
            rep = st.session_state.get("_reliability")
            if rep is not None:
                tables = reports.reliability_tables(rep)
                for table in tables:
                    _show(table)
                _downloads("reliability", tables, rep.as_json())

    with tabs[3]:
        with user_errors("table 1"):
            table = reports.table1_table(table1_rows, table1_note)
            _show(table)
            if table1_unknown:
                st.warning(f"The note cannot expand {', '.join(table1_unknown)}: write it out in the programme column.")
            _downloads("table1", [table], table1_rows)

    with tabs[4]:
        st.caption("Upload the tables as printed in the manuscript (CSV), and optionally its text, to check them; "
                   "without uploads the generated Table 2 and Table 1 are checked.")
        t2_file = st.file_uploader("Table 2 as printed (statement,<cases>,average)", type=["csv"], key="check_t2")
        t1_file = st.file_uploader("Table 1 as printed (case,programme,outcome,determinants)", type=["csv"], key="check_t1")
        text_file = st.file_uploader("Manuscript text (UTF-8)", type=["txt", "md"], key="check_text")
        with user_errors("consistency check"):
            published2 = consistency.parse_table2(decode_utf8(t2_file.name, t2_file.getvalue())) if t2_file else (consistency.table2_as_published(t) if t else None)
            published1 = consistency.parse_table1(decode_utf8(t1_file.name, t1_file.getvalue())) if t1_file else [
                consistency.PublishedTable1Row(x["case"], x["programme"], x["outcome"], "; ".join(x["determinants"])) for x in table1_rows]
            texts = {text_file.name: decode_utf8(text_file.name, text_file.getvalue())} if text_file else {}
            findings = consistency.check_tables(published2, published1, scale, t.experts if t else None, texts)
            if not findings:
                st.success("No inconsistencies found.")
            for f in findings:
                (st.error if f.severity == "error" else st.warning)(f"{f.where}: {f.message}")
            table = reports.findings_table(findings)
            _downloads("check", [table], [f.__dict__ for f in findings])

    with tabs[5]:
        with user_errors("plots"):
            if t is not None:
                _figure(plots.heatmap(t), "heatmap")
                item = st.selectbox("Statement for the distribution bars", ["(all)", *t.items], key="bars_item")
                _figure(plots.diverging_bars(t, None if item == "(all)" else item), "bars")
            if r is not None and r.ranking:
                _figure(plots.ranking_chart(r), "ranking")
            if t is None and r is None:
                st.info("Plots need ratings or determinants.")

    with tabs[6]:
        with store().read() as session:
            ethics_sentence = ethics.ethics_sentence(ethics.get_ethics(session, current_study(session, "viewer")))
        paragraph = reports.methods_paragraph(figures, t, r, ethics_sentence)
        st.write(paragraph or "Upload ratings or determinants to draft the methods paragraph.")
        if paragraph:
            st.download_button("Methods paragraph (Markdown)", paragraph, file_name="methods.md", mime="text/markdown", key="dl_methods")

    with tabs[7]:
        _statistics_files(principal, ratings, scale)


def _elicitation(principal) -> None:
    """Per case and level: determinants raised spontaneously vs only after a probe (``report elicitation``)."""
    st.caption("The check against confirmation bias of the two-stage interview: which determinants (codes with a level) "
               "came up on the respondents' own account, and which only after the interviewer probed them.")
    with user_errors("elicitation report"), store().read() as session:
        found = elicitation_report.elicitation_report(session, current_study(session), principal=principal)
        if not found.summary:
            st.info("No coded determinants yet.")
            return
        tables = found.tables()
        _show(tables[0])
        with st.expander("Per determinant"):
            _show(tables[1])
        _downloads("elicitation", tables, found.as_json())


def _statistics_files(principal, ratings, scale) -> None:
    """SPSS and Stata files of the ratings (uploaded or the panel's), the matrix and the segments."""
    st.caption("Data files with variable and value labels (the scale's point labels, the statements, case labels and level names).")
    left, middle, right = st.columns(3)
    dataset = left.selectbox("Data set", list(STAT_DATASETS), format_func=STAT_DATASET_LABELS.get, key="stat_dataset", help=STAT_DATASET_HELP)
    fmt = middle.radio("Format", list(STAT_FORMATS), format_func=STAT_FORMAT_LABELS.get, horizontal=True, key="stat_format")
    measure = right.selectbox("Matrix cells", list(coding_constants.MATRIX_MEASURES), key="stat_measure", disabled=dataset != "case-code-matrix")
    wanted = (dataset, fmt, measure if dataset == "case-code-matrix" else None, len(ratings or ()))
    if st.button("Prepare file", key="stat_prepare"):
        with user_errors("statistics file"), st.spinner("Writing the file..."):
            with store().read() as session:
                dataset_ = statpackages.study_dataset(session, current_study(session, "viewer"), principal, dataset, ratings=ratings, scale=scale, measure=measure)
            st.session_state["_stat_file"] = (wanted, statpackages.write_dataset(dataset_, fmt))
    prepared = st.session_state.get("_stat_file")
    if prepared is not None and prepared[0] == wanted:
        written = prepared[1]
        for warning in written.warnings:
            st.warning(warning)
        st.download_button(f"Download {STAT_FORMAT_LABELS[fmt]}", written.data, file_name=f"{dataset}.{fmt}", mime=written.media_type, key="dl_stat_file")


def _mapping_editor(principal, mentions, mapping: dict[str, str]) -> None:
    with st.expander("Map free-text determinants to canonical labels"):
        from casestudy.reports.inputs import normalise_text

        first: dict[str, str] = {}
        for m in mentions:
            first.setdefault(normalise_text(m.determinant), " ".join(m.determinant.split()))
        texts = sorted(first.values(), key=str.casefold)
        candidates = sorted(set(mapping.values()) | set(texts), key=str.casefold)
        suggestions = {s["determinant"]: s["suggestions"] for s in rankings.suggest_mapping(texts, candidates, limit=4)}

        rows = []
        for text in texts:
            current = mapping.get(normalise_text(text))
            others = [x for x in suggestions.get(text, []) if normalise_text(x["canonical"]) != normalise_text(text)]
            rows.append({"determinant": text, "canonical": current or text,
                         "suggestions": "; ".join(f"{x['canonical']} ({x['score']:g})" for x in others[:3])})
        edited = st.data_editor(pd.DataFrame(rows), disabled=["determinant", "suggestions"], hide_index=True, key="mapping_editor")
        columns, mapping_table = rankings.mapping_rows({normalise_text(d): c for d, c in zip(edited["determinant"], edited["canonical"]) if str(c).strip()})
        st.download_button("Mapping CSV", tabular.csv_text(columns, mapping_table), file_name="mapping.csv", mime="text/csv", key="dl_mapping")
        if principal.can_edit and st.button("Confirm and store this mapping", key="confirm_mapping"):
            with user_errors("confirm mapping"), store().write(principal.actor) as session:
                study = current_study(session)
                changed = rankings.confirm_mappings(session, study, principal, dict(mapping_table))
                audit.record(session, "determinant_mapping", "confirm", study_id=study.id, mappings=len(mapping_table), changed=changed)
                st.success(f"Stored {len(mapping_table)} mapping(s) ({changed} new or changed).")
