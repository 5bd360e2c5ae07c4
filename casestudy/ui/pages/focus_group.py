"""Periods and focus groups for researchers: a case's periods and exclusion note; the focus
group's participants and their round-1 links; round 2 (summary per item and period for the
discussion, with a small chart, printable, and the discussion notes); round 3 (the consensus per
item and period, whole or split such as 2/3, who agreed, a note); and Table 4 from the study."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import periods as case_periods
from casestudy import study as studies
from casestudy.models import PARTICIPANT_ROLES
from casestudy.panel import focus
from casestudy.panel import instruments as ins
from casestudy.reports import periods as period_reports
from casestudy.reports import rater_agreement
from casestudy.reports import render as report_render
from casestudy.reports import table4 as table4_module
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.links import link_base_notice
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Periods and focus groups", url_path="focus-group", audience=("researcher",), section="Results", order=94)

CASE_KEY = "focus_case"
NOTICE_KEY = "_focus_notice"
LINKS_KEY = "_focus_links"
PARTS = ("Participants and links", "Round 2: summary and notes", "Round 3: consensus", "Table 4")


def _write(principal, where: str, fn, notice: str = "") -> None:
    """fn(session, study) in one write transaction; rerun after it committed (never inside)."""
    done = False
    with user_errors(where), store().write(principal.actor) as session:
        fn(session, current_study(session))
        done = True
    if done:
        if notice:
            st.session_state[NOTICE_KEY] = notice
        st.rerun()


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Periods and focus groups")
    if st.session_state.get(NOTICE_KEY):
        st.success(st.session_state.pop(NOTICE_KEY))
    cases = None
    with user_errors("focus groups"), store().read() as session:
        cases = [c.public_label for c in studies.list_cases(session, current_study(session))]
    if cases is None:
        return
    if not cases:
        st.info("The study has no cases yet; add them on the page Cases and respondents.")
        return
    case_label = st.selectbox("Case", cases, key=CASE_KEY)
    with user_errors("periods"), store().read() as session:
        study = current_study(session)
        case = studies.get_case(session, study, case_label)
        period_rows = [case_periods.period_record(p) for p in case_periods.list_periods(session, case)]
        exclusion = case_periods.exclusion_note(session, case)
        groups = [(g.id, g.title) for g in focus.list_groups(session, study) if g.case_id == case.id]
    _periods_section(principal, case_label, period_rows, exclusion)
    if not period_rows:
        return
    _periods_side_by_side(principal, case_label)
    if not groups:
        _new_group(principal, case_label)
        return
    titles = {title: group_id for group_id, title in groups}
    group_id = titles[st.selectbox("Focus group", list(titles), key="focus_group_choice")] if len(titles) > 1 else groups[0][0]
    record = None
    with user_errors("focus group"), store().read() as session:
        group = focus.get_group(session, current_study(session), group_id)
        record = focus.group_record(session, group)
        summary = focus.round_summary(session, group)
        consensus = focus.consensus_of(session, group)
        instrument = focus.instrument_of(session, group)
    if record is None:
        return
    st.caption(f"{record['instrument']['title']}, version {record['instrument']['version']}. {record['instrument']['legend']}")
    # A radio, not tabs: the chosen part survives the rerun after each save.
    part = st.radio("Part", PARTS, horizontal=True, key="focus_part", label_visibility="collapsed")
    if part == PARTS[0]:
        _participants_tab(principal, group_id, record, instrument)
    elif part == PARTS[1]:
        _summary_tab(principal, group_id, summary)
    elif part == PARTS[2]:
        _consensus_tab(principal, group_id, record, instrument, consensus)
    else:
        _table4_tab(group_id)


def _periods_section(principal, case_label: str, period_rows: list[dict], exclusion: str) -> None:
    st.subheader("Periods")
    if period_rows:
        st.dataframe(pd.DataFrame([{"Period": p["name"], "From": p["from"], "To": p["to"], "Description": p["description"],
                                    "Overlap allowed": p["overlap_allowed"]} for p in period_rows]), hide_index=True, width="stretch")
    else:
        st.info(f"{case_label} has no periods yet.")
    if exclusion:
        st.caption(f"Left out: {exclusion}")
    if not principal.can_edit:
        return
    with st.expander("Add a period, or change the exclusion note"):
        with st.form("period_add", clear_on_submit=True):
            name = st.text_input("Name", placeholder="PRE-REORG")
            left, right = st.columns(2)
            starts = left.text_input("From (YYYY-MM or YYYY-MM-DD)", placeholder="2004-08")
            ends = right.text_input("To (YYYY-MM or YYYY-MM-DD)", placeholder="2007-12")
            description = st.text_input("Description")
            overlap = st.checkbox("This period may overlap the case's other periods")
            if st.form_submit_button("Add period"):
                _write(principal, "add period", lambda s, study: case_periods.add_period(
                    s, studies.get_case(s, study, case_label), name, starts, ends, description, overlap), f"Period {name} added.")
        with st.form("period_note"):
            note = st.text_area("Exclusion note (what the periods leave out)", value=exclusion)
            if st.form_submit_button("Save note"):
                _write(principal, "exclusion note", lambda s, study: case_periods.set_exclusion_note(
                    s, studies.get_case(s, study, case_label), note), "Exclusion note saved.")
        if period_rows:
            remove = st.selectbox("Remove a period (only while nothing refers to it)", [p["name"] for p in period_rows], key="period_remove")
            if st.button("Remove period", key="period_remove_button"):
                _write(principal, "remove period", lambda s, study: case_periods.remove_period(
                    s, studies.get_case(s, study, case_label), remove), f"Period {remove} removed.")


def _periods_side_by_side(principal, case_label: str) -> None:
    """What each period's sources hold and how it was judged (``casestudy report periods``)."""
    with st.expander("The periods side by side: sources, codings, audits, consensus"):
        result = None
        with user_errors("periods side by side"), store().read() as session:
            study = current_study(session)
            result = period_reports.compare_periods(session, study, studies.get_case(session, study, case_label), principal)
        if result is None:
            return
        columns, rows = period_reports.period_grid(result)
        shown = [{key: f"{value:.2f}" if isinstance(value, float) else "" if value is None else str(value) for key, value in row.items()}
                 for row in rows]  # two decimals on screen; the CLI and the JSON keep the exact values
        st.dataframe(pd.DataFrame(shown, columns=columns), hide_index=True, width="stretch",
                     column_config={"measure": st.column_config.TextColumn("", width="medium")})
        if len(result["periods"][0]["focus_groups"]) == 1:
            st.caption(f"Consensus: {result['periods'][0]['focus_groups'][0]['group']}.")
        st.caption("Codings: a coding's own period, else its interview's. Audits: mean of the item means; focus groups: the "
                   "consensus scores' mean and range over items by the group's split rule. Two decimals here; "
                   "`casestudy report periods --format json` gives the exact values.")
        for note in result["notes"]:
            st.caption(note)


def _new_group(principal, case_label: str) -> None:
    st.subheader("Focus group")
    st.info(f"{case_label} has no focus group yet.")
    if not principal.can_edit:
        return
    with st.form("focus_new"):
        names = [p.stem for p in ins.shipped_instruments()]
        instrument = st.selectbox("Instrument", names, index=names.index("mbt-focus-group-checklist") if "mbt-focus-group-checklist" in names else 0)
        title = st.text_input("Title", placeholder=f"Focus group {case_label}")
        split = st.selectbox("How Table 4 counts a split score such as 2/3", focus.SPLIT_RULES)
        if st.form_submit_button("Create focus group", type="primary"):
            _write(principal, "new focus group", lambda s, study: focus.create_group(
                s, study, studies.get_case(s, study, case_label), instrument, title=title, split_rule=split), "Focus group created.")


def _participants_tab(principal, group_id: int, record: dict, instrument) -> None:
    people = record["participants"]
    if people:
        st.dataframe(pd.DataFrame([{"Pseudonym": p["pseudonym"], "Name": p["name"], "Role": p["role"], "Levels": ", ".join(p["levels"]),
                                    "Blind to outcomes": p["blind"], "Rated": f"{p['rated']} of {p['to_rate']}",
                                    "Submitted": p["submitted_at"], "Link valid until": p["link_expires_at"]} for p in people]),
                     hide_index=True, width="stretch")
    if not principal.can_edit:
        return
    with st.expander("Add a participant"):
        with st.form("focus_add", clear_on_submit=True):
            name = st.text_input("Name (stays with the research team)")
            role = st.selectbox("Role", PARTICIPANT_ROLES)
            levels = st.multiselect("Levels they can judge", instrument.level_names, default=instrument.level_names)
            blind = st.checkbox("Blind to outcomes (their page shows no outcome data)", value=True)
            if st.form_submit_button("Add participant"):
                _write(principal, "add participant", lambda s, study: focus.add_participant(
                    s, focus.get_group(s, study, group_id), name, role, levels, blind), f"Participant {name} added.")
    if people:
        chosen = st.multiselect("New round-1 links for", [p["pseudonym"] for p in people], key="focus_link_for")
        days = st.number_input("Days until the links expire", 1, 365, 60, key="focus_link_days")
        base_url = link_base_notice()
        if st.button("Issue links", disabled=not chosen, key="focus_issue"):
            issued = []
            with user_errors("focus links"), store().write(principal.actor) as session:
                group = focus.get_group(session, current_study(session), group_id)
                issued = [focus.issue_link(session, focus.get_participant(session, group, p), base_url, int(days)) for p in chosen]
            st.session_state[LINKS_KEY] = issued
        if st.session_state.get(LINKS_KEY):
            st.warning("Each link is shown only now; an earlier link of the same participant no longer works.")
            st.dataframe(pd.DataFrame(st.session_state[LINKS_KEY])[["pseudonym", "name", "expires_at", "link"]], hide_index=True, width="stretch")


def _summary_tab(principal, group_id: int, summary: dict) -> None:
    st.caption(f"Ratings of {len(summary['participants'])} participants ({len(summary['submitted'])} submitted). "
               f"{summary['instrument']['legend']}")
    st.download_button("Printable summary (HTML)", data=focus.summary_html(summary), file_name="focus-group-summary.html",
                       mime="text/html", key="focus_print")
    agreement = rater_agreement.agreement(summary["cells"])
    if agreement["alpha_interval"] is not None:
        st.caption(f"Agreement of the individual ratings: Krippendorff's alpha (interval) {agreement['alpha_interval']:.2f}, "
                   f"ordinal {agreement['alpha_ordinal']:.2f}; within one point on {100 * agreement['within_one']:.0f}% of the cells.")
    for item in summary["items"]:
        with st.container(border=True):
            st.markdown(f"**{item['key']}. {item['text']}**")
            stats, chart = st.columns([3, 2])
            stats.dataframe(pd.DataFrame([{"Period": period, "n": c["n"], "Mean": c["mean"], "Median": c["median"],
                                           "Range": "" if c["min"] is None else f"{c['min']}-{c['max']}"}
                                          for period, c in item["periods"].items()]), hide_index=True)
            frame = pd.DataFrame({period: c["distribution"] for period, c in item["periods"].items()})
            frame.index = frame.index.astype(str)
            chart.bar_chart(frame, height=150, stack=False, x_label="score", y_label="ratings")
            if principal.can_edit:
                with st.form(f"focus_note_{item['key']}"):
                    text = st.text_area("Discussion notes", value=item["note"], height=80, key=f"note_{item['key']}")
                    if st.form_submit_button("Save notes"):
                        _write(principal, "focus note", lambda s, study, key=item["key"], text=text: focus.set_note(
                            s, focus.get_group(s, study, group_id), key, text), f"Notes on {item['key']} saved.")
            elif item["note"]:
                st.caption(item["note"])


def _consensus_tab(principal, group_id: int, record: dict, instrument, consensus: list[dict]) -> None:
    periods = [p["name"] for p in record["periods"]]
    people = [p["pseudonym"] for p in record["participants"]]
    current = {(c["item"], c["period"]): c for c in consensus}
    st.caption(f"{record['consensus']} of {record['cells']} cells agreed. Enter a whole score (6) or a split between two adjacent "
               "points (2/3). By default everyone present agreed; untick who did not.")
    for item in instrument.items:
        if not principal.can_edit:
            st.markdown(f"**{item.key}. {item.text}**: " + "; ".join(
                f"{p} {current[(item.key, p)]['score']}" for p in periods if (item.key, p) in current))
            continue
        with st.form(f"consensus_{item.key}"):
            st.markdown(f"**{item.key}. {item.text}**")
            values = {}
            for column, period in zip(st.columns(len(periods)), periods):
                entry = current.get((item.key, period), {})
                values[period] = (
                    column.text_input(f"{period}: consensus", value=entry.get("score", ""), key=f"cs|{item.key}|{period}", placeholder="e.g. 6 or 2/3"),
                    column.multiselect("Agreed", people, default=entry.get("agreed_by") or people, key=f"ca|{item.key}|{period}"),
                    column.text_input("Note", value=entry.get("note", ""), key=f"cn|{item.key}|{period}"),
                )
            if st.form_submit_button("Save consensus"):
                def save(session, study, key=item.key, values=values):
                    group = focus.get_group(session, study, group_id)
                    for period, (score, agreed, note) in values.items():
                        if score.strip():
                            focus.set_consensus(session, group, key, period, score, agreed, note)
                _write(principal, "consensus", save, f"Consensus on {item.key} saved.")


def _table4_tab(group_id: int) -> None:
    table = None
    with user_errors("table 4"), store().read() as session:
        group = focus.get_group(session, current_study(session), group_id)
        rows, instrument = table4_module.study_rows(session, group)
        table = table4_module.table4(rows, instrument, split_rule=group.split_rule)
    if table is None:
        return
    columns, grid = table.grid()
    st.markdown(f"**{table.title()}**")
    st.dataframe(pd.DataFrame(grid, columns=columns), hide_index=True, width="stretch")
    st.caption(table.note())
    for warning in table.warnings:
        st.caption(f"Warning: {warning}")
    tables = report_render.table4_tables(table)
    for column, (fmt, mime) in zip(st.columns(3), (("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                                                    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                                                    ("tex", "text/x-tex"))):
        column.download_button(f"Table 4 as {fmt.upper()}", data=report_render.render(tables, fmt), file_name=f"table4.{fmt}", mime=mime,
                               key=f"table4_{fmt}")
    st.caption("The same table from the command line: python -m casestudy report table4 --format docx --output table4.docx")
