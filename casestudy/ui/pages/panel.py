"""Expert panel for researchers: members, invitation funnel, links and reminders, questionnaire, imports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import text as text_module
from casestudy.models import EXPERTISE_FIELDS, ITEM_KINDS
from casestudy.panel import delphi
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire
from casestudy.panel import responses as panel_responses
from casestudy.panel import results
from casestudy.panel.constants import DELPHI_RULES
from casestudy.quantiles import QUARTILE_METHODS
from casestudy.reports import delphi as delphi_report
from casestudy.reports import render as report_render
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.links import link_base_notice
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import form_done, form_start

PAGE = PageSpec(title="Expert panel", url_path="expert-panel", audience=("researcher",), section="Results", order=90,
                aliases=("panel",))  # /panel is the experts' own page; a researcher typing it means this one

LINKS_KEY = "_panel_links"
NOTICE_KEY = "_panel_notice"
def _notice(text: str) -> None:
    st.session_state[NOTICE_KEY] = text


def _act(principal, where: str, fn) -> bool:
    """Run fn(session, study) in one write transaction; True when it committed (rerun afterwards, never inside)."""
    done = False
    with user_errors(where), store().write(principal.actor) as session:
        fn(session, current_study(session))
        done = True
    return done


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Expert panel")
    if st.session_state.get(NOTICE_KEY):
        st.success(st.session_state.pop(NOTICE_KEY))
    with user_errors("panel"), store().read() as session:
        study = current_study(session)
        funnel = panel_members.funnel(session, study)
        q = panel_questionnaire.current_questionnaire(session, study)
        q_record = panel_questionnaire.questionnaire_record(q) if q else None
        versions = [v.number for v in panel_questionnaire.list_questionnaires(session, study)]
        members = [(m.pseudonym, m.name, m.status) for m in panel_members.list_members(session, study)]
    if "funnel" not in locals():
        return

    reached = funnel.reached
    columns = st.columns(6)
    columns[0].metric("Invited", reached["invited"])
    columns[1].metric("Opened", reached["opened"])
    columns[2].metric("Started", reached["started"])
    columns[3].metric("Submitted", reached["submitted"])
    columns[4].metric("Declined", reached["declined"])
    columns[5].metric("Response rate", funnel.response_rate.split(", ")[-1] if funnel.invited else "-")
    st.caption(f"Response rate: {funnel.response_rate}")

    tabs = st.tabs(["Members", "Links and reminders", "Questionnaire", "Delphi rounds", "Import responses", "Export answers"])
    with tabs[0]:
        _members_tab(principal, funnel, members)
    with tabs[1]:
        _links_tab(principal, members)
    with tabs[2]:
        _questionnaire_tab(principal, q_record, versions)
    with tabs[3]:
        _delphi_tab(principal)
    with tabs[4]:
        _import_tab(principal)
    with tabs[5]:
        _export_tab()


def _members_tab(principal, funnel, members) -> None:
    if funnel.members:
        frame = pd.DataFrame(funnel.members)[
            ["pseudonym", "name", "email", "status", "invited_at", "opened_at", "started_at", "submitted_at", "declined_at",
             "reminded_at", "progress", "link_active"]
        ]
        st.dataframe(frame, hide_index=True, width="stretch")
    else:
        st.info("No panel members yet. Add them one by one or import a CSV.")
    if not principal.can_edit:
        return
    with st.expander("Add a member"):
        form_start("panel_add_member")
        added = []
        with st.form("panel_add_member", clear_on_submit=False):
            name = st.text_input("Name", key="panel_member_name")
            email = st.text_input("E-mail", key="panel_member_email")
            organisation = st.text_input("Organisation", key="panel_member_org")
            expertise = st.multiselect("Expertise", EXPERTISE_FIELDS, key="panel_member_expertise")
            if st.form_submit_button("Add member"):
                _act(principal, "panel add member", lambda s, study: added.append(
                    f"Added {panel_members.add_member(s, study, name, email, organisation, expertise).pseudonym}."))
        if added:  # the funnel and the member list count the new member at once
            form_done("panel_add_member", added[0], ["panel_member_name", "panel_member_email", "panel_member_org", "panel_member_expertise"])
    with st.expander("Import members from CSV"):
        st.caption("Columns: name, email, organisation, expertise (separated by ;), optionally pseudonym. All rows or none.")
        upload = st.file_uploader("Members CSV", type=["csv"], key="panel_members_csv")
        if upload is not None and st.button("Import members", key="panel_import_members") and _act(
            principal, "panel import members",
            lambda s, study: _notice(f"Imported {len(panel_members.import_members_csv(s, study, text_module.decode_utf8(upload.name, upload.getvalue())))} member(s)."),
        ):
            st.rerun()
    if members:
        with st.expander("Decline, re-open or remove"):
            choice = st.selectbox("Member", [f"{p} ({name}, {status})" for p, name, status in members], key="panel_member_pick")
            pseudonym = choice.split(" ")[0]
            left, middle, right = st.columns(3)
            for column, label, action in ((left, "Mark declined", panel_members.decline), (middle, "Re-open submitted answers", panel_members.reopen),
                                          (right, "Remove member", panel_members.delete_member)):
                if column.button(label, key=f"panel_{action.__name__}") and _act(
                    principal, "panel member action", lambda s, study, a=action: a(s, panel_members.get_member(s, study, pseudonym))
                ):
                    st.rerun()


def _show_links(rows: list[dict]) -> None:
    for row in rows:
        with st.container(border=True):
            st.markdown(f"**{row['pseudonym']}**: {row['name']} ({row['status'].replace('_', ' ')})")
            st.code(row["link"], language=None)
            if row.get("email"):
                st.link_button(f"E-mail draft to {row['email']}", row["mailto"])


def _links_tab(principal, members) -> None:
    st.caption(
        "Links are stored only as a hash, so a link can be shown once: inviting again or sending a reminder gives a new link "
        "and revokes the old one. Answers already saved stay with the expert."
    )
    if not principal.can_edit:
        return
    base_url = link_base_notice()
    days = st.number_input("Days until a link expires", min_value=1, max_value=365, value=60, key="panel_days")
    new = [p for p, _, status in members if status == "new"]
    def invite(pseudonyms):
        def run(session, study):
            panel_questionnaire.ensure_questionnaire(session, study)
            st.session_state[LINKS_KEY] = [
                panel_members.invite(session, study, panel_members.get_member(session, study, p), base_url, int(days)) for p in pseudonyms
            ]
        return run

    def remind(session, study):
        st.session_state[LINKS_KEY] = panel_members.reminder_links(session, study, base_url, int(days))

    # Each action reruns the page after its transaction, so the funnel and the member list
    # above show the new state at once.
    left, right = st.columns(2)
    if left.button(f"Invite all new members ({len(new)})", disabled=not new, key="panel_invite_new"):
        if _act(principal, "panel invite", invite(new)):
            st.rerun()
    if right.button("New links for every non-responder (reminders)", key="panel_remind"):
        if _act(principal, "panel remind", remind):
            st.rerun()
    invitable = [p for p, _, status in members if status != "submitted"]
    if invitable:
        pick = st.selectbox("One member", invitable, key="panel_link_member")
        one, two = st.columns(2)
        if one.button("New link for this member", key="panel_invite_one"):
            if _act(principal, "panel invite one", invite([pick])):
                st.rerun()
        if two.button("Revoke this member's link", key="panel_revoke"):
            if _act(principal, "panel revoke", lambda s, study: _notice(
                f"Revoked {panel_members.revoke_links(s, panel_members.get_member(s, study, pick))} link(s) of {pick}."
            )):
                st.session_state.pop(LINKS_KEY, None)
                st.rerun()
    rows = st.session_state.get(LINKS_KEY)
    if rows:
        st.markdown("#### Links (copy them now; they are not shown again)")
        _show_links(rows)


def _questionnaire_tab(principal, record, versions) -> None:
    if record is None:
        st.info("No questionnaire yet.")
        if principal.can_edit and st.button("Create the default questionnaire", key="panel_q_default"):
            if _act(principal, "panel questionnaire", panel_questionnaire.create_default_questionnaire):
                st.rerun()
        return
    frozen = record["frozen_at"] is not None
    st.markdown(f"**{record['title']}**, version {record['version']} of {len(versions)}: "
                + (f"frozen since {record['frozen_at']:%Y-%m-%d %H:%M} (an expert opened it)" if frozen else "editable"))
    st.caption(record["legend"])
    st.dataframe(pd.DataFrame(record["items"])[["ordinal", "kind", "key", "label", "text", "required"]], hide_index=True, width="stretch")
    with st.expander("Preview as an expert sees a rating"):
        scale = record["scale"]
        st.caption(record["legend"])
        for number, item in enumerate([i for i in record["items"] if i["kind"] == "likert_per_case"], start=1):
            st.radio(f"{number}. {item['text']}", list(range(scale["min"], scale["max"] + 1)), index=None, horizontal=True,
                     disabled=True, key=f"panel_preview_{item['key']}")
    if not principal.can_edit:
        return
    if frozen:
        if st.button("Make a new version to change it", key="panel_q_new_version"):
            if _act(principal, "panel new version", panel_questionnaire.new_version):
                st.rerun()
        return
    with st.form("panel_q_settings"):
        title = st.text_input("Title", value=record["title"])
        introduction = st.text_area("Introduction for the experts", value=record["introduction"])
        scale = record["scale"]
        low = st.number_input("Scale minimum", value=scale["min"], step=1)
        high = st.number_input("Scale maximum", value=scale["max"], step=1)
        labels_text = st.text_area("Point labels (one per line: POINT = label; at least both ends)",
                                   value="\n".join(f"{k} = {v}" for k, v in scale["labels"].items()))
        if st.form_submit_button("Save questionnaire settings"):
            labels = {}
            for line in labels_text.splitlines():
                point, sep, text = line.partition("=")
                if sep:
                    labels[point.strip()] = text.strip()
            if _act(principal, "panel questionnaire settings", lambda s, study: panel_questionnaire.update_questionnaire(
                s, panel_questionnaire.require_questionnaire(s, study), title=title, introduction=introduction,
                scale_min=int(low), scale_max=int(high), scale_labels=labels,
            )):
                st.rerun()
    form_start("panel_q_add_item")
    with st.form("panel_q_add_item", clear_on_submit=False):
        st.markdown("Add an item")
        kind = st.selectbox("Kind", ITEM_KINDS, key="panel_item_kind")
        key = st.text_input("Key (letters, digits, _)", key="panel_item_key")
        text = st.text_area("Wording the expert reads", key="panel_item_text")
        label = st.text_input("Short label for tables", key="panel_item_label")
        optional = st.checkbox("Optional", key="panel_item_optional")
        if st.form_submit_button("Add item"):
            if _act(principal, "panel add item", lambda s, study: panel_questionnaire.add_item(
                s, panel_questionnaire.require_questionnaire(s, study), kind, key, text, label, not optional
            )):
                form_done("panel_q_add_item", f"Added the item {key.strip()}.",
                          ["panel_item_kind", "panel_item_key", "panel_item_text", "panel_item_label", "panel_item_optional"])
    keys = [i["key"] for i in record["items"]]
    if keys:
        pick = st.selectbox("Item", keys, key="panel_item_pick")
        up, down, remove = st.columns(3)
        for column, label, call in ((up, "Move up", lambda s, q: panel_questionnaire.move_item(s, q, pick, -1)),
                                    (down, "Move down", lambda s, q: panel_questionnaire.move_item(s, q, pick, 1)),
                                    (remove, "Remove item", lambda s, q: panel_questionnaire.remove_item(s, q, pick))):
            if column.button(label, key=f"panel_item_{label}") and _act(
                principal, "panel item", lambda s, study, c=call: c(s, panel_questionnaire.require_questionnaire(s, study))
            ):
                st.rerun()


DELPHI_LINKS_KEY = "_delphi_links"


def _delphi_tab(principal) -> None:
    """The Delphi rounds: the stopping rule (chosen before round 1 closes), close and open
    rounds, links for the open round, and the report (items per round, consensus, movement)."""
    status = result = None
    with user_errors("delphi status"), store().read() as session:
        study = current_study(session)
        status = delphi.round_status(session, study, principal)
        result = delphi.delphi_results(session, study, principal)
    if status is None:
        return
    st.caption("From round 2 every expert sees per statement and case only the group's median and interquartile range "
               "of the previous round and their own previous answer; a changed answer needs a reason.")
    rule = status["stopping_rule"]
    st.markdown(f"**Stopping rule{' (fixed when round 1 closed)' if status['rule_fixed'] else ''}:** {rule['text']}")
    if principal.can_edit and not status["rule_fixed"]:
        with st.form("delphi_rule"):
            left, middle, right, far = st.columns(4)
            chosen = left.selectbox("Rule", DELPHI_RULES, index=DELPHI_RULES.index(rule["rule"]), key="delphi_rule_kind")
            iqr = middle.number_input("Consensus: IQR at most", min_value=0.0, value=rule["iqr_max"], step=0.25, key="delphi_rule_iqr")
            change = right.number_input("Stability: share changed at most", min_value=0.0, max_value=1.0, value=rule["change_max"],
                                        step=0.05, key="delphi_rule_change")
            method = far.selectbox("Quartile method", list(QUARTILE_METHODS), index=list(QUARTILE_METHODS).index(rule["quartile_method"]),
                                   format_func=lambda m: QUARTILE_METHODS[m][0], key="delphi_rule_method")
            if st.form_submit_button("Set the stopping rule"):
                if _act(principal, "delphi rule", lambda session, study: delphi.set_stopping_rule(
                        session, study, chosen, str(iqr), str(change), method, actor=principal.actor)):
                    _notice("Stopping rule set; it is fixed when round 1 closes.")
                    st.rerun()
    st.dataframe(pd.DataFrame(status["rounds"]), hide_index=True, key="delphi_rounds")
    st.info(f"Next: {status['next']}")
    newest = status["rounds"][-1]
    if principal.can_edit:
        left, middle, right = st.columns(3)
        if newest["status"] == "open":
            if left.button(f"Close round {newest['round']}", key="delphi_close", type="primary"):
                if _act(principal, "delphi close", lambda session, study: delphi.close_round(session, study, principal.actor)):
                    _notice(f"Round {newest['round']} closed; its answers are frozen.")
                    st.rerun()
        elif middle.button(f"Open round {newest['round'] + 1}", key="delphi_open", type="primary"):
            if _act(principal, "delphi open", lambda session, study: _notice(
                    f"Round {delphi.open_round(session, study, principal.actor).number} is open for the experts who submitted "
                    "the previous round; they use the link they have (or give them new ones below).")):
                st.rerun()
        if newest["status"] == "open" and newest["round"] > 1:
            base_url = link_base_notice()
            if right.button("New links for this round", key="delphi_links"):
                def links(session, study):
                    st.session_state[DELPHI_LINKS_KEY] = delphi.round_links(session, study, base_url)
                if _act(principal, "delphi links", links):
                    st.rerun()
    if st.session_state.get(DELPHI_LINKS_KEY):
        st.markdown("#### Links (copy them now; they are not shown again)")
        _show_links(st.session_state[DELPHI_LINKS_KEY])
    tables = delphi_report.delphi_tables(result)
    st.markdown("#### Items per round")
    items = tables[1]
    st.dataframe(pd.DataFrame(items.rows, columns=items.columns), hide_index=True, key="delphi_items")
    st.caption(items.notes[0])
    if tables[3].rows:
        with st.expander(f"Revisions with the experts' reasons ({len(tables[3].rows)})"):
            st.dataframe(pd.DataFrame(tables[3].rows, columns=tables[3].columns), hide_index=True, key="delphi_revisions")
    columns = st.columns(3)
    for column, fmt in zip(columns, ("md", "xlsx", "docx")):
        column.download_button(f"Delphi report ({fmt.upper()})", report_render.render(tables, fmt), f"delphi.{fmt}",
                               report_render.MEDIA_TYPES[fmt], key=f"delphi_dl_{fmt}")


def _import_tab(principal) -> None:
    st.caption("Responses collected on paper or in another tool. Ratings CSV: expert,case,item,score. "
               "Determinants CSV: expert,task,rank,determinant (task recurring or additional). Experts are matched by "
               "pseudonym; the import is all or nothing and lists every bad row.")
    if not principal.can_edit:
        return
    ratings = st.file_uploader("Ratings CSV", type=["csv"], key="panel_ratings_csv")
    determinants = st.file_uploader("Determinants CSV", type=["csv"], key="panel_determinants_csv")
    if st.button("Import responses", key="panel_import_responses", disabled=ratings is None and determinants is None):
        with user_errors("panel import responses"), st.spinner("Importing the responses…"), store().write(principal.actor) as session:
            result = panel_responses.import_responses(
                session, current_study(session),
                text_module.decode_utf8(ratings.name, ratings.getvalue()) if ratings else None,
                text_module.decode_utf8(determinants.name, determinants.getvalue()) if determinants else None,
            )
            st.success(f"Imported answers of {', '.join(result['members'])}.")


def _export_tab() -> None:
    with user_errors("panel export"), store().read() as session:
        ratings, mentions, _ = results.answers_rows(session, current_study(session))
    st.caption("Submitted answers, pseudonyms only.")
    left, right = st.columns(2)
    left.download_button("Ratings CSV", results.ratings_csv(ratings), "panel-ratings.csv", "text/csv", key="panel_dl_ratings")
    right.download_button("Determinants CSV", results.determinants_csv(mentions), "panel-determinants.csv", "text/csv", key="panel_dl_det")
