"""The coding workbench: select text, apply codes, see and edit codings (with the interview guide
beside them), quick mode, suggestions, and how each coded passage came up (elicitation)."""

from __future__ import annotations

import zlib

import pandas as pd
import streamlit as st

from casestudy import access, logs, signoffs
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, elicitation, history, places, spans, stripes
from casestudy.coding import suggestions as coding_suggestions
from casestudy.errors import UserError
from casestudy.interviews import guide as guides
from casestudy.interviews import store as interviews_store
from casestudy.models import Interview
from casestudy.ui.codebook_panel import FIELD_LABELS
from casestudy.ui.components.coding_workbench import coding_workbench
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import (
    current_principal,
    principal_or_stop,
    rerun_with,
    show_flash,
    store,
    user_errors,
)
from casestudy.ui.signoff_panel import signoff_panel
from casestudy.ui.widgets import form_done, form_start

PAGE = PageSpec(title="Coding", url_path="coding", audience=("researcher",), section="Analysis", order=50)

WORKBENCH = "coding_workbench"
TEXT_SENT = "coding_wb_text_sent"  # the text key the browser holds (the transcript is sent once)
ACK = "coding_wb_ack"  # the answer to the browser's last operation, sent with the next marks
CONTEXT = "coding_wb_context"  # which interview the workbench shows, for the operation callback
FOCUS = "coding_focus"  # the passage a link asked for: {interview, start, end}
FOCUS_LINK = "coding_focus_link"
PASSAGE = "coding_passage"  # which passage's stripes are shown (interviews with very many codings)
PASSAGE_FOCUS = "coding_passage_focus"  # the linked start the passage was last chosen for
VIEW_AT = "coding_view_at"  # the character the coder scrolled to (its passage's stripes are sent)
NARROW_CODE = "coding_narrow_code"
NARROW_CODER = "coding_narrow_coder"


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Coding")
    with store().read() as session:
        study = current_study(session)
        choices = {i.label: i.id for i in interviews_store.interview_labels(session, study)}
    if not choices:
        st.info("Import interviews first (Interviews page).")
        return
    _open_linked_place(choices)
    top = st.columns([4, 2, 5])
    label = top[0].selectbox("Interview", list(choices), key="coding_interview", on_change=_remember_interview, args=(choices,))
    blind = _blind_control(top[1], principal)
    can_code = principal.can_edit
    interview_id = choices[label]
    # Only the chosen mode is built on a rerun (tabs would build all three every time).
    # The default through the state, not default=: a link sets the mode before the widget exists,
    # and a widget with both logs Streamlit's warning.
    st.session_state.setdefault("coding_mode", "Text")
    mode = top[2].segmented_control("Mode", list(MODES), key="coding_mode") or "Text"
    MODES[mode](principal, interview_id, blind, can_code)
    signoff_panel(principal, signoffs.CODINGS, interview_id, f"codings_{interview_id}")


def _remember_interview(choices: dict[str, int]) -> None:
    """The chosen interview goes into the URL (``?interview=<id>``), so that a reload or a
    bookmark opens it again; it counts as already opened, so the mode the coder is in stays."""
    chosen = choices.get(st.session_state.get("coding_interview"))
    if chosen is None:
        return
    st.query_params.pop("at", None)  # the other parameters (the study) stay
    st.query_params["interview"] = str(chosen)
    st.session_state[FOCUS_LINK] = places.parse_place(st.query_params).link


def _open_linked_place(choices: dict[str, int]) -> None:
    """A link ``?interview=<id>&at=<start>-<end>`` (retrieval, matrices, agreement) opens that
    interview once; the span is kept in ``st.session_state[FOCUS]`` ({interview, start, end})."""
    place = places.parse_place(st.query_params)
    if place is None or st.session_state.get(FOCUS_LINK) == place.link:
        return
    st.session_state[FOCUS_LINK] = place.link
    label = next((name for name, interview_id in choices.items() if interview_id == place.interview_id), None)
    if label is None:
        st.warning("The linked interview is not in this study (or no longer exists).")
        return
    st.session_state["coding_interview"] = label
    st.session_state["coding_mode"] = "Text"
    if place.end > place.start:  # ``?interview=<id>`` alone (a reload) opens the interview, no passage
        st.session_state[FOCUS] = {"interview": place.interview_id, "start": place.start, "end": place.end}


def _blind_control(column, principal) -> bool:
    """The study's blind coding: a switch for the study owner, a note for everyone else."""
    with store().read() as session:
        study = current_study(session)
        blind, owner = bool(study.blind_coding), blinding.is_owner(principal, study)
    if not owner:
        if blind:
            column.caption("Blind coding: you see only your own codings")
        return blind
    wanted = column.toggle("Blind coding", value=blind, key="coding_blind",
                           help="For the whole study: coders see only their own codings until you turn it off")
    if wanted != blind:
        with user_errors("blind coding"), store().write(principal.actor) as session:
            blinding.set_blind_coding(session, current_study(session), principal, wanted)
    return wanted


def _code_options(codes, paths) -> dict[str, int]:
    return {paths[c.id]: c.id for c in sorted(codes, key=lambda c: paths[c.id]) if c.status == "active" and c.codable}


def _definition(code) -> str:
    """The definition shown on demand in the code tree (the codebook's fields, labelled)."""
    parts = [code.short_definition] if code.short_definition else []
    parts += [f"{label}: {getattr(code, key)}" for key, label in FIELD_LABELS if getattr(code, key, "")]
    return "\n".join(parts)


def _text_key(interview) -> str:
    return f"{interview.id}:{len(interview.text)}:{zlib.crc32(interview.text.encode('utf-8')):08x}"


def _guarded_interview(session, principal, interview_id: int, minimum: str):
    """(study, interview, principal scoped to the study) for an interview id the browser sent:
    the membership guard runs on the interview's own study, so an id from another study is
    refused (AccessDenied) whatever the page's current study is."""
    found = session.get(Interview, interview_id)
    if found is None:
        raise UserError(f"no interview {interview_id}; reload the page")
    scoped = access.require_study_role(principal, found.study, minimum)
    return found.study, interviews_store.get_interview(session, found.study, interview_id), scoped


def workbench_data(session, principal, interview_id: int, text_held: str | None, narrow: dict | None = None) -> dict:
    """Everything the workbench component shows; the text only if the browser lacks it.

    The marks are the codings ``principal`` may see (the study's blind coding decides), of one
    passage when there are more than ``stripes.MAX_MARKS`` (``narrow``: ``passage``, ``at``,
    ``code`` id, ``coder`` name; see :func:`casestudy.coding.stripes.workbench_window`);
    ``data["window"]`` says which. ``data["periods"]``: the case's period names (``choices``),
    the interview's period and ``own``, [coding id, period] of the shown codings that name their
    own (:func:`casestudy.coding.spans.coding_periods`)."""
    study, interview, principal = _guarded_interview(session, principal, interview_id, "viewer")
    codes = codebook.all_codes(session, study)
    paths = codebook.code_paths(codes)
    blocked = interviews_store.consent_withdrawn(interview)
    key = _text_key(interview)
    me = spans.get_coder(session, principal.name).id if principal.can_edit else None
    narrow = narrow or {}
    window = stripes.workbench_window(
        session, interview.id, principal, passage=narrow.get("passage") or 0, at=narrow.get("at"), code_id=narrow.get("code"),
        coder_id=spans.get_coder(session, narrow["coder"]).id if narrow.get("coder") else None)
    periods = spans.coding_periods(session, interview, [mark[0] for mark in window.marks])
    return {
        "interview": interview.id,
        "textKey": key,
        "text": None if text_held == key else interview.text,
        "marks": window.marks,
        "window": window,
        "passage": {"index": window.passage, "count": len(window.passages), "low": window.passages[window.passage][0],
                    "high": window.passages[window.passage][1], "total": window.total},
        "codes": [{"id": c.id, "parent": c.parent_id, "name": c.name, "path": paths.get(c.id, c.name), "level": c.level,
                   "marker": stripes.level_marker(c.level, study.levels), "colour": stripes.code_colour(c.id, c.colour),
                   "def": _definition(c), "codable": bool(c.codable and c.status == "active"), "active": c.status == "active"} for c in codes],
        "levels": list(study.levels),
        "recent": stripes.recent_codes(session, study.id, me) if me is not None else [],
        "me": principal.name,
        "canCode": bool(principal.can_edit and not blocked),
        "blocked": bool(blocked),
        "periods": {"choices": periods.choices, "interview": periods.interview, "own": [[i, name] for i, name in periods.own.items()]},
    }


def _history_step(session, study, coder, kind: str) -> str:
    """Undo or redo the coder's last coding action (server-side history); says what it did."""
    return (history.undo if kind == "undo" else history.redo)(session, study, coder.id).message


def run_operation(principal, interview_id: int, op: dict) -> dict:
    """Carry out one workbench operation in one transaction; the ack the browser shows.

    ``{"op": id, "ok": bool, "message": str}``: a refused edit (a UserError, e.g. an edit
    conflict) is reported, not raised, so the browser rolls its optimistic view back.
    """
    ack = {"op": op.get("id") if isinstance(op, dict) else None, "ok": False, "message": ""}
    try:
        if not isinstance(op, dict):
            raise UserError("the browser sent an unreadable coding action; reload the page")
        with store().write(principal.actor) as session:
            study, interview, principal = _guarded_interview(session, principal, interview_id, "coder")
            coder = spans.get_coder(session, principal.name)
            if op.get("kind") in ("undo", "redo"):
                message = _history_step(session, study, coder, op["kind"])
            else:
                message = stripes.perform(session, study, interview, coder, op)
        ack.update(ok=True, message=message)
    except access.AccessDenied as exc:  # the refused transaction has ended: log it now
        access.log_refusal(store(), exc.principal, "coding workbench", exc.what or exc.message)
        ack["message"] = exc.message
    except UserError as exc:
        ack["message"] = exc.message
    except Exception as exc:  # noqa: BLE001 - the browser shows the reference, the log has the rest
        ack["message"] = logs.unexpected_message(logs.log_unexpected(exc, where="coding workbench"))
    return ack


def _on_operation() -> None:
    op = (st.session_state.get(WORKBENCH) or {}).get("op")
    context = st.session_state.get(CONTEXT)
    principal = current_principal()
    if op is None or context is None or principal is None:
        return
    # The interview the user saw when acting (sent along), not whichever is chosen now.
    interview_id = op.get("interview") if isinstance(op, dict) and isinstance(op.get("interview"), int) else context["interview_id"]
    st.session_state[ACK] = run_operation(principal, interview_id, op)


def _on_need_text() -> None:
    st.session_state.pop(TEXT_SENT, None)


def _on_view() -> None:
    offset = (st.session_state.get(WORKBENCH) or {}).get("view")
    if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0:
        st.session_state[VIEW_AT] = offset


def _text_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    with store().read() as session:
        guide_text = guides.guide_text_for(session, interviews_store.get_interview(session, current_study(session), interview_id), heading_level=4)
    if guide_text and st.toggle("Show the interview guide beside the transcript", key="coding_show_guide"):
        left, right = st.columns([3, 1])
        with left:
            _workbench(principal, interview_id)
        with right.container(height=720, border=True):
            st.markdown(guide_text)
    else:
        _workbench(principal, interview_id)
    if can_code:
        _emergent_code_form(principal)


ELICITATION_CHOICES = {"spontaneous": "spontaneous", "probe": "after a probe", "suggested": "as suggested"}


def _elicitation_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    """Per coded passage: spontaneous or after a probe, as suggested from the interview guide
    (with the reason) or set by hand; per coding in the table, or for a whole turn at once."""
    show_flash("elicitation")
    turns, has_guide = None, False
    with user_errors("elicitation"), store().read() as session:
        study = current_study(session)
        interview = interviews_store.get_interview(session, study, interview_id)
        if interview.kind != "interview":
            st.info("This is a document, not an interview: its codings were not elicited by anyone.")
            return
        turns = elicitation.turn_view(session, study, interview, principal=principal)
        has_guide = guides.guide_for(session, interview) is not None
    if turns is None:
        return
    if not has_guide:
        st.warning("The study has no interview guide yet (Interviews page, tab Interview guide): the suggestion can only follow "
                   "a start of the probes set by hand.")
    if not turns:
        st.info("No codings in this interview yet.")
        return
    st.caption("Suggested from the turn before each passage: a probe of the guide asked there means after a probe, an open "
               "question spontaneous; otherwise the passage's place before or after the first probe decides. Set by hand "
               "where the suggestion is wrong; 'as suggested' hands a coding back to the suggestion.")
    rows = [{"coding": c["id"], "turn": t["turn"], "line": t["line"], "elicitation": ELICITATION_CHOICES.get(c["elicitation"], ""),
             "by hand": c["manual"], "text": c["text"], "code": c["code"].rsplit("/", 1)[-1], "coder": c["coder"],
             "suggested": ELICITATION_CHOICES.get(t["suggested"], ""), "why": t["reason"]} for t in turns for c in t["codings"]]
    frame = pd.DataFrame(rows)
    edited = st.data_editor(
        frame, key=f"elicitation_{interview_id}", hide_index=True, width="stretch",
        disabled=[c for c in frame.columns if c != "elicitation"] if can_code else True,
        column_config={"elicitation": st.column_config.SelectboxColumn("Elicitation", options=list(ELICITATION_CHOICES.values()), required=True),
                       "text": st.column_config.TextColumn("Coded text", width="large"),
                       "code": st.column_config.TextColumn("Code", help="the code's name (its path in the codebook on the Codebook page)"),
                       "by hand": st.column_config.CheckboxColumn("By hand"), "why": st.column_config.TextColumn("Why suggested", width="medium")},
    )
    if not can_code:
        return
    by_label = {label: value for value, label in ELICITATION_CHOICES.items()}
    versions = {c["id"]: c["version"] for t in turns for c in t["codings"]}
    changed: dict[str, list[int]] = {}
    for new, old in zip(edited.itertuples(), frame.itertuples()):
        if new.elicitation != old.elicitation:
            changed.setdefault(by_label[new.elicitation], []).append(int(new.coding))
    left, middle, right = st.columns([2, 3, 2])
    if left.button(f"Save {sum(map(len, changed.values()))} change(s)", key="elicitation_save", disabled=not changed, type="primary"):
        _set_elicitation(principal, lambda session, study, coder: sum(
            elicitation.set_elicitation(session, study, ids, value, by=coder, expected_versions={i: versions[i] for i in ids})
            for value, ids in changed.items()), interview_id)
    with middle.form("elicitation_turn", border=False):
        cols = st.columns(2)
        turn = cols[0].selectbox("Whole turn", [t["turn"] for t in turns],
                                 format_func=lambda n: f"turn {n} (line {next(t['line'] for t in turns if t['turn'] == n)})", key="elicitation_turn_pick")
        value = cols[1].selectbox("Mark", list(ELICITATION_CHOICES), format_func=ELICITATION_CHOICES.get, key="elicitation_turn_value")
        if st.form_submit_button("Set for the whole turn"):
            _set_elicitation(principal, lambda session, study, coder: elicitation.set_turn_elicitation(
                session, study, interviews_store.get_interview(session, study, interview_id), turn, value, by=coder), interview_id)
    if right.button("Suggest again (keeps marks set by hand)", key="elicitation_suggest"):
        _set_elicitation(principal, lambda session, study, coder: sum(
            count for mark, count in elicitation.suggest(session, study, [interview_id]).items() if mark != "kept"), interview_id)


def _set_elicitation(principal, action, interview_id: int) -> None:
    """Run one elicitation change in one transaction as the signed-in coder, then show the result
    (the table is built afresh from the stored marks)."""
    done = None
    with user_errors("elicitation"):
        with store().write(principal.actor) as session:
            study = current_study(session)
            done = action(session, study, spans.get_coder(session, principal.name))
    if done is not None:
        st.session_state.pop(f"elicitation_{interview_id}", None)
        rerun_with(f"Elicitation saved ({done} coding(s)).", "elicitation")


@st.fragment
def _workbench(principal, interview_id: int) -> None:
    """A coding action reruns only this fragment: marks go out, the transcript does not."""
    st.session_state[CONTEXT] = {"interview_id": interview_id}
    focus = st.session_state.get(FOCUS)
    focus = focus if focus and focus["interview"] == interview_id else None
    narrow = {"passage": st.session_state.get(PASSAGE), "code": st.session_state.get(NARROW_CODE),
              "coder": st.session_state.get(NARROW_CODER)}
    if focus and st.session_state.get(PASSAGE_FOCUS) != focus.get("start"):  # a link opens the passage it points into
        st.session_state[PASSAGE_FOCUS] = focus.get("start")
        narrow["at"] = focus["start"]
    elif (scrolled := st.session_state.pop(VIEW_AT, None)) is not None:  # the coder scrolled into another passage
        narrow["at"] = scrolled
    controls = st.container()
    data = None
    with user_errors("coding workbench"), store().read() as session:
        data = workbench_data(session, principal, interview_id, st.session_state.get(TEXT_SENT), narrow)
        if narrow["coder"] and narrow["coder"] not in data["window"].coders:  # chosen for another interview
            st.session_state.pop(NARROW_CODER, None)
            data = workbench_data(session, principal, interview_id, st.session_state.get(TEXT_SENT), {**narrow, "coder": None})
    if data is None:
        return
    window = data.pop("window")
    if window.paged or narrow["code"] or st.session_state.get(NARROW_CODER):
        codes = {c["path"]: c["id"] for c in sorted(data["codes"], key=lambda c: c["path"])}
        with controls:
            _narrowing_controls(window, codes)
    if data["blocked"]:
        st.error("This respondent withdrew consent for the interview: the material cannot be analysed further.")
    data["ack"] = st.session_state.pop(ACK, None)
    if focus:
        data["focus"] = {"start": focus["start"], "end": focus["end"], "key": st.session_state.get(FOCUS_LINK)}
    coding_workbench(data, key=WORKBENCH, on_op=_on_operation, on_need_text=_on_need_text, on_view=_on_view)
    st.session_state[TEXT_SENT] = data["textKey"]


def _narrowing_controls(window, codes: dict[str, int]) -> None:
    """For an interview with more codings than the stripes show at once: which passage, which
    code, which coder (the browser gets only those marks)."""
    st.session_state[PASSAGE] = window.passage
    left, middle, right = st.columns([3, 3, 2])
    count = len(window.passages)
    left.selectbox("Passage", list(range(count)), key=PASSAGE,
                   format_func=lambda i: f"{i + 1} of {count}: characters {window.passages[i][0]:,}-{window.passages[i][1]:,}")
    by_id = {code_id: path for path, code_id in codes.items()}
    middle.selectbox("Only the code", [None, *codes.values()], key=NARROW_CODE, format_func=lambda c: "all codes" if c is None else by_id.get(c, str(c)))
    right.selectbox("Only the coder", [None, *window.coders], key=NARROW_CODER, format_func=lambda c: "all coders" if c is None else c)
    if window.paged:
        st.caption(f"{window.total:,} codings match: the stripes show those of one passage at a time (at most "
                   f"{stripes.MAX_MARKS:,} start in each), following the text as you scroll. Choose a passage to jump to it, "
                   "or narrow to one code or one coder.")
    else:
        st.caption(f"{window.total:,} codings match the code and coder chosen.")


def _emergent_code_form(principal) -> None:
    """A new code made while coding, placed under a parent at a level (the parent's by default)."""
    with st.expander("New emergent code"):
        form_start("emergent_code")
        added = None
        with st.form("emergent_code", clear_on_submit=False):
            with store().read() as session:
                study = current_study(session)
                levels = list(study.levels)
                codes = codebook.all_codes(session, study)
                paths = codebook.code_paths(codes)
                parents = {paths[c.id]: c.id for c in sorted(codes, key=lambda c: paths[c.id]) if c.status == "active"}
            name = st.text_input("Name", key="emergent_name")
            parent = st.selectbox("Parent code", ["(top level)", *parents], help="Where the code goes in the code tree", key="emergent_parent")
            level = st.selectbox("Level", ["(the parent's level)", *levels], key="emergent_level")
            definition = st.text_area("Short definition", key="emergent_definition")
            if st.form_submit_button("Add to codebook"):
                with user_errors("emergent code"), store().write(principal.actor) as session:
                    study = current_study(session)
                    parent_code = codebook.get_code(session, study, parents[parent]) if parent in parents else None
                    spans.create_emergent_code(session, study, name, None if level.startswith("(") else level,
                                               spans.get_coder(session, principal.name), parent_code, short_definition=definition)
                    added = f"Added {name.strip()!r} to the codebook (emergent){' under ' + parent if parent_code else ''}."
        if added:  # the code lists of the workbench offer the new code at once
            form_done("emergent_code", added, ["emergent_name", "emergent_parent", "emergent_level", "emergent_definition"])


def _quick_tab(principal, interview_id: int, blind: bool, can_code: bool) -> None:
    """One row per sentence; pick a code per row (keyboard: arrows, Enter, type to search)."""
    with store().read() as session:
        study = current_study(session)
        interview = interviews_store.get_interview(session, study, interview_id)
        sentences = spans.sentence_spans(session, interview.id)
        codes = codebook.all_codes(session, study)
        paths = codebook.code_paths(codes)
        text = interview.text
        own = {}
        if can_code:
            for c in spans.coding_rows(session, interview.id, spans.get_coder(session, principal.name).id, principal=principal):
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
            study = current_study(session)
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
    with user_errors("suggestions"), store().read() as session, st.status("Computing suggestions…", expanded=False) as progress:
        study = current_study(session)
        st.write("Learning from the study's coded sentences…")
        model = coding_suggestions.train_suggestions(session, study)
        paths = codebook.code_paths(codebook.all_codes(session, study))
        quality = pd.DataFrame([{**q, "code": paths.get(q["code_id"], "")} for q in coding_suggestions.suggestion_quality(model)])
        st.write("Scoring this interview's uncoded sentences…")
        found = coding_suggestions.suggest_for(session, study, model, interviews_store.get_interview(session, study, interview_id), threshold)
        st.session_state["suggestions_found"] = found
        st.dataframe(quality, hide_index=True)
        progress.update(label=f"{len(found)} suggestion(s); the model's quality per code is inside", state="complete")
    for item in st.session_state.get("suggestions_found", []):
        cols = st.columns([6, 2, 1, 1])
        cols[0].markdown(f"“{item['text']}”  \n→ **{item['code']}**")
        cols[1].caption(f"confidence {item['confidence']:.2f} (CV precision {item['cv_precision']:.2f}, recall {item['cv_recall']:.2f})")
        for col, label, accept in ((cols[2], "Accept", True), (cols[3], "Reject", False)):
            if col.button(label, key=f"s_{label}_{item['sentence_id']}_{item['code_id']}", disabled=not can_code):
                with user_errors("suggestion"):
                    with store().write(principal.actor) as session:
                        study = current_study(session)
                        coding_suggestions.decide_suggestion(session, study, item["sentence_id"], codebook.get_code(session, study, item["code_id"]),
                                                 spans.get_coder(session, principal.name), accept, item["confidence"])
                    st.session_state["suggestions_found"] = [s for s in st.session_state["suggestions_found"] if s is not item]
                    st.rerun()


#: The page's modes: only the chosen one is built on a rerun.
MODES = {"Text": _text_tab, "Sentences": _quick_tab, "Suggestions": _suggestion_tab, "Elicitation": _elicitation_tab}
