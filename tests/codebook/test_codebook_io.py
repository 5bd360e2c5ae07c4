"""Codebook exchange: YAML/CSV/XLSX/REFI-QDA round trips, XSD validation, foreign files, bad input."""

from __future__ import annotations

import io

import openpyxl
import pytest
import yaml
from lxml import etree

from casestudy.codebook import tree as cb
from casestudy.codebook import exchange as cio
from casestudy import study as studies
from casestudy.errors import UserError

XSD = "/work/shared/refi-qda/Codebook.xsd"
NS = cio.CODEBOOK_NS


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(XSD))


def _new_study(store, title="Target"):
    """A new study; study titles are unique, so a repeated default title gets a number."""
    with store.write() as session:
        taken = {s.title for s in studies.list_studies(session, include_archived=True)}
        unique = next(t for t in (title, *(f"{title} {n}" for n in range(2, 1000))) if t not in taken)
        return studies.create_study(session, unique).id


def _records(store, study_id):
    with store.read() as session:
        study = studies.get_study(session, study_id)
        return [{k: v for k, v in r.items() if k != "id"} for r in cb.records(session, study)]


def _import(store, study_id, data, fmt, replace=False):
    with store.write("importer") as session:
        return cio.import_data(session, studies.get_study(session, study_id), data, fmt, replace, f"file.{fmt}")


def _export(store, study_id, fmt):
    with store.read() as session:
        return cio.EXPORTERS[fmt](session, studies.get_study(session, study_id))


@pytest.fixture
def demo_with_history(demo_store):
    """The demo codebook plus a merged, a retired and an emergent code with a slash in its name."""
    with demo_store.write("coder1") as session:
        study = studies.get_study(session)
        source = cb.get_code(session, study, "Continuity of management")
        cb.merge_codes(session, source, cb.get_code(session, study, "Department management"))
        cb.retire_code(session, cb.get_code(session, study, "Learning environment"))
        cb.add_code(session, study, "Care/cure divide", "organization", cb.get_code(session, study, "Embedding within the institution"),
                    definition="=A split between services", colour="#123ABC", secondary_levels=["team"], polarity="barrier")
        return demo_store, study.id


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_round_trip_is_lossless(demo_with_history, fmt):
    store, source_id = demo_with_history
    data = _export(store, source_id, fmt)
    target_id = _new_study(store)
    result = _import(store, target_id, data.encode() if isinstance(data, str) else data, fmt)
    assert result["added"] == 45 and result["not_carried_over"] == []
    assert _records(store, target_id) == _records(store, source_id)
    if fmt == "yaml":
        again = yaml.safe_load(_export(store, target_id, "yaml"))
        first = yaml.safe_load(data)
        assert again.pop("title") == "Target" and first.pop("title") != "Target"
        assert again == first


def test_csv_neutralises_formulas_and_reads_them_back(demo_with_history):
    store, source_id = demo_with_history
    text = _export(store, source_id, "csv")
    assert ",'=A split between services," in text
    target_id = _new_study(store)
    _import(store, target_id, text.encode(), "csv")
    with store.read() as session:
        assert cb.get_code(session, studies.get_study(session, target_id), "Care/cure divide").definition == "=A split between services"


def test_qdc_export_is_valid_and_round_trips(demo_with_history, schema):
    store, source_id = demo_with_history
    data = _export(store, source_id, "qdc")
    document = etree.fromstring(data)
    schema.assertValid(document)
    set_names = [s.get("name") for s in document.iter(f"{{{NS}}}Set")]
    assert {"Level: organization", "Level: team", "Level: therapist", "Secondary level: team", "Polarity: barrier",
            "Status: merged", "Status: retired"} <= set(set_names)
    leadership = next(c for c in document.iter(f"{{{NS}}}Code") if c.get("name") == "Leadership")
    description = leadership.find(f"{{{NS}}}Description").text
    assert description.startswith("The person or duo leading the team") and "\n\nWhen not to use: " in description
    target_id = _new_study(store)
    result = _import(store, target_id, data, "qdc")
    assert any("merge target is not in the file" in w for w in result["not_carried_over"])
    keep = ("guid", "path", "name", "parent", "codable", "level", "secondary_levels", "short_definition", "definition", "when_to_use",
            "when_not_to_use", "example", "colour", "polarity", "sources")
    source, target = _records(store, source_id), _records(store, target_id)
    assert [{k: r[k] for k in keep} for r in target] == [{k: r[k] for k in keep} for r in source]
    assert [r["status"] for r in target] == [r["status"].replace("merged", "retired") for r in source]


def test_qdc_element_builders_are_reusable(schema):
    nodes = [{"name": "A", "guid": "2b7e1516-28ae-4d2a-a6ab-f7158809cf4f", "level": "team", "codable": False, "children": [
        {"name": "B", "guid": "3c7e1516-28ae-4d2a-a6ab-f7158809cf4f", "level": "team", "definition": "Bee.", "children": []}]}]
    book = cio.codebook_element(nodes, ["organization", "team"])
    schema.assertValid(book)
    project_codes = cio.codes_element(nodes, ns="urn:QDA-XML:project:1.0")
    assert etree.QName(project_codes[0]).namespace == "urn:QDA-XML:project:1.0"
    parsed, warnings = cio.parse_codebook_element(book, ["organization", "team"])
    assert parsed[0]["children"][0]["definition"] == "Bee." and parsed[0]["level"] == "team" and warnings == []


FOREIGN = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{NS}" origin="OtherTool 3.1">
  <Codes>
    <Code guid="{{A1B2C3D4-0000-4000-8000-00000000000A}}" name="Support" isCodable="true">
      <Description>Anything about backing from above.</Description>
      <Code guid="A1B2C3D4-0000-4000-8000-00000000000B" name="Budget" isCodable="true" color="#F0A">
        <Code guid="a1b2c3d4-0000-4000-8000-00000000000c" name="Training budget" isCodable="true"/>
      </Code>
    </Code>
    <Code guid="A1B2C3D4-0000-4000-8000-00000000000D" name="Team climate" isCodable="false" color="#00FF00"/>
    <Code guid="A1B2C3D4-0000-4000-8000-00000000000E" name="Loose idea" isCodable="true"/>
  </Codes>
  <Sets>
    <Set guid="B1B2C3D4-0000-4000-8000-00000000000A" name="Team"><MemberCode guid="A1B2C3D4-0000-4000-8000-00000000000D"/></Set>
    <Set guid="B1B2C3D4-0000-4000-8000-00000000000B" name="Favourites"><MemberCode guid="a1b2c3d4-0000-4000-8000-00000000000a"/></Set>
  </Sets>
</CodeBook>
"""


def test_foreign_qdc_is_imported_and_reports_what_it_could_not_carry(store, schema):
    schema.assertValid(etree.fromstring(FOREIGN.encode()))
    study_id = _new_study(store)
    result = _import(store, study_id, FOREIGN.encode(), "qdc")
    assert result["added"] == 5
    warnings = " | ".join(result["not_carried_over"])
    assert "set 'Favourites' (1 codes) could not be carried over" in warnings
    assert "2 top-level code(s) had no level set and were put on level 'organization'" in warnings
    records = {r["path"]: r for r in _records(store, study_id)}
    assert records["Support"]["guid"] == "a1b2c3d4-0000-4000-8000-00000000000a"
    assert records["Support"]["definition"] == "Anything about backing from above."
    assert records["Support/Budget"]["colour"] == "#FF00AA"
    assert records["Support/Budget/Training budget"]["colour"] is None
    assert records["Support/Budget/Training budget"]["level"] == "organization"
    assert (records["Team climate"]["level"], records["Team climate"]["codable"]) == ("team", False)
    # stable GUIDs: exporting again keeps them
    assert "a1b2c3d4-0000-4000-8000-00000000000c" in _export(store, study_id, "qdc").decode()


def test_replace_updates_in_place_adds_and_retires(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        ids = {r["path"]: r["id"] for r in cb.records(session, study)}
    document = yaml.safe_load(_export(demo_store, None, "yaml"))
    team = next(c for c in document["codes"] if c["name"] == "Team")
    team["children"] = [c for c in team["children"] if c["name"] != "Primary clinician"]
    team["children"][0]["definition"] = "Rewritten."
    team["children"].append({"name": "Peer review", "level": "team"})
    data = yaml.safe_dump(document, sort_keys=False).encode()
    with pytest.raises(UserError, match="already has a codebook"):
        _import(demo_store, None, data, "yaml")
    result = _import(demo_store, None, data, "yaml", replace=True)
    # one definition rewritten + six later siblings of the removed code moved up one place
    assert (result["added"], result["updated"], result["retired"]) == (1, 7, 1)
    with demo_store.read() as session:
        study = studies.get_study(session)
        supervisor = cb.get_code(session, study, "Team/Programme supervisor")
        assert supervisor.id == ids["Team/Programme supervisor"] and supervisor.definition == "Rewritten."
        assert cb.get_code(session, study, "Team/Primary clinician").status == "retired"
        assert cb.get_code(session, study, "Peer review").origin == "a priori"


def _codes_in(store, study_id):
    return len(_records(store, study_id))


def _assert_refused(store, fmt, data, message):
    """One clear one-line message, and nothing imported."""
    study_id = _new_study(store)
    with pytest.raises(UserError) as info:
        _import(store, study_id, data if isinstance(data, bytes) else data.encode(), fmt)
    assert message in info.value.message and "\n" not in info.value.message.strip()
    assert _codes_in(store, study_id) == 0


BAD_YAML = {
    "malformed": ("codes:\n  - name: A\n    level: [organization\n", "the YAML file is malformed at line"),
    "not a codebook": ("just: text\n", "needs a top-level 'codes:' list"),
    "unknown field": ("codes:\n- name: A\n  level: team\n  colour_code: red\n", "unknown field(s) colour_code in code 'A'"),
    "duplicate": ("codes:\n- name: A\n  level: team\n  children:\n  - {name: B}\n  - {name: b}\n", "duplicate code name 'b' at one level of the tree (under 'A')"),
    "unknown level": ("codes:\n- name: A\n  level: system\n", "code 'A': unknown level 'system'"),
    "colour": ("codes:\n- name: A\n  level: team\n  colour: '#12345G'\n", "code 'A': invalid colour '#12345G'"),
    "merge cycle": ("codes:\n- {name: A, level: team, status: merged, merged_into: B}\n- {name: B, level: team, status: merged, merged_into: A}\n",
                    "merge targets form a cycle: A -> B -> A"),
    "no level": ("codes:\n- name: A\n", "code 'A': no level given"),
    "guid twice": ("codes:\n- {name: A, level: team, guid: 2b7e1516-28ae-4d2a-a6ab-f7158809cf4f}\n- {name: B, level: team, guid: 2B7E1516-28AE-4D2A-A6AB-F7158809CF4F}\n",
                   "is used twice"),
    "bad guid": ("codes:\n- {name: A, level: team, guid: 1234}\n", "code 'A': invalid GUID '1234'"),
    "empty": ("codes: []\n", "the file holds no codes"),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_bad_yaml_gives_one_message_and_imports_nothing(store, case):
    _assert_refused(store, "yaml", *BAD_YAML[case])


BAD_CSV = {
    "no known header": ("title,level\nA,team\n", "has no header row it can read: name the columns in the first row: 'path'"),
    "malformed quoting": ('path,level\n"A,team\n', "the CSV file is malformed"),
    "duplicate": ("path,level\nA,team\nA/B,team\na/b,team\n", "duplicate code name 'b' at one level of the tree (row 4"),
    "orphan": ("path,level\nA/B,team\n", "row 2: the parent 'A' of 'A/B' must come on an earlier row"),
    "unknown level": ("path,level\nA,board\n", "code 'A': unknown level 'board'"),
    "colour": ("path,level,colour\nA,team,green\n", "code 'A': invalid colour 'green'"),
    "codable": ("path,level,codable\nA,team,maybe\n", "row 2: codable must be yes or no"),
    "not utf-8": (b"path,level\n\xff\xfe,team\n", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_gives_one_message_and_imports_nothing(store, case):
    _assert_refused(store, "csv", *BAD_CSV[case])


def _xlsx(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_from_another_tool_and_bad_xlsx(store):
    study_id = _new_study(store)
    with pytest.raises(UserError, match="malformed or not an Excel workbook"):
        _import(store, study_id, b"PK\x03\x04 not really a zip", "xlsx")
    with pytest.raises(UserError, match="no header row: name the columns in the first row"):
        _import(store, study_id, _xlsx([["title"], ["A"]]), "xlsx")
    with pytest.raises(UserError, match="duplicate code name 'A' at one level"):
        _import(store, study_id, _xlsx([["Path", "Level"], ["A", "team"], ["A", "team"]]), "xlsx")
    assert _codes_in(store, study_id) == 0
    result = _import(store, study_id, _xlsx([["My codebook"], [], ["Path", "Level", "Codable", "Notes"], ["A", "team", True, "x"], ["A/B", None, None, None]]), "xlsx")
    assert result["added"] == 2 and result["not_carried_over"] == ["column 'notes' is not a codebook field and was ignored"]
    assert [(r["path"], r["level"], r["codable"]) for r in _records(store, study_id)] == [("A", "team", True), ("A/B", "team", True)]


BAD_QDC = {
    "not xml": (b"<CodeBook><Codes>", "not well-formed XML"),
    "wrong root": (f'<Project xmlns="{NS}"/>'.encode(), "the REFI-QDA project has no <CodeBook>"),
    "other root": (b"<html/>", "its root element is <html>"),
    "no codes": (f'<CodeBook xmlns="{NS}"/>'.encode(), "no <Codes> element"),
    "no guid": (f'<CodeBook xmlns="{NS}"><Codes><Code name="A" isCodable="true"/></Codes></CodeBook>'.encode(), "code 'A' in the REFI-QDA file has no guid"),
    "bad colour": (f'<CodeBook xmlns="{NS}"><Codes><Code guid="2b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="A" isCodable="true" color="blue"/></Codes></CodeBook>'.encode(),
                   "code 'A': invalid colour 'blue'"),
    "unknown level": (f'<CodeBook xmlns="{NS}"><Codes><Code guid="2b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="A" isCodable="true"/></Codes>'
                      f'<Sets><Set guid="3b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="Level: system"><MemberCode guid="2b7e1516-28ae-4d2a-a6ab-f7158809cf4f"/></Set></Sets></CodeBook>'.encode(),
                      "unknown level 'system'"),
    "entity": (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><CodeBook xmlns="' + NS.encode()
               + b'"><Codes><Code guid="2b7e1516-28ae-4d2a-a6ab-f7158809cf4f" name="&e;" isCodable="true"/></Codes></CodeBook>', None),
}


@pytest.mark.parametrize("case", sorted(BAD_QDC))
def test_bad_qdc_gives_one_message_and_imports_nothing(store, case):
    data, message = BAD_QDC[case]
    study_id = _new_study(store)
    if message is None:  # external entities are never resolved
        try:
            _import(store, study_id, data, "qdc")
        except UserError:
            pass
        assert "root:" not in str(_records(store, study_id))
        return
    _assert_refused(store, "qdc", data, message)


def test_read_file_by_extension(tmp_path, store):
    with pytest.raises(UserError, match="cannot tell the format"):
        cio.read_file(tmp_path / "codes.txt", ["team"])
    with pytest.raises(UserError, match="cannot read"):
        cio.read_file(tmp_path / "missing.yaml", ["team"])
    study_id = _new_study(store)
    with store.write() as session:
        result = cio.load_shipped(session, studies.get_study(session, study_id), "empty-three-level")
        assert result["added"] == 3
        with pytest.raises(UserError, match="no shipped codebook 'nope'"):
            cio.load_shipped(session, studies.get_study(session, study_id), "nope")


@pytest.mark.parametrize("text, expected", [
    ("Short.\n\nLevel: team", ("Short.", "team")),
    ("Level: team", ("", "team")),
    ("Short.\r\n\r\nLevel: team\r\n", ("Short.", "team")),
    ("Short.\n\nWhen to use: always\n\nLevel: therapist", ("Short.\n\nWhen to use: always", "therapist")),
    ("Short.\nLevel: team", None),  # a line of the paragraph, not a paragraph of its own
    ("Level: team\n\nMore text", None),  # not the last line
    ("Short.\n\nlevel: team", None),
    ("Short.\n\nLevel:team", None),
    ("Short.\n\nLevel:  team", None),
    ("Short.\n\nLevel: ", None),
    ("The Level: team decides", None),
    ("", None),
])
def test_the_level_marker_is_read_only_in_its_exact_form(text, expected):
    assert cio.split_marker(text, cio.LEVEL_MARKER) == (expected or (text, None))
    if expected:
        assert cio.with_marker(expected[0], cio.LEVEL_MARKER, expected[1]).replace("\r\n", "\n").rstrip() == text.replace("\r\n", "\n").rstrip()


def test_qdc_levels_survive_a_tool_that_drops_sets(demo_with_history, schema):
    store, source_id = demo_with_history
    document = etree.fromstring(_export(store, source_id, "qdc"))
    schema.assertValid(document)
    document.remove(document.find(f"{{{NS}}}Sets"))
    target_id = _new_study(store)
    result = _import(store, target_id, etree.tostring(document), "qdc")
    keep = ("path", "level", "short_definition", "definition", "when_to_use", "when_not_to_use", "example")
    # before: the 'Organization and team' branch and its codes fell to the first level
    assert [{k: r[k] for k in keep} for r in _records(store, target_id)] == [{k: r[k] for k in keep} for r in _records(store, source_id)]
    assert any("45 code level(s) read from the 'Level: ...' line" in w for w in result["not_carried_over"])
