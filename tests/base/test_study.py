"""Cases, respondents, consent and the overview."""

from __future__ import annotations

import datetime as dt

import pytest

from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.reports import progress


@pytest.fixture
def study(store):
    with store.write() as session:
        return studies.create_study(session, "S", "nl").id


def test_case_labels_and_lookup(store, study):
    with store.write() as session:
        s = studies.get_study(session)
        studies.add_case(session, s, "Unit 1", "Case A", "Org One", "negative", "stopped", [studies.ComponentSpec("PH", 2)])
        assert studies.get_case(session, s, "case a").internal_label == "Unit 1"
        assert studies.get_case(session, s, "UNIT 1").public_label == "Case A"
        with pytest.raises(UserError, match="unknown case 'Case Z'; known cases: Case A"):
            studies.get_case(session, s, "Case Z")
        with pytest.raises(UserError, match="must differ"):
            studies.add_case(session, s, "X", "x")
        with pytest.raises(UserError, match="already exists"):
            studies.add_case(session, s, "Unit 2", "Case A")
        assert studies.programme_text(studies.get_case(session, s, "Case A")) == "PH (2 groups)"


def test_respondents_consent_and_withdrawal(store, study):
    with store.write() as session:
        s = studies.get_study(session)
        case = studies.add_case(session, s, "Unit 1", "Case A")
        manager = studies.add_respondent(session, case, "Ann", "manager")
        assert manager.perspective == "top-down"
        therapist = studies.add_respondent(session, case, "Bo", "principal therapist")
        assert therapist.role == "therapist" and therapist.perspective == "bottom-up"
        with pytest.raises(UserError, match="unknown role"):
            studies.add_respondent(session, case, "Cy", "janitor")
        studies.record_consent(session, manager, "interview", dt.date(2024, 1, 1))
        assert studies.consent_state(manager)["interview"] == "given"
        assert not studies.analysis_blocked(manager)
        with pytest.raises(UserError, match="future"):
            studies.record_consent(session, manager, "recording", dt.date.today() + dt.timedelta(days=3))
        with pytest.raises(UserError, match="unknown consent scope"):
            studies.record_consent(session, manager, "everything", dt.date(2024, 1, 1))
        studies.withdraw_consent(session, manager, "interview", dt.date(2024, 2, 1))
        assert studies.consent_state(manager)["interview"] == "withdrawn"
        assert studies.analysis_blocked(manager)
        with pytest.raises(UserError, match="withdrew consent"):
            studies.require_analysis_allowed(manager)
        assert any("withdrew interview consent" in w for w in studies.case_warnings(case))


def test_overview_warns_about_respondent_design(store, study):
    with store.write() as session:
        s = studies.get_study(session)
        one = studies.add_case(session, s, "Unit 1", "Case A")
        studies.add_respondent(session, one, "Ann", "manager")
        two = studies.add_case(session, s, "Unit 2", "Case B")
        studies.add_respondent(session, two, "Bo", "manager")
        studies.add_respondent(session, two, "Cy", "manager")
        rows = {r.public_label: r for r in progress.overview(session, s)}
    assert rows["Case A"].warnings == ["Case A has 1 respondent(s); the design expects two"]
    assert "different roles" in rows["Case B"].warnings[0]
    assert rows["Case A"].current_stage == "interviews"
    assert set(rows["Case A"].stages) == set(progress.STAGES)


def test_demo_matches_table_one(demo_store):
    with demo_store.read() as session:
        s = studies.get_study(session)
        cases = studies.list_cases(session, s)
        assert [c.public_label for c in cases] == [f"Case {x}" for x in "ABCDEFG"]
        assert {c.public_label: c.outcome_class for c in cases} == {
            "Case A": "negative", "Case B": "positive", "Case C": "negative", "Case D": "negative",
            "Case E": "mixed", "Case F": "positive", "Case G": "mixed",
        }
        assert len({c.organisation.name for c in cases}) == 6  # two departments share one institution
        assert all(sorted(r.role for r in c.respondents) == ["manager", "therapist"] for c in cases)
        assert all(studies.consent_state(r)["interview"] == "given" for c in cases for r in c.respondents)
        assert {c.internal_label for c in cases} == {f"Unit {i}" for i in range(1, 8)}
