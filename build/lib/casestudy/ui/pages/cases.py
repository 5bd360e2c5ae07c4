"""Cases, respondents and consent records."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.models import CASE_OUTCOMES, CONSENT_SCOPES, RESPONDENT_ROLES
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Cases and respondents", url_path="cases", audience=("researcher",), section="Study", order=20)


def render() -> None:
    principal = principal_or_stop()
    st.title("Cases and respondents")
    with user_errors("cases"), store().read() as session:
        study = studies.get_study(session)
        cases = studies.list_cases(session, study)
        rows = []
        for case in cases:
            for respondent in case.respondents or [None]:
                consent = studies.consent_state(respondent) if respondent else {}
                rows.append(
                    {
                        "Case": case.public_label,
                        "Internal": case.internal_label,
                        "Programme": studies.programme_text(case),
                        "Outcome": case.outcome_class,
                        "Respondent": respondent.name if respondent else "",
                        "Role": respondent.role if respondent else "",
                        **{scope.replace("_", " "): state for scope, state in consent.items()},
                    }
                )
        labels = [c.public_label for c in cases]
        respondents_by_case = {c.public_label: [r.name for r in c.respondents] for c in cases}
        warnings = [w for c in cases for w in studies.case_warnings(c)]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for warning in warnings:
        st.warning(warning)
    if not principal.can_edit:
        return

    with st.expander("Add a case"):
        with st.form("add_case", clear_on_submit=True):
            internal = st.text_input("Internal label", placeholder="Unit 8")
            public = st.text_input("Public label", placeholder="Case H")
            organisation = st.text_input("Organisation (internal only)")
            outcome = st.selectbox("Outcome", CASE_OUTCOMES, index=len(CASE_OUTCOMES) - 1)
            description = st.text_area("Outcome description")
            components = st.text_input("Programme components", placeholder="PH:2, IOP:1 (type:groups)")
            if st.form_submit_button("Add case"):
                with user_errors("add case"), store().write(principal.actor) as session:
                    specs = [_component(part) for part in components.split(",") if part.strip()]
                    studies.add_case(session, studies.get_study(session), internal, public, organisation or None, outcome, description, specs)
                    st.success(f"Added {public}.")

    if not labels:
        return
    with st.expander("Add a respondent"):
        with st.form("add_respondent", clear_on_submit=True):
            case_label = st.selectbox("Case", labels)
            name = st.text_input("Name")
            role = st.selectbox("Role", RESPONDENT_ROLES)
            if st.form_submit_button("Add respondent"):
                with user_errors("add respondent"), store().write(principal.actor) as session:
                    case = studies.get_case(session, studies.get_study(session), case_label)
                    studies.add_respondent(session, case, name, role)
                    st.success(f"Added {name} to {case_label}.")

    with st.expander("Record or withdraw consent"):
        case_label = st.selectbox("Case", labels, key="consent_case")
        with st.form("consent"):
            respondent_name = st.selectbox("Respondent", respondents_by_case.get(case_label, []))
            scope = st.selectbox("Scope", CONSENT_SCOPES)
            when = st.date_input("Date", value=dt.date.today(), max_value=dt.date.today())
            withdraw = st.checkbox("This is a withdrawal")
            if st.form_submit_button("Save consent"):
                with user_errors("consent"), store().write(principal.actor) as session:
                    case = studies.get_case(session, studies.get_study(session), case_label)
                    respondent = studies.get_respondent(session, case, respondent_name or "")
                    if withdraw:
                        studies.withdraw_consent(session, respondent, scope, when)
                    else:
                        studies.record_consent(session, respondent, scope, when)
                    st.success("Consent saved.")


def _component(text: str) -> studies.ComponentSpec:
    from casestudy.cli.core import parse_component

    return parse_component(text.strip())
