"""Study overview: every case with the stage it has reached."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.reports import progress
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Overview", url_path="overview", audience=("researcher",), section="Study", order=10)


def render() -> None:
    principal_or_stop()
    with user_errors("overview"), store().read() as session:
        study = studies.get_study(session)
        st.title(study.title)
        st.caption(f"Language: {study.language} · levels: {' / '.join(study.levels)}")
        rows = progress.overview(session, study)
        if not rows:
            st.info("No cases yet. Add them on the Cases page.")
            return
        table = pd.DataFrame(
            [
                {
                    "Case": r.public_label,
                    "Internal": r.internal_label,
                    "Organisation": r.organisation,
                    "Programme": r.programme,
                    "Outcome": r.outcome_class,
                    "Respondents": r.respondents,
                    "Stage": r.current_stage,
                    **{stage.capitalize(): status for stage, status in r.stages.items()},
                }
                for r in rows
            ]
        )
        st.dataframe(table, hide_index=True, width="stretch")
        warnings = [w for r in rows for w in r.warnings]
        for warning in warnings:
            st.warning(warning)
        st.metric("Cases", len(rows))
