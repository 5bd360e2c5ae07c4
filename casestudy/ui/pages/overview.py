"""Study overview: per case the open stage and the next action, and the study's progress."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import signoffs, status
from casestudy.reports import progress
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec, page_link
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import CASE_PARAM

PAGE = PageSpec(title="Overview", url_path="overview", audience=("researcher",), section="Study", order=10)

#: The page where each stage's next action is done (those marked in CASE_PAGES open on the case).
STAGE_PAGES = {
    "interviews": "interviews", "coding": "coding", "reconstruction": "reconstructions",
    "member check": "reconstructions", "masking": "masking", "panel": "expert-panel",
}
CASE_PAGES = {"interviews", "reconstructions", "masking"}  # their case picker follows ?case=
WAITING_FOR = {
    status.RESEARCHER: "you", status.CODERS: "the coders", status.RESPONDENTS: "respondents", status.EXPERTS: "experts",
    status.SECOND_RESEARCHER: "a second researcher",
}
#: Where each kind of sign-off is given.
SIGNOFF_PAGES = {signoffs.CODINGS: "coding", signoffs.RECONSTRUCTION: "reconstructions", signoffs.MASKED_TEXT: "masking"}


def _action_page(row: progress.CaseOverview) -> str | None:
    if row.open_stage == "interviews" and not row.respondents:
        return "cases"  # respondents are added on the Cases page
    return STAGE_PAGES.get(row.open_stage)


def _next_actions(rows: list[progress.CaseOverview]) -> None:
    st.subheader("Next actions")
    header = st.columns([1, 1.3, 4.3, 1.1, 2])
    for column, title in zip(header, ("Case", "Open stage", "Next action", "Waiting for", "")):
        column.caption(title)
    for row in rows:
        case, stage, action, who, link = st.columns([1, 1.3, 4.3, 1.1, 2], vertical_alignment="center")
        case.markdown(f"**{row.public_label}**")
        stage.markdown(f"`{row.open_stage}`")
        action.write(row.next_action)
        who.write(WAITING_FOR.get(row.waiting_for, "—"))
        page = _action_page(row)
        if page:
            with link:
                page_link(page, icon=":material/arrow_forward:",
                          query_params={CASE_PARAM: row.public_label} if page in CASE_PAGES else None)


def _awaiting_signoffs(awaiting: list[signoffs.Awaiting]) -> None:
    """What awaits a second researcher's sign-off the study requires, with the page to give it."""
    if not awaiting:
        return
    st.subheader(f"Awaiting a sign-off ({len(awaiting)})")
    st.caption("The study requires a second researcher (an owner or coder who is not the author) to sign these off.")
    for item in awaiting:
        what, authors, link = st.columns([4.5, 2.2, 2], vertical_alignment="center")
        changed = " — changed after its sign-off" if item.state == signoffs.INVALIDATED else ""
        what.markdown(f"**{item.case}** · {item.label}{changed}")
        authors.caption(f"written by {', '.join(item.authors) or 'unknown'}")
        with link:
            # the coding page opens the interview itself (?interview=ID), the others the case
            params = {"interview": str(item.target_id)} if item.kind == signoffs.CODINGS else {CASE_PARAM: item.case}
            page_link(SIGNOFF_PAGES[item.kind], label="Sign off", icon=":material/verified:", query_params=params)


def render() -> None:
    study_or_stop(principal_or_stop())
    with user_errors("overview"), store().read() as session:
        study = current_study(session)
        st.title(study.title)
        st.caption(f"Language: {study.language} · levels: {' / '.join(study.levels)}")
        rows = progress.overview(session, study)
        awaiting = progress.awaiting_signoffs(session, study)
        if not rows:
            st.info("No cases yet. Add them on the Cases page.")
            page_link("cases", label="Add a case", icon=":material/add:")
            return
        waiting = {who: sum(1 for r in rows if r.waiting_for == who) for who in WAITING_FOR}
        metrics = st.columns(6)
        metrics[0].metric("Cases", len(rows))
        metrics[1].metric("Waiting for you", waiting[status.RESEARCHER])
        metrics[2].metric("For coders", waiting[status.CODERS])
        metrics[3].metric("For respondents", waiting[status.RESPONDENTS])
        metrics[4].metric("For experts", waiting[status.EXPERTS])
        metrics[5].metric("Awaiting sign-off", len(awaiting))
        _next_actions(rows)
        _awaiting_signoffs(awaiting)

        st.subheader("Progress")
        st.caption("Each cell says its state in words: done, open (▶ marks the case's open stage) or not started.")
        st.plotly_chart(progress.progress_figure(rows), width="stretch", config={"displayModeBar": False})

        st.subheader("Cases")
        table = pd.DataFrame(
            [
                {"Case": r.public_label, "Internal": r.internal_label, "Organisation": r.organisation,
                 "Programme": r.programme, "Outcome": r.outcome_class, "Respondents": r.respondents}
                for r in rows
            ]
        )
        st.dataframe(table, hide_index=True, width="stretch")
        for warning in (w for r in rows for w in r.warnings):
            st.warning(warning)
