"""AppTest of the reconstruction page (researcher) and the review page (respondent link)."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from casestudy import access
from casestudy import study as studies
from casestudy import users
from casestudy.ui.session import LAST_SEEN_KEY, PRINCIPAL_KEY
from casestudy.reconstruction import narrative
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.reconstruction import summary as reconstruction_summary


def _respondent_link(store, case_label="Case G", role="therapist"):
    with store.write("test") as session:
        study = studies.get_study(session)
        respondent = next(r for r in studies.get_case(session, study, case_label).respondents if r.role == role)
        _, secret = access.issue_token(session, study.id, "respondent", "respondent", respondent.id)
    return secret


def _page_text(at) -> str:
    return " ".join(str(e.value) for kind in ("title", "markdown", "caption", "success", "info", "warning", "error")
                    for e in getattr(at, kind))


def test_respondent_comments_are_autosaved_survive_reload_and_agree(demo_store, app_env):
    secret = _respondent_link(demo_store)
    new_app = app_env(demo_store)
    at = new_app({"token": secret})
    at.run()
    assert not at.exception
    assert at.title[0].value == "Your review" and "Case G" in at.markdown[0].value
    text = _page_text(at)
    assert "Starting MBT in a hurry" in text and "Unit 3" not in text and "Duinzicht" not in text
    boxes = [t for t in at.text_area if t.key.startswith("review_2_p")]
    assert len(boxes) >= 8
    boxes[2].input("The trainers were external, please say so.").run()
    at.text_area(key="review_2_general").input("Clear text overall.").run()
    assert not at.exception
    with demo_store.read() as session:
        board = reconstruction_membercheck.dashboard(session, studies.get_case(session, studies.get_study(session), "Case G"))
    assert [c["text"] for c in board["open_comments"]] == ["The trainers were external, please say so."]

    reloaded = new_app({"token": secret})  # a fresh browser session: only the store remembers
    reloaded.run()
    assert reloaded.text_area(key="review_2_p2").value == "The trainers were external, please say so."
    assert reloaded.text_area(key="review_2_general").value == "Clear text overall."
    reloaded.button(key="review_agree").click().run()
    assert any("cannot change your answer" in w.value for w in reloaded.warning)
    reloaded.button(key="review_confirm").click().run()
    assert not reloaded.exception
    assert any("Everyone agreed" in s.value for s in reloaded.success)
    assert not [t for t in reloaded.text_area if t.key.startswith("review_")]  # read-only now
    with demo_store.read() as session:
        assert reconstruction_membercheck.agreed_version(session, studies.get_case(session, studies.get_study(session), "Case G")).number == 2


def test_other_respondent_sees_neither_comments_nor_other_cases(demo_store, app_env):
    therapist = _respondent_link(demo_store)
    new_app = app_env(demo_store)
    at = new_app({"token": therapist})
    at.run()
    at.text_area(key="review_2_p1").input("private therapist remark").run()
    manager = new_app({"token": _respondent_link(demo_store, role="manager")})
    manager.run()
    text = _page_text(manager)
    assert "Case G" in text and "private therapist remark" not in text
    for other in ("Case A", "Case B", "Case F", "how the MBT day programme began"):
        assert other not in text
    assert not manager.text_area  # the manager already agreed: read-only
    assert manager.get("download_button")


def test_waiting_respondent_sees_no_text(demo_store, app_env):
    with demo_store.write("test") as session:
        case = studies.get_case(session, studies.get_study(session), "Case G")
        narrative.save_version(session, case, "A revised text.", "coder1", "after comments")
    at = app_env(demo_store)({"token": _respondent_link(demo_store)})
    at.run()
    assert any("revised version is being prepared" in i.value for i in at.info)
    assert "Starting MBT" not in _page_text(at)


def _researcher_app(store, app_env, username="admin"):
    app_env(store)
    with store.read() as session:
        user = next(u for u in users.list_users(session) if u.username == username)
        principal = access.researcher(user)

    def script():
        from casestudy.ui.pages import reconstruction

        reconstruction.render()

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state[PRINCIPAL_KEY] = principal
    at.session_state[LAST_SEEN_KEY] = time.time()
    return at


def test_researcher_page_versions_diff_dashboard_and_new_version(demo_store, app_env):
    at = _researcher_app(demo_store, app_env)
    at.run()
    assert not at.exception
    at.selectbox(key="recon_case").select("Case B").run()
    assert any("Changes from" in m.value or "State:" in m.value for m in at.markdown)
    assert "agreed" in _page_text(at)
    assert at.dataframe  # versions and answers tables
    html = " ".join(str(h.proto.body) for h in at.get("html"))
    assert "<ins" in html or "<del" in html  # the diff between versions 2 and 3
    # a new version from the editor closes the agreement on the old one
    key = next(t.key for t in at.text_area if t.key.startswith("draft_Case B_"))
    at.text_area(key=key).input(at.text_area(key=key).value + "\nOne more sentence.\n")
    at.text_input(key="note_Case B").input("extra sentence")
    at.button(key="save_version").click().run()
    assert not at.exception
    assert any("Saved version 4" in s.value for s in at.success)
    at.run()
    at.button(key="mc_send").click().run()
    assert not at.exception
    assert sum("token=" in c.value for c in at.code) == 2
    with demo_store.read() as session:
        state = reconstruction_membercheck.case_state(session, studies.get_case(session, studies.get_study(session), "Case B"))
    assert (state.state, state.version, state.round) == ("under review", 4, 4)


def test_researcher_marks_comment_processed_and_saves_summary(demo_store, app_env):
    with demo_store.write("test") as session:
        case = studies.get_case(session, studies.get_study(session), "Case G")
        therapist = next(r for r in case.respondents if r.role == "therapist")
        reconstruction_membercheck.record_offline_response(session, case, therapist, "changes_needed", "", {3: "Crisis handling was better later."})
    at = _researcher_app(demo_store, app_env)
    at.run()
    at.selectbox(key="recon_case").select("Case G").run()
    assert "Crisis handling was better later." in " ".join(str(e.value) for e in at.get("markdown"))
    how = next(t for t in at.text_input if t.key.startswith("how_"))
    how.input("Added a sentence on later crisis handling")
    at.button(key=how.key.replace("how_", "processed_")).click().run()
    assert not at.exception
    with demo_store.read() as session:
        board = reconstruction_membercheck.dashboard(session, studies.get_case(session, studies.get_study(session), "Case G"))
    assert board["open_comments"] == []
    form_area = next(t for t in at.text_area if "Determinants" in t.label)
    form_area.input("Hurried start | barrier | organization/implementation\nOutpatient groups calm | facilitator")
    next(b for b in at.button if b.label == "Save the case summary").click().run()
    assert not at.exception
    with demo_store.read() as session:
        rows = {r["case"]: r for r in reconstruction_summary.table1_rows(session, studies.get_study(session))}
    assert [d["label"] for d in rows["Case G"]["determinants"]] == ["Hurried start", "Outpatient groups calm"]


def test_viewer_cannot_edit(demo_store, app_env):
    with demo_store.write("test") as session:
        users.add_user(session, "viewer1", "a viewer password 1", "viewer")
        studies.add_member(session, studies.get_study(session), "viewer1")
    at = _researcher_app(demo_store, app_env, "viewer1")
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key in ("save_version", "save_draft", "mc_send")]


def test_saving_a_version_shows_send_and_the_new_state_at_once(demo_store, app_env):
    """Fresh state: after "Save as new version" the Send button and the picker's state show the
    new version without navigating away; after Send the state says under review."""
    at = _researcher_app(demo_store, app_env)
    at.run()
    at.selectbox(key="recon_case").set_value("Case G").run()
    assert not at.exception
    assert "under review" in _page_text(at) and not [b for b in at.button if b.key == "mc_send"]
    draft = next(t for t in at.text_area if t.key.startswith("draft_Case G"))
    draft.input(draft.value + "\n\nA paragraph added after the round.").run()
    at.text_input(key="note_Case G").input("added a paragraph").run()
    at.button(key="save_version").click().run()
    assert not at.exception
    assert any("Saved version 3" in s.value for s in at.success)
    assert at.button(key="mc_send").label == "Send version 3 to the member check"
    assert "**draft** — version 3 not sent yet" in [m.value for m in at.markdown]
    at.button(key="mc_send").click().run()
    assert not at.exception
    assert any(m.value.startswith("**under review**") for m in at.markdown)
    assert not [b for b in at.button if b.key == "mc_send"]


def test_case_picker_labels_stay_the_same_when_the_state_changes(demo_store, app_env):
    """The browser keeps a selectbox's choice by its option label: a label that changed with the
    member-check state (a new version, a send) made the picker jump back to the first case."""
    at = _researcher_app(demo_store, app_env)
    at.run()
    at.selectbox(key="recon_case").select("Case B").run()
    before = list(at.selectbox(key="recon_case").options)  # the labels the browser shows
    shown = _page_text(at)
    key = next(t.key for t in at.text_area if t.key.startswith("draft_Case B_"))
    at.text_area(key=key).input(at.text_area(key=key).value + "\nOne more sentence.\n")
    at.button(key="save_version").click().run()
    at.run()
    assert not at.exception
    assert list(at.selectbox(key="recon_case").options) == before
    assert at.selectbox(key="recon_case").value == "Case B"
    # The state is shown beside the picker instead, and it is the new one.
    assert "**agreed**" in shown and any(m.value.startswith("**draft**") for m in at.markdown)
