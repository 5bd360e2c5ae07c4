"""Outcome descriptors, sustainment, the outcome distribution with its rounding note, and the
Table 1 note from the component types a study uses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from casestudy import access, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.errors import UserError
from casestudy.reconstruction import outcomes as case_outcomes
from casestudy.reconstruction import summary as table1_summary
from casestudy.reports import outcomes as outcome_reports
from casestudy.reports import render
from casestudy.study import ComponentSpec

ADMIN = access.Principal("researcher", 0, "admin", role="admin")


@pytest.mark.parametrize(("counts", "decimals", "rounding", "percents", "note"), [
    ((3, 2, 2), 0, "half-up", ["43", "29", "29"], "The percentages add to 101% instead of 100% because of rounding."),
    ((1, 1, 1), 0, "half-up", ["33", "33", "33"], "The percentages add to 99% instead of 100% because of rounding."),
    ((1, 1, 1), 1, "half-up", ["33.3", "33.3", "33.3"], "The percentages add to 99.9% instead of 100% because of rounding."),
    ((2, 2), 0, "half-up", ["50", "50"], ""),
    ((1, 7), 0, "half-up", ["13", "88"], "The percentages add to 101% instead of 100% because of rounding."),  # 12.5 -> 13, 87.5 -> 88
    ((1, 7), 0, "half-even", ["12", "88"], ""),  # 12.5 -> 12, 87.5 -> 88
])
def test_percent_and_rounding_note(counts, decimals, rounding, percents, note):
    total = sum(counts)
    values = [outcome_reports.percent(n, total, decimals, rounding) for n in counts]
    assert [str(v) for v in values] == percents
    assert outcome_reports.rounding_note(values, decimals) == note


def test_no_cases_no_percent_and_no_note():
    assert outcome_reports.percent(0, 0) is None
    assert outcome_reports.rounding_note([None, None]) == ""


@pytest.fixture
def built(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Outcomes study")
        studies.add_case(session, study, "Unit 1", "Case A", outcome_class="positive",
                         components=[ComponentSpec("PH", 2), ComponentSpec("IOP", 1)])
        studies.add_case(session, study, "Unit 2", "Case B", outcome_class="negative", components=[ComponentSpec("PH", 1)])
        studies.add_case(session, study, "Unit 3", "Case C", outcome_class="mixed", components=[ComponentSpec("DT", 1)])
        users.add_user(session, "viewer", "a long password", "viewer")
        studies.add_member(session, study, "viewer")
        users.add_user(session, "outsider", "a long password", "coder")
        return study.id


def _principal(store, name):
    with store.read() as session:
        return access.researcher(users.get_user(session, name))


def test_descriptors_tags_and_their_rules(store, built):
    with store.write("admin") as session:
        study = studies.get_study(session)
        added = case_outcomes.add_default_descriptors(session, study, ADMIN)
        assert [d.name for d in added][:3] == ["programme stopped", "staff turnover", "drop-out"]
        assert case_outcomes.add_default_descriptors(session, study, ADMIN) == []  # only what is missing
        case_outcomes.add_descriptor(session, study, ADMIN, "  waiting   list grew ")
        with pytest.raises(UserError, match="already has the outcome descriptor"):
            case_outcomes.add_descriptor(session, study, ADMIN, "Waiting list grew")
        with pytest.raises(UserError, match="needs a name"):
            case_outcomes.add_descriptor(session, study, ADMIN, " ")
        a, b, c = studies.list_cases(session, study)
        case_outcomes.tag_case(session, study, ADMIN, b, "programme stopped")
        case_outcomes.tag_case(session, study, ADMIN, b, "Staff turnover", "four of eleven left")
        case_outcomes.tag_case(session, study, ADMIN, c, "staff turnover")
        case_outcomes.tag_case(session, study, ADMIN, b, "staff turnover", "five of eleven")  # updates the note
        with pytest.raises(UserError, match="no outcome descriptor 'charisma'"):
            case_outcomes.tag_case(session, study, ADMIN, a, "charisma")
        with pytest.raises(UserError, match="does not carry"):
            case_outcomes.untag_case(session, study, ADMIN, a, "staff turnover")
    with store.read() as session:
        rows = case_outcomes.case_outcomes(session, studies.get_study(session), ADMIN)
    assert rows[1]["descriptors"] == [{"descriptor": "programme stopped", "note": ""}, {"descriptor": "staff turnover", "note": "five of eleven"}]
    viewer, outsider = _principal(store, "viewer"), _principal(store, "outsider")
    with store.write("viewer") as session, pytest.raises(AccessDenied):
        case_outcomes.add_descriptor(session, studies.get_study(session), viewer, "x")
    with store.read() as session, pytest.raises(AccessDenied):
        case_outcomes.case_outcomes(session, studies.get_study(session), outsider)
    with store.write("admin") as session:
        assert case_outcomes.remove_descriptor(session, studies.get_study(session), ADMIN, "staff turnover") == 2


def test_sustainment_rules(store, built):
    stopped = dt.date(2023, 6, 30)
    with store.write("admin") as session:
        study = studies.get_study(session)
        a, b, _ = studies.list_cases(session, study)
        with pytest.raises(UserError, match="needs the date it stopped"):
            case_outcomes.set_sustainment(session, study, ADMIN, b, "PH", "discontinued")
        with pytest.raises(UserError, match="only a discontinued component has a stop date"):
            case_outcomes.set_sustainment(session, study, ADMIN, b, "PH", "sustained", stopped)
        with pytest.raises(UserError, match="unknown sustainment"):
            case_outcomes.set_sustainment(session, study, ADMIN, b, "PH", "paused")
        with pytest.raises(UserError, match="no programme component 'OP'"):
            case_outcomes.set_sustainment(session, study, ADMIN, b, "OP", "sustained")
        row = case_outcomes.set_sustainment(session, study, ADMIN, b, "ph", "discontinued", stopped, "after two years")
        assert case_outcomes.sustainment_text(row) == "discontinued on 2023-06-30: after two years"
        case_outcomes.set_sustainment(session, study, ADMIN, a, "2", "never started")  # by number; spelling with a space
        assert a.components[1].sustainment == "never_started"


def test_distribution_tables(store, built):
    with store.write("admin") as session:
        study = studies.get_study(session)
        a, b, c = studies.list_cases(session, study)
        case_outcomes.add_default_descriptors(session, study, ADMIN)
        case_outcomes.tag_case(session, study, ADMIN, b, "programme stopped")
        case_outcomes.tag_case(session, study, ADMIN, b, "extra costs")
        case_outcomes.tag_case(session, study, ADMIN, c, "extra costs")
        case_outcomes.set_sustainment(session, study, ADMIN, b, "PH", "discontinued", dt.date(2023, 6, 30))
        case_outcomes.set_sustainment(session, study, ADMIN, a, "PH", "sustained")
        case_outcomes.set_sustainment(session, study, ADMIN, a, "IOP", "sustained")
    with store.read() as session:
        classes, descriptors, sustainment = outcome_reports.distribution_tables(session, studies.get_study(session), ADMIN)
    assert classes.rows == [["Positive", 1, Decimal(33)], ["Mixed", 1, Decimal(33)], ["Negative", 1, Decimal(33)]]  # no empty "unknown"
    assert classes.notes == ["Note. N = 3 cases; percentages of all cases, rounded half up to whole percents.",
                             "The percentages add to 99% instead of 100% because of rounding."]
    rows = {r[0]: r[1:] for r in descriptors.rows}
    assert rows["extra costs"] == [2, Decimal(67), "Case B, Case C"] and rows["complaints"] == [0, Decimal(0), ""]
    assert "are not meant to add to 100" in descriptors.notes[0] and len(descriptors.notes) == 1
    assert sustainment.rows == [["Still running", 2, Decimal(50), "Case A PH; Case A IOP"], ["Discontinued", 1, Decimal(25), "Case B PH (2023-06-30)"],
                                ["Never started", 0, Decimal(0), ""], ["Not known", 1, Decimal(25), "Case C DT"]]
    assert len(sustainment.notes) == 1  # 50 + 25 + 0 + 25 = 100: no rounding note
    text = render.render([classes, descriptors, sustainment], "md")
    assert "| Negative | 1 | 33 |" in text and "because of rounding" in text
    assert render.render([classes], "docx")[:2] == b"PK" and render.render([classes], "xlsx")[:2] == b"PK"


def test_distribution_with_one_decimal_half_even(store, built):
    with store.read() as session:
        classes = outcome_reports.distribution_tables(session, studies.get_study(session), ADMIN, decimals=1, rounding="half-even")[0]
    assert [str(r[2]) for r in classes.rows] == ["33.3", "33.3", "33.3"]
    assert "rounded half to even to 1 decimal" in classes.notes[0] and "99.9%" in classes.notes[1]
    with store.read() as session, pytest.raises(UserError, match="unknown rounding"):
        outcome_reports.distribution_tables(session, studies.get_study(session), ADMIN, rounding="up")


def test_table1_note_from_the_types_used(store, built):
    assert outcome_reports.table1_note(["PH", "IOP"]) == ("Note. PH = partial hospitalisation; IOP = intensive outpatient programme.", [])
    assert outcome_reports.table1_note(["ph", "XYZ"]) == ("Note. ph = partial hospitalisation.", ["XYZ"])
    assert outcome_reports.table1_note([]) == ("", [])
    with store.write("admin") as session:
        study = studies.get_study(session)
        assert outcome_reports.component_types(session, study) == ["PH", "IOP", "DT"]
        a = studies.list_cases(session, study)[0]
        table1_summary.save_case_summary(session, a, component_outcomes=[{"component": "OP", "outcome_class": "positive"}])
        types = outcome_reports.component_types(session, study)
    assert types == ["PH", "IOP", "DT", "OP"]
    note, unknown = outcome_reports.table1_note(types)
    assert note == "Note. PH = partial hospitalisation; IOP = intensive outpatient programme; DT = day treatment; OP = outpatient programme."
    table = render.table1_table([], note)
    assert table.notes == [note] and render.table1_table([]).notes == []
