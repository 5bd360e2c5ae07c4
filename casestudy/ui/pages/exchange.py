"""Exchange with other QDA tools (NVivo, ATLAS.ti, MAXQDA, QualCoder): REFI-QDA .qdpx export and import."""

from __future__ import annotations

import streamlit as st

from casestudy import security
from casestudy.exchange import constants as exchange_constants
from casestudy.exchange import export as exchange_export
from casestudy.exchange import importer
from casestudy.exchange import offsets as exchange_offsets
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors

PAGE = PageSpec(title="Exchange (REFI-QDA)", url_path="exchange", audience=("researcher",), section="Results", order=110)
EXPORT_KEY = "exchange_export"
IMPORT_REPORT_KEY = "exchange_import_report"
OFFSET_LABELS = {"auto": "Detect (verify against the selection texts)", **exchange_offsets.OFFSET_HELP}


def _show_report(report: dict) -> None:
    st.code("\n".join(importer.report_lines(report)), language=None)


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Exchange with other QDA tools")
    st.caption("REFI-QDA projects (.qdpx) move a study to and from NVivo, ATLAS.ti, MAXQDA, QualCoder and others. "
               "The file holds the raw transcripts, internal case labels and organisation names: share it with the research team only.")

    st.subheader("Export this study")
    left, middle, right = st.columns(3)
    qualify = left.checkbox("Parent path in shared code names", key="exchange_qualify",
                            help="QualCoder's code names are unique project-wide: codes sharing a name in different branches would lose their codings there.")
    export_offsets = middle.selectbox("Text positions", list(exchange_constants.EXPORT_OFFSETS), format_func=exchange_constants.EXPORT_OFFSETS.get, key="exchange_export_offsets")
    line_endings = right.selectbox("Line ends", list(exchange_constants.LINE_ENDINGS), format_func=exchange_constants.LINE_ENDINGS.get, key="exchange_line_endings")
    if st.button("Prepare .qdpx export", key="exchange_export_button"):
        with user_errors("REFI-QDA export"), st.spinner("Building the .qdpx project…", show_time=True), store().write(principal.actor) as session:
            study = current_study(session, "viewer")  # exporting reads the study; the write only audits it
            options = exchange_export.ExportOptions(qualify_names=qualify, offsets=export_offsets, line_endings=line_endings)
            data, report = exchange_export.build_qdpx(session, study, principal, options)
            st.session_state[EXPORT_KEY] = (data, report, study.title)
    prepared = st.session_state.get(EXPORT_KEY)
    if prepared:
        data, report, title = prepared
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in title).strip("-")[:80] or "study"
        st.download_button(f"Download {name}.qdpx", data, file_name=f"{name}.qdpx", mime="application/zip", key="exchange_download")
        for warning in report.get("warnings", []):
            st.warning(warning)
        st.markdown("**Not carried by the standard** (also written into the file as a note):")
        for line in report["not_carried"]:
            st.markdown(f"- {line}")
        with st.expander("Export report"):
            _show_report(report)

    st.subheader("Import a project into a new study")
    if not principal.can_edit:
        st.info("Viewers cannot import projects.")
        return
    upload = st.file_uploader("REFI-QDA project (.qdpx)", type=["qdpx"], key="exchange_upload")
    title = st.text_input("Title of the new study (default: the project's name)", key="exchange_title")
    offsets = st.selectbox("Text positions in the file", list(OFFSET_LABELS), format_func=OFFSET_LABELS.get, key="exchange_offsets")
    cases_from_sets = st.checkbox("Import sets of sources as cases (MAXQDA's document groups)", key="exchange_cases_from_sets")
    if upload is not None and st.button("Import into a new study", key="exchange_import", type="primary"):
        st.session_state.pop(IMPORT_REPORT_KEY, None)
        with user_errors("REFI-QDA import"):
            data = security.read_upload(upload.name, upload)
            with st.spinner("Importing the project…", show_time=True):
                report = importer.import_qdpx_staged(store(), principal.actor, data, title=title.strip() or None, offset_mode=offsets,
                                                     principal=principal, cases_from_sets=cases_from_sets)
            report["file"] = upload.name
            st.session_state[IMPORT_REPORT_KEY] = report
    report = st.session_state.get(IMPORT_REPORT_KEY)
    if report:
        st.success(f"Imported into the new study {report['title']!r}: {report['sources']} sources, "
                   f"{report['codes']} codes, {report['codings']} codings, {report['memos']} memos.")
        for message in report["messages"]:
            st.warning(message)
        _show_report(report)
