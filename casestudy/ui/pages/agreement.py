"""Inter-coder agreement with the unit and formula shown, and the disagreeing passages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy import users
from casestudy.coding import comparison
from casestudy.interviews import store as interviews_store
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Agreement", url_path="agreement", audience=("researcher",), section="Analysis", order=36)


def render() -> None:
    principal_or_stop()
    st.title("Inter-coder agreement")
    with store().read() as session:
        study = studies.get_study(session)
        coders = [u.username for u in users.list_users(session) if u.role in ("admin", "coder")]
        labels = interviews_store.interview_labels(session, study)
        choices = {f"{i.case} · {i.file_name}": i.id for i in labels}
        id_by_file = {i.file_name: i.id for i in labels}
    chosen_coders = st.multiselect("Coders (two or more)", coders, default=coders[:2], key="agr_coders")
    chosen = st.multiselect("Interviews (empty: all coded by every chosen coder)", list(choices), key="agr_interviews")
    unit = st.radio("Unit", ["character", "sentence"], horizontal=True, key="agr_unit",
                    help="character: each character coded or not per code (as NVivo); sentence: coded when a coding overlaps it")
    if not st.button("Compute", key="agr_compute"):
        return
    with user_errors("agreement"), store().read() as session:
        report = comparison.agreement_report(session, study, chosen_coders, unit, [choices[c] for c in chosen] or None)
        st.caption(f"Unit: {report.unit}. {report.formula}. Overall pools every code x unit decision.")
        rows = [
            {"code": a.code, "units": a.units, "percent agreement": a.percent_agreement, "Cohen's kappa": a.kappa,
             "Krippendorff's alpha (nominal)": a.alpha, **{f"coded by {c}": a.coded_units.get(c, 0) for c in report.coders}}
            for a in report.per_code + [report.overall]
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.subheader(f"Disagreeing passages ({len(report.disagreements)})")
        shown = report.disagreements[:100]
        # Only the transcripts that hold a shown passage are read.
        texts = {name: interviews_store.get_interview(session, study, id_by_file[name]).text for name in {d.document for d in shown} if name in id_by_file}
        for d in shown:
            passage = texts.get(d.document, "")[d.start : d.end]
            left, right = st.columns(2)
            left.markdown(f"**{d.code}** · {d.document} [{d.start}, {d.end})  \ncoded by: {', '.join(d.coded_by)}")
            right.markdown(f"not coded by: {', '.join(d.not_coded_by)}  \n> {passage[:400]}")
