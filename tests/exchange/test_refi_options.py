"""REFI-QDA export options and peers' habits: shared code names (--qualify-names), notes as files,
coder attribution from the selection, cases as sets of sources, UTF-16 offsets and CRLF line
ends. Every exported file is validated against the Project schema (check_xsd)."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree
from sqlalchemy import select

from casestudy import study as studies
from casestudy import users
from casestudy.codebook import tree as cb
from casestudy.coding import spans
from casestudy.errors import UserError
from casestudy.exchange import export as exchange_export
from casestudy.exchange import schema as exchange_schema
from casestudy.models import Case, Interview
from tests.exchange.test_refi_qda import (
    C2,
    S1,
    U1,
    archive,
    check_xsd,
    coded_texts,
    do_import,
    project,
)

NS = {"q": exchange_schema.NS}


def export(store, **options) -> tuple[bytes, dict, etree._Element]:
    buffer = io.BytesIO()
    with store.write("test") as session:
        report = exchange_export.export_qdpx(session, studies.get_study(session), buffer, options=exchange_export.ExportOptions(**options))
    data = buffer.getvalue()
    return data, report, check_xsd(data)


def member(data: bytes, path: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(path)


@pytest.fixture
def shared_names(demo_store):
    """The demo plus a code 'Leadership' under Team while 'Leadership' already sits elsewhere."""
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        records = cb.records(session, study)
        leaf = next(r for r in records if r["parent"] and r["codable"])
        other_parent = next(r for r in records if r["parent"] is None and not leaf["path"].startswith(r["path"] + "/"))
        cb.add_code(session, study, leaf["name"], other_parent["level"], cb.get_code(session, study, other_parent["path"]))
    return demo_store, leaf


def test_shared_code_names_are_warned_about_and_qualified_on_request(shared_names):
    store, leaf = shared_names
    _, report, root = export(store)
    assert any(f"{leaf['name']}: " in w and "--qualify-names" in w and "QualCoder" in w for w in report["warnings"])
    names = [c.get("name") for c in root.iter(f"{{{exchange_schema.NS}}}Code")]
    assert names.count(leaf["name"]) == 2  # before: two codes of one name, QualCoder keeps one
    _, report, root = export(store, qualify_names=True)
    names = [c.get("name") for c in root.iter(f"{{{exchange_schema.NS}}}Code")]
    assert leaf["name"] not in names and len(names) == len(set(names))
    assert " / ".join(cb.split_path(leaf["path"])) in names
    assert report["warnings"] == ["2 code(s) whose name another code shares are named with their parent path (--qualify-names)"]


def test_notes_are_files_with_unique_names_that_carry_the_case_label(demo_store):
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        case = studies.list_cases(session, study)[0]
        admin = users.get_user(session, "coder1")
        for text in ("First summary", "Second summary"):
            spans.add_memo(session, study, "case", case.id, admin, text, "Case summary")
        label = case.public_label
    data, report, root = export(demo_store)
    paths = [n.get("plainTextPath") for n in root.iterfind("q:Notes/q:Note", NS)]
    assert len(paths) == len(set(paths)) == report["notes"] and all(p.startswith("internal://") for p in paths)
    slug = label.replace(" ", "_")
    mine = sorted(p for p in paths if p.startswith(f"internal://{slug}-Case_summary"))
    assert mine == [f"internal://{slug}-Case_summary-2.txt", f"internal://{slug}-Case_summary.txt"]
    texts = {member(data, "sources/" + p.removeprefix("internal://")).decode() for p in mine}
    assert texts == {"First summary", "Second summary"}
    assert all(n.find("q:PlainTextContent", NS) is None for n in root.iterfind("q:Notes/q:Note", NS))  # a path or inline, not both


def test_cases_are_also_sets_of_their_sources_and_import_back_as_cases(demo_store, store):
    data, report, root = export(demo_store)
    with demo_store.read() as session:
        cases = studies.list_cases(session, studies.get_study(session))
        expected = {c.public_label: len(list(session.scalars(select(Interview).where(Interview.case_id == c.id)))) for c in cases}
    sets = {s.get("name"): s for s in root.iterfind("q:Sets/q:Set", NS) if s.find("q:MemberSource", NS) is not None}
    assert {name: len(s.findall("q:MemberSource", NS)) for name, s in sets.items()} == expected
    assert report["case_sets"] == len(expected)
    # a tool that drops <Cases> but keeps the sets (MAXQDA's document groups): cases on request
    without_cases = etree.fromstring(member(data, "project.qde"))
    without_cases.remove(without_cases.find("q:Cases", NS))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = {n: z.read(n) for n in z.namelist() if n != "project.qde"}
    stripped = archive(etree.tostring(without_cases, encoding="unicode"), files)
    plain = do_import(store, stripped)
    assert plain["cases"] == 1  # everything in the fallback case
    grouped = do_import(store, stripped, cases_from_sets=True)
    assert grouped["cases"] == len(expected)
    assert any("set(s) of sources imported as cases" in m for m in grouped["messages"])
    with store.read() as session:
        study = studies.get_study(session, grouped["study_id"])
        imported = {c.internal_label: len(list(session.scalars(select(Interview).where(Interview.case_id == c.id))))
                    for c in session.scalars(select(Case).where(Case.study_id == study.id))}
    # each set became one case holding its interviews (labels are freed as for any imported case)
    assert sorted(imported.values()) == sorted(expected.values()) and set(expected) <= {k.split(" (")[0] for k in imported}


U2 = "BD68FBE7-E1EE-4A82-A279-0D7F6A1B2C3E"


def test_the_selection_user_is_the_coder_and_disagreement_is_reported(store):
    # NVivo style: the selection by Ada, the coding element credited to Bob
    source = (f'<TextSource guid="{S1}" name="a"><PlainTextContent>Costs were high.</PlainTextContent>'
              f'<PlainTextSelection guid="BBBBBBBB-0000-0000-0000-000000000001" startPosition="0" endPosition="5" name="Costs" creatingUser="{{{U1}}}">'
              f'<Coding guid="BBBBBBBB-0000-0000-0000-000000000009" creatingUser="{{{U2}}}"><CodeRef targetGUID="{C2}"/></Coding>'
              '</PlainTextSelection></TextSource>')
    xml = project(source).replace('<User guid="{' + U1 + '}" name="Ada Lovelace"/>',
                                  '<User guid="{' + U1 + '}" name="Ada Lovelace"/><User guid="{' + U2 + '}" name="Bob Builder"/>')
    report = do_import(store, archive(xml))
    assert coded_texts(store, report["study_id"]) == [("Costs", "Costs", "Ada.Lovelace")]
    assert any("1 coding(s) name another user than their selection; credited to the selection's user" in m
               and "Ada.Lovelace (selection) vs Bob.Builder (coding)" in m for m in report["messages"])


@pytest.mark.parametrize("offsets, line_endings", [("utf16", "lf"), ("codepoints", "crlf"), ("utf16", "crlf")])
def test_utf16_offsets_and_crlf_line_ends_on_request(demo_store, store, offsets, line_endings):
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        interview = session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)).first()
        interview.text = interview.text + "\nCaf\u00e9 \U0001F600 talk.\nSecond line \U0001F44D here."
        tail = interview.text.index("Caf\u00e9")
        code = next(c for c in cb.all_codes(session, study) if c.codable and c.status == "active")
        spans.apply_codes(session, interview, [code], users.get_user(session, "coder1"), tail, len(interview.text))
        coded = interview.text[tail:]
    data, report, root = export(demo_store, offsets=offsets, line_endings=line_endings)
    assert (report["offsets"], report["line_endings"]) == (offsets, line_endings)
    selection = next(s for s in root.iter(f"{{{exchange_schema.NS}}}PlainTextSelection") if s.get("name") == coded)
    source = selection.getparent()
    written = member(data, "sources/" + source.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
    assert ("\r\n" in written) == (line_endings == "crlf") and "\r\n" not in written.replace("\r\n", "").replace("\n", "")
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    if offsets == "utf16":
        units = written.encode("utf-16-le")
        under = units[2 * start:2 * end].decode("utf-16-le")
    else:
        under = written[start:end]
    assert under.replace("\r\n", "\n") == coded  # the positions point at the coded text in the file as written
    back = do_import(store, data)  # auto-detection lands every coding on the same text
    assert (coded, code.name, "coder1") in coded_texts(store, back["study_id"])


def test_default_export_stays_code_points_and_bad_options_are_refused(demo_store):
    _, report, _ = export(demo_store)
    assert (report["offsets"], report["line_endings"]) == ("codepoints", "lf")
    with pytest.raises(UserError, match="unknown offset convention 'bytes'"):
        exchange_export.ExportOptions(offsets="bytes")
    with pytest.raises(UserError, match="unknown line ending 'cr'"):
        exchange_export.ExportOptions(line_endings="cr")


def test_cli_options(shared_names, cli, tmp_path):
    store, leaf = shared_names
    path = tmp_path / "out.qdpx"
    result = cli("--db", store.url, "export", "qdpx", "--output", path, "--qualify-names", "--offsets", "utf16", "--line-endings", "crlf", "--format", "json")
    assert result.code == 0, result
    root = check_xsd(path.read_bytes())
    assert " / ".join(cb.split_path(leaf["path"])) in [c.get("name") for c in root.iter(f"{{{exchange_schema.NS}}}Code")]
    result = cli("--db", store.url, "import", "qdpx", path, "--cases-from-sets", "--title", "Again")
    assert result.code == 0, result


def test_page_offers_the_export_and_import_options(shared_names, monkeypatch):
    from tests.exchange.test_refi_qda import _page, exchange_page

    store, leaf = shared_names
    at = _page(store, monkeypatch)
    at.run()
    at.checkbox(key="exchange_qualify").check()
    at.selectbox(key="exchange_export_offsets").set_value("utf16")
    at.selectbox(key="exchange_line_endings").set_value("crlf")
    at.button(key="exchange_export_button").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    data, report, _ = at.session_state[exchange_page.EXPORT_KEY]
    assert (report["offsets"], report["line_endings"]) == ("utf16", "crlf")
    assert any("named with their parent path" in w.value for w in at.warning)
    root = check_xsd(data)
    assert " / ".join(cb.split_path(leaf["path"])) in [c.get("name") for c in root.iter(f"{{{exchange_schema.NS}}}Code")]
    at.file_uploader(key="exchange_upload").set_value([("study.qdpx", data, "application/zip")])
    at.text_input(key="exchange_title").set_value("With sets")
    at.checkbox(key="exchange_cases_from_sets").check()
    at.run()
    at.button(key="exchange_import").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("With sets" in s.value for s in at.success)
