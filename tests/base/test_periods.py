"""Periods of a case: bounds, order, unique names, overlap only when allowed, the exclusion note, CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casestudy import periods
from casestudy import study as studies
from casestudy.errors import UserError


@pytest.fixture
def case_store(store):
    with store.write("test") as session:
        study = studies.create_study(session, "Periods")
        studies.add_case(session, study, "Unit 1", "Case A")
    return store


def _case(session):
    return studies.get_case(session, studies.get_study(session), "Case A")


def test_month_and_day_bounds_cover_whole_months():
    assert periods.parse_bound("2004-08").first == dt.date(2004, 8, 1)
    assert periods.parse_bound("2008-02").last == dt.date(2008, 2, 29)
    assert periods.parse_bound("2011-04-15").last == dt.date(2011, 4, 15)
    for bad in ("2004", "2004-13", "04-08", "2004-02-30", ""):
        with pytest.raises(UserError, match="YYYY-MM"):
            periods.parse_bound(bad)


def test_periods_are_listed_in_time_order_and_validated(case_store):
    with case_store.write("test") as session:
        case = _case(session)
        periods.add_period(session, case, "REORG", "2008-09", "2011-04")
        periods.add_period(session, case, "PRE-REORG", "2004-08", "2007-12")
        assert [p.name for p in periods.list_periods(session, case)] == ["PRE-REORG", "REORG"]
        with pytest.raises(UserError, match="ends .2007-01. before it starts .2007-02."):
            periods.add_period(session, case, "Later", "2007-02", "2007-01")
        with pytest.raises(UserError, match="already has a period named 'reorg'"):
            periods.add_period(session, case, "reorg", "2012-01", "2012-12")
        with pytest.raises(UserError, match="overlaps 'PRE-REORG'.*allow the overlap"):
            periods.add_period(session, case, "Interim", "2007-12", "2008-08")
        # the same month at both ends is one month, not an empty period
        periods.add_period(session, case, "Interim", "2008-01", "2008-08")
        overlapping = periods.add_period(session, case, "Whole", "2004-08", "2011-04", allow_overlap=True)
        assert overlapping.overlap_allowed
        assert periods.get_period(session, case, "whole").id == overlapping.id
        with pytest.raises(UserError, match="no period 'X'; its periods: PRE-REORG, Whole, Interim, REORG"):
            periods.get_period(session, case, "X")


def test_exclusion_note_and_removal(case_store):
    with case_store.write("test") as session:
        case = _case(session)
        periods.add_period(session, case, "REORG", "2008-09", "2011-04")
        assert periods.exclusion_note(session, case) == ""
        periods.set_exclusion_note(session, case, "Six patients who started between January and August 2008.")
        assert periods.exclusion_note(session, case).startswith("Six patients")
        periods.remove_period(session, case, "REORG")
        assert periods.list_periods(session, case) == []


def test_cli_periods(case_store, cli):
    db = case_store.url
    assert cli("--db", db, "cases", "periods", "add", "--case", "Case A", "--name", "PRE-REORG", "--from", "2004-08", "--to", "2007-12").code == 0
    assert cli("--db", db, "cases", "periods", "add", "--case", "Case A", "--name", "REORG", "--from", "2008-09", "--to", "2011-04").code == 0
    bad = cli("--db", db, "cases", "periods", "add", "--case", "Case A", "--name", "X", "--from", "2007-06", "--to", "2008-10")
    assert bad.code == 2 and bad.err.startswith("error: period 'X'") and "overlaps 'PRE-REORG'" in bad.err
    assert cli("--db", db, "cases", "periods", "add", "--case", "Case A", "--name", "X", "--from", "2007-06", "--to", "2008-10",
               "--allow-overlap").code == 0
    assert cli("--db", db, "cases", "periods", "note", "--case", "Case A", "interim starters left out").code == 0
    listed = json.loads(cli("--db", db, "cases", "periods", "list", "--case", "Case A", "--format", "json").out)
    assert [(p["name"], p["from"], p["to"]) for p in listed["periods"]] == [
        ("PRE-REORG", "2004-08", "2007-12"), ("X", "2007-06", "2008-10"), ("REORG", "2008-09", "2011-04")]
    assert listed["exclusion_note"] == "interim starters left out"
    assert cli("--db", db, "cases", "periods", "remove", "--case", "Case A", "X").code == 0
    gone = cli("--db", db, "cases", "periods", "remove", "--case", "Case A", "X")
    assert gone.code == 2 and "has no period 'X'" in gone.err
