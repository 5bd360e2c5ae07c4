"""Interviews: upload transcripts (and other documents of a case) with a preview, fix the speaker
mapping, record the interview session, read with line numbers beside the interview guide, and
keep the study's versioned interview guide."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import periods
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.interviews import convert, segment
from casestudy.interviews import guide as guides
from casestudy.interviews import store as interviews_store
from casestudy.interviews.constants import GUIDE_FORMATS, SESSION_STATUSES
from casestudy.models import SPEAKER_ROLES
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, rerun_with, show_flash, store, user_errors
from casestudy.ui.widgets import preselect_case

PAGE = PageSpec(title="Interviews", url_path="interviews", audience=("researcher",), section="Study", order=30)
PREVIEW_ROWS = 200
LINES_PER_PAGE = 2000
LIST_COLUMNS = ("id", "kind", "case", "respondent", "role", "document_type", "period", "file", "characters", "turns", "language", "date",
                "interviewer", "observer", "duration_minutes", "session_status", "consent_withdrawn")
KIND_LABELS = {"interview": "Interview transcript", "document": "Other document (minutes, report, log...)"}
GUIDE_MIME = {"yaml": "application/x-yaml", "csv": "text/csv", "markdown": "text/markdown",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
GUIDE_SUFFIX = {"yaml": "yaml", "csv": "csv", "markdown": "md", "docx": "docx"}


@st.cache_data(show_spinner=False, max_entries=32)
def _parse(file_name: str, data: bytes, language: str, respondent: str, interviewer: str) -> segment.ParsedTranscript:
    return segment.parse_transcript(file_name, data, language, respondent, interviewer)


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Interviews")
    with user_errors("interviews"), store().read() as session:
        study = current_study(session)
        records = interviews_store.interview_records(session, interviews_store.list_interviews(session, study, principal=principal))
        case_rows = studies.list_cases(session, study)
        cases = {c.public_label: [(r.name, r.role, studies.analysis_blocked(r)) for r in c.respondents] for c in case_rows}
        case_periods = {c.public_label: [p.name for p in periods.list_periods(session, c)] for c in case_rows}
        language = study.language
    if not cases:
        st.info("Add cases and respondents first (page 'Cases and respondents') to import transcripts; "
                "the interview guide can be kept already.")
        st.subheader("Interview guide")
        _guide_tab(principal)  # written before anyone is interviewed
        return
    if records:
        st.dataframe(pd.DataFrame([{k: r[k] for k in LIST_COLUMNS} for r in records]), hide_index=True, width="stretch",
                     column_config={"session_status": st.column_config.TextColumn("session"), "duration_minutes": st.column_config.NumberColumn("minutes"),
                                    "document_type": st.column_config.TextColumn("document")})
    for r in records:
        if r["consent_withdrawn"]:
            st.warning(f"Interview {r['id']} ({r['case']}, {r['respondent']}): interview consent withdrawn; the material may not be analysed further.")
    tabs = st.tabs(["Read", "Interview guide", "Import", "Edit"] if principal.can_edit else ["Read", "Interview guide"])
    with tabs[0]:
        _reader(records)
    with tabs[1]:
        _guide_tab(principal)
    if principal.can_edit:
        with tabs[2]:
            _importer(principal, cases, case_periods, language)
        with tabs[3]:
            _editor(principal, records, case_periods)


def _label(record: dict) -> str:
    who = record["respondent"] if record["kind"] == "interview" else f"document: {record['document_type'] or 'untitled'}"
    return f"{record['id']} · {record['case']} · {who} · {record['file']}"


def _reader(records: list[dict]) -> None:
    if not records:
        st.info("No transcripts imported yet.")
        return
    chosen = st.selectbox("Transcript", records, format_func=_label, key="reader_interview")
    guide_text = ""
    with user_errors("read transcript"), store().read() as session:
        interview = interviews_store.get_interview(session, current_study(session), chosen["id"])
        text, turns = interview.text, interviews_store.turns_of(session, interview)
        guide_text = guides.guide_text_for(session, interview, heading_level=4)
    if chosen["consent_withdrawn"]:
        st.warning(f"{chosen['respondent']} withdrew interview consent: read only, do not analyse.")
    total = len(segment.line_index(text))
    pages = max(1, -(-total // LINES_PER_PAGE))
    page = st.number_input(f"Page (of {pages}, {LINES_PER_PAGE} lines each)", 1, pages, 1, key="reader_page") if pages > 1 else 1
    first = (page - 1) * LINES_PER_PAGE + 1
    st.caption(
        f"{chosen['characters']:,} characters · {total:,} lines · {chosen['turns']} turns · {chosen['sentences']} sentences · "
        f"encoding {chosen['encoding']} · colours: "
        + " · ".join(f":{c}[{role}]" for role, c in (("interviewer", "blue"), ("respondent", "gray"), ("other", "orange")))
    )
    if guide_text:
        left, right = st.columns([3, 2])
        left.html(interviews_store.transcript_html(text, turns, first, first + LINES_PER_PAGE - 1))
        with right.container(height=700, border=True):
            st.markdown(guide_text)
    else:
        st.html(interviews_store.transcript_html(text, turns, first, first + LINES_PER_PAGE - 1))


def _guide_tab(principal) -> None:
    """The study's guide versions: read one, download it, store a new version from YAML or CSV."""
    with user_errors("interview guide"), store().read() as session:
        study = current_study(session)
        records = guides.guide_records(session, study)
        if not records:
            st.info("No interview guide yet. Import one as YAML or CSV (open questions and probes per topic); "
                    "`casestudy guide export --format yaml` shows the layout.")
        else:
            numbers = [r["number"] for r in records]
            number = st.selectbox("Version", numbers[::-1], format_func=lambda n: f"version {n} · {records[numbers.index(n)]['title']}",
                                  key="guide_version")
            record = records[numbers.index(number)]
            st.caption(f"{record['topics']} topics · {record['open']} open questions · {record['probes']} probes · stored "
                       f"{record['created_at']:%Y-%m-%d} by {record['created_by'] or 'unknown'}"
                       + (f" · {record['note']}" if record["note"] else "")
                       + f" · {record['interviews']} interview(s) assigned to it (the rest follow the newest)")
            guide = guides.guide_of(guides.get_guide(session, study, number))
            columns = st.columns(len(GUIDE_FORMATS))
            for column, fmt in zip(columns, GUIDE_FORMATS):
                column.download_button(fmt.upper() if fmt != "markdown" else "Markdown", guides.export_guide(guide, fmt, number),
                                       file_name=f"interview-guide-v{number}.{GUIDE_SUFFIX[fmt]}", mime=GUIDE_MIME[fmt], key=f"guide_dl_{fmt}")
            with st.container(border=True):
                st.markdown(guides.guide_markdown(guide, number=number, heading_level=3))
    if not principal.can_edit:
        return
    show_flash("interview guide")
    with st.form("guide_import", clear_on_submit=True):
        st.markdown("**Store a new version**")
        upload = st.file_uploader("Guide file (YAML or CSV)", type=["yaml", "yml", "csv"], key="guide_upload")
        note = st.text_input("What changed", key="guide_note")
        if st.form_submit_button("Store guide") and upload is not None:
            with user_errors("interview guide"):
                guide = guides.read_guide(upload.name, upload.getvalue())
                with store().write(principal.actor) as session:
                    stored, what = guides.store_guide(session, current_study(session), guide, principal.name, note)
                    number = stored.number
                st.session_state.pop("guide_version", None)  # show the newest version after the rerun
                rerun_with(f"Stored interview guide version {number}." if what == "added" else
                           f"The file equals version {number}: nothing stored.", "interview guide")


def _importer(principal, cases: dict, case_periods: dict, language: str) -> None:
    kind = st.radio("What", list(KIND_LABELS), format_func=KIND_LABELS.get, horizontal=True, key="upload_kind")
    uploads = st.file_uploader(
        "Transcripts (drag and drop one or many)" if kind == "interview" else "Documents (drag and drop one or many)",
        type=list(convert.FORMATS), accept_multiple_files=True, key="upload_files"
    )
    labels = list(cases)
    preselect_case("upload_case", labels)
    case = st.selectbox("Case", labels, key="upload_case")
    document_type = ""
    left, right = st.columns(2)
    if kind == "document":
        respondent = ("", None, False)
        document_type = left.text_input("Document type", placeholder="meeting minutes, internal report, incident log…", key="upload_doctype")
    else:
        people = cases.get(case, [])
        if not people:
            st.warning(f"{case} has no respondents yet.")
            return
        respondent = left.selectbox(
            "Respondent", people, key="upload_respondent",
            format_func=lambda p: f"{p[0]} ({p[1]})" + (" – consent withdrawn" if p[2] else ""),
        )
    period = _period_choice(right, case_periods.get(case, []), None, key="upload_period")
    if respondent[2]:
        st.error(f"{respondent[0]} withdrew interview consent: their material cannot be imported or analysed.")
    left, middle, right = st.columns(3)
    lang = left.text_input("Language", value=language, key="upload_language")
    date = middle.text_input("Date (YYYY-MM-DD)", key="upload_date")
    interviewer = right.text_input("Interviewer", key="upload_interviewer", disabled=kind == "document")
    if not uploads:
        return
    items = []
    for upload in uploads:
        data = upload.getvalue()
        with st.expander(f"{upload.name}", expanded=len(uploads) == 1):
            try:
                parsed = _parse(upload.name, data, lang.strip().lower() or language, respondent[0], interviewer)
            except UserError as exc:
                st.error(exc.message)
                items.append(None)
                continue
            st.caption(f"{parsed.format} · {parsed.encoding} · {len(parsed.text):,} characters · {parsed.words:,} words · "
                       f"{len(parsed.turns)} turns · {len(parsed.sentences)} sentences")
            for warning in parsed.warnings:
                st.warning(warning)
            roles = {}
            if parsed.speaker_roles:
                st.markdown("**Speaker mapping**")
                columns = st.columns(min(4, len(parsed.speaker_roles)))
                for n, (label, guess) in enumerate(parsed.speaker_roles.items()):
                    roles[label] = columns[n % len(columns)].selectbox(
                        label or "(unlabelled)", SPEAKER_ROLES, index=SPEAKER_ROLES.index(guess), key=f"map_{parsed.sha256[:12]}_{n}"
                    )
            st.markdown("**Turns**")
            st.dataframe(pd.DataFrame(_turn_rows(parsed, roles)), hide_index=True, width="stretch")
            st.markdown("**Sentences**")
            st.dataframe(
                pd.DataFrame([{"#": s.ordinal, "turn": s.turn_ordinal, "start": s.start, "end": s.end, "sentence": parsed.text[s.start : s.end]}
                              for s in parsed.sentences[:PREVIEW_ROWS]]),
                hide_index=True, width="stretch",
            )
            items.append(interviews_store.ImportItem(upload.name, data, case, respondent[0], respondent[1], lang or None, date or None,
                                                     interviewer if kind == "interview" else "", speaker_roles=roles or None,
                                                     kind=kind, document_type=document_type, period=period))
    if any(item is None for item in items):
        st.error("Fix or remove the files with errors: an import stores all files or none.")
        return
    if st.button(f"Import {len(items)} file{'s' if len(items) != 1 else ''}", type="primary", key="upload_import"):
        with user_errors("import interviews"), st.spinner("Importing and segmenting the transcripts…", show_time=True), \
                store().write(principal.actor) as session:
            imported = interviews_store.import_interviews(session, current_study(session), items)
            names = ", ".join(f"{i.file_name} (interview {i.id})" for i in imported)
            st.success(f"Imported {names}.")


NO_PERIOD = "(no period)"


def _period_choice(column, period_names: list[str], current: str | None, key: str | None = None) -> str:
    """A selector of the case's periods (and none); the chosen name, "" for none."""
    choices = [NO_PERIOD, *period_names]
    chosen = column.selectbox("Period", choices, index=choices.index(current) if current in choices else 0, key=key,
                              help="The period of the case this text speaks about; its codings take it unless a coding names its own"
                              if period_names else "The case has no periods (add them on the Periods and focus groups page)")
    return "" if chosen == NO_PERIOD else chosen


def _turn_rows(parsed: segment.ParsedTranscript, roles: dict[str, str]) -> list[dict]:
    index = segment.line_index(parsed.text)
    rows = []
    for t in parsed.turns[:PREVIEW_ROWS]:
        words = parsed.text[t.text_start : t.end]
        rows.append({"#": t.ordinal, "line": index.line_of(t.start), "time": t.time, "speaker": t.speaker,
                     "role": roles.get(t.speaker, t.role), "text": words[:160] + ("…" if len(words) > 160 else "")})
    return rows


def _editor(principal, records: list[dict], case_periods: dict) -> None:
    if not records:
        st.info("No transcripts imported yet.")
        return
    chosen = st.selectbox("Transcript", records, format_func=_label, key="edit_interview")
    if chosen["kind"] == "document":
        _document_editor(principal, chosen, case_periods.get(chosen["case"], []))
        return
    with st.form("speaker_mapping"):
        st.markdown("**Speaker mapping**")
        mapping = {
            label: st.selectbox(label or "(unlabelled)", SPEAKER_ROLES, index=SPEAKER_ROLES.index(role), key=f"edit_map_{chosen['id']}_{n}")
            for n, (label, role) in enumerate(chosen["speakers"].items())
        }
        if st.form_submit_button("Save mapping"):
            with user_errors("speaker mapping"), store().write(principal.actor) as session:
                interview = interviews_store.get_interview(session, current_study(session), chosen["id"])
                interviews_store.set_speaker_roles(session, interview, mapping, expected_version=chosen["version"])
                st.success("Speaker mapping saved.")
    show_flash("interview details")
    with st.form(f"interview_metadata_{chosen['id']}"):
        st.markdown("**Interview session**")
        left, right = st.columns(2)
        interviewer = left.text_input("Interviewer", chosen["interviewer"])
        observer = right.text_input("Observer", chosen["observer"])
        date = left.text_input("Date (YYYY-MM-DD)", str(chosen["date"] or ""))
        duration = right.number_input("Duration (minutes)", 0, 1000, chosen["duration_minutes"] or 0)
        audio = st.text_input("Audio file reference", chosen["audio_ref"])
        status = left.selectbox("Status", SESSION_STATUSES, index=SESSION_STATUSES.index(chosen["session_status"]),
                                help="checked: the observer checked the interview (needs an observer)")
        checked_at = right.text_input("Checked on (YYYY-MM-DD; empty: today)", str(chosen["checked_at"] or ""))
        observer_note = st.text_area("Observer's note", chosen["observer_note"])
        period = _period_choice(st, case_periods.get(chosen["case"], []), chosen["period"])
        probe_start = st.number_input("Probes start at turn (empty: found from the interview guide)", min_value=0, step=1,
                                      value=chosen["probe_start_turn"], placeholder="from the guide")
        notes = st.text_area("Notes", chosen["notes"])
        if st.form_submit_button("Save session"):
            with user_errors("interview details"):
                with store().write(principal.actor) as session:
                    interview = interviews_store.get_interview(session, current_study(session), chosen["id"])
                    interviews_store.update_metadata(session, interview, expected_version=chosen["version"], interviewer=interviewer,
                                                     observer=observer, date=date or None, duration_minutes=int(duration) or None,
                                                     audio_ref=audio, notes=notes, session_status=status, observer_note=observer_note,
                                                     checked_at=checked_at or None, period=period,
                                                     probe_start_turn=None if probe_start is None else int(probe_start))
                rerun_with("Session saved.", "interview details")  # after the write has committed


def _document_editor(principal, chosen: dict, period_names: list[str]) -> None:
    show_flash("document details")
    with st.form(f"document_metadata_{chosen['id']}"):
        st.markdown("**Document details**")
        document_type = st.text_input("Document type", chosen["document_type"])
        period = _period_choice(st, period_names, chosen["period"])
        date = st.text_input("Date (YYYY-MM-DD)", str(chosen["date"] or ""))
        notes = st.text_area("Notes", chosen["notes"])
        if st.form_submit_button("Save details"):
            with user_errors("document details"):
                with store().write(principal.actor) as session:
                    interview = interviews_store.get_interview(session, current_study(session), chosen["id"])
                    interviews_store.update_metadata(session, interview, expected_version=chosen["version"], document_type=document_type,
                                                     period=period, date=date or None, notes=notes)
                rerun_with("Details saved.", "document details")
