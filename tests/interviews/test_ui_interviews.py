"""AppTest of the interviews page: upload with preview and mapping, import, reader, edit, consent."""

from __future__ import annotations

import datetime as dt

import pytest

from casestudy import access
from casestudy import study as studies
from casestudy import users
from casestudy.interviews import store as interviews_store
from casestudy import models

TRANSCRIPT = "[00:00:05] Interviewer: Welcome. How did it start?\nMarleen: Slowly. The café <b>was</b> our room.\n"


def _page():
    from casestudy.ui.pages import interviews as page

    page.render()


from tests.interviews.test_interviews import demo_store  # noqa: F401,F811,E402  (the demo without its transcripts)


@pytest.fixture
def page_app(demo_store, monkeypatch):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", demo_store.url)
    from streamlit.testing.v1 import AppTest

    with demo_store.read() as session:
        admin = next(u for u in users.list_users(session) if u.username == "admin")
        principal = access.researcher(admin)

    def new(principal=principal):
        at = AppTest.from_function(_page, default_timeout=60)
        at.session_state["_principal"] = principal
        return at

    return new


def test_upload_preview_mapping_and_import(page_app, demo_store):
    at = page_app()
    at.run()
    assert not at.exception
    uploader = at.file_uploader(key="upload_files")
    uploader.set_value([("a.txt", TRANSCRIPT.encode(), "text/plain"), ("bad.txt", b"", "text/plain")])
    at.run()
    assert not at.exception
    assert "bad.txt: the file is empty" in [e.value for e in at.error]
    assert not any(b.key == "upload_import" for b in at.button)  # all or nothing: no import while a file fails
    at.file_uploader(key="upload_files").set_value([("a.txt", TRANSCRIPT.encode(), "text/plain")])
    at.run()
    turns = at.dataframe[-2].value
    assert turns["speaker"].tolist() == ["Interviewer", "Marleen"] and turns["time"].tolist() == ["00:00:05", ""]
    sentences = at.dataframe[-1].value["sentence"].tolist()
    assert sentences == ["Welcome.", "How did it start?", "Slowly.", "The café <b>was</b> our room."]
    mapping = [s for s in at.selectbox if s.key and s.key.startswith("map_")]
    assert [s.value for s in mapping] == ["interviewer", "respondent"]
    mapping[1].set_value("other")
    at.run()
    at.button(key="upload_import").click()
    at.run()
    assert not at.exception
    assert any("Imported a.txt" in s.value for s in at.success)
    with demo_store.read() as session:
        [interview] = interviews_store.list_interviews(session, studies.get_study(session))
        assert interview.text == TRANSCRIPT and interview.speaker_roles == {"Interviewer": "interviewer", "Marleen": "other"}


def _import(store, text=TRANSCRIPT):
    with store.write() as session:
        [interview] = interviews_store.import_interviews(
            session, studies.get_study(session), [interviews_store.ImportItem("a.txt", text.encode(), "Case A", "Marleen Verhoef")]
        )
        return interview.id


def test_reader_shows_escaped_numbered_lines_and_consent_warning(page_app, demo_store):
    _import(demo_store)
    with demo_store.write() as session:
        case = studies.get_case(session, studies.get_study(session), "Case A")
        studies.withdraw_consent(session, case.respondents[0], "interview", dt.date(2024, 5, 1))
    at = page_app()
    at.run()
    assert not at.exception
    html = at.get("html")[0].proto.body
    assert "&lt;b&gt;was&lt;/b&gt;" in html and "<b>was</b>" not in html
    assert ">1</span>" in html and ">2</span>" in html and "<b>Marleen: </b>" in html
    assert any("withdrew interview consent" in w.value for w in at.warning)


def test_reader_paginates_long_transcripts(page_app, demo_store):
    long_text = "".join(f"Interviewer: Question {n}?\nR: Answer {n}. Done.\n" for n in range(1500))
    _import(demo_store, long_text)
    at = page_app()
    at.run()
    assert at.number_input(key="reader_page").max == 2
    at.number_input(key="reader_page").set_value(2)
    at.run()
    html = at.get("html")[0].proto.body
    assert ">2001</span>" in html and ">1999</span>" not in html


def test_edit_speaker_mapping_and_details(page_app, demo_store):
    interview_id = _import(demo_store)
    at = page_app()
    at.run()
    at.selectbox(key=f"edit_map_{interview_id}_1").set_value("other")
    next(b for b in at.button if "Save mapping" in b.label).click()
    at.run()
    assert any("Speaker mapping saved" in s.value for s in at.success)
    with demo_store.read() as session:
        assert session.get(models.Interview, interview_id).speaker_roles["Marleen"] == "other"


def test_viewer_sees_reader_only(page_app, demo_store):
    _import(demo_store)
    with demo_store.write() as session:
        users.add_user(session, "viewer1", "a long viewer secret", "viewer")
        studies.add_member(session, studies.get_study(session), "viewer1")
        viewer = next(u for u in users.list_users(session) if u.username == "viewer1")
        principal = access.researcher(viewer)
    at = page_app(principal)
    at.run()
    assert not at.exception
    # A viewer reads the transcripts and the interview guide; nothing to import or edit.
    assert [t.label for t in at.tabs] == ["Read", "Interview guide"] and not at.file_uploader


def test_an_interview_takes_a_period_at_import_and_in_its_session(page_app, demo_store):
    """Interviews (not only documents) are tied to one of the case's periods on the page; the list shows it."""
    at = page_app()
    at.run()
    at.selectbox(key="upload_case").set_value("Case B")
    at.run()
    assert at.selectbox(key="upload_period").options == ["(no period)", "PRE-REORG", "REORG"]
    at.selectbox(key="upload_period").set_value("REORG")
    at.file_uploader(key="upload_files").set_value([("b.txt", TRANSCRIPT.encode(), "text/plain")])
    at.run()
    at.button(key="upload_import").click()
    at.run()
    assert not at.exception and any("Imported b.txt" in s.value for s in at.success)
    with demo_store.read() as session:
        [interview] = interviews_store.list_interviews(session, studies.get_study(session))
        [record] = interviews_store.interview_records(session, [interview])
        assert (record["kind"], record["case"], record["period"]) == ("interview", "Case B", "REORG")
    at = page_app()
    at.run()
    assert at.dataframe[0].value["period"].tolist() == ["REORG"]
    [period] = [s for s in at.selectbox if s.label == "Period" and s.key != "upload_period"]  # the session editor's
    assert period.value == "REORG"
    period.set_value("PRE-REORG")
    next(b for b in at.button if "Save session" in b.label).click()
    at.run()
    assert not at.exception and not at.error
    with demo_store.read() as session:
        [record] = interviews_store.interview_records(session, interviews_store.list_interviews(session, studies.get_study(session)))
        assert record["period"] == "PRE-REORG"
