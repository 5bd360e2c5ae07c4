"""Per case: the narrative editor beside the evidence, versions and diffs, the member check and
the Table 1 summary. A thin face over casestudy.reconstruction and casestudy.membercheck."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import signoffs
from casestudy import study as studies
from casestudy.models import CASE_OUTCOMES
from casestudy.reconstruction import documents
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.reconstruction import narrative as reconstruction_narrative
from casestudy.reconstruction import references as reconstruction_references
from casestudy.reconstruction import summary as reconstruction_summary
from casestudy.ui.links import link_base_notice
from casestudy.ui.markdown import show_markdown
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, rerun_with, show_flash, store, user_errors
from casestudy.ui.signoff_panel import signoff_panel
from casestudy.ui.widgets import form_done, form_start, preselect_case

PAGE = PageSpec(title="Reconstructions", url_path="reconstructions", audience=("researcher",), section="Analysis", order=70)

LINKS_KEY = "_mc_links"
EXPORT_KEY = "_mc_export"


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Reconstructions and member check")
    labels = []
    with user_errors("reconstructions"), store().read() as session:
        study = current_study(session)
        labels = [(c.public_label, c.internal_label) for c in studies.list_cases(session, study)]
        states = {s.case: s for s in reconstruction_membercheck.status_all(session, study)}
    if not labels:
        st.info("No cases yet. Add them on the Cases page.")
        return
    # The state is shown beside the picker, not in its option labels: a keyed selectbox keeps
    # the label it was given when the option was chosen, so a changed state would not show.
    picker, state = st.columns([2, 3], vertical_alignment="bottom")
    preselect_case("recon_case", [l for l, _ in labels])
    label = picker.selectbox("Case", [l for l, _ in labels], key="recon_case", format_func=lambda l: f"{l} ({dict(labels)[l]})")
    if label in states:
        state.markdown(f"**{states[label].state}** — {states[label].detail}")
    editor, versions, member_check, summary = st.tabs(["Editor", "Versions", "Member check", "Case summary"])
    with editor:
        _editor(principal, label)
    with versions:
        _versions(label)
    with member_check:
        _member_check(principal, label)
    with summary:
        _summary(principal, label)


def _case(session, label, minimum: str | None = None):
    return studies.get_case(session, current_study(session, minimum), label)


# --- editor ---------------------------------------------------------------------------
def _editor(principal, label: str) -> None:
    with user_errors("editor"), store().read() as session:
        case = _case(session, label)
        draft = reconstruction_narrative.get_reconstruction(session, case)
        text, summary, row_version = (draft.text, draft.summary, draft.version) if draft else ("", "", None)
        changed = reconstruction_narrative.draft_changed(session, case)
        latest = reconstruction_narrative.latest_version(session, case)
        under_review = reconstruction_membercheck.open_round(session, case)
        evidence, available = reconstruction_references.evidence_for(session, case, principal=principal)
        references = reconstruction_references.resolve_references(session, text)
    left, right = st.columns([3, 2])
    with left:
        st.caption(
            (f"Latest version: {latest.number} ({latest.status})." if latest else "No version saved yet.")
            + (" The draft has changes not yet saved as a version." if changed else "")
        )
        key = f"draft_{label}_{row_version}"
        new_text = st.text_area("Narrative (Markdown)", value=text, height=420, key=key, disabled=not principal.can_edit,
                                help="Cite evidence with [[coding:ID]] or [[quote:interview=ID,start=N,end=M]]; respondents never see these.")
        new_summary = st.text_area("Short summary (one paragraph)", value=summary, key=f"summary_{label}_{row_version}",
                                   disabled=not principal.can_edit)
        st.caption(f"{reconstruction_narrative.word_count(new_text)} words")
        if principal.can_edit:
            if under_review is not None:
                st.caption(f"Version {latest.number} is under review in round {under_review.number}; saving a new "
                           "version closes that round, and the respondents review the new version in the next one.")
            note = st.text_input("Change note for a new version", key=f"note_{label}")
            show_flash("reconstruction editor")
            c1, c2 = st.columns(2)
            done = None
            if c1.button("Save draft", key="save_draft"):
                with user_errors("save draft"), store().write(principal.actor) as session:
                    reconstruction_narrative.save_draft(session, _case(session, label), new_text, new_summary, principal.actor, expected_version=row_version)
                    done = "Draft saved."
            if c2.button("Save as new version", key="save_version", type="primary"):
                with user_errors("save version"), store().write(principal.actor) as session:
                    version = reconstruction_narrative.save_version(session, _case(session, label), new_text, principal.actor, note, new_summary)
                    done = f"Saved version {version.number}. Send it to the member check in the Member check tab."
            if done:  # the case picker, the versions and the member check show the new state
                rerun_with(done, "reconstruction editor")
        if references:
            with st.expander(f"Evidence references in the draft ({len(references)})"):
                for status in references:
                    if status.problem:
                        st.caption(f"{status.reference.raw}: {status.problem}")
                    else:
                        where = ", ".join(f"{k} {v}" for k, v in status.resolved.target.items())
                        st.markdown(f"`{status.reference.raw}` **{status.resolved.label}**" + (f" ({where})" if where else ""))
                        if status.resolved.excerpt:
                            st.caption(status.resolved.excerpt)
    with right:
        st.subheader("Evidence")
        if not available:
            st.info("Interviews and codings of this case appear here once the interviews and coding stages hold data.")
            return
        interviews = {e.source_id: e.label for e in evidence if e.kind == "interview" and e.source_id is not None}
        if interviews:
            with st.expander("Quote from an interview", expanded=False):
                source = st.selectbox("Interview", list(interviews), format_func=interviews.get, key="quote_interview")
                phrase = st.text_input("Words of the passage", key="quote_phrase")
                if st.button("Find the passage", key="quote_find") and phrase:
                    with user_errors("quote"), store().read() as session:
                        reference, excerpt = reconstruction_references.find_quote(session, _case(session, label), source, phrase)
                        st.code(reference, language=None)
                        st.caption(f"“{excerpt}” — paste the reference into the narrative where the quote belongs.")
        levels = sorted({e.level for e in evidence if e.level})
        codes = sorted({e.code for e in evidence if e.code})
        level = st.selectbox("Level", ["all", *levels], key="evidence_level") if levels else "all"
        code = st.selectbox("Code", ["all", *codes], key="evidence_code") if codes else "all"
        for item in evidence:
            if (level != "all" and item.level != level) or (code != "all" and item.code != code):
                continue
            with st.container(border=True):
                st.markdown(f"**{item.label}**" + (f" · {item.level}" if item.level else "") + (f" · {item.code}" if item.code else ""))
                if item.text:
                    st.write(item.text)
                if item.reference:
                    st.code(item.reference, language=None)


# --- versions -------------------------------------------------------------------------
def _versions(label: str) -> None:
    with user_errors("versions"), store().read() as session:
        versions = reconstruction_narrative.list_versions(session, _case(session, label))
        rows = [{"Version": v.number, "Status": v.status, "Locked": v.locked, "Author": v.author, "Saved": v.created_at,
                 "Note": v.change_note, "Words": reconstruction_narrative.word_count(v.text), "SHA-256": v.content_hash[:16]} for v in versions]
        texts = {v.number: v.text for v in versions}
    if not rows:
        st.info("No versions yet: write the narrative in the editor and save it as a version.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    numbers = list(texts)
    shown = st.selectbox("Show version", numbers, index=len(numbers) - 1, key="show_version")
    with st.expander(f"Text of version {shown}"):
        show_markdown(texts[shown])
    if len(numbers) < 2:
        return
    c1, c2 = st.columns(2)
    old = c1.selectbox("Compare version", numbers, index=len(numbers) - 2, key="diff_old")
    new = c2.selectbox("with version", numbers, index=len(numbers) - 1, key="diff_new")
    with user_errors("diff"), store().read() as session:
        diff = reconstruction_narrative.diff_versions(session, _case(session, label), old, new)
        st.caption(f"{diff['inserted_words']} words inserted, {diff['deleted_words']} deleted")
        st.html(diff["html"])


# --- member check ---------------------------------------------------------------------
def _member_check(principal, label: str) -> None:
    board = None
    with user_errors("dashboard"), store().read() as session:
        case = _case(session, label)
        board = reconstruction_membercheck.dashboard(session, case)
        latest = reconstruction_narrative.latest_version(session, case)
        respondents = [r.name for r in case.respondents]
    if board is None:
        return
    st.markdown(f"**State:** {board['state']} — {board['detail']}")
    if board["round"]:
        st.markdown(f"Round **{board['round']}** on version **{board['version']}**" + ("" if board["round_open"] else " (closed)"))
        st.dataframe(pd.DataFrame(board["answers"]), hide_index=True, width="stretch")
    links = st.session_state.pop(LINKS_KEY, None)
    if links:
        st.success("Links for the respondents (shown only now; copy them into your message):")
        for link in links:
            st.code(f"{link.respondent} ({link.role}): {link.link}", language=None)
    if latest is not None:
        signoff_panel(principal, signoffs.RECONSTRUCTION, latest.id, f"version_{latest.id}")
    if principal.can_edit and latest is not None and board["state"] in ("draft", "reopened"):
        base = link_base_notice()
        if st.button(f"Send version {latest.number} to the member check", key="mc_send", type="primary"):
            with user_errors("send"), store().write(principal.actor) as session:
                result = reconstruction_membercheck.send_to_member_check(session, _case(session, label), principal.actor, base_url=base)
                st.session_state[LINKS_KEY] = result.links
            if LINKS_KEY in st.session_state:  # rerun after the commit, never inside the transaction
                st.rerun()

    st.subheader("Comments")
    if not board["open_comments"]:
        st.caption("No open comments.")
    for comment in board["open_comments"]:
        with st.container(border=True):
            st.markdown(f"**{comment['respondent']}**, round {comment['round']}, paragraph {comment['paragraph']} "
                        f"(“{comment['paragraph_start']}…”)")
            st.write(comment["text"])
            if principal.can_edit:
                how = st.text_input("How was it processed?", key=f"how_{comment['id']}")
                if st.button("Mark processed", key=f"processed_{comment['id']}"):
                    done = False
                    with user_errors("process"), store().write(principal.actor) as session:
                        reconstruction_membercheck.mark_processed(session, _case(session, label), comment["id"], how, principal.actor)
                        done = True
                    if done:
                        st.rerun()
    done = [c for c in board["comments"] if c["processed"]]
    if done:
        with st.expander(f"Processed comments ({len(done)})"):
            st.dataframe(pd.DataFrame(done)[["round", "respondent", "paragraph", "text", "processed_how", "processed_by"]],
                         hide_index=True, width="stretch")
    for answer in board["answers"]:
        if answer["general_comment"]:
            st.caption(f"General comment from {answer['respondent']}: {answer['general_comment']}")

    if principal.can_edit and board["round_open"]:
        st.subheader("Offline review")
        form_start("offline_response")
        with user_errors("docx"), store().read() as session:
            data = documents.version_docx(session, _case(session, label), board["version"])
        st.download_button("Download this version as DOCX (numbered paragraphs)", data, key="mc_docx",
                           file_name=f"{label}-v{board['version']}.docx".replace(" ", "-"),
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        offline_fields = ["offline_who", "offline_decision", "offline_general", "offline_paragraphs"]
        with st.form("offline_response", clear_on_submit=False):
            who = st.selectbox("Respondent", respondents, key="offline_who")
            decision = st.radio("Decision", ["agree", "changes_needed"], horizontal=True, key="offline_decision")
            general = st.text_area("General comment", key="offline_general")
            paragraphs = st.text_area("Paragraph comments, one per line as 'N: text'", key="offline_paragraphs")
            recorded = None
            if st.form_submit_button("Record the returned answer"):
                with user_errors("offline"), store().write(principal.actor) as session:
                    case = _case(session, label)
                    respondent = studies.get_respondent(session, case, who)
                    reconstruction_membercheck.record_offline_response(session, case, respondent, decision, general, reconstruction_membercheck.parse_comments(paragraphs))
                    recorded = f"Recorded {who}'s answer."
                if recorded:  # the answers table and the open comments show it at once
                    form_done("offline_response", recorded, offline_fields)

    st.subheader("History for the audit trail")
    c1, c2 = st.columns(2)
    if c1.button("Prepare the history export", key="mc_history"):
        with user_errors("history"), st.spinner("Writing the history (Markdown and DOCX)…"), store().write(principal.actor) as session:
            case = _case(session, label)
            st.session_state[EXPORT_KEY] = (label, documents.history_markdown(session, case), documents.history_docx(session, case))
    export = st.session_state.get(EXPORT_KEY)
    if export and export[0] == label:
        stem = f"{label}-history".replace(" ", "-")
        c1.download_button("Markdown", export[1], file_name=f"{stem}.md", mime="text/markdown", key="mc_history_md")
        c2.download_button("DOCX", export[2], file_name=f"{stem}.docx", key="mc_history_docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# --- case summary ---------------------------------------------------------------------
def _summary(principal, label: str) -> None:
    with user_errors("summary"), store().read() as session:
        case = _case(session, label)
        row = reconstruction_summary.get_case_summary(session, case)
        programme = row.programme if row else studies.programme_text(case)
        outcome = row.outcome_class if row else case.outcome_class
        descriptors = row.outcome_descriptors if row else case.outcome_description
        components = row.component_outcomes if row else [{"component": c.type, "outcome_class": c.outcome_class} for c in case.components if c.outcome_class]
        determinants = row.determinants if row else []
        row_version = row.version if row else None
    with st.form(f"summary_{label}"):
        new_programme = st.text_input("Programme", value=programme)
        new_outcome = st.selectbox("Outcome class", CASE_OUTCOMES, index=CASE_OUTCOMES.index(outcome))
        new_components = st.text_input("Outcome per component (e.g. PH=mixed, IOP=positive)",
                                       value=", ".join(f"{c['component']}={c['outcome_class']}" for c in components))
        new_descriptors = st.text_area("Outcome descriptors", value=descriptors)
        new_determinants = st.text_area(
            "Determinants, one per line: label | facilitator or barrier | code id or path",
            value="\n".join(f"{d['label']} | {d['polarity']} | {d['code_ref'] or ''}".rstrip(" |") for d in determinants),
            height=180,
        )
        if st.form_submit_button("Save the case summary", disabled=not principal.can_edit):
            with user_errors("save summary"), store().write(principal.actor) as session:
                reconstruction_summary.save_case_summary(
                    session, _case(session, label), new_programme, new_outcome, new_descriptors,
                    [reconstruction_summary.parse_determinant(line) for line in new_determinants.splitlines() if line.strip()],
                    [reconstruction_summary.parse_component_outcome(p) for p in new_components.split(",") if p.strip()],
                    expected_version=row_version,
                )
                st.success("Case summary saved.")
