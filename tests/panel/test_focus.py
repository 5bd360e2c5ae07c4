"""Focus groups: participants' own links and views (blind to outcomes), autosaved round-1
ratings, the round-2 summary, round-3 consensus with splits, and Table 4 from the study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casestudy import access, periods
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.panel import focus
from casestudy.reports import table4

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def group_store(store):
    with store.write("test") as session:
        study = studies.create_study(session, "Focus")
        case = studies.add_case(session, study, "Unit 1", "Case A", outcome_class="negative",
                                outcome_description="Effect sizes halved during the reorganisation")
        periods.add_period(session, case, "PRE-REORG", "2004-08", "2007-12")
        periods.add_period(session, case, "REORG", "2008-09", "2011-04")
        group = focus.create_group(session, study, case, "mbt-focus-group-checklist", title="FG")
        focus.add_participant(session, group, "Ann", "manager", ["organization"])
        focus.add_participant(session, group, "Ben", "therapist", blind=False)
    return store


def _principal(session, pseudonym):
    group = focus.get_group(session, studies.get_study(session))
    person = focus.get_participant(session, group, pseudonym)
    return Principal(access.PARTICIPANT, person.id, f"participant {person.id}", study_id=group.study_id)


def test_link_resolves_to_the_participant_and_a_new_link_revokes_the_old(group_store):
    with group_store.write("test") as session:
        group = focus.get_group(session, studies.get_study(session))
        ann = focus.get_participant(session, group, "F1")
        first = focus.issue_link(session, ann, "http://x")
        second = focus.issue_link(session, ann, "http://x")
    assert second["revoked_token_ids"] == [first["token_id"]]
    principal = access.resolve_token(group_store, second["link"].split("token=")[1])
    assert principal.kind == access.PARTICIPANT and principal.subject_id == ann.id
    with pytest.raises(AccessDenied):
        access.resolve_token(group_store, first["link"].split("token=")[1])


def test_blind_participants_get_no_outcome_data(group_store):
    with group_store.read() as session:
        blind = focus.participant_view(session, _principal(session, "F1"))
        seeing = focus.participant_view(session, _principal(session, "F2"))
    assert blind.blind and blind.outcome is None
    assert "halved" not in json.dumps(blind.__dict__, default=str)
    assert seeing.outcome == {"class": "negative", "description": "Effect sizes halved during the reorganisation"}
    assert [i["level"] for i in blind.items] == ["organization"] * 7 and blind.total == 14
    assert len(seeing.items) == 21 and [p["name"] for p in seeing.periods] == ["PRE-REORG", "REORG"]
    assert blind.instrument["points"][-1] == {"point": 7, "label": "excellent"}


def test_autosave_only_own_items_on_the_scale_then_submit_locks(group_store):
    with group_store.write("test") as session:
        ann = _principal(session, "F1")
        focus.save_rating(session, ann, "O1", "PRE-REORG", 6)
        focus.save_rating(session, ann, "O1", "PRE-REORG", 7)  # an update, not a second row
        with pytest.raises(UserError, match="not one of the items you rate"):
            focus.save_rating(session, ann, "T1", "REORG", 3)
        with pytest.raises(UserError, match="whole number from 1 to 7"):
            focus.save_rating(session, ann, "O2", "REORG", 8)
        with pytest.raises(UserError, match="no period 'LATER'"):
            focus.save_rating(session, ann, "O2", "LATER", 3)
        with pytest.raises(UserError, match="please rate:\n- PRE-REORG: items O2, O3"):
            focus.submit_ratings(session, ann)
    with group_store.read() as session:
        view = focus.participant_view(session, _principal(session, "F1"))
        assert view.ratings["O1|PRE-REORG"] == 7 and view.done == 1
        assert focus.participant_view(session, _principal(session, "F2")).done == 0  # only one's own ratings
    with group_store.write("test") as session:
        ann = _principal(session, "F1")
        for key in ("O1", "O2", "O3", "O4", "O5", "O6", "O7"):
            for period in ("PRE-REORG", "REORG"):
                focus.save_rating(session, ann, key, period, 6 if period == "PRE-REORG" else 2)
        focus.submit_ratings(session, ann)
        with pytest.raises(UserError, match="submitted and locked"):
            focus.save_rating(session, ann, "O1", "REORG", 3)


def test_an_expert_or_a_researcher_cannot_use_the_participant_side(group_store):
    with group_store.read() as session:
        for principal in (Principal(access.EXPERT, 1, "expert 1", study_id=1), Principal(access.RESEARCHER, 1, "admin", role="admin")):
            with pytest.raises(AccessDenied):
                focus.participant_view(session, principal)


def test_round_summary_and_consensus(group_store):
    with group_store.write("test") as session:
        focus.save_rating(session, _principal(session, "F1"), "O2", "REORG", 2)
        focus.save_rating(session, _principal(session, "F2"), "O2", "REORG", 3)
        group = focus.get_group(session, studies.get_study(session))
        focus.set_note(session, group, "O2", "a plan existed on paper only")
        summary = focus.round_summary(session, group)
        cell = next(i for i in summary["items"] if i["key"] == "O2")["periods"]["REORG"]
        assert (cell["n"], cell["mean"], cell["median"], cell["min"], cell["max"]) == (2, 2.5, 2.5, 2, 3)
        assert cell["distribution"] == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0}
        assert next(i for i in summary["items"] if i["key"] == "O2")["note"] == "a plan existed on paper only"
        assert "a plan existed on paper only" in focus.summary_html(summary)
        row = focus.set_consensus(session, group, "O2", "REORG", "2/3", ["f1", "F2"], "between poor and acceptable")
        assert (row.low, row.high, row.agreed_by) == (2, 3, ["F1", "F2"])
        focus.set_consensus(session, group, "O2", "REORG", "3")  # replaced, agreed by all by default
        assert focus.consensus_of(session, group) == [{"item": "O2", "level": "organization", "text": focus.instrument_of(session, group).items[1].text,
                                                       "period": "REORG", "score": "3", "agreed_by": ["F1", "F2"], "note": ""}]
        for bad, message in (("2/4", "adjacent"), ("0", "outside the scale 1-7"), ("x", "not a whole number")):
            with pytest.raises(UserError, match=message):
                focus.set_consensus(session, group, "O2", "REORG", bad)
        with pytest.raises(UserError, match="'F9' is not a participant"):
            focus.set_consensus(session, group, "O2", "REORG", "3", ["F9"])


def test_group_needs_periods_and_freezes_its_instrument(store):
    with store.write("test") as session:
        study = studies.create_study(session, "No periods")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        with pytest.raises(UserError, match="has no periods yet"):
            focus.create_group(session, study, case, "mbt-focus-group-checklist")
        periods.add_period(session, case, "ONLY", "2020-01", "2020-12")
        group = focus.create_group(session, study, case, "mbt-focus-group-checklist")
        from casestudy.models import StoredInstrument

        assert session.get(StoredInstrument, group.instrument_id).frozen_by == f"focus group {group.title}"
        with pytest.raises(UserError, match="unknown role 'boss'"):
            focus.add_participant(session, group, "X", "boss")
        with pytest.raises(UserError, match="level 'ward' is not a level"):
            focus.add_participant(session, group, "X", "other", ["ward"])


def test_table4_from_the_study_equals_table4_from_the_same_cells_as_csv(demo_store):
    with demo_store.read() as session:
        group = focus.get_group(session, studies.get_study(session))
        rows, instrument = table4.study_rows(session, group)
    from_study = table4.table4(rows, instrument)
    from_csv = table4.table4(table4.read_scores_csv(table4.scores_csv(rows), instrument.scale), instrument)
    assert from_study.as_json() == from_csv.as_json() and from_study.grid() == from_csv.grid()
    published = (ROOT / "examples" / "reference-table4-scores.csv").read_text(encoding="utf-8")
    assert from_study.as_json() == table4.table4(table4.read_scores_csv(published, instrument.scale), instrument).as_json()
    summaries = {s.period: s for s in from_study.summaries()}
    assert float(summaries["PRE-REORG"].mean) == pytest.approx(129 / 21) and float(summaries["REORG"].mean) == pytest.approx(51.5 / 21)


def test_cli_focus_and_table4_without_scores(demo_store, cli, tmp_path):
    db = demo_store.url
    shown = json.loads(cli("--db", db, "focus", "show", "--format", "json").out)
    assert [p["role"] for p in shown["participants"]] == ["manager"] * 2 + ["therapist"] * 3 + ["researcher"] * 2
    assert shown["consensus"] == shown["cells"] == 42 and shown["exclusion_note"].startswith("Six patients")
    study = cli("--db", db, "report", "table4", "--format", "json")
    csv = cli("--db", db, "report", "table4", "--scores", ROOT / "examples" / "reference-table4-scores.csv", "--format", "json")
    assert study.code == csv.code == 0 and json.loads(study.out) == json.loads(csv.out)
    md = cli("--db", db, "report", "table4", "--format", "md").out
    assert "| PRE-REORG | REORG |" in md and "6.1 (4-7)" in md and "2.5 (1-4)" in md
    summary = json.loads(cli("--db", db, "focus", "summary", "--format", "json").out)
    assert summary["submitted"] == [f"F{n}" for n in range(1, 8)] and summary["agreement"]["raters"][0] == "F1"
    html = tmp_path / "summary.html"
    assert cli("--db", db, "focus", "summary", "--format", "html", "--output", html).code == 0
    assert "PRE-REORG" in html.read_text(encoding="utf-8")
    bad = cli("--db", db, "focus", "consensus", "O2", "--period", "REORG", "--score", "2/4")
    assert bad.code == 2 and bad.err.startswith("error: item O2, period REORG: split score '2/4' does not join two adjacent points")
    ok = cli("--db", db, "focus", "consensus", "O2", "--period", "REORG", "--score", "3", "--agreed", "F1,F2", "--format", "json")
    assert json.loads(ok.out)["agreed_by"] == ["F1", "F2"]
    links = json.loads(cli("--db", db, "focus", "link", "F3", "--format", "json").out)
    assert links[0]["pseudonym"] == "F3" and "token=" in links[0]["link"]
