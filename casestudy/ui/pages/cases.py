"""Cases, respondents and consent records."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.models import CASE_OUTCOMES, CONSENT_SCOPES, RESPONDENT_ROLES
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import FLASH_KEY, principal_or_stop, store, user_errors
from casestudy.ui.widgets import form_done, form_start

PAGE = PageSpec(title="Cases and respondents", url_path="cases", audience=("researcher",), section="Study", order=20)


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Cases and respondents")
    with user_errors("cases"), store().read() as session:
        study = current_study(session)
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
                        "Consent": _consent_summary(consent),
                    }
                )
        labels = [c.public_label for c in cases]
        grid = [
            {"Case": c.public_label, "Respondent": r.name,
             **{scope.replace("_", " "): state == "given" for scope, state in studies.consent_state(r).items()},
             "Date": dt.date.today()}
            for c in cases for r in c.respondents
        ]
        warnings = [w for c in cases for w in studies.case_warnings(c)]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for warning in warnings:
        st.warning(warning)
    if not principal.can_edit:
        return

    with st.expander("Add a case", expanded=not labels or "add_case" in st.session_state.get(FLASH_KEY, {})):
        form_start("add_case")
        _add_case_form(principal)
    if not labels:
        return
    with st.expander("Add a respondent", expanded="add_respondent" in st.session_state.get(FLASH_KEY, {})):
        form_start("add_respondent")
        _add_respondent_form(principal, labels)
    with st.expander("Consent of every respondent", expanded=True):
        form_start("consent_grid")
        _consent_grid(principal, grid)


def _consent_summary(consent: dict[str, str]) -> str:
    """'all given', 'none yet', or the scopes not given by state ('withdrawn: member check;
    missing: final text')."""
    if not consent:
        return ""
    if all(state == "missing" for state in consent.values()):
        return "none yet"
    by_state: dict[str, list[str]] = {}
    for scope, state in consent.items():
        if state != "given":
            by_state.setdefault(state, []).append(scope.replace("_", " "))
    return "; ".join(f"{state}: {', '.join(scopes)}" for state, scopes in by_state.items()) or "all given"


COMPONENTS_HELP = (
    "Optional. One entry per component, separated by commas: the component's short name, a colon and its "
    "number of groups. Example: PH:2, IOP:1 means partial hospitalisation with 2 groups and an intensive "
    "outpatient programme with 1 group. You may add the dosage and the status after further colons: "
    "PH:2:3 days a week:stopped."
)


def _add_case_form(principal) -> None:
    with st.form("add_case", clear_on_submit=False):
        left, right = st.columns(2)
        internal = left.text_input("Internal label", placeholder="e.g. Unit 8", key="add_case_internal",
                                   help="How the team knows the case; never shown outside the study.")
        public = right.text_input("Public label", placeholder="e.g. Case H", key="add_case_public",
                                  help="The label used in texts for respondents, experts and publications.")
        organisation = st.text_input("Organisation (internal only)", key="add_case_organisation")
        outcome = st.selectbox("Outcome", CASE_OUTCOMES, index=len(CASE_OUTCOMES) - 1, key="add_case_outcome")
        description = st.text_area("Outcome description", key="add_case_description")
        components = st.text_input("Programme components", placeholder="e.g. PH:2, IOP:1", help=COMPONENTS_HELP,
                                   key="add_case_components")
        st.caption("Programme components: short name and number of groups, e.g. PH:2 = partial hospitalisation, 2 groups.")
        submitted = st.form_submit_button("Add case", type="primary")
        done = None
        if submitted:  # the message shows here, under the button, and the fields keep their text
            with user_errors("add case"), store().write(principal.actor) as session:
                specs = [_component(part) for part in components.split(",") if part.strip()]
                case = studies.add_case(session, current_study(session), internal, public, organisation or None, outcome, description, specs)
                done = f"Added {case.public_label}."
    if done:
        form_done("add_case", done, [f"add_case_{name}" for name in ("internal", "public", "organisation", "outcome", "description", "components")])


def _add_respondent_form(principal, labels: list[str]) -> None:
    with st.form("add_respondent", clear_on_submit=False):
        case_label = st.selectbox("Case", labels, key="add_respondent_case")
        name = st.text_input("Name", key="add_respondent_name")
        role = st.selectbox("Role", RESPONDENT_ROLES, key="add_respondent_role")
        done = None
        if st.form_submit_button("Add respondent", type="primary"):
            with user_errors("add respondent"), store().write(principal.actor) as session:
                case = studies.get_case(session, current_study(session), case_label)
                studies.add_respondent(session, case, name, role)
                done = f"Added {name.strip()} to {case_label}."
    if done:
        form_done("add_respondent", done, ["add_respondent_name", "add_respondent_role"])


def _consent_grid(principal, grid: list[dict]) -> None:
    """All respondents x consent scopes in one editable grid, saved in one transaction."""
    if not grid:
        st.info("No respondents yet.")
        return
    st.caption("Tick a scope when the respondent gave consent, untick it to record a withdrawal; the date applies to the "
               "changes in its row. Nothing is saved until you press Save consent changes, and then all at once.")
    scopes = [s.replace("_", " ") for s in CONSENT_SCOPES]
    frame = pd.DataFrame(grid)
    config = {
        "Case": st.column_config.TextColumn(disabled=True),
        "Respondent": st.column_config.TextColumn(disabled=True),
        **{s: st.column_config.CheckboxColumn(s) for s in scopes},
        "Date": st.column_config.DateColumn("Date", max_value=dt.date.today(), format="YYYY-MM-DD", required=True),
    }
    with st.form("consent_grid", clear_on_submit=False):
        edited = st.data_editor(frame, column_config=config, hide_index=True, width="stretch", num_rows="fixed",
                                key="consent_grid_editor")
        done = None
        if st.form_submit_button("Save consent changes", type="primary"):
            changes = [
                studies.ConsentChange(row["Case"], row["Respondent"], scope, bool(row[scope.replace("_", " ")]),
                                      pd.Timestamp(row["Date"]).date() if pd.notna(row["Date"]) else dt.date.today())
                for row in edited.to_dict("records") for scope in CONSENT_SCOPES
            ]
            with user_errors("consent grid"), store().write(principal.actor) as session:
                counts = studies.record_consents(session, current_study(session), changes)
                done = f"Consent saved: {counts['recorded']} recorded, {counts['withdrawn']} withdrawn, {counts['unchanged']} unchanged."
    if done:
        form_done("consent_grid", done, ["consent_grid_editor"])


def _component(text: str) -> studies.ComponentSpec:
    from casestudy.cli.core import parse_component

    return parse_component(text.strip())
