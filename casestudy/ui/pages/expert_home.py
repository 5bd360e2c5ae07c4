"""What an expert sees through their link: masked cases in their own order, the questionnaire, submit.

Every answer is saved on the server the moment it is given (widget on_change callbacks), so a
reload or another device with the same link continues where the expert left off. The page only
ever calls library functions that take the expert's principal; they load released masked texts
under public labels and the expert's own answers, nothing else.
"""

from __future__ import annotations

import re
import time

import streamlit as st

from casestudy import access
from casestudy.panel import answers as panel_answers
from casestudy.panel import delphi
from casestudy.ui.markdown import show_markdown
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import (
    current_principal,
    principal_or_stop,
    store,
    user_errors,
)

PAGE = PageSpec(title="Expert panel", url_path="panel", audience=("expert",), order=0)

STEP_KEY = "expert_step"
SAVED_KEY = "_expert_saved"
ERROR_KEY = "_expert_error"
TIMING_KEY = "_expert_timing"
ORDER_KEY = "_expert_order"
DETERMINANTS = "Determinants"
FINISH = "Check and submit"
MAX_SEGMENT_SECONDS = 30 * 60  # longer gaps without a click count as away


def _md(text: str) -> str:
    """Plain text shown through markdown: escape the characters markdown would interpret."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text or "")


def _expert():
    principal = current_principal()
    return access.require_kind(principal, access.EXPERT)


def _save(item_key: str, widget_key: str, case_label: str | None = None, transform=None) -> None:
    """on_change callback: one short write transaction per answer."""
    value = st.session_state.get(widget_key)
    if transform is not None:
        value = transform(value)
    try:
        principal = _expert()
        with store().write(principal.actor) as session:
            panel_answers.save_answer(session, principal, item_key, value, case_label)
        st.session_state[SAVED_KEY] = time.strftime("%H:%M:%S")
        st.session_state.pop(ERROR_KEY, None)
    except access.AccessDenied as exc:
        st.session_state[ERROR_KEY] = exc.message
    except Exception as exc:  # noqa: BLE001 - shown on the next run, logged by user_errors there
        st.session_state[ERROR_KEY] = getattr(exc, "message", None) or "your answer could not be saved; please try again"


def _lines(value) -> list[str]:
    return [line for line in (value or "").splitlines() if line.strip()]


def _save_order(order: list[str], item_key: str) -> None:
    st.session_state[ORDER_KEY] = list(order)
    st.session_state["_order_value"] = list(order)
    _save(item_key, "_order_value")


def _move(order: list[str], index: int, step: int, item_key: str) -> None:
    order = list(order)
    target = index + step
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    _save_order(order, item_key)


def _go(step: str) -> None:
    st.session_state[STEP_KEY] = step


def _track_time(principal, case_label: str | None) -> None:
    """Add the time since the last rerun to the case that was on screen."""
    now = time.monotonic()
    previous = st.session_state.get(TIMING_KEY)
    st.session_state[TIMING_KEY] = (case_label, now)
    if not previous or previous[0] is None:
        return
    elapsed = now - previous[1]
    if 0 < elapsed <= MAX_SEGMENT_SECONDS:
        with user_errors("expert timing"), store().write(principal.actor) as session:
            panel_answers.record_time(session, principal, previous[0], elapsed)


def render() -> None:
    principal = principal_or_stop(access.EXPERT)
    st.title("Expert panel")
    round_view = None
    with user_errors("expert round"), store().read() as session:
        round_view = delphi.expert_round_view(session, principal)
    if round_view is not None:
        _render_round(principal, round_view)
        return
    view = None
    with user_errors("expert view"):
        with store().read() as session:
            view = panel_answers.expert_view(session, principal)
        if panel_answers.needs_open(view):
            with store().write(principal.actor) as session:
                panel_answers.open_questionnaire(session, principal)
            with store().read() as session:
                view = panel_answers.expert_view(session, principal)
    if view is None:
        return
    q = view.questionnaire
    st.subheader(q["title"])
    if view.locked:
        _render_submitted(principal, view)
        return
    if not view.cases:
        st.info("The case descriptions are not ready yet. Please come back later with the same link.")
        return

    steps = [f"{c.position}. {c.label}" for c in view.cases] + [DETERMINANTS, FINISH]
    if st.session_state.get(STEP_KEY) not in steps:
        st.session_state[STEP_KEY] = steps[0]
    step = st.session_state[STEP_KEY]
    case = next((c for c in view.cases if f"{c.position}. {c.label}" == step), None)
    _track_time(principal, case.label if case else None)

    if st.session_state.get(ERROR_KEY):
        st.error(st.session_state[ERROR_KEY])
    with st.expander("How this works", expanded=view.done == 0):
        show_markdown(q["introduction"])
    st.progress(view.progress, text=f"Progress: {view.done} of {view.total} required answers")
    if st.session_state.get(SAVED_KEY):
        st.caption(f"All answers are saved automatically (last save {st.session_state[SAVED_KEY]}).")
    st.radio("Part of the questionnaire", steps, key=STEP_KEY, horizontal=True)

    if case is not None:
        _render_case(view, case)
    elif step == DETERMINANTS:
        _render_lists(view)
    else:
        _render_finish(principal, view)

    index = steps.index(step)
    left, right = st.columns(2)
    if index > 0:
        left.button(f"Previous: {steps[index - 1]}", on_click=_go, args=(steps[index - 1],), key="expert_prev")
    if index < len(steps) - 1:
        right.button(f"Next: {steps[index + 1]}", on_click=_go, args=(steps[index + 1],), key="expert_next", type="primary")


def _render_case(view, case) -> None:
    q = view.questionnaire
    scale = q["scale"]
    points = list(range(scale["min"], scale["max"] + 1))
    text_column, form_column = st.columns([3, 2], gap="large")
    with text_column:
        st.markdown(f"### {_md(case.label)}")
        with st.container(height=560, border=True):
            show_markdown(case.text)  # headings, emphasis and lists as in the researchers' preview
    with form_column:
        st.markdown("#### Your ratings")
        st.caption(_md(q["legend"]))
        number = 0
        for item in q["items"]:
            if item["kind"] != "likert_per_case":
                continue
            number += 1
            key = f"rate|{item['key']}|{case.label}"
            current = view.answers.get(panel_answers.answer_key(item["key"], case.label))
            st.radio(f"{number}\\. {_md(item['text'])}", points, index=points.index(current) if current in points else None, key=key, horizontal=True,
                     on_change=_save, args=(item["key"], key, case.label))


def _render_lists(view) -> None:
    q = view.questionnaire
    for item in q["items"]:
        kind, key = item["kind"], item["key"]
        current = view.answers.get(key)
        widget = f"list|{key}"
        if kind in ("free_list", "additional_list"):
            st.text_area(f"{item['text']}" + ("" if item["required"] else " (optional)"), value="\n".join(current or []), key=widget, height=160,
                         on_change=_save, args=(key, widget, None, _lines))
        elif kind == "open_comment":
            st.text_area(item["text"] + ("" if item["required"] else " (optional)"), value=current or "", key=widget, height=120,
                         on_change=_save, args=(key, widget))
        elif kind == "ordered_list":
            _render_order(view, item)


def _render_order(view, item) -> None:
    listed = view.answers.get(item["options"].get("source")) or []
    saved = view.answers.get(item["key"]) or []
    order = [e for e in saved if e in listed] + [e for e in listed if e not in saved]
    st.markdown(f"**{_md(item['text'])}**")
    if not listed:
        st.caption("List your determinants above first; then order them here.")
        return
    confirmed = bool(saved) and sorted(saved) == sorted(listed)
    for index, entry in enumerate(order):
        rank, text, up, down = st.columns([1, 10, 2, 2], vertical_alignment="center")
        rank.markdown(f"**{index + 1}.**")
        text.markdown(_md(entry))
        up.button("Move up", key=f"up|{index}", disabled=index == 0, on_click=_move, args=(order, index, -1, item["key"]),
                  help=f"Move '{entry}' one place up")
        down.button("Move down", key=f"down|{index}", disabled=index == len(order) - 1, on_click=_move,
                    args=(order, index, 1, item["key"]), help=f"Move '{entry}' one place down")
    if confirmed:
        st.caption("This order is saved.")
    else:
        st.button("Confirm this order", key="confirm_order", on_click=_save_order, args=(order, item["key"]))


def _render_finish(principal, view) -> None:
    if view.missing:
        st.warning("Still to do before you can submit:\n\n" + "\n".join(f"- {_md(m)}" for m in view.missing))
    else:
        st.success("Everything required is answered. You can still change answers until you submit.")
    if st.button("Submit my answers", type="primary", key="expert_submit"):
        submitted = False
        with user_errors("expert submit"), store().write(principal.actor) as session:
            panel_answers.submit(session, principal)
            submitted = True
        if submitted:  # rerun outside the transaction, or it would roll back
            st.session_state.pop(STEP_KEY, None)
            st.rerun()


def _render_submitted(principal, view) -> None:
    when = f" on {view.submitted_at:%Y-%m-%d %H:%M} UTC" if view.submitted_at else ""
    st.success(f"Thank you. Your answers were submitted{when} and are now locked.")
    with user_errors("expert copy"), store().read() as session:
        copy = panel_answers.printable_copy(session, principal)
    st.download_button("Download a printable copy of my answers (HTML, print to PDF)", data=copy,
                       file_name=f"answers-{view.pseudonym}.html", mime="text/html", key="expert_copy")
    if st.toggle("Show my answers here", key="expert_show_copy"):
        st.html(copy)


# --- Delphi rounds (from round 2) ---------------------------------------------------------------
ROUND_STEP_KEY = "expert_round_step"


def _number(value) -> str:
    return f"{value:g}"


def _feedback_text(item) -> str:
    f = item.feedback
    if not f:
        return "No group answer in the previous round."
    return (f"Panel in the previous round (n = {f['n']}): median **{_number(f['median'])}**, interquartile range "
            f"**{_number(f['q1'])} to {_number(f['q3'])}** (IQR {_number(f['iqr'])})")


def _render_round(principal, view) -> None:
    """A later Delphi round: per case the statements with the group's median and IQR and the
    expert's own previous answer; keep or revise (a revision needs a reason), then submit."""
    st.subheader(f"Round {view.number}")
    if view.status == "submitted":
        st.success(f"Thank you. Your answers for round {view.number} are submitted and locked.")
        return
    if view.status == "closed":
        st.info(f"Round {view.number} is closed; answers can no longer be given. Thank you for taking part.")
        return
    with st.expander("How this round works", expanded=True):
        show_markdown(view.introduction)
        st.caption(_md(f"{view.legend} Quartiles by {view.quartile_method}."))
    texts = {}
    with user_errors("expert round texts"), store().read() as session:
        texts = {c.label: c.text for c in panel_answers.expert_view(session, principal).cases}
    revised = sum(1 for i in view.items if i.revised)
    touched = sum(1 for i in view.items if i.value is not None)
    st.caption(f"{touched} of {len(view.items)} statements answered in this round ({revised} revised); "
               "untouched statements keep your previous answer when you submit.")
    steps = view.cases + [FINISH]
    if st.session_state.get(ROUND_STEP_KEY) not in steps:
        st.session_state[ROUND_STEP_KEY] = steps[0]
    st.radio("Part of the questionnaire", steps, key=ROUND_STEP_KEY, horizontal=True)
    step = st.session_state[ROUND_STEP_KEY]
    if step == FINISH:
        _render_round_finish(principal, view)
        return
    text_column, form_column = st.columns([2, 3], gap="large")
    with text_column:
        st.markdown(f"### {_md(step)}")
        with st.container(height=520, border=True):
            show_markdown(texts.get(step, ""))
    with form_column:
        _render_round_case(principal, view, step)


def _render_round_case(principal, view, case: str) -> None:
    points = list(range(view.scale["min"], view.scale["max"] + 1))
    with st.form(f"round|{case}"):
        for number, item in enumerate(view.items_of(case), start=1):
            with st.container(border=True):
                st.markdown(f"**{number}\\. {_md(item.text)}**")
                st.markdown(_feedback_text(item))
                st.markdown(f"Your answer in the previous round: **{item.previous}**")
                current = item.value if item.value is not None else item.previous
                st.radio(f"Your answer in round {view.number}", points, index=points.index(current) if current in points else None,
                         key=f"round|{item.key}|{case}", horizontal=True)
                st.text_input("Reason, if you change your answer", value=item.reason, key=f"reason|{item.key}|{case}",
                              max_chars=delphi.MAX_REASON)
        submitted = st.form_submit_button(f"Save my answers for {case}", type="primary")
    if submitted:
        answers = {item.key: (st.session_state.get(f"round|{item.key}|{case}"), st.session_state.get(f"reason|{item.key}|{case}") or "")
                   for item in view.items_of(case)}
        saved = False
        with user_errors("expert round save"), store().write(principal.actor) as session:
            delphi.save_case_revisions(session, principal, case, answers)
            saved = True
        if saved:  # rerun outside the transaction, or it would roll back
            st.session_state[SAVED_KEY] = time.strftime("%H:%M:%S")
            st.rerun()
    if st.session_state.get(SAVED_KEY):
        st.caption(f"Saved at {st.session_state[SAVED_KEY]}.")


def _render_round_finish(principal, view) -> None:
    revisions = [i for i in view.items if i.revised]
    if revisions:
        st.markdown("Your revisions in this round:\n\n" + "\n".join(
            f"- {_md(i.case)}, {_md(i.text)}: {i.previous} to {i.value} ({_md(i.reason)})" for i in revisions))
    else:
        st.markdown("You have not revised any answer; submitting keeps all your previous answers.")
    if st.button(f"Submit my round {view.number} answers", type="primary", key="expert_round_submit"):
        submitted = False
        with user_errors("expert round submit"), store().write(principal.actor) as session:
            delphi.submit_round(session, principal)
            submitted = True
        if submitted:
            st.session_state.pop(ROUND_STEP_KEY, None)
            st.rerun()
