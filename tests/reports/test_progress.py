"""The study's progress: the open stage (earliest not done) and the next action per case."""

from __future__ import annotations

from sqlalchemy import select

from casestudy import status
from casestudy import study as studies
from casestudy.coding import spans
from casestudy.models import Coding, Interview, User
from casestudy.panel import members
from casestudy.reports import progress


def _rows(session) -> dict[str, progress.CaseOverview]:
    return {r.public_label: r for r in progress.overview(session, studies.get_study(session))}


def test_open_stage_is_the_earliest_stage_not_done():
    statuses = {
        "interviews": status.done("2 transcripts"),
        "coding": status.still_open("3 codings by 1 coder", "coding: 0 of 2 interviews coded by both coders", status.CODERS),
        "reconstruction": status.done("1 version"),
        "member check": status.not_started("member check: send version 1 to the respondents"),
    }
    assert progress.open_stage(statuses) == "coding"
    assert progress.open_stage({"interviews": status.done("x"), "coding": status.done("y")}) == progress.ALL_DONE
    assert progress.open_stage({"interviews": status.not_started("interviews: import")}) == "interviews"


def test_demo_case_g_waits_in_the_member_check_not_the_panel(demo_store):
    with demo_store.read() as session:
        rows = _rows(session)
    g = rows["Case G"]
    assert g.statuses["panel"].started and g.statuses["masking"].done  # later stages have begun ...
    assert g.open_stage == "member check"  # ... but the member check is still open
    assert g.next_action == "member check round 2: waiting for the therapist's answer"
    assert g.waiting_for == status.RESPONDENTS
    assert {r.open_stage for label, r in rows.items() if label != "Case G"} == {"panel"}
    assert rows["Case A"].next_action == "panel: 12 of 18 experts submitted; waiting for 6 experts"
    assert rows["Case A"].waiting_for == status.EXPERTS


def test_an_earlier_stage_reopened_becomes_the_open_stage(demo_store):
    with demo_store.write() as session:
        case = studies.get_case(session, studies.get_study(session), "Case A")
        first = session.scalars(select(Interview).where(Interview.case_id == case.id).order_by(Interview.id)).first()
        coder2 = session.scalar(select(User).where(User.username == "coder2"))
        for coding in session.scalars(select(Coding).where(Coding.interview_id == first.id, Coding.coder_id == coder2.id)):
            spans.remove_coding(session, coding.id)
    with demo_store.read() as session:
        a = _rows(session)["Case A"]
    assert a.open_stage == "coding"
    assert a.next_action == "coding: 1 of 2 interviews coded by both coders; waiting for coder2"
    assert a.waiting_for == status.CODERS


def test_a_case_whose_every_stage_is_done(demo_store):
    with demo_store.write() as session:
        study = studies.get_study(session)
        for member in members.list_members(session, study):
            if member.status in members.OPEN_STATES:
                members.decline(session, member)
    with demo_store.read() as session:
        rows = _rows(session)
    assert rows["Case A"].open_stage == progress.ALL_DONE and rows["Case A"].next_action == "all stages done"
    assert rows["Case G"].open_stage == "member check"


def test_a_new_case_starts_with_its_respondents_and_interviews(store):
    with store.write() as session:
        study = studies.create_study(session, "S", "en")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        row = progress.case_overview(session, case)
        assert row.open_stage == "interviews" and row.waiting_for == status.RESEARCHER
        assert row.next_action == "interviews: add the respondents of the case, then import their transcripts"
        assert all(not s.started for s in row.statuses.values())
        studies.add_respondent(session, case, "Ann", "manager")
        studies.add_respondent(session, case, "Bo", "therapist")
        session.refresh(case)
        assert progress.case_overview(session, case).next_action == "interviews: import the transcripts of 2 respondents"


def test_progress_figure_labels_every_cell_in_words(demo_store):
    with demo_store.read() as session:
        rows = progress.overview(session, studies.get_study(session))
    figure = progress.progress_figure(rows)
    [heatmap] = figure.data
    assert list(heatmap.x) == list(progress.STAGES) and list(heatmap.y) == [r.public_label for r in rows]
    g = [r.public_label for r in rows].index("Case G")
    assert heatmap.text[g][progress.STAGES.index("member check")].startswith("▶ open<br>round 2")
    assert all(cell.split("<br>")[0].lstrip("▶ ") in status.STATES for line in heatmap.text for cell in line)


def test_cli_report_progress_prints_the_open_stage_and_next_action(demo_store, cli):
    import json

    result = cli("--db", demo_store.url, "report", "progress", "--format", "json")
    assert result.code == 0, result
    rows = {r["case"]: r for r in json.loads(result.out)}
    assert rows["Case G"]["open_stage"] == "member check" and rows["Case G"]["waiting_for"] == "respondents"
    assert rows["Case G"]["stages"]["panel"]["state"] == "open"
    table = cli("--db", demo_store.url, "report", "progress")
    assert table.code == 0 and "member check round 2: waiting for the therapist's answer" in table.out


def test_overview_page_lists_next_actions_with_links(demo_store, app_env):
    import time

    from streamlit.testing.v1 import AppTest

    from casestudy import access, users
    from casestudy.ui.session import LAST_SEEN_KEY, PRINCIPAL_KEY

    def script():
        from casestudy.ui.pages import overview

        overview.render()

    app_env(demo_store)
    with demo_store.read() as session:
        principal = access.researcher(next(u for u in users.list_users(session) if u.role == "admin"))
    at = AppTest.from_function(script, default_timeout=60)
    at.session_state[PRINCIPAL_KEY] = principal
    at.session_state[LAST_SEEN_KEY] = time.time()
    at.run()
    assert not at.exception and not at.error
    texts = [m.value for m in at.markdown]
    assert "member check round 2: waiting for the therapist's answer" in texts and "`member check`" in texts
    assert {m.label: m.value for m in at.metric}["For respondents"] == "1"
    links = [e.proto for e in at.get("page_link")]
    assert len(links) == 7
    g = links[-1]
    assert g.label == "Reconstructions" and "case=Case+G" in g.query_string
    assert all(link.label == "Expert panel" for link in links[:6])
    assert len(at.get("plotly_chart")) == 1
