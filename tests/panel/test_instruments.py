"""Rating instruments: the shipped ones, YAML round trips, what an instrument file may not do, CLI."""

from __future__ import annotations

import csv
import re
import io
import json

import pytest
import yaml

from casestudy.errors import UserError
from casestudy.panel import instruments as ins

SMALL = """\
format: casestudy-instrument
format_version: 1
name: small
title: A small checklist
version: "3"
scale: {min: 1, max: 3, labels: {1: low, 2: middle, 3: high}}
levels:
  - level: unit
    items:
      - key: U1
        text: The unit has a plan
        sub_criteria:
          - {letter: a, text: The plan is written down, threshold: within two weeks}
          - {letter: b, text: The plan is shared}
  - level: staff
    items:
      - key: S1
        text: Staff know the plan
        secondary_level: unit
"""


def test_shipped_instruments_hold_the_reference_facts():
    catalogue = {r["name"]: r for r in ins.shipped_catalogue()}
    assert set(catalogue) == {"mbt-adherence-audit", "mbt-focus-group-checklist"}
    audit = ins.load_shipped("mbt-adherence-audit")
    assert len(audit.items) == 20 and [i.key for i in audit.items] == [str(n) for n in range(1, 21)]
    assert audit.level_names == ["organization", "team", "therapist"]
    assert [i.key for i in audit.items if i.secondary_level == "team"] == ["7", "8", "9", "10"]
    assert (audit.scale.min, audit.scale.max, audit.scale.labels[1], audit.scale.labels[5]) == (1, 5, "very poor", "very good")
    assert all(i.sub_criteria for i in audit.items)
    letters = [s.letter for s in audit.find_item("4").sub_criteria]
    assert letters == ["a", "b", "c", "d"]
    assert "four weeks" in audit.find_item("4").sub_criteria[0].threshold  # first contact within four weeks
    assert "18 months" in audit.find_item("6").sub_criteria[3].threshold
    checklist = ins.load_shipped("mbt-focus-group-checklist")
    assert {lv.name: len(lv.items) for lv in checklist.levels} == {"organization": 7, "team": 11, "therapist": 3}
    assert checklist.scale.label_text() == ("1 = very poor; 2 = poor; 3 = acceptable; 4 = adequate; 5 = good; "
                                            "6 = very good; 7 = excellent")
    assert catalogue["mbt-focus-group-checklist"]["items"] == 21
    for path in ins.shipped_instruments():  # the name inside a shipped file is the name it loads by
        assert ins.load_shipped(path.stem).name == path.stem


def test_yaml_round_trip_is_lossless():
    small = ins.read_instrument_yaml(SMALL)
    assert [i.key for i in small.items] == ["U1", "S1"]
    assert small.find_item("u1").sub_criteria[0] == ins.SubCriterion("a", "The plan is written down", "within two weeks")
    assert small.find_item("Staff know the plan").secondary_level == "unit"
    assert ins.read_instrument_yaml(ins.instrument_yaml(small)) == small
    for path in ins.shipped_instruments():
        instrument = ins.load_shipped(path.stem)
        text = ins.export(instrument, "yaml")
        assert ins.read_instrument_yaml(text.encode("utf-8")) == instrument


def test_csv_export_has_the_fields_then_one_row_per_item_and_sub_criterion():
    small = ins.read_instrument_yaml(SMALL)
    rows = list(csv.reader(io.StringIO(ins.export(small, "csv"))))
    header = rows.index(list(ins.CSV_COLUMNS))
    assert rows[0] == list(ins.FIELD_COLUMNS) and ["name", small.name] in rows[:header]
    assert [f"label {small.scale.max}", small.scale.labels[small.scale.max]] in rows[:header]
    assert rows[header + 1:] == [
        ["U1", "unit", "", "", "The unit has a plan", ""],
        ["U1", "unit", "", "a", "The plan is written down", "within two weeks"],
        ["U1", "unit", "", "b", "The plan is shared", ""],
        ["S1", "staff", "unit", "", "Staff know the plan", ""],
    ]
    audit = ins.load_shipped("mbt-adherence-audit")
    rows = list(csv.reader(io.StringIO(ins.instrument_csv(audit))))
    assert len(rows) - rows.index(list(ins.CSV_COLUMNS)) == 1 + 20 + sum(len(i.sub_criteria) for i in audit.items)


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_every_format_reads_back_to_the_same_instrument(fmt):
    for path in ins.shipped_instruments():
        instrument = ins.load_shipped(path.stem)
        data = ins.export(instrument, fmt)
        assert ins.read_instrument(data.encode("utf-8") if isinstance(data, str) else data, fmt) == instrument
    small = ins.read_instrument_yaml(SMALL)
    assert ins.read_instrument(ins.export(small, fmt) if fmt == "xlsx" else ins.export(small, fmt).encode(), fmt) == small


def test_table_import_names_the_row_of_a_problem():
    text = ins.instrument_csv(ins.read_instrument_yaml(SMALL))
    with pytest.raises(UserError, match="unknown field 'colour'"):
        ins.read_instrument_table("colour,red\r\n" + text, "csv")
    with pytest.raises(UserError, match="item 'U1' is listed twice"):
        ins.read_instrument_table(text + "U1,unit,,,Again,\r\n", "csv")
    with pytest.raises(UserError, match="no label for"):
        ins.read_instrument_table("\r\n".join(line for line in text.split("\r\n") if not line.startswith("label 2")), "csv")
    with pytest.raises(UserError, match="no item table"):
        ins.read_instrument_table("name,x\r\n", "csv")


@pytest.mark.parametrize("text, message", [
    ("a: &x [1, 2]\nb: *x\n", "anchor or alias ('&' or '*') at line 1"),
    (SMALL.replace("title: A small checklist", "title: &t A small checklist"), "anchor or alias ('&' or '*') at line 4"),
    (SMALL + "extra: *t\n", "anchor or alias"),
])
def test_anchors_and_aliases_are_refused(text, message):
    with pytest.raises(UserError, match=re.escape(message)):
        ins.read_instrument_yaml(text)


def test_size_and_item_limits():
    with pytest.raises(UserError, match="the limit for this kind of file is"):
        ins.read_instrument_yaml("#" * (ins.MAX_BYTES + 1))
    document = yaml.safe_load(SMALL)
    document["levels"][0]["items"] = [{"key": f"K{n}", "text": "x"} for n in range(ins.MAX_ITEMS)]  # + S1 of level staff
    with pytest.raises(UserError, match="2001 items; at most 2000"):
        ins.build_instrument(document)
    document["levels"][0]["items"] = document["levels"][0]["items"][: ins.MAX_ITEMS - 1]
    assert len(ins.build_instrument(document).items) == ins.MAX_ITEMS


@pytest.mark.parametrize("old, new, message", [
    ("2: middle, ", "", "no label for 2"),
    ("key: S1", "key: u1", "item key 'u1' is used twice"),
    ("secondary_level: unit", "secondary_level: board", "secondary level 'board' is not a level"),
    ("secondary_level: unit", "secondary_level: staff", "must differ from its level"),
    ("letter: b", "letter: a", "sub-criterion 'a' is listed twice"),
    ("title: A small checklist", "title: ''", "title is missing"),
    ("format: casestudy-instrument", "format: casestudy-codebook", "not a rating instrument"),
    ("        text: Staff know the plan", "        text: Staff know the plan\n        colour: red", "unknown field"),
    ("level: staff", "level: Unit", "level 'Unit' is listed twice"),
])
def test_bad_instruments_are_refused_with_a_reason(old, new, message):
    assert old in SMALL
    with pytest.raises(UserError, match=message):
        ins.read_instrument_yaml(SMALL.replace(old, new, 1))


def test_malformed_yaml_names_the_line():
    with pytest.raises(UserError, match="malformed YAML at line 2"):
        ins.read_instrument_yaml("title: x\n  - : [\n")


def test_unknown_shipped_name_lists_the_available(tmp_path):
    with pytest.raises(UserError, match="no shipped instrument '../x'; available: mbt-adherence-audit, mbt-focus-group-checklist"):
        ins.load_shipped("../x")


def test_cli_lists_and_exports(cli, tmp_path):
    result = cli("panel", "instruments", "--format", "json")
    assert result.code == 0, result
    listed = {r["name"]: r for r in json.loads(result.out)}
    assert listed["mbt-adherence-audit"]["levels"] == {"organization": 10, "team": 8, "therapist": 2}
    assert listed["mbt-focus-group-checklist"]["scale"].startswith("Scale 1-7: 1 = very poor;")
    exported = cli("panel", "instrument-export", "mbt-focus-group-checklist", "--format", "yaml")
    assert exported.code == 0, exported
    assert ins.read_instrument_yaml(exported.out) == ins.load_shipped("mbt-focus-group-checklist")
    target = tmp_path / "audit.csv"
    assert cli("panel", "instrument-export", "mbt-adherence-audit", "--format", "csv", "--output", target).code == 0
    assert "\nitem,level,secondary_level,sub_criterion,text,threshold" in target.read_text(encoding="utf-8")
    missing = cli("panel", "instrument-export", "nope")
    assert missing.code == 2 and "error: no shipped instrument 'nope'" in missing.err
