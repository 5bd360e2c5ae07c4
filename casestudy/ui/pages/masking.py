"""Masking (researchers only): the identity register, review of masked texts, release.

This page shows unmasked text beside its replacements; it exists for researchers only (the
page guard and the audience both say so). Experts only ever get released texts through
``masking_workflow.released_texts_for``.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from casestudy import signoffs
from casestudy import study as studies
from casestudy import text as text_module
from casestudy.masking import engine as masking
from casestudy.masking import workflow as wf
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.markdown import show_markdown
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, rerun_with, show_flash, store, user_errors
from casestudy.ui.signoff_panel import signoff_panel
from casestudy.ui.widgets import form_done, form_start, preselect_case

PAGE = PageSpec(title="Masking", url_path="masking", audience=("researcher",), section="Analysis", order=80)

STYLE = (
    "<style>.mask-review{white-space:pre-wrap;line-height:1.7;font-family:inherit}"
    ".mask-rep{background:#ffe08a;border-radius:3px;padding:0 2px}"
    ".mask-cand{background:#b9e3ff;border-bottom:2px dashed #1070c0;border-radius:3px}"
    ".mask-rep sub,.mask-cand sub{font-size:.7em;color:#555}</style>"
)


def highlight_html(source: str, replacements: list[dict], candidates: list[dict]) -> str:
    """The source text, escaped, with every replacement and candidate marked and numbered."""
    marks = [(r["start"], r["end"], "mask-rep", f"R{i}", f"→ {r['replacement']}") for i, r in enumerate(replacements)]
    marks += [(c["start"], c["end"], "mask-cand", f"C{i}", c["reason"]) for i, c in enumerate(candidates) if "start" in c]
    marks.sort()
    out, position = [], 0
    for start, end, css, label, title in marks:
        if start < position:
            continue
        out.append(html.escape(source[position:start]))
        out.append(
            f'<span class="{css}" title="{html.escape(title, quote=True)}">{html.escape(source[start:end])}<sub>{label}</sub></span>'
        )
        position = end
    out.append(html.escape(source[position:]))
    return STYLE + '<div class="mask-review">' + "".join(out) + "</div>"


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Masking")
    st.caption("Researchers only: the register, the unmasked texts and the comparison never reach experts or respondents.")
    with user_errors("masking"), store().read() as session:
        study = current_study(session)
        entries = [
            {"id": r.id, "term": r.term, "replacement": r.replacement, "kind": r.kind, "variants": ";".join(r.variants or []),
             "options": masking.options_text(wf.engine_entry(r))}
            for r in wf.list_entries(session, study)
        ]
        cases = [c.public_label for c in studies.list_cases(session, study)]
        drafts = [
            {"id": m.id, "case": m.case.public_label, "kind": m.text_kind, "source": m.source_ref, "status": m.status,
             "replacements": len(m.replacements), "open candidates": sum(1 for c in m.candidates if c.get("status") == "open")}
            for m in wf.list_masked(session, study)
        ]
    register_tab, generate_tab, review_tab = st.tabs(["Register", "Generate", "Review and release"])
    with register_tab:
        _register(principal, entries)
    with generate_tab:
        _generate(principal, cases)
    with review_tab:
        _review(principal, drafts)


def _register(principal, entries: list[dict]) -> None:
    if entries:
        st.dataframe(pd.DataFrame(entries), hide_index=True, width="stretch")
    else:
        st.info("The register is empty. Add entries or import a CSV (term,replacement,kind[,variants]).")
    if not principal.can_edit:
        return
    form_start("register_add")
    added = None
    with st.form("register_add", clear_on_submit=False):
        cols = st.columns(4)
        term = cols[0].text_input("Term", key="reg_term")
        replacement = cols[1].text_input("Replacement", key="reg_replacement", placeholder="[city]")
        kind = cols[2].selectbox("Kind", masking.KINDS, key="reg_kind")
        variants = cols[3].text_input("Variants (;-separated)", key="reg_variants")
        off = st.multiselect("Switch off for this entry", list(masking.OPTION_DEFAULTS), key="reg_off")
        if st.form_submit_button("Add to register"):
            with user_errors("register add"), store().write(principal.actor) as session:
                wf.add_entry(session, current_study(session), term, replacement, kind, variants.split(";"), {k: False for k in off})
                added = f"Added {term.strip()}."
    if added:  # the register table above lists the new entry at once
        form_done("register_add", added, ["reg_term", "reg_replacement", "reg_kind", "reg_variants", "reg_off"])
    if entries:
        with st.form("register_edit"):
            ids = [e["id"] for e in entries]
            labels = {e["id"]: f"{e['term']} → {e['replacement']}" for e in entries}
            entry_id = st.selectbox("Entry", ids, format_func=labels.get, key="reg_edit_id")
            new_replacement = st.text_input("New replacement (empty: unchanged)", key="reg_edit_replacement")
            delete = st.checkbox("Delete this entry", key="reg_edit_delete")
            if st.form_submit_button("Save entry"):
                with user_errors("register edit"), store().write(principal.actor) as session:
                    if delete:
                        wf.delete_entry(session, entry_id)
                    else:
                        wf.update_entry(session, entry_id, replacement=new_replacement or None)
                    st.success("Saved.")
    upload = st.file_uploader("Import register CSV", type=["csv"], key="reg_upload")
    if upload is not None and st.button("Import", key="reg_import"):
        with user_errors("register import"), store().write(principal.actor) as session:
            counts = wf.import_register_csv(session, current_study(session), text_module.decode_utf8(upload.name, upload.getvalue()), upload.name)
            st.success(f"Imported: {counts['added']} added, {counts['updated']} updated.")
    with user_errors("register export"), store().read() as session:
        st.download_button("Export register CSV", wf.export_register_csv(session, current_study(session)), "register.csv", "text/csv", key="reg_export")


def _generate(principal, cases: list[str]) -> None:
    if not cases or not principal.can_edit:
        st.info("Add cases first." if not cases else "Your account can only view.")
        return
    show_flash("masking generate")
    preselect_case("gen_case", cases)
    case_label = st.selectbox("Case", cases, key="gen_case")
    st.write("The normal path: mask the case's agreed reconstruction (only an agreed version can be masked).")
    done = None
    if st.button("Generate from the agreed reconstruction", key="gen_agreed", type="primary"):
        with user_errors("generate from agreed"), store().write(principal.actor) as session:
            case = studies.get_case(session, current_study(session), case_label)
            row = wf.generate_from_agreed(session, case)
            st.session_state["mask_review_id"] = row.id
            done = f"Draft {row.id} from {row.source_ref}: {len(row.replacements)} replacement(s), {len(row.candidates)} candidate(s). Review it in the next tab."
    st.write("Or mask another text for this case (pasted or uploaded):")
    upload = st.file_uploader("Text file (UTF-8)", type=["txt", "md"], key="gen_upload")
    text = st.text_area("Or paste the text", height=200, key="gen_text")
    source_ref = st.text_input("Source reference", value="pasted", key="gen_ref")
    if st.button("Generate masked version", key="gen_button"):
        with user_errors("generate"), store().write(principal.actor) as session:
            body = text_module.decode_utf8(upload.name, upload.getvalue()) if upload is not None else text
            case = studies.get_case(session, current_study(session), case_label)
            row = wf.generate_masked(session, case, body, source_ref)
            st.session_state["mask_review_id"] = row.id
            done = f"Draft {row.id}: {len(row.replacements)} replacement(s), {len(row.candidates)} candidate(s). Review it in the next tab."
    if done:
        rerun_with(done, "masking generate")


def _review(principal, drafts: list[dict]) -> None:
    if not drafts:
        st.info("No masked texts yet.")
        return
    st.dataframe(pd.DataFrame(drafts), hide_index=True, width="stretch")
    ids = [d["id"] for d in drafts]
    default = st.session_state.get("mask_review_id", ids[-1])
    masked_id = st.selectbox("Masked text", ids, index=ids.index(default) if default in ids else len(ids) - 1, key="review_id")
    with user_errors("review"), store().read() as session:
        row = wf.get_masked(session, masked_id)
        source, masked_text, status, version = row.source_text, row.masked_text, row.status, row.version
        replacements, candidates = list(row.replacements), list(row.candidates)
        findings = wf.leak_scan(session, row)
        linkage = wf.finding_records(session, row)
        released_hash = row.released_hash
    st.markdown("**Source with replacements (yellow, R) and candidates (blue, C)**")
    st.html(highlight_html(source, replacements, candidates))
    st.markdown("**Masked text** (as the experts will see it)")
    with st.container(border=True):
        show_markdown(masked_text)
    with st.expander("Masked text as typed (plain characters)"):
        st.text(masked_text)
    if findings:
        st.error("Leak scan: " + "; ".join(f"line {f.line}:{f.column} {f.text!r} ({f.term})" for f in findings))
    else:
        st.success("Leak scan: no register term, internal label or organisation name in the masked text.")
    open_linkage = [f for f in linkage if f["status"] == "open"]
    if linkage:
        st.markdown("**Linkage: what the text gives away about other cases**")
        st.dataframe(pd.DataFrame(linkage)[["kind", "term", "text", "cases", "line", "column", "status", "reason", "accepted_by", "accepted_at"]],
                     hide_index=True, width="stretch")
        if open_linkage:
            st.warning(f"{len(open_linkage)} linkage finding(s) must be masked or accepted with a reason before release.")
    else:
        st.success("Linkage: no other case's label, register term or shared name in the masked text.")
    if status == "released":
        st.info(f"Released and frozen; sha256 {released_hash}.")
        return
    signoff_panel(principal, signoffs.MASKED_TEXT, masked_id, f"masked_{masked_id}")
    if not principal.can_edit:
        return
    if open_linkage:
        _settle_linkage(principal, masked_id, version, open_linkage)
    rep_rows = [{"#": i, "text": r["text"], "replacement": r["replacement"], "rule": r["rule"], "status": r["status"]} for i, r in enumerate(replacements)]
    if rep_rows:
        st.dataframe(pd.DataFrame(rep_rows), hide_index=True, width="stretch")
        with st.form("review_replacement"):
            index = st.selectbox("Replacement", range(len(replacements)), format_func=lambda i: f"R{i}: {replacements[i]['text']}", key="rev_index")
            new_text = st.text_input("Edit the replacement (empty: accept as is)", key="rev_text")
            cols = st.columns(2)
            save = cols[0].form_submit_button("Accept / save")
            accept_all = cols[1].form_submit_button("Accept all proposed")
            if save or accept_all:
                saved = False
                with user_errors("review replacement"), store().write(principal.actor) as session:
                    if accept_all:
                        wf.accept_all(session, masked_id, version)
                    else:
                        wf.review_replacement(session, masked_id, index, new_text or None, version)
                    saved = True
                if saved:  # rerun only after the transaction has committed
                    st.rerun()
    open_candidates = [i for i, c in enumerate(candidates) if c.get("status") == "open"]
    if open_candidates:
        with st.form("review_candidate"):
            index = st.selectbox("Candidate", open_candidates, format_func=lambda i: f"C{i}: {candidates[i]['text']} ({candidates[i]['reason']})", key="cand_index")
            action = st.radio("Decision", ["keep", "mask"], horizontal=True, key="cand_action")
            replacement = st.text_input("Replacement when masking", key="cand_text")
            if st.form_submit_button("Decide"):
                saved = False
                with user_errors("candidate"), store().write(principal.actor) as session:
                    wf.decide_candidate(session, masked_id, index, action, replacement, version)
                    saved = True
                if saved:
                    st.rerun()
    if st.button("Release to the panel", key="release_button", disabled=bool(findings or open_linkage)):
        with user_errors("release"), store().write(principal.actor) as session:
            row = wf.release(session, masked_id, principal.actor)
            st.success(f"Released; sha256 {row.released_hash}.")


def _settle_linkage(principal, masked_id: int, version: int, open_linkage: list[dict]) -> None:
    """Mask a linkage finding, or accept it with a reason (only public labels and shared names)."""
    with st.form("settle_linkage"):
        index = st.selectbox(
            "Finding", range(len(open_linkage)), key="link_index",
            format_func=lambda i: f"{open_linkage[i]['kind']}: {open_linkage[i]['term']} ({open_linkage[i]['cases']}, line {open_linkage[i]['line']})",
        )
        action = st.radio("Decision", ["mask", "accept"], horizontal=True, key="link_action")
        replacement = st.text_input("Replacement when masking", key="link_text", placeholder="[another case]")
        reason = st.text_input("Reason when accepting", key="link_reason")
        if st.form_submit_button("Decide"):
            finding, saved = open_linkage[index], False
            with user_errors("linkage finding"), store().write(principal.actor) as session:
                if action == "mask":
                    wf.mask_finding(session, masked_id, finding["kind"], finding["term"], replacement, version)
                else:
                    wf.accept_finding(session, masked_id, finding["kind"], finding["term"], reason, principal.actor, version)
                saved = True
            if saved:
                st.rerun()
