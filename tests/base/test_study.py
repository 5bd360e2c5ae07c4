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


def test_analysis_blocked_ids_agrees_with_analysis_blocked(store, study):
    """The bulk check (one query over consent records) refuses exactly whom the per-respondent rule refuses."""
    with store.write() as session:
        case = studies.add_case(session, studies.get_study(session), "Unit 1", "Case A")
        histories = {
            "none": [], "given": [("interview", None)], "withdrawn": [("interview", dt.date(2024, 2, 1))],
            "given again": [("interview", dt.date(2024, 2, 1)), ("interview", None)],
            "other scope withdrawn": [("recording", dt.date(2024, 2, 1)), ("interview", None)],
            "only other scope withdrawn": [("recording", dt.date(2024, 2, 1))],
        }
        respondents = []
        for name, records in histories.items():
            respondent = studies.add_respondent(session, case, name, "manager")
            for scope, withdrawn_on in records:
                studies.record_consent(session, respondent, scope, dt.date(2024, 1, 1))
                if withdrawn_on is not None:
                    studies.withdraw_consent(session, respondent, scope, withdrawn_on)
            respondents.append(respondent)
        expected = {r.id for r in respondents if studies.analysis_blocked(r)}
        assert {r.name for r in respondents if r.id in expected} == {"withdrawn"}
        assert studies.analysis_blocked_ids(session, [r.id for r in respondents] + [r.id for r in respondents]) == expected
        assert studies.analysis_blocked_ids(session, []) == set()


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
    assert rows["Case A"].open_stage == "interviews"
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


def test_record_consents_applies_a_grid_in_one_go(store, study):
    today = dt.date.today()
    with store.write() as session:
        s = studies.get_study(session)
        case = studies.add_case(session, s, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        studies.add_respondent(session, case, "Bo", "therapist")
        changes = [studies.ConsentChange("Case A", name, scope, True, today)
                   for name in ("Ann", "Bo") for scope in ("interview", "recording")]
        changes.append(studies.ConsentChange("Case A", "Ann", "member_check", False, today))
        assert studies.record_consents(session, s, changes) == {"recorded": 4, "withdrawn": 0, "unchanged": 1}
        again = [studies.ConsentChange("Case A", "Ann", "interview", False, today, "asked by phone")] + changes[1:]
        assert studies.record_consents(session, s, again) == {"recorded": 0, "withdrawn": 1, "unchanged": 4}
        assert studies.consent_state(studies.get_respondent(session, case, "Ann"))["interview"] == "withdrawn"
    with pytest.raises(UserError, match=r"row 2 \(Case A, Cy, interview\): .*Cy"), store.write() as session:
        s = studies.get_study(session)
        studies.record_consents(session, s, [studies.ConsentChange("Case A", "Bo", "final_text", True, today),
                                             studies.ConsentChange("Case A", "Cy", "interview", True, today)])
    with store.read() as session:  # nothing of the refused grid was written
        bo = studies.get_respondent(session, studies.get_case(session, studies.get_study(session), "Case A"), "Bo")
        assert studies.consent_state(bo)["final_text"] == "missing"


def test_cli_consent_import(store, study, cli, tmp_path):
    with store.write() as session:
        case = studies.add_case(session, studies.get_study(session), "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
    path = tmp_path / "consent.csv"
    path.write_text("\ufeffCase,Respondent,Scope,Date,Given\nCase A,Ann,interview,2024-03-01,yes\nCase A,Ann,recording,2024-03-01,\n"
                    "Case A,Ann,member check,2024-03-02,yes\n", encoding="utf-8")
    result = cli("--db", store.url, "consent", "import", str(path), "--format", "json")
    assert result.code == 0, result
    assert '"recorded": 2' in result.out and '"unchanged": 1' in result.out
    bad = tmp_path / "bad.csv"
    bad.write_text("case,respondent,date\nCase A,Ann,2024-03-01\n", encoding="utf-8")
    result = cli("--db", store.url, "consent", "import", str(bad))
    assert result.code == 2 and "lacks the column(s) scope" in result.err


PROGRAMMES = [
    [],
    [studies.ComponentSpec("PH", 2)],
    [studies.ComponentSpec("PH", 2), studies.ComponentSpec("IOP", 1)],
    [studies.ComponentSpec("PH", 1, "3 days a week"), studies.ComponentSpec("IOP")],
    [studies.ComponentSpec("PH", 0, "mornings, afternoons, weekends")],
    [studies.ComponentSpec("Day care", None, "3 days (mornings), weekly"), studies.ComponentSpec("PH", 12, "(after school)")],
    [studies.ComponentSpec("IOP", None, "twice a week, 2 hours"), studies.ComponentSpec("Outreach", 1, "groups of 3")],
]


@pytest.mark.parametrize("components", PROGRAMMES)
def test_parse_programme_is_the_inverse_of_format_programme(components):
    text = studies.format_programme(components)
    assert studies.parse_programme(text) == components
    assert studies.format_programme(studies.parse_programme(text)) == text


@pytest.mark.parametrize("components", [
    [studies.ComponentSpec("IOP", None, "2 groups")],  # a dosage that reads as groups
    [studies.ComponentSpec("PH, adults", 3)],  # a type with ', '
    [studies.ComponentSpec("Outreach (home)")],  # a type with parentheses
    [studies.ComponentSpec("PH", None, "a, 3 groups")],
])
def test_ambiguous_programmes_read_back_as_another_programme_of_the_same_text(components):
    text = studies.format_programme(components)
    assert studies.parse_programme(text) != components and studies.format_programme(studies.parse_programme(text)) == text


def test_component_rules(store, study):
    with store.write() as session:
        case = studies.add_case(session, studies.get_study(session, study), "Unit 9", "Case Z")
        studies.add_component(session, case, studies.ComponentSpec("Equine therapy", 1))  # a type of the study's own
        for spec, message in ((studies.ComponentSpec(" "), "needs a type"), (studies.ComponentSpec("PH", -1), "negative"),
                              (studies.ComponentSpec("X" * 51), "at most 50"), (studies.ComponentSpec("PH", dosage="d" * 201), "at most 200"),
                              (studies.ComponentSpec("PH", outcome_class="great"), "unknown outcome class")):
            with pytest.raises(UserError, match=message):
                studies.add_component(session, case, spec)
        assert [c.type for c in case.components] == ["Equine therapy"]
