"""Audits for researchers: the study's instruments (import as YAML, CSV or XLSX or from the shipped
ones, look at their legend and items, download again; a used version is frozen); score a case
(and period) on an instrument item by item, with the item's sub-criteria and thresholds in view
and evidence beside each score; summaries per level and overall, agreement between raters, and
audits compared side by side."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from casestudy import periods as case_periods
from casestudy import study as studies
from casestudy.panel import audits, instrument_store
from casestudy.panel import instruments as ins
from casestudy.reports import rater_agreement
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Audits", url_path="audits", audience=("researcher",), section="Results", order=92)

AUDIT_KEY = "audit_choice"
ITEM_KEY = "audit_item"
NEXT_ITEM_KEY = "_audit_next_item"  # applied before the item selector exists on the next run
NOTICE_KEY = "_audit_notice"


def _number(value) -> str:
    return "–" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Audits")
    if st.session_state.get(NOTICE_KEY):
        st.success(st.session_state.pop(NOTICE_KEY))
    listed = None
    with user_errors("audits"), store().read() as session:
        study = current_study(session)
        listed = [(a.id, a.label) for a in audits.list_audits(session, study)]
        cases = {c.public_label: [p.name for p in case_periods.list_periods(session, c)] for c in studies.list_cases(session, study)}
        stored = sorted({s.name for s in instrument_store.list_stored(session, study)} | {p.stem for p in ins.shipped_instruments()})
    if listed is None:
        return
    _instruments_panel(principal)
    if principal.can_edit:
        _new_audit_form(principal, cases, stored)
    if not listed:
        st.info("No audits yet. Start one above: choose the case, the period it is about and the instrument.")
        return
    labels = {f"{label} (#{audit_id})": audit_id for audit_id, label in listed}
    if st.session_state.get(AUDIT_KEY) not in labels:
        st.session_state[AUDIT_KEY] = list(labels)[-1]
    chosen = st.selectbox("Audit", list(labels), key=AUDIT_KEY)
    score_tab, summary_tab, compare_tab = st.tabs(["Score item by item", "Summary and agreement", "Compare audits"])
    with score_tab:
        _score_tab(principal, labels[chosen])
    with summary_tab:
        _summary_tab(labels[chosen])
    with compare_tab:
        _compare_tab(labels)


INSTRUMENT_FORMATS = {"yaml": "application/x-yaml", "csv": "text/csv",
                      "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _instruments_panel(principal) -> None:
    """The study's instrument versions: what each holds and whether a use froze it; import
    (a file or a shipped instrument) and export, the same library calls as ``casestudy instruments``."""
    with st.expander("Instruments of the study", expanded=False):
        records, shipped = None, [p.stem for p in ins.shipped_instruments()]
        with user_errors("instruments"), store().read() as session:
            records = [instrument_store.stored_record(s) for s in instrument_store.list_stored(session, current_study(session))]
        if records is None:
            return
        if records:
            st.dataframe(pd.DataFrame([{"name": r["name"], "version": r["version"], "title": r["title"], "items": r["items"],
                                        "levels": ", ".join(f"{level} {n}" for level, n in r["levels"].items()),
                                        "frozen by": r["frozen_by"] or "", "source": r["source"]} for r in records]),
                         hide_index=True, width="stretch")
            st.caption("A version in use (frozen) cannot change: import an edited instrument under a new version.")
        else:
            st.caption("No instrument stored yet: starting an audit or a focus group stores the shipped one it names.")
        if principal.can_edit:
            _instrument_import(principal, shipped)
        if records:
            _instrument_view(records)


def _instrument_import(principal, shipped: list[str]) -> None:
    left, right = st.columns(2)
    upload = left.file_uploader("Import an instrument (YAML, CSV or XLSX)", type=["yaml", "yml", "csv", "xlsx"], key="instrument_upload")
    if upload is not None and left.button("Import the file", key="instrument_import"):
        _store_instrument(principal, lambda session, study: instrument_store.import_data(
            session, study, upload.getvalue(), "yaml" if upload.name.lower().endswith(".yml") else upload.name.rsplit(".", 1)[-1], upload.name))
    name = right.selectbox("Or store a shipped instrument", shipped, key="instrument_shipped")
    if name and right.button("Store it in the study", key="instrument_store_shipped"):
        _store_instrument(principal, lambda session, study: instrument_store.import_shipped(session, study, name))


def _store_instrument(principal, action) -> None:
    done = None
    with user_errors("import instrument"), store().write(principal.actor) as session:
        stored, what = action(session, current_study(session))
        done = f"{stored.name}, version {stored.instrument_version}: {what}."
    if done:
        st.session_state[NOTICE_KEY] = done
        st.rerun()


def _instrument_view(records: list[dict]) -> None:
    labels = {f"{r['name']}, version {r['version']}": r for r in records}
    chosen = labels[st.selectbox("Show", list(labels), key="instrument_show")]
    instrument = None
    with user_errors("instrument"), store().read() as session:
        instrument = instrument_store.instrument_of(instrument_store.get_stored(session, current_study(session), chosen["name"], chosen["version"]))
    if instrument is None:
        return
    st.markdown(f"**{instrument.title}**")
    st.caption(instrument.scale.legend())
    st.dataframe(pd.DataFrame([{"item": i.key, "level": i.level + (f" / {i.secondary_level}" if i.secondary_level else ""), "text": i.text,
                                "sub-criteria": "; ".join(f"{c.letter}. {c.text}" + (f" ({c.threshold})" if c.threshold else "")
                                                          for c in i.sub_criteria)} for i in instrument.items]),
                 hide_index=True, width="stretch", column_config={"text": st.column_config.TextColumn(width="large")})
    columns = st.columns(len(INSTRUMENT_FORMATS))
    for column, (fmt, mime) in zip(columns, INSTRUMENT_FORMATS.items()):
        column.download_button(f"Download as {fmt.upper()}", data=ins.export(instrument, fmt), mime=mime,
                               file_name=f"{instrument.name}-{instrument.version}.{fmt}", key=f"instrument_download_{fmt}")


def _new_audit_form(principal, cases: dict, stored: list[str]) -> None:
    with st.expander("Start an audit", expanded=False):
        case = st.selectbox("Case", list(cases), key="audit_new_case")
        with st.form("audit_new", clear_on_submit=False):
            period = st.selectbox("Period", ["(the case as a whole)"] + cases.get(case, []), key="audit_new_period")
            default = stored.index("mbt-adherence-audit") if "mbt-adherence-audit" in stored else 0
            instrument = st.selectbox("Instrument", stored, index=default)
            label = st.text_input("Label", placeholder="e.g. 2026 spring")
            held_on = st.date_input("Held on", value=dt.date.today())
            note = st.text_area("Note")
            if st.form_submit_button("Start audit", type="primary"):
                done = False
                with user_errors("new audit"), store().write(principal.actor) as session:
                    study = current_study(session)
                    audit = audits.new_audit(session, study, studies.get_case(session, study, case), instrument,
                                             period=None if period.startswith("(") else period, label=label, held_on=held_on, note=note)
                    new_label = f"{audit.label} (#{audit.id})"
                    done = True
                if done:
                    st.session_state[AUDIT_KEY] = new_label
                    st.session_state[NOTICE_KEY] = f"Audit {new_label} started; the instrument version is frozen from now on."
                    st.rerun()


def _score_tab(principal, audit_id: int) -> None:
    summary = instrument = None
    with user_errors("audit scores"), store().read() as session:
        audit = audits.get_audit(session, current_study(session), audit_id)
        instrument = audits.instrument_for(session, audit)
        summary = audits.audit_summary(session, audit)
    if summary is None:
        return
    st.caption(f"{summary['case']}" + (f", period {summary['period']}" if summary["period"] else "")
               + f" · {instrument.title}, version {instrument.version}")
    st.markdown("**Scale:** " + " · ".join(f"{p['point']} = {p['label']}" for p in summary["instrument"]["points"]))
    rater = st.text_input("Rater", value=principal.name, key="audit_rater",
                          help="Scores are kept per rater; several raters can score the same audit.")
    items = [f"{i.key}. {i.text}" for i in instrument.items]
    if NEXT_ITEM_KEY in st.session_state:
        st.session_state[ITEM_KEY] = st.session_state.pop(NEXT_ITEM_KEY)
    if st.session_state.get(ITEM_KEY) not in items:
        st.session_state[ITEM_KEY] = items[0]
    index = items.index(st.session_state[ITEM_KEY])
    left, middle, right = st.columns([1, 6, 1], vertical_alignment="bottom")
    left.button("Previous", disabled=index == 0, key="audit_prev", on_click=st.session_state.__setitem__, args=(ITEM_KEY, items[index - 1]))
    middle.selectbox("Item", items, key=ITEM_KEY)
    right.button("Next", disabled=index == len(items) - 1, key="audit_next", on_click=st.session_state.__setitem__,
                 args=(ITEM_KEY, items[min(index + 1, len(items) - 1)]))
    item = instrument.items[items.index(st.session_state[ITEM_KEY])]
    record = next(i for i in summary["items"] if i["key"] == item.key)
    with st.container(border=True):
        st.markdown(f"**{item.key}. {item.text}**")
        st.caption(f"Level: {item.level}" + (f" (also {item.secondary_level})" if item.secondary_level else ""))
        for sub in item.sub_criteria:  # what the item covers, with its thresholds, always in view while scoring
            threshold = f" — *threshold: {sub.threshold}*" if sub.threshold else ""
            st.markdown(f"{sub.letter}. {sub.text}{threshold}")
        if not principal.can_edit:
            st.info("Your account can only view audits.")
            return
        mine = record["scores"].get(rater.strip())
        evidence = record["evidence"].get(rater.strip(), {"codings": [], "documents": [], "note": ""})
        points = list(range(instrument.scale.min, instrument.scale.max + 1))
        with st.form(f"audit_score_{audit_id}_{item.key}_{rater}"):
            score = st.radio("Score", points, index=points.index(mine) if mine in points else None, horizontal=True,
                             format_func=instrument.scale.point_label)
            codings = st.text_input("Evidence: coding ids", value=", ".join(map(str, evidence["codings"])), placeholder="e.g. 12, 15", help="codings of this case (Coding page, or casestudy codings list)")
            documents = st.text_input("Evidence: documents", value="; ".join(evidence["documents"]), placeholder="e.g. referral log 2026; document:14",
                                      help="any reference as text; document:ID names a document of this case stored on the Interviews page (checked)")
            note = st.text_area("Note", value=evidence["note"])
            if st.form_submit_button("Save score", type="primary"):
                saved = False
                with user_errors("audit score"), store().write(principal.actor) as session:
                    audit = audits.get_audit(session, current_study(session), audit_id)
                    audits.score_item(session, audit, item.key, rater, score, [c for c in codings.split(",") if c.strip()],
                                      [d for d in documents.split(";") if d.strip()], note)
                    saved = True
                if saved:
                    st.session_state[NOTICE_KEY] = f"Saved {rater}'s score for item {item.key}."
                    if index < len(items) - 1:
                        st.session_state[NEXT_ITEM_KEY] = items[index + 1]
                    st.rerun()
    others = {r: s for r, s in record["scores"].items() if r != rater.strip()}
    if others:
        st.caption("Other raters: " + "; ".join(f"{r}: {s}" for r, s in others.items()))


def _summary_tab(audit_id: int) -> None:
    summary = None
    with user_errors("audit summary"), store().read() as session:
        summary = audits.audit_summary(session, audits.get_audit(session, current_study(session), audit_id))
    if summary is None:
        return
    st.caption(summary["instrument"]["legend"])
    rows = [{"Item": i["key"], "Level": i["level"], "Text": i["text"], **{r: i["scores"].get(r) for r in summary["raters"]},
             "Mean": i["mean"]} for i in summary["items"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    columns = st.columns(len(summary["levels"]) + 1)
    for column, (level, value) in zip(columns, summary["levels"].items()):
        column.metric(level.capitalize(), _number(value["mean"]), help=f"mean over {value['n_items']} of {value['of']} items")
    columns[-1].metric("Overall", _number(summary["overall"]["mean"]),
                       help=f"mean over {summary['overall']['n_items']} of {summary['overall']['of']} items")
    agreement = rater_agreement.audit_agreement(summary)
    st.markdown("**Agreement between raters**")
    if agreement["notes"] and agreement["alpha_interval"] is None:
        st.caption("; ".join(agreement["notes"]))
        return
    st.write(f"Krippendorff's alpha: ordinal {_number(agreement['alpha_ordinal'])}, interval {_number(agreement['alpha_interval'])}; "
             f"all raters equal on {_number(100 * agreement['exact'])}% of the items, within one point on {_number(100 * agreement['within_one'])}%.")
    if agreement["icc"]:
        st.dataframe(pd.DataFrame([{"ICC": form, "value": r["value"], "95% CI": f"{_number(r['ci_low'])} to {_number(r['ci_high'])}",
                                    "model": r["label"]} for form, r in agreement["icc"].items()]), hide_index=True)
    for note in agreement["notes"]:
        st.caption(note)


def _compare_tab(labels: dict) -> None:
    chosen = st.multiselect("Audits to compare (same instrument)", list(labels), key="audit_compare")
    if len(chosen) < 2:
        st.caption("Choose two or more audits: periods of one case, or repeated audits over time.")
        return
    result = None
    with user_errors("compare audits"), store().read() as session:
        study = current_study(session)
        result = audits.compare_audits(session, [audits.get_audit(session, study, labels[c]) for c in chosen])
    if result is None:
        return
    st.caption(f"{result['instrument']['title']}, version {result['instrument']['version']}. {result['instrument']['legend']}")
    st.dataframe(pd.DataFrame([{"Item": i["key"], "Level": i["level"], **i["means"]} for i in result["items"]]), hide_index=True, width="stretch")
    st.dataframe(pd.DataFrame([{"": level, **values} for level, values in result["levels"].items()]
                              + [{"": "overall", **result["overall"]}]), hide_index=True)
    for warning in result["warnings"]:
        st.warning(warning)
