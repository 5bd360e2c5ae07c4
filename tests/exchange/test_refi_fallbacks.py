"""REFI-QDA fallbacks for peers that drop what they do not know: levels survive a tool that
drops ``<Sets>`` (QualCoder writes none), and a case's programme comes back as programme
components. Every exported file is validated against the Project schema (check_xsd)."""

from __future__ import annotations

import io
import json
import zipfile
from xml.sax.saxutils import escape

from lxml import etree
from sqlalchemy import select

from casestudy import study as studies
from casestudy.codebook import tree as cb
from casestudy.exchange import schema as exchange_schema
from casestudy.models import DEFAULT_LEVELS, Case, Memo
from tests.exchange.test_refi_qda import (
    C1,
    S1,
    archive,
    check_xsd,
    do_import,
    export_bytes,
    project,
)

NS = {"q": exchange_schema.NS}
CODE_FIELDS = ("path", "level", "codable", "short_definition", "definition", "when_to_use", "when_not_to_use", "example")


def rewrite(data: bytes, change) -> bytes:
    """The archive with ``change(project root)`` applied to project.qde (a peer's round trip)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("project.qde"))
        files = {n: z.read(n) for n in z.namelist() if n != "project.qde"}
    change(root)
    return archive(etree.tostring(root, encoding="unicode"), files)


def drop_sets(root) -> None:
    """What QualCoder does to a project: no ``<Sets>`` at all (refi.py exports none)."""
    for sets in root.findall("q:Sets", NS):
        root.remove(sets)


def code_records(store, study_id: int) -> list[dict]:
    with store.read() as session:
        return [{k: r[k] for k in CODE_FIELDS} for r in cb.records(session, studies.get_study(session, study_id))]


def levels_of(store, study_id: int) -> list[str]:
    with store.read() as session:
        return list(studies.get_study(session, study_id).levels)


# --- levels -------------------------------------------------------------------------------------
def test_levels_survive_a_peer_that_drops_sets(demo_store):
    data, _ = export_bytes(demo_store)
    original, levels = code_records(demo_store, 1), levels_of(demo_store, 1)
    root = check_xsd(data)
    markers = [c.find("q:Description", NS).text.rsplit("\n", 1)[-1] for c in root.iter(f"{{{exchange_schema.NS}}}Code")]
    assert len(markers) == len(original) and all(m.startswith("Level: ") for m in markers)
    assert root.find("q:Description", NS).text.endswith("Levels: " + json.dumps(levels))

    report = do_import(demo_store, rewrite(data, drop_sets), title="Through QualCoder")
    # before: 0 of the codes kept their level (all on 'organisation', the study on the default levels)
    assert levels_of(demo_store, report["study_id"]) == levels and report["levels_from"] == "project description"
    assert code_records(demo_store, report["study_id"]) == original  # levels and definitions, marker taken off
    assert report["recovered"]["code_levels"] == {r["path"]: r["level"] for r in original}
    assert any("read from the 'Level: ...' line" in m for m in report["messages"])

    # the next round trip writes one marker per code again, never two
    again, _ = export_bytes(demo_store, report["study_id"])
    descriptions = [c.find("q:Description", NS).text for c in check_xsd(again).iter(f"{{{exchange_schema.NS}}}Code")]
    assert all(d.count("Level: ") == 1 for d in descriptions)
    second = do_import(demo_store, rewrite(again, drop_sets), title="Twice")
    assert code_records(demo_store, second["study_id"]) == original


def test_levels_come_from_the_codes_when_the_project_description_is_lost_too(demo_store):
    def drop_sets_and_description(root):
        drop_sets(root)
        root.remove(root.find("q:Description", NS))

    data, _ = export_bytes(demo_store)
    original = code_records(demo_store, 1)
    report = do_import(demo_store, rewrite(data, drop_sets_and_description), title="No description")
    assert report["levels_from"] == "code descriptions"
    assert set(levels_of(demo_store, report["study_id"])) == {r["level"] for r in original}
    assert code_records(demo_store, report["study_id"]) == original


def test_a_level_set_wins_over_the_marker_and_the_marker_still_leaves_the_text(demo_store):
    data, _ = export_bytes(demo_store)
    original = code_records(demo_store, 1)
    report = do_import(demo_store, data, title="Unchanged")  # our own file: sets and markers agree
    assert report["levels_from"] == "project description" and report["recovered"]["code_levels"] == {}
    assert code_records(demo_store, report["study_id"]) == original

    first = original[0]
    other = next(level for level in levels_of(demo_store, 1) if level != first["level"])

    def contradict(root):  # a peer that kept the sets but rewrote the first code's marker
        code = root.find("q:CodeBook/q:Codes/q:Code", NS)
        description = code.find("q:Description", NS)
        description.text = description.text.rsplit("\n", 1)[0] + "\n" + f"Level: {other}"

    report = do_import(demo_store, rewrite(data, contradict), title="Contradicted")
    assert code_records(demo_store, report["study_id"])[0] == first


def test_a_foreign_description_with_level_text_is_left_as_written(store):
    texts = ["Level: high demand on staff, see the memo", "Costs.\nLevel: low", "Costs.\n\nlevel: team", "Costs.\n\nLevel:  team",
             "Level: team\n\nand more text after it"]
    for number, text in enumerate(texts):
        xml = project(f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text.</PlainTextContent></TextSource>')
        xml = xml.replace("<Description>Things in the way</Description>", f"<Description>{text}</Description>")
        report = do_import(store, archive(xml), title=f"Foreign {number}")
        assert report["levels_from"] == "default" and report["levels"] == list(DEFAULT_LEVELS)
        assert report["recovered"] == {"code_levels": {}, "programmes": {}}
        with store.read() as session:
            code = cb.get_code(session, studies.get_study(session, report["study_id"]), "Barriers")
            assert code.definition == text.strip() and code.level == DEFAULT_LEVELS[0]
    # a marker that names no level of the study is the user's text too (here the levels come from a set)
    xml = project(f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text.</PlainTextContent></TextSource>',
                  extra=f'<Sets><Set guid="99999999-0000-0000-0000-000000000001" name="Level: clinic"><MemberCode targetGUID="{C1}"/></Set></Sets>')
    xml = xml.replace("<Description>Things in the way</Description>", "<Description>Things\n\nLevel: ward</Description>")
    report = do_import(store, archive(xml), title="Foreign set")
    with store.read() as session:
        code = cb.get_code(session, studies.get_study(session, report["study_id"]), "Barriers")
        assert (code.level, code.definition) == ("clinic", "Things\n\nLevel: ward")


# --- programmes -----------------------------------------------------------------------------------
PROGRAMMES = [
    [studies.ComponentSpec("PH", 2, status="stopped"), studies.ComponentSpec("IOP", 1, "3 days a week", "running", "positive")],
    [studies.ComponentSpec("PH", 0), studies.ComponentSpec("Day care", None, "mornings, afternoons (twice), weekends")],
    [studies.ComponentSpec("IOP", None, "2 groups"), studies.ComponentSpec("PH, adults", 3, "x (y")],  # ambiguous as text
    [studies.ComponentSpec("Outreach (home)"), studies.ComponentSpec("PH", None, "a, 3 groups"), studies.ComponentSpec("IOP", 12, "", "", "mixed")],
    [],
]


def programmes(store, study_id: int) -> dict[str, list[tuple]]:
    with store.read() as session:
        return {c.public_label: [(p.type, p.dosage, p.groups, p.status, p.outcome_class) for p in c.components]
                for c in studies.list_cases(session, studies.get_study(session, study_id))}


def varied_programmes(demo_store) -> None:
    with demo_store.write("test") as session:
        for case, specs in zip(studies.list_cases(session, studies.get_study(session)), PROGRAMMES):
            case.components.clear()
            session.flush()
            for spec in specs:
                studies.add_component(session, case, spec)


def test_programmes_come_back_as_programme_components(demo_store):
    varied_programmes(demo_store)
    expected = programmes(demo_store, 1)
    data, _ = export_bytes(demo_store)
    report = do_import(demo_store, rewrite(data, drop_sets), title="Programmes")
    # before: no component came back (the programme was a line in the memo of imported variables)
    assert programmes(demo_store, report["study_id"]) == expected
    with demo_store.read() as session:
        texts = {c.public_label: studies.programme_text(c) for c in studies.list_cases(session, studies.get_study(session, 1))}
        memos = [m.text for m in session.scalars(select(Memo).where(Memo.study_id == report["study_id"], Memo.title == "Imported case variables"))]
    assert report["recovered"]["programmes"] == {
        label: {"programme": texts[label], "components": len(specs), "from": "programme components"}
        for label, specs in expected.items() if specs}
    assert not any("programme" in text for text in memos)


def test_an_older_export_with_the_programme_text_only_is_read_as_components(demo_store):
    data, _ = export_bytes(demo_store)  # the demo's programmes: 'PH (2 groups)', 'PH (3 days a week, 1 group), IOP (1 group)'
    expected = {label: [(t, d, g) for t, d, g, _, _ in specs] for label, specs in programmes(demo_store, 1).items()}

    def text_only(root):
        guid = next(v.get("guid") for v in root.iterfind("q:Variables/q:Variable", NS) if v.get("name") == "programme components")
        for value in list(root.iterfind("q:Cases/q:Case/q:VariableValue", NS)):
            if value.find("q:VariableRef", NS).get("targetGUID") == guid:
                value.getparent().remove(value)

    report = do_import(demo_store, rewrite(data, text_only), title="Text only")
    assert {label: [(t, d, g) for t, d, g, _, _ in specs] for label, specs in programmes(demo_store, report["study_id"]).items()} == expected
    assert {v["from"] for v in report["recovered"]["programmes"].values()} == {"programme"}


def case_project(values: dict[str, str]) -> bytes:
    variables = "".join(f'<Variable guid="EEEEEEEE-0000-0000-0000-00000000000{i}" name="{name}" typeOfVariable="Text"/>'
                        for i, name in enumerate(values, start=1))
    held = "".join(f'<VariableValue><VariableRef targetGUID="EEEEEEEE-0000-0000-0000-00000000000{i}"/>'
                   f'<TextValue>{escape(value)}</TextValue></VariableValue>'
                   for i, value in enumerate(values.values(), start=1))
    cases = f'<Variables>{variables}</Variables><Cases><Case guid="CCCCCCCC-0000-0000-0000-000000000001" name="Clinic">{held}' \
            f'<SourceRef targetGUID="{S1}"/></Case></Cases>'
    return archive(project(f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text.</PlainTextContent></TextSource>', cases))


def clinic(store, report) -> tuple[list[tuple], list[str]]:
    with store.read() as session:
        case = session.scalar(select(Case).where(Case.study_id == report["study_id"]))
        memos = [m.text for m in session.scalars(select(Memo).where(Memo.study_id == report["study_id"], Memo.title == "Imported case variables"))]
        return [(p.type, p.dosage, p.groups, p.outcome_class) for p in case.components], memos


def test_components_that_break_the_rules_are_left_out_with_a_message(store):
    components = json.dumps([{"type": "Equine therapy", "groups": 1}, {"type": ""}, {"type": "PH", "outcome_class": "great"},
                             {"type": "X" * 51}, {"type": "IOP", "groups": -1}, {"type": "IOP", "dosage": "weekly"}])
    report = do_import(store, case_project({"programme components": components, "programme": "whatever"}))
    found, memos = clinic(store, report)
    # a type the study has not seen is kept (types are free text); the others are named in the report
    assert found == [("Equine therapy", "", 1, None), ("IOP", "weekly", None, None)]
    assert sum("programme component" in m and "left out" in m for m in report["messages"]) == 4
    assert memos and "programme components" in memos[0]  # not everything came back: the values stay readable


def test_a_programme_variable_that_is_not_a_programme_stays_in_the_memo(store):
    report = do_import(store, case_project({"programme components": "{not json", "programme": "PH (1 groups)"}))
    found, memos = clinic(store, report)
    assert found == [] and report["recovered"]["programmes"] == {}
    assert any("not a JSON list" in m for m in report["messages"]) and any("could not be read" in m for m in report["messages"])
    assert "programme: PH (1 groups)" in memos[0]
    # a foreign text programme with a type of its own
    report = do_import(store, case_project({"programme": "Day hospital (2 groups), Outreach"}))
    assert clinic(store, report)[0] == [("Day hospital", "", 2, None), ("Outreach", "", None, None)]


def test_a_foreign_file_without_markers_or_programme_imports_as_before(store):
    report = do_import(store, case_project({"beds": "12"}))
    assert report["levels_from"] == "default" and report["recovered"] == {"code_levels": {}, "programmes": {}}
    found, memos = clinic(store, report)
    assert found == [] and memos == ["beds: 12"]


# --- command line ----------------------------------------------------------------------------------
def test_cli_import_report_names_what_the_fallbacks_recovered(demo_store, cli, tmp_path):
    exported = tmp_path / "study.qdpx"
    assert cli("--db", demo_store.url, "export", "qdpx", "--output", str(exported)).code == 0
    stripped = tmp_path / "through-qualcoder.qdpx"
    stripped.write_bytes(rewrite(exported.read_bytes(), drop_sets))
    result = cli("--db", demo_store.url, "import", "qdpx", str(stripped), "--title", "Peer", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["levels_from"] == "project description" and len(report["recovered"]["code_levels"]) == len(code_records(demo_store, 1))
    assert report["recovered"]["programmes"] and all(v["from"] == "programme components" for v in report["recovered"]["programmes"].values())


def test_a_study_with_levels_of_its_own_keeps_them_through_a_peer_that_drops_sets(store):
    with store.write("test") as session:
        study = studies.create_study(session, "Own levels", levels=["hospital", "unit", "clinician"])
        lead = cb.add_code(session, study, "Leadership", "hospital")
        cb.add_code(session, study, "Vision", "hospital", lead)
        staffing = cb.add_code(session, study, "Staffing", "unit")
        cb.add_code(session, study, "Turnover", "clinician", staffing)  # a sub-code on another level
        cb.add_code(session, study, "Skills", "clinician")
        study_id = study.id
    data, _ = export_bytes(store, study_id)
    report = do_import(store, rewrite(data, drop_sets), title="Own levels back")
    # before: the study got the default levels and 0 of the 5 codes their level
    assert levels_of(store, report["study_id"]) == ["hospital", "unit", "clinician"]
    assert code_records(store, report["study_id"]) == code_records(store, study_id)
    assert len(report["recovered"]["code_levels"]) == 5
