"""Codebook spreadsheets as MAXQDA and NVivo write them, imported directly; our CSV's description
column; siblings that differ only in letter case in a foreign file.

The fixtures are built by hand from each tool's documented layout: MAXQDA's "Import codes and
memos from an Excel table" (first row Code, Memo; subcodes with ``\\`` or ``>``) and NVivo's code
list exported to a spreadsheet (Name, Description, the hierarchical name, counts and dates).
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from casestudy import study as studies
from casestudy.codebook import exchange as cio
from casestudy.codebook import tree as cb
from casestudy.errors import UserError

NS = cio.CODEBOOK_NS


def _study(store, levels=("organization", "team", "therapist")):
    with store.write() as session:
        taken = {s.title for s in studies.list_studies(session, include_archived=True)}
        title = next(t for t in ("Target", *(f"Target {n}" for n in range(2, 1000))) if t not in taken)  # titles are unique
        return studies.create_study(session, title, levels=list(levels)).id


def _import(store, study_id, data, fmt):
    with store.write("importer") as session:
        return cio.import_data(session, studies.get_study(session, study_id), data, fmt, False, f"codes.{fmt}")


def _records(store, study_id):
    with store.read() as session:
        return {r["path"]: r for r in cb.records(session, studies.get_study(session, study_id))}


def _xlsx(rows, sheet_title="Codes"):
    workbook = openpyxl.Workbook()
    workbook.active.title = sheet_title
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


MAXQDA_ROWS = [
    ["Code", "Memo"],
    ["Organization", "Everything about the institution."],
    ["Organization\\Financial support", "Money for the programme.\n\nExample: a budget line for supervision"],
    ["Organization > Financial support > Training budget", ""],
    ["Team > Climate > Conflict", "Splits within the team."],  # implicit parents: Team, Team > Climate
    ["Loose idea", ""],
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_maxqda_code_table_imports_with_implicit_parents(store, fmt):
    study_id = _study(store)
    if fmt == "xlsx":
        data = _xlsx(MAXQDA_ROWS)
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(MAXQDA_ROWS)
        data = buffer.getvalue().encode()
    result = _import(store, study_id, data, fmt)
    records = _records(store, study_id)
    assert list(records) == [
        "Organization", "Organization/Financial support", "Organization/Financial support/Training budget",
        "Team", "Team/Climate", "Team/Climate/Conflict", "Loose idea",
    ]
    assert result["added"] == 7
    assert records["Organization"]["definition"] == "Everything about the institution."
    assert records["Organization/Financial support"]["short_definition"] == "Money for the programme."  # text before a labelled section
    assert records["Organization/Financial support"]["example"] == "a budget line for supervision"
    assert records["Team/Climate/Conflict"]["definition"] == "Splits within the team."
    assert records["Team"]["definition"] == ""  # created because a subcode named it
    # top-level codes named after a level go on it; the others on the first level, said once
    assert [records[p]["level"] for p in ("Organization", "Team", "Team/Climate/Conflict", "Loose idea")] == ["organization", "team", "team", "organization"]
    assert result["not_carried_over"] == [
        "1 top-level code(s) had no level set and were put on level 'organization' (their sub-codes follow them): Loose idea"]


def test_maxqda_repeated_rows_and_refusals(store):
    study_id = _study(store)
    result = _import(store, study_id, _xlsx([["Code", "Memo", "Colour"], ["A", "first", "red"], ["A", "second", ""], ["A>B", "", ""]]), "xlsx")
    assert result["added"] == 2
    assert _records(store, study_id)["A"]["definition"] == "first"
    assert "row 3 of the XLSX file repeats the code 'A'; the memo of its first row is kept" in result["not_carried_over"]
    assert "column 'colour' is not in MAXQDA's code table (Code, Memo) and was ignored" in result["not_carried_over"]
    other = _study(store)
    with pytest.raises(UserError, match="row 2 of the XLSX file: an empty code name in 'A > > B'"):
        _import(store, other, _xlsx([["Code", "Memo"], ["A > > B", ""]]), "xlsx")
    with pytest.raises(UserError, match="row 3 of the CSV file has a memo but no code"):
        _import(store, other, b"Code,Memo\nA,x\n,orphan memo\n", "csv")
    assert _records(store, other) == {}


NVIVO_ROWS = [
    ["Name", "Description", "Hierarchical Name", "Files", "References", "Created On", "Created By", "Modified On", "Modified By"],
    ["Support", "Backing from above.", "Codes\\\\Support", 3, 10, "12/03/2025 10:00", "AB", "12/03/2025 10:00", "AB"],
    ["Budget", "Money.\n\nWhen to use: any mention of funding", "Codes\\\\Support\\\\Budget", 2, 4, "", "AB", "", "AB"],
    ["Training budget", "", "Codes\\\\Support\\\\Budget\\\\Training budget", 1, 1, "", "AB", "", "AB"],
    ["Therapist", "", "Codes\\\\Therapist", 0, 0, "", "AB", "", "AB"],
    ["Competence", "Skills.", "Codes\\\\Therapist\\\\Competence", 1, 2, "", "AB", "", "AB"],
]


def test_nvivo_code_list_imports_with_its_hierarchy(store):
    study_id = _study(store)
    result = _import(store, study_id, _xlsx(NVIVO_ROWS), "xlsx")
    records = _records(store, study_id)
    assert list(records) == ["Support", "Support/Budget", "Support/Budget/Training budget", "Therapist", "Therapist/Competence"]
    assert records["Support/Budget"]["short_definition"] == "Money."
    assert records["Support/Budget"]["when_to_use"] == "any mention of funding"
    assert records["Therapist/Competence"]["level"] == "therapist"
    assert records["Support/Budget/Training budget"]["level"] == "organization"
    assert "NVivo's counts and dates (files, references, created_on, created_by, modified_on, modified_by) are not codebook fields and were not imported" in result["not_carried_over"]


def test_nvivo_folder_column_and_a_flat_list(store):
    study_id = _study(store)
    data = b"Name,Description,Folder\nSupport,Backing,Nodes\nBudget,Money,Nodes\\Support\nLeadership,,\n"
    result = _import(store, study_id, data, "csv")
    assert result["added"] == 3
    assert list(_records(store, study_id)) == ["Support", "Support/Budget", "Leadership"]
    flat = _study(store)
    _import(store, flat, b"Name,Description\nA,first\nB,second\n", "csv")
    assert [(p, r["definition"]) for p, r in _records(store, flat).items()] == [("A", "first"), ("B", "second")]


def test_siblings_differing_in_case_import_with_a_warning(store):
    study_id = _study(store)
    result = _import(store, study_id, _xlsx([["Code", "Memo"], ["Team > Trust", "one"], ["Team > trust", "two"], ["Team > TRUST", "three"]]), "xlsx")
    records = _records(store, study_id)
    assert [(p, r["definition"]) for p, r in records.items()] == [("Team", ""), ("Team/Trust", "one"), ("Team/trust (2)", "two"), ("Team/TRUST (3)", "three")]
    assert ("codes 'Trust' and 'trust' under 'Team' differ only in letter case; this codebook compares names without case, "
            "so the second is imported as 'trust (2)'") in result["not_carried_over"]
    # the same in a REFI-QDA codebook from another tool: both codes arrive, with their GUIDs
    qdc = (f'<CodeBook xmlns="{NS}"><Codes><Code guid="2b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="A" isCodable="true"/>'
           f'<Code guid="3b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="a" isCodable="true"/></Codes></CodeBook>').encode()
    other = _study(store)
    result = _import(store, other, qdc, "qdc")
    assert [(p, r["guid"]) for p, r in _records(store, other).items()] == [
        ("A", "2b7e1516-28ae-4d2a-a6ab-f7158809cf4f"), ("a (2)", "3b7e1516-28ae-4d2a-a6ab-f7158809cf4f")]
    assert any("differ only in letter case" in w and "at the top of the codebook" in w for w in result["not_carried_over"])


def test_our_own_layout_still_refuses_a_case_clash(store):
    study_id = _study(store)
    with pytest.raises(UserError, match="duplicate code name 'b' at one level"):
        _import(store, study_id, b"path,level\nA,team\nA/B,team\nA/b,team\n", "csv")


def test_csv_export_has_a_description_column_and_it_reads_back(demo_store, store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        text = cio.export_csv(session, study)
        records = cb.records(session, study)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "description" in rows[0]
    by_path = {r["path"]: r for r in rows}
    described = next(r for r in records if r["definition"] and r["when_to_use"])
    assert by_path[described["path"]]["description"] == cio.description_text(described)
    assert f"When to use: {described['when_to_use']}" in by_path[described["path"]]["description"]
    # a file with only the description column (as a tool that reads and writes only it) fills the fields
    study_id = _study(store)
    _import(store, study_id, b'path,level,description\nA,team,"Short.\n\nDefinition: Long.\n\nExample: this"\n', "csv")
    record = _records(store, study_id)["A"]
    assert (record["short_definition"], record["definition"], record["example"]) == ("Short.", "Long.", "this")


def test_a_memo_ending_in_the_level_marker_gives_the_code_its_level(store):
    """Our REFI-QDA export opened in NVivo or MAXQDA and its code list saved as a spreadsheet: the
    'Level: X' line of each description survives where the sets did not."""
    study_id = _study(store)
    rows = [["Name", "Description", "Hierarchical Name"],
            ["Staffing", "Who works there.\n\nLevel: team", "Codes\\Staffing"],
            ["Turnover", "People leaving.\n\nLevel: therapist", "Codes\\Staffing\\Turnover"],
            ["Wards", "Level: ward is a word here\n\nLevel: clinic", "Codes\\Wards"]]  # names no level of the study: text
    _import(store, study_id, _xlsx(rows), "xlsx")
    records = _records(store, study_id)
    assert [(p, r["level"], r["definition"]) for p, r in records.items()] == [
        ("Staffing", "team", "Who works there."), ("Staffing/Turnover", "therapist", "People leaving."),
        ("Wards", "organization", "Level: ward is a word here\n\nLevel: clinic")]
    maxqda = _study(store)
    _import(store, maxqda, b'Code,Memo\nSupport > Budget,"Money.\n\nLevel: therapist"\n', "csv")
    assert {p: r["level"] for p, r in _records(store, maxqda).items()} == {"Support": "organization", "Support/Budget": "therapist"}
