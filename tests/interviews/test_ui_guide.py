"""AppTest of the interviews page: the guide tab and the guide beside the transcript, documents
imported without a respondent, the interview session saved with its status."""

from __future__ import annotations

from casestudy import study as studies
from casestudy.interviews import guide as guides
from casestudy.interviews import store as interviews_store
from tests.interviews.test_guide import GUIDE_YAML
from tests.interviews.test_interviews import demo_store  # noqa: F401  (the demo without its transcripts)
from tests.interviews.test_ui_interviews import TRANSCRIPT, _import, page_app  # noqa: F401


def test_guide_tab_stores_a_version_and_offers_every_format(page_app, demo_store):
    at = page_app()
    at.run()
    assert not at.exception
    assert at.selectbox(key="guide_version").value == 1  # the demo's guide
    at.file_uploader(key="guide_upload").set_value([("guide.yaml", GUIDE_YAML.encode(), "application/x-yaml")])
    at.text_input(key="guide_note").set_value("shorter guide")
    next(b for b in at.button if b.label == "Store guide").click()
    at.run()
    assert not at.exception
    assert "Stored interview guide version 2." in [s.value for s in at.success]
    assert at.selectbox(key="guide_version").value == 2
    assert {b.label for b in at.get("download_button")} >= {"YAML", "CSV", "Markdown", "DOCX"}
    with demo_store.read() as session:
        assert [(r["number"], r["note"]) for r in guides.guide_records(session, studies.get_study(session))] == [
            (1, "the demo's guide"), (2, "shorter guide")]


def test_reader_shows_the_guide_for_the_respondents_role(page_app, demo_store):
    _import(demo_store)
    at = page_app()
    at.run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "#### Implementation of MBT, semi-structured interview (version 1)" in shown
    assert "*For respondents in the role manager.*" in shown


def test_import_a_document_without_respondent(page_app, demo_store):
    at = page_app()
    at.run()
    at.radio(key="upload_kind").set_value("document")
    at.run()
    assert not any(s.key == "upload_respondent" for s in at.selectbox)
    at.file_uploader(key="upload_files").set_value([("minutes.txt", b"Board meeting. The budget is cut.\n", "text/plain")])
    at.text_input(key="upload_doctype").set_value("meeting minutes")
    at.run()
    at.button(key="upload_import").click()
    at.run()
    assert not at.exception
    with demo_store.read() as session:
        [document] = interviews_store.list_interviews(session, studies.get_study(session))
        assert (document.kind, document.respondent_id, document.document_type) == ("document", None, "meeting minutes")


def test_session_saved_with_status_and_refused_without_observer(page_app, demo_store):
    interview_id = _import(demo_store)
    at = page_app()
    at.run()
    status = next(s for s in at.selectbox if s.label == "Status")
    status.set_value("checked")
    next(b for b in at.button if b.label == "Save session").click()
    at.run()
    assert any("has no observer" in e.value for e in at.error)
    next(t for t in at.text_input if t.label == "Observer").set_value("Cor")
    next(s for s in at.selectbox if s.label == "Status").set_value("checked")
    next(t for t in at.text_area if t.label == "Observer's note").set_value("two probes came early")
    next(b for b in at.button if b.label == "Save session").click()
    at.run()
    assert not at.exception
    assert "Session saved." in [s.value for s in at.success]
    with demo_store.read() as session:
        interview = interviews_store.get_interview(session, studies.get_study(session), interview_id)
        assert (interview.observer, interview.session_status, interview.observer_note) == ("Cor", "checked", "two probes came early")
