"""Interviews: upload transcripts with a preview, fix speaker mapping, read with line numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.interviews import convert, segment
from casestudy.interviews import store as interviews_store
from casestudy.models import SPEAKER_ROLES
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Interviews", url_path="interviews", audience=("researcher",), section="Study", order=30)
PREVIEW_ROWS = 200
LINES_PER_PAGE = 2000


@st.cache_data(show_spinner=False, max_entries=32)
def _parse(file_name: str, data: bytes, language: str, respondent: str, interviewer: str) -> segment.ParsedTranscript:
    return segment.parse_transcript(file_name, data, language, respondent, interviewer)


def render() -> None:
    principal = principal_or_stop()
    st.title("Interviews")
    with user_errors("interviews"), store().read() as session:
        study = studies.get_study(session)
        records = interviews_store.interview_records(session, interviews_store.list_interviews(session, study, principal=principal))
        cases = {c.public_label: [(r.name, r.role, studies.analysis_blocked(r)) for r in c.respondents] for c in studies.list_cases(session, study)}
        language = study.language
    if not cases:
        st.info("Add cases and respondents first (page 'Cases and respondents').")
        return
    if records:
        st.dataframe(
            pd.DataFrame([{k: r[k] for k in ("id", "case", "respondent", "role", "file", "encoding", "characters", "turns", "sentences", "language", "date", "consent_withdrawn")} for r in records]),
            hide_index=True, width="stretch",
        )
    for r in records:
        if r["consent_withdrawn"]:
            st.warning(f"Interview {r['id']} ({r['case']}, {r['respondent']}): interview consent withdrawn; the material may not be analysed further.")
    tabs = st.tabs(["Read", "Import", "Edit"] if principal.can_edit else ["Read"])
    with tabs[0]:
        _reader(records)
    if principal.can_edit:
        with tabs[1]:
            _importer(principal, cases, language)
        with tabs[2]:
            _editor(principal, records)


def _label(record: dict) -> str:
    return f"{record['id']} · {record['case']} · {record['respondent']} · {record['file']}"


def _reader(records: list[dict]) -> None:
    if not records:
        st.info("No transcripts imported yet.")
        return
    chosen = st.selectbox("Transcript", records, format_func=_label, key="reader_interview")
    with user_errors("read transcript"), store().read() as session:
        interview = interviews_store.get_interview(session, studies.get_study(session), chosen["id"])
        text, turns = interview.text, interviews_store.turns_of(session, interview)
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
    st.html(interviews_store.transcript_html(text, turns, first, first + LINES_PER_PAGE - 1))


def _importer(principal, cases: dict, language: str) -> None:
    uploads = st.file_uploader(
        "Transcripts (drag and drop one or many)", type=list(convert.FORMATS), accept_multiple_files=True, key="upload_files"
    )
    labels = list(cases)
    case = st.selectbox("Case", labels, key="upload_case")
    people = cases.get(case, [])
    if not people:
        st.warning(f"{case} has no respondents yet.")
        return
    respondent = st.selectbox(
        "Respondent", people, key="upload_respondent",
        format_func=lambda p: f"{p[0]} ({p[1]})" + (" – consent withdrawn" if p[2] else ""),
    )
    if respondent[2]:
        st.error(f"{respondent[0]} withdrew interview consent: their material cannot be imported or analysed.")
    left, middle, right = st.columns(3)
    lang = left.text_input("Language", value=language, key="upload_language")
    date = middle.text_input("Date (YYYY-MM-DD)", key="upload_date")
    interviewer = right.text_input("Interviewer", key="upload_interviewer")
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
                                               interviewer, speaker_roles=roles or None))
    if any(item is None for item in items):
        st.error("Fix or remove the files with errors: an import stores all files or none.")
        return
    if st.button(f"Import {len(items)} file{'s' if len(items) != 1 else ''}", type="primary", key="upload_import"):
        with user_errors("import interviews"), store().write(principal.actor) as session:
            imported = interviews_store.import_interviews(session, studies.get_study(session), items)
            names = ", ".join(f"{i.file_name} (interview {i.id})" for i in imported)
            st.success(f"Imported {names}.")


def _turn_rows(parsed: segment.ParsedTranscript, roles: dict[str, str]) -> list[dict]:
    index = segment.line_index(parsed.text)
    rows = []
    for t in parsed.turns[:PREVIEW_ROWS]:
        words = parsed.text[t.text_start : t.end]
        rows.append({"#": t.ordinal, "line": index.line_of(t.start), "time": t.time, "speaker": t.speaker,
                     "role": roles.get(t.speaker, t.role), "text": words[:160] + ("…" if len(words) > 160 else "")})
    return rows


def _editor(principal, records: list[dict]) -> None:
    if not records:
        st.info("No transcripts imported yet.")
        return
    chosen = st.selectbox("Transcript", records, format_func=_label, key="edit_interview")
    with st.form("speaker_mapping"):
        st.markdown("**Speaker mapping**")
        mapping = {
            label: st.selectbox(label or "(unlabelled)", SPEAKER_ROLES, index=SPEAKER_ROLES.index(role), key=f"edit_map_{chosen['id']}_{n}")
            for n, (label, role) in enumerate(chosen["speakers"].items())
        }
        if st.form_submit_button("Save mapping"):
            with user_errors("speaker mapping"), store().write(principal.actor) as session:
                interview = interviews_store.get_interview(session, studies.get_study(session), chosen["id"])
                interviews_store.set_speaker_roles(session, interview, mapping, expected_version=chosen["version"])
                st.success("Speaker mapping saved.")
    with st.form("interview_metadata"):
        st.markdown("**Interview details**")
        interviewer = st.text_input("Interviewer", chosen["interviewer"])
        observer = st.text_input("Observer", chosen["observer"])
        date = st.text_input("Date (YYYY-MM-DD)", str(chosen["date"] or ""))
        duration = st.number_input("Duration (minutes)", 0, 1000, chosen["duration_minutes"] or 0)
        audio = st.text_input("Audio file reference", chosen["audio_ref"])
        notes = st.text_area("Notes", chosen["notes"])
        if st.form_submit_button("Save details"):
            with user_errors("interview details"), store().write(principal.actor) as session:
                interview = interviews_store.get_interview(session, studies.get_study(session), chosen["id"])
                interviews_store.update_metadata(session, interview, expected_version=chosen["version"], interviewer=interviewer, observer=observer,
                                           date=date or None, duration_minutes=int(duration) or None, audio_ref=audio, notes=notes)
                st.success("Details saved.")
