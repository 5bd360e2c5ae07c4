"""The coding workbench: select text, apply codes, see and edit codings, quick mode, suggestions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.coding import suggestions as coding_suggestions
from casestudy.coding.highlight import Mark
from casestudy.interviews import store as interviews_store
from casestudy.ui.codebook_panel import show_code_definition
from casestudy.ui.components.span_selector import span_selector
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Coding", url_path="coding", audience=("researcher",), section="Analysis", order=30)

LEVEL_COLOURS = ["#ffd27f", "#9fd3ff", "#b9f2a1", "#f5b3ff", "#ffb3b3"]
PENDING = "coding_pending_selection"
CLICKED = "coding_clicked"


def _colour(code, levels: list[str]) -> str:
    if code.colour:
        return code.colour
    index = levels.index(code.level) if code.level in levels else len(levels)
    return LEVEL_COLOURS[index % len(LEVEL_COLOURS)]


def _remember_component() -> None:
    result = st.session_state.get("coding_view")
    if not result:
        return
    if result.get("selection"):
        st.session_state[PENDING] = result["selection"]
        st.session_state.pop(CLICKED, None)
    if result.get("clicked"):
        st.session_state[CLICKED] = result["clicked"]


def render() -> None:
    principal = principal_or_stop()
    st.title("Coding")
    with store().read() as session:
        study = studies.get_study(session)
        choices = {i.label: i.id for i in interviews_store.interview_labels(session, study)}
    if not choices:
        st.info("Import interviews first (Interviews page).")
        return
    top = st.columns([3, 1, 2])
    label = top[0].selectbox("Interview", list(choices), key="coding_interview")
    blind = top[1].toggle("Blind mode", key="coding_blind", help="Show only your own codings")
    can_code = principal.can_edit
    interview_id = choices[label]
    # Only the chosen mode is built on a rerun (tabs would build all three every time).
    mode = top[2].segmented_control("Mode", ["Text", "Sentences", "Suggestions"], default="Text", key="coding_mode") or "Text"
    {"Text": _text_tab, "Sentences": _quick_tab, "Suggestions": _suggestion_tab}[mode](principal, interview_id, blind, can_code)


def _load(session, interview_id: int, principal, blind: bool):
    study = studies.get_study(session)
    interview = interviews_store.get_interview(session, study, interview_id)
    me = spans.get_coder(session, principal.name).id if blind and principal.can_edit else None
    codings = spans.coding_rows(session, interview.id, me)
    codes = codebook.all_codes(session, study)
    paths = codebook.code_paths(codes)
    colours = {c.id: _colour(c, study.levels) for c in codes}
    marks = [Mark(c.id, c.start, c.end, colours[c.code_id], f"{paths.get(c.code_id, '')} ({c.coder})") for c in codings]
    return study, interview, codings, codes, paths, marks


def _code_options(codes, paths) -> dict[str, int]:
    return {paths[c.id]: c.id for c in sorted(codes, key=lambda c: paths[c.id]) if c.status == "active" and c.codable}


def _text_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    with store().read() as session:
        study, interview, codings, codes, paths, marks = _load(session, interview_id, principal, blind)
        text = interview.text
        blocked = studies.analysis_blocked(interview.respondent)
        records = {c.id: {"id": c.id, "code_id": c.code_id, "coder": c.coder, "start": c.start, "end": c.end,
                          "version": c.version, "memo": c.memo, "lines": f"{c.start_line}-{c.end_line}"} for c in codings}
        code_by_id = {c.id: c for c in codes}
    if blocked:
        st.error("This respondent withdrew consent for the interview: the material cannot be analysed further.")
    left, right = st.columns([3, 2])
    with left:
        st.caption(f"{len(text):,} characters · {len(codings)} codings shown · select text to code it; click a highlight to edit")
        span_selector(text, marks, key="coding_view", version=f"{interview_id}:{sum(r['version'] for r in records.values())}", on_change=_remember_component)
    options = _code_options(codes, paths)
    with right:
        chosen = st.multiselect("Codes", list(options), key="coding_codes", placeholder="Search codes by path")
        for path in chosen[:3]:
            show_code_definition(code_by_id[options[path]], compact=len(chosen) > 1)
        pending = st.session_state.get(PENDING)
        if pending and pending.get("end", 0) <= len(text):
            start, end = pending["start"], pending["end"]
            st.markdown(f"**Selected** [{start}, {end}): “{text[start:end][:300]}”")
            memo = st.text_input("Memo (optional)", key="coding_memo")
            if st.button("Apply codes", type="primary", disabled=not (can_code and chosen and not blocked), key="coding_apply"):
                with user_errors("apply codes"):
                    with store().write(principal.actor) as session:
                        study = studies.get_study(session)
                        interview = interviews_store.get_interview(session, study, interview_id)
                        selected = [codebook.get_code(session, study, options[p]) for p in chosen]
                        spans.apply_codes(session, interview, selected, spans.get_coder(session, principal.name), start, end, memo)
                    st.session_state.pop(PENDING, None)
                    st.rerun()  # outside the transaction: a rerun inside it would roll it back
        if can_code:
            _emergent_code_form(principal)
        clicked = st.session_state.get(CLICKED)
        if clicked:
            for coding_id in clicked.get("ids", []):
                record = records.get(coding_id)
                if record:
                    _edit_coding(principal, record, options, paths, len(text), can_code)


def _emergent_code_form(principal) -> None:
    with st.expander("New emergent code"):
        with st.form("emergent_code", clear_on_submit=True):
            with store().read() as session:
                levels = studies.get_study(session).levels
            name = st.text_input("Name")
            level = st.selectbox("Level", levels)
            definition = st.text_area("Short definition")
            if st.form_submit_button("Add to codebook"):
                with user_errors("emergent code"), store().write(principal.actor) as session:
                    study = studies.get_study(session)
                    spans.create_emergent_code(session, study, name, level, spans.get_coder(session, principal.name), short_definition=definition)
                    st.success(f"Added {name!r} to the codebook (emergent).")


def _edit_coding(principal, record: dict, options: dict[str, int], paths: dict[int, str], length: int, can_code: bool) -> None:
    key = f"edit_{record['id']}"
    with st.container(border=True):
        st.markdown(f"**{paths.get(record['code_id'], '')}** by {record['coder']} · lines {record['lines']}")
        if not can_code:
            st.write(record["memo"])
            return
        with st.form(key):
            code_path = st.selectbox("Code", list(options), index=list(options).index(paths[record["code_id"]]) if paths.get(record["code_id"]) in options else 0)
            cols = st.columns(2)
            start = cols[0].number_input("Start", 0, length, record["start"])
            end = cols[1].number_input("End", 0, length, record["end"])
            memo = st.text_area("Memo", record["memo"])
            save, remove = st.columns(2)
            saved = save.form_submit_button("Save")
            removed = remove.form_submit_button("Remove")
        if saved or removed:
            with user_errors("edit coding"):
                with store().write(principal.actor) as session:
                    if removed:
                        spans.remove_coding(session, record["id"])
                    else:
                        study = studies.get_study(session)
                        spans.edit_coding(session, record["id"], record["version"], int(start), int(end), codebook.get_code(session, study, options[code_path]), memo)
                st.session_state.pop(CLICKED, None)
                st.rerun()


def _quick_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    """One row per sentence; pick a code per row (keyboard: arrows, Enter, type to search)."""
    with store().read() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, interview_id)
        sentences = spans.sentence_spans(session, interview.id)
        codes = codebook.all_codes(session, study)
        paths = codebook.code_paths(codes)
        text = interview.text
        own = {}
        if can_code:
            for c in spans.coding_rows(session, interview.id, spans.get_coder(session, principal.name).id):
                own.setdefault((c.start, c.end), paths.get(c.code_id))
    options = _code_options(codes, paths)
    frame = pd.DataFrame(
        {"start": [s for _, s, _ in sentences], "end": [e for _, _, e in sentences],
         "sentence": [text[s:e] for _, s, e in sentences],
         "code": [own.get((s, e)) for _, s, e in sentences]}
    )
    edited = st.data_editor(
        frame, key=f"quick_{interview_id}", hide_index=True, width="stretch", disabled=["start", "end", "sentence"] if can_code else True,
        column_config={"code": st.column_config.SelectboxColumn("Code", options=list(options)),
                       "sentence": st.column_config.TextColumn("Sentence", width="large")},
    )
    if can_code and st.button("Save sentence codes", key="quick_save"):
        new = [(int(row.start), int(row.end), row.code) for row, old in zip(edited.itertuples(), frame.itertuples())
               if row.code and row.code != old.code]
        with user_errors("quick coding"), store().write(principal.actor) as session:
            study = studies.get_study(session)
            interview = interviews_store.get_interview(session, study, interview_id)
            coder = spans.get_coder(session, principal.name)
            for start, end, path in new:
                spans.apply_codes(session, interview, [codebook.get_code(session, study, options[path])], coder, start, end)
            st.success(f"Coded {len(new)} sentence(s).")


def _suggestion_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    threshold = st.slider("Minimum confidence", 0.1, 0.95, 0.5, 0.05, key="suggest_threshold")
    if not st.button("Compute suggestions", key="suggest_compute"):
        st.caption("Suggestions learn from the study's coded sentences (a model per code with at least 8 examples).")
        return
    with user_errors("suggestions"), store().read() as session:
        study = studies.get_study(session)
        model = coding_suggestions.train_suggestions(session, study)
        paths = codebook.code_paths(codebook.all_codes(session, study))
        quality = pd.DataFrame([{**q, "code": paths.get(q["code_id"], "")} for q in coding_suggestions.suggestion_quality(model)])
        found = coding_suggestions.suggest_for(session, study, model, interviews_store.get_interview(session, study, interview_id), threshold)
        st.session_state["suggestions_found"] = found
        st.dataframe(quality, hide_index=True)
    for item in st.session_state.get("suggestions_found", []):
        cols = st.columns([6, 2, 1, 1])
        cols[0].markdown(f"“{item['text']}”  \n→ **{item['code']}**")
        cols[1].caption(f"confidence {item['confidence']:.2f} (CV precision {item['cv_precision']:.2f}, recall {item['cv_recall']:.2f})")
        for col, label, accept in ((cols[2], "Accept", True), (cols[3], "Reject", False)):
            if col.button(label, key=f"s_{label}_{item['sentence_id']}_{item['code_id']}", disabled=not can_code):
                with user_errors("suggestion"):
                    with store().write(principal.actor) as session:
                        study = studies.get_study(session)
                        coding_suggestions.decide_suggestion(session, study, item["sentence_id"], codebook.get_code(session, study, item["code_id"]),
                                                 spans.get_coder(session, principal.name), accept, item["confidence"])
                    st.session_state["suggestions_found"] = [s for s in st.session_state["suggestions_found"] if s is not item]
                    st.rerun()
