"""Inter-coder agreement with the unit and formula shown, and the disagreeing passages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import users
from casestudy.coding import agreement, comparison
from casestudy.coding.places import Place
from casestudy.interviews import store as interviews_store
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import passage_link

PAGE = PageSpec(title="Agreement", url_path="agreement", audience=("researcher",), section="Analysis", order=60)


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Inter-coder agreement")
    with store().read() as session:
        study = current_study(session)
        coders = [u.username for u in users.list_users(session) if u.role in ("admin", "coder")]
        labels = interviews_store.interview_labels(session, study)
        choices = {f"{i.case} · {i.file_name}": i.id for i in labels}
    chosen_coders = st.multiselect("Coders (two or more)", coders, default=coders[:2], key="agr_coders")
    chosen = st.multiselect("Interviews (empty: all coded by every chosen coder)", list(choices), key="agr_interviews")
    unit = st.radio("Unit", ["character", "sentence"], horizontal=True, key="agr_unit",
                    help="character: each character coded or not per code (as NVivo); sentence: coded when a coding overlaps it")
    if not st.button("Compute", key="agr_compute"):
        return
    with user_errors("agreement"), store().read() as session:
        report = comparison.agreement_report(session, study, chosen_coders, unit, [choices[c] for c in chosen] or None, principal=principal)
        st.caption(f"Unit: {report.unit}. {report.formula}. Overall pools every code x unit decision.")
        used = ", ".join(i["interview"] for i in report.interviews_used)
        st.markdown(f"**Interviews compared ({len(report.interviews_used)}):** {used}")
        if report.interviews_left_out:
            st.markdown(f"**Left out ({len(report.interviews_left_out)}):**")
            st.dataframe(pd.DataFrame(report.interviews_left_out)[["interview", "reason"]], hide_index=True, key="agr_left_out")
        rows = [
            {"code": a.code, "units": a.units, "percent agreement": a.percent_agreement, "Cohen's kappa": a.kappa,
             "Krippendorff's alpha (nominal)": a.alpha, **{f"coded by {c}": a.coded_units.get(c, 0) for c in report.coders},
             "undefined because": agreement.undefined_text(a)}
            for a in report.per_code + [report.overall]
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.subheader(f"Disagreeing passages ({len(report.disagreements)})")
        shown = report.disagreements[:100]
        # Only the transcripts that hold a shown passage are read.
        texts = {i: interviews_store.get_interview(session, study, i).text for i in {d.interview_id for d in shown}}
        for d in shown:
            passage = texts.get(d.interview_id, "")[d.start : d.end]
            left, right, link = st.columns([4, 4, 2])
            left.markdown(f"**{d.code}** · {d.document} [{d.start}, {d.end})  \ncoded by: {', '.join(d.coded_by)}")
            right.markdown(f"not coded by: {', '.join(d.not_coded_by)}  \n> {passage[:400]}")
            passage_link(Place(d.interview_id, d.start, d.end), container=link)
