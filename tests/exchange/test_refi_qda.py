"""REFI-QDA exchange: every export validates against the Project schema; round trip of the demo;
hand-built projects for each difference between tools; bad archives; CLI; the Exchange page."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from casestudy import access
from casestudy.codebook import tree as cb
from casestudy import study as studies
from casestudy import users
from casestudy.errors import UserError
from casestudy.models import Case, Code, Coding, Interview, MaskedText, Memo, Study, User
from casestudy.ui.pages import exchange as exchange_page

from tests.conftest import ROOT
from casestudy.exchange import export as exchange_export
from casestudy.exchange import schema as exchange_schema
from casestudy.exchange import importer
from casestudy.coding import spans

SHARED_XSD = Path("/work/shared/refi-qda/Project-mrt2019.xsd")  # the published schema; the package ships a copy

U1 = "AD68FBE7-E1EE-4A82-A279-0D7F6A1B2C3D"
C1, C2, C3 = ("11111111-2222-3333-4444-55555555555A", "11111111-2222-3333-4444-55555555555B", "11111111-2222-3333-4444-55555555555C")
S1, S2, P1 = ("AAAAAAAA-0000-0000-0000-000000000001", "AAAAAAAA-0000-0000-0000-000000000002", "AAAAAAAA-0000-0000-0000-0000000000FF")


# --- helpers ----------------------------------------------------------------------------
def check_xsd(data: bytes) -> etree._Element:
    """The archive's project.qde, validated against Project-mrt2019.xsd (every export goes through here)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("project.qde")
    schema = etree.XMLSchema(etree.parse(str(SHARED_XSD))) if SHARED_XSD.exists() else exchange_schema.project_schema()
    root = etree.fromstring(xml)
    assert schema.validate(root), [str(e) for e in schema.error_log][:5]
    return root


def export_bytes(store, study_id=None) -> tuple[bytes, dict]:
    buffer = io.BytesIO()
    with store.write("test") as session:
        report = exchange_export.export_qdpx(session, studies.get_study(session, study_id), buffer)
    data = buffer.getvalue()
    check_xsd(data)
    return data, report


def archive(project_xml: str, files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("project.qde", project_xml.encode("utf-8"))
        for name, content in (files or {}).items():
            z.writestr(name, content)
    return buffer.getvalue()


def selection(guid: str, start: int, end: int, code: str, name: str | None = None, user: str | None = f"{{{U1}}}") -> str:
    attrs = f' name={quoteattr(name)}' if name is not None else ""
    who = f' creatingUser="{user}"' if user else ""
    return (f'<PlainTextSelection guid="{guid}" startPosition="{start}" endPosition="{end}"{attrs}{who}>'
            f'<Coding guid="{guid[:-1]}9"{who}><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def project(sources: str, cases: str = "", extra: str = "", colour: bool = False, origin: str = "OtherTool") -> str:
    """A small foreign project: upper-case braced GUIDs, one user, a code tree without colours."""
    color = ' color="#AA0000"' if colour else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Foreign project" origin="{origin}">
  <Users><User guid="{{{U1}}}" name="Ada Lovelace"/></Users>
  <CodeBook><Codes>
    <Code guid="{{{C1}}}" name="Barriers" isCodable="false"{color}>
      <Description>Things in the way</Description>
      <Code guid="{{{C2}}}" name="Costs" isCodable="true"/>
    </Code>
    <Code guid="{{{C3}}}" name="Support" isCodable="true"/>
  </Codes></CodeBook>
  {cases}
  <Sources>{sources}</Sources>
  {extra}
</Project>"""


def one_source(name: str, inline: str, start: int, end: int, selected: str | None, guid: str = S1) -> str:
    """A text source with inline content and one coded selection (code Costs)."""
    return (f'<TextSource guid="{guid}" name="{name}"><PlainTextContent>{inline}</PlainTextContent>'
            + selection("BBBBBBBB-0000-0000-0000-000000000001", start, end, C2, name=selected) + "</TextSource>")


def do_import(store, data: bytes, **options) -> dict:
    with store.write("test") as session:
        return importer.import_qdpx(session, data, **options)


def coded_texts(store, study_id: int) -> list[tuple[str, str, str]]:
    with store.read() as session:
        rows = session.execute(
            select(Coding, Interview.text, Code.name, User.username).join(Interview, Coding.interview_id == Interview.id)
            .join(Code, Coding.code_id == Code.id).join(User, Coding.coder_id == User.id).where(Coding.study_id == study_id)
        ).all()
        return sorted((text[c.start:c.end], name, user) for c, text, name, user in rows)


def snapshot(store) -> tuple:
    with store.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Study, Case, Interview, Code, Coding, Memo, User))


# --- export and round trip -----------------------------------------------------------------
@pytest.fixture
def coded_demo(demo_store):
    """The demo with codings by two coders (one on an emoji and accented text) and memos of each kind."""
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        coder1, coder2 = users.get_user(session, "coder1"), users.get_user(session, "coder2")
        first, second = session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id).limit(2))
        second.text = second.text + "\nCaf\u00e9 talk \U0001F600 went well."  # non-BMP text after the import
        codes = [c for c in cb.all_codes(session, study) if c.codable and c.status == "active"]
        made = spans.apply_codes(session, first, codes[:2], coder1, 10, 80, memo="first span")
        made += spans.apply_codes(session, first, codes[1:2], coder2, 200, 260)
        tail = len(second.text) - len("Caf\u00e9 talk \U0001F600 went well.")
        made += spans.apply_codes(session, second, codes[2:3], coder2, tail, len(second.text))
        spans.add_memo(session, study, "coding", made[0].id, coder1, "Why this span", "Span memo")
        spans.add_memo(session, study, "code", codes[0].id, coder2, "Definition doubts")
        spans.add_memo(session, study, "interview", first.id, coder1, "Noisy recording")
        spans.add_memo(session, study, "case", first.case_id, coder2, "Case summary", "Summary")
    return demo_store


def test_export_validates_and_holds_every_part(coded_demo):
    data, report = export_bytes(coded_demo)
    root = check_xsd(data)
    ns = {"q": exchange_schema.NS}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    assert all(n == "project.qde" or n.startswith("sources/") for n in names)
    notes = {n.get("name"): n for n in root.iterfind("q:Notes/q:Note", ns)}
    note_paths = [n.get("plainTextPath") for n in root.iterfind("q:Notes/q:Note", ns)]
    assert len(set(note_paths)) == len(note_paths) == report["notes"]  # a file of its own per note
    assert report["sources"] == 14 and len(names) == 1 + 14 + len(note_paths)
    with coded_demo.read() as session:
        codings = session.scalar(select(func.count()).select_from(Coding).where(Coding.study_id == 1))
    assert report["codings"] == codings >= 4 and report["cases"] == 7 and report["users"] >= 2
    assert report["released_masked_texts"] >= 1
    assert any("consent" in line for line in report["not_carried"]) and any("panel answers" in line for line in report["not_carried"])
    # the report is in the archive as a project note (its text in a file of its own)
    report_note = notes[exchange_schema.REPORT_NOTE_NAME]
    assert report_note.find("q:PlainTextContent", ns) is None and report_note.get("plainTextPath").startswith("internal://")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "consent records" in z.read("sources/" + report_note.get("plainTextPath").removeprefix("internal://")).decode()
    # selections carry the coder, the code and the text
    sel = root.find(".//q:PlainTextSelection", ns)
    assert sel.get("creatingUser") == exchange_schema.user_guid("coder1") and sel.find("q:Coding/q:CodeRef", ns) is not None
    # variables on cases and sources, links from case notes to cases
    assert {v.get("name") for v in root.iterfind("q:Variables/q:Variable", ns)} >= {"outcome class", "programme", "role"}
    assert root.find("q:Cases/q:Case/q:VariableValue", ns) is not None
    case_guids = {c.get("guid") for c in root.iterfind("q:Cases/q:Case", ns)}
    assert {link.get("targetGUID") for link in root.iterfind("q:Links/q:Link", ns)} <= case_guids
    # the same study exported twice gives the same GUIDs
    again, _ = export_bytes(coded_demo)
    assert sorted(e.get("guid") for e in root.iter() if e.get("guid") and "Note" not in e.tag) == \
        sorted(e.get("guid") for e in check_xsd(again).iter() if e.get("guid") and "Note" not in e.tag)


def test_round_trip_of_the_demo(coded_demo):
    data, _ = export_bytes(coded_demo)
    report = do_import(coded_demo, data, title="Round trip")
    assert report["offsets"] and all(v.startswith("codepoints") for v in report["offsets"].values())
    with coded_demo.read() as session:
        old, new = studies.get_study(session, 1), studies.get_study(session, "Round trip")
        assert new.id == report["study_id"] and new.levels == old.levels
        # sources: identical texts, same names, same cases
        def sources(study):
            return {i.file_name: (i.text, i.case.public_label, i.case.internal_label, i.respondent.name, i.respondent.role)
                    for i in session.scalars(select(Interview).where(Interview.study_id == study.id))}
        assert sources(new) == sources(old)
        # codes: same paths and definitions
        fields = ("path", "level", "codable", "short_definition", "definition", "when_to_use", "when_not_to_use", "example", "colour", "polarity")
        assert [{k: r[k] for k in fields} for r in cb.records(session, new)] == [{k: r[k] for k in fields} for r in cb.records(session, old)]
        # cases
        def cases(study):
            return sorted((c.public_label, c.internal_label, c.outcome_class, c.outcome_description, c.organisation.name if c.organisation else None)
                          for c in studies.list_cases(session, study))
        assert cases(new) == cases(old)
        # notes: every memo comes back on the same kind of target, masked texts as case notes
        def memos(study):
            return {(m.target_type, m.title, m.text) for m in session.scalars(select(Memo).where(Memo.study_id == study.id))}
        assert memos(old) <= memos(new)
        released = session.scalars(select(MaskedText).where(MaskedText.study_id == old.id, MaskedText.status == "released")).all()
        assert {("case", r.masked_text) for r in released} <= {(kind, text) for kind, _, text in memos(new)}
        case_memo = session.scalar(select(Memo).where(Memo.study_id == new.id, Memo.title == "Summary"))
        assert session.get(Case, case_memo.target_id).public_label == session.get(Interview, session.scalar(
            select(Interview.id).where(Interview.study_id == old.id).order_by(Interview.id).limit(1))).case.public_label
    # codings: the same text under every coding, the same coders and codes
    assert coded_texts(coded_demo, report["study_id"]) == coded_texts(coded_demo, 1)
    assert "\U0001F600" in "".join(t for t, _, _ in coded_texts(coded_demo, report["study_id"]))
    assert {"coder1", "coder2"} <= set(report["users_matched"])


def test_case_notes_are_exported_tied_to_their_case(coded_demo, monkeypatch):
    with coded_demo.read() as session:
        case = studies.list_cases(session, studies.get_study(session))[0]

    def fake(session, study):
        return [{"key": "rv-1", "title": "Reconstruction v1", "text": "Agreed text of the reconstruction.", "case_id": case.id}]

    monkeypatch.setattr(exchange_export, "CASE_NOTES", {"reconstruction": fake})
    data, report = export_bytes(coded_demo)
    assert report["provided_notes"]["reconstruction"] == 1
    root = check_xsd(data)
    ns = {"q": exchange_schema.NS}
    note = next(n for n in root.iterfind("q:Notes/q:Note", ns) if n.get("name") == "Reconstruction v1")
    case_guid = next(c.get("guid") for c in root.iterfind("q:Cases/q:Case", ns) if c.get("name") == case.public_label)
    assert any(link.get("originGUID") == note.get("guid") and link.get("targetGUID") == case_guid for link in root.iterfind("q:Links/q:Link", ns))
    report = do_import(coded_demo, data)
    with coded_demo.read() as session:
        memo = session.scalar(select(Memo).where(Memo.study_id == report["study_id"], Memo.title == "Reconstruction v1"))
        assert memo.target_type == "case" and session.get(Case, memo.target_id).public_label == case.public_label


def test_shipped_schema_is_the_published_one():
    if SHARED_XSD.exists():
        assert exchange_schema.SCHEMA_PATH.read_bytes() == SHARED_XSD.read_bytes()
    assert exchange_schema.project_schema() is exchange_schema.project_schema()


def test_reconstruction_versions_are_case_notes(coded_demo):
    assert exchange_export.CASE_NOTES["reconstruction versions"] is exchange_export.reconstruction_versions
    with coded_demo.read() as session:
        notes = exchange_export.reconstruction_versions(session, studies.get_study(session))
    assert notes and all(n["case_id"] and n["title"].startswith("Reconstruction version") for n in notes)


def test_export_of_an_empty_study_validates(store):
    with store.write("test") as session:
        studies.create_study(session, "Empty")
    _, report = export_bytes(store)
    assert report["sources"] == 0 and report["codes"] == 0


# --- tool differences ------------------------------------------------------------------------
def test_utf16_offsets_with_emoji_detected_from_the_selection_text(store):
    text = "Start \U0001F600 then costs \U0001F4B0 rose, support \u00e9tait good."
    start16 = len(text[: text.index("costs")].encode("utf-16-le")) // 2
    end16 = start16 + len("costs \U0001F4B0 rose".encode("utf-16-le")) // 2
    sources = one_source("emoji.txt", escape(text), start16, end16, "costs \U0001F4B0 rose")
    report = do_import(store, archive(project(sources)))
    assert report["offsets"]["emoji.txt"].startswith("utf16: verified")
    assert coded_texts(store, report["study_id"]) == [("costs \U0001F4B0 rose", "Costs", "Ada.Lovelace")]
    assert report["users_created"] == ["Ada.Lovelace"]
    with store.read() as session:
        user = users.get_user(session, "Ada.Lovelace")
        assert user.role == "coder" and user.display_name == "Ada Lovelace"
        assert users.authenticate(session, "Ada.Lovelace", "") is None and user.password_hash.startswith("!")


def test_utf16_chosen_by_the_user_when_there_is_no_text_to_verify(store):
    text = "\U0001F600\U0001F600 costs here"
    start16, end16 = 5, 10  # two surrogate pairs + space = 5 units
    sources = one_source("e.txt", text, start16, end16, None)
    report = do_import(store, archive(project(sources)), offset_mode="utf16")
    assert coded_texts(store, report["study_id"])[0][0] == "costs"
    # the same file read as code points lands elsewhere (and is reported as assumed)
    report = do_import(store, archive(project(sources)), title="as code points")
    assert report["offsets"]["e.txt"].startswith("codepoints: assumed")
    assert coded_texts(store, report["study_id"])[0][0] == "sts h"


def test_crlf_counted_as_one(store):
    text = "Line one\r\nLine two\r\nThe costs were high.\r\n"
    collapsed = text.replace("\r\n", "\n")
    start = collapsed.index("The costs")
    sources = (f'<TextSource guid="{S1}" plainTextPath="internal://{S1}.txt" name="crlf">'
               + selection("BBBBBBBB-0000-0000-0000-000000000001", start, start + len("The costs were high."), C2, name="The costs were high.")
               + "</TextSource>")
    report = do_import(store, archive(project(sources), {f"sources/{S1}.txt": text.encode("utf-8")}))
    assert report["offsets"]["crlf"].startswith("crlf1: verified")
    assert coded_texts(store, report["study_id"]) == [("The costs were high.", "Costs", "Ada.Lovelace")]
    with store.read() as session:
        stored = session.scalar(select(Interview).where(Interview.study_id == report["study_id"]))
        assert stored.text == collapsed and stored.file_name == "crlf"


def test_code_points_with_crlf_text_are_mapped_to_the_stored_text(store):
    text = "Intro\r\nThe costs were high.\r\n"
    start = text.index("The costs")
    inline = escape(text).replace("\r", "&#13;")  # a literal CR would be dropped by any XML parser
    sources = one_source("cp.txt", inline, start, start + 9, "The costs")
    report = do_import(store, archive(project(sources)))
    assert report["offsets"]["cp.txt"].startswith("codepoints: verified")
    assert coded_texts(store, report["study_id"])[0][0] == "The costs"


def test_braced_upper_case_guids_missing_colours_inline_text_sources_folder_and_pdf(store):
    sources = (
        f'<TextSource guid="{{{S1}}}" name="inline.txt"><PlainTextContent>Support was strong here.</PlainTextContent>'
        + selection("BBBBBBBB-0000-0000-0000-000000000001", 0, 7, f"{{{C3.lower()}}}", name="Support") + "</TextSource>"
        + f'<TextSource guid="{S2}" name="folder" plainTextPath="internal://{S2}.txt">'
        + selection("BBBBBBBB-0000-0000-0000-000000000002", 4, 9, C2.lower(), user=None) + "</TextSource>"
        + f'<PDFSource guid="{P1}" name="scan.pdf" path="internal://{P1}.pdf"/>'
    )
    cases = (f'<Cases><Case guid="{{{"CCCCCCCC-0000-0000-0000-000000000001"}}}" name="Site North">'
             f'<SourceRef targetGUID="{S1.lower()}"/><SourceRef targetGUID="{{{P1}}}"/></Case></Cases>')
    data = archive(project(sources, cases), {f"Sources/{S2}.txt": "The costs rose.".encode(), f"Sources/{P1}.pdf": b"%PDF-1.4"})
    report = do_import(store, data)
    assert report["sources"] == 2 and report["skipped_sources"] == ["scan.pdf"]
    assert any("PDFSource 'scan.pdf' skipped" in m for m in report["messages"])
    assert coded_texts(store, report["study_id"]) == [("Support", "Support", "Ada.Lovelace"), ("costs", "Costs", exchange_schema.IMPORT_USER)]
    with store.read() as session:
        study = session.get(Study, report["study_id"])
        codes = {c.name: c for c in cb.all_codes(session, study)}
        assert codes["Support"].guid == C3.lower() and codes["Support"].colour is None
        assert codes["Costs"].parent_id == codes["Barriers"].id and not codes["Barriers"].codable
        assert codes["Barriers"].definition == "Things in the way"
        placed = {i.file_name: (i.case.internal_label, i.respondent.name) for i in session.scalars(select(Interview).where(Interview.study_id == study.id))}
        # a listed source joins its case; the other one an 'Imported' case with one respondent per source
        assert placed == {"inline.txt": ("Site North", "inline"), "folder": (exchange_schema.IMPORTED_CASE, "folder")}


def test_colours_are_kept_when_present(store):
    sources = f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text.</PlainTextContent></TextSource>'
    report = do_import(store, archive(project(sources, colour=True)))
    with store.read() as session:
        codes = {c.name: c for c in cb.all_codes(session, session.get(Study, report["study_id"]))}
        assert codes["Barriers"].colour == "#AA0000"


def test_notes_variables_and_cases_of_a_foreign_project(store):
    sources = (f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text to code.</PlainTextContent>'
               f'<NoteRef targetGUID="{{{"DDDDDDDD-0000-0000-0000-000000000001"}}}"/>'
               f'<VariableValue><VariableRef targetGUID="EEEEEEEE-0000-0000-0000-000000000002"/><TextValue>manager</TextValue></VariableValue>'
               "</TextSource>")
    cases = ('<Cases><Case guid="CCCCCCCC-0000-0000-0000-000000000001" name="Clinic"><Description>Went well</Description>'
             '<VariableValue><VariableRef targetGUID="EEEEEEEE-0000-0000-0000-000000000001"/><TextValue>Positive</TextValue></VariableValue>'
             '<VariableValue><VariableRef targetGUID="EEEEEEEE-0000-0000-0000-000000000003"/><IntegerValue>12</IntegerValue></VariableValue>'
             f'<SourceRef targetGUID="{S1}"/></Case></Cases>')
    variables = ('<Variables><Variable guid="EEEEEEEE-0000-0000-0000-000000000001" name="outcome class" typeOfVariable="Text"/>'
                 '<Variable guid="EEEEEEEE-0000-0000-0000-000000000002" name="role" typeOfVariable="Text"/>'
                 '<Variable guid="EEEEEEEE-0000-0000-0000-000000000003" name="beds" typeOfVariable="Integer"/></Variables>')
    notes = (f'<Notes><Note guid="DDDDDDDD-0000-0000-0000-000000000001" name="Source note" creatingUser="{U1.lower()}">'
             '<PlainTextContent>About the source.</PlainTextContent></Note>'
             '<Note guid="DDDDDDDD-0000-0000-0000-000000000002" name="Project note"><PlainTextContent>General.</PlainTextContent></Note></Notes>')
    report = do_import(store, archive(project(sources, variables + cases, notes)))
    with store.read() as session:
        case = session.scalar(select(Case).where(Case.study_id == report["study_id"]))
        assert (case.internal_label, case.outcome_class, case.outcome_description) == ("Clinic", "positive", "Went well")
        interview = session.scalar(select(Interview).where(Interview.study_id == report["study_id"]))
        assert interview.respondent.role == "manager"
        memos = {m.title: m for m in session.scalars(select(Memo).where(Memo.study_id == report["study_id"]))}
        assert (memos["Source note"].target_type, memos["Source note"].target_id) == ("interview", interview.id)
        assert memos["Source note"].author.username == "Ada.Lovelace"
        assert memos["Project note"].target_type == "case"
        assert memos["Imported case variables"].text == "beds: 12"


# --- bad archives ------------------------------------------------------------------------------
def _bad_cases():
    good_source = f'<TextSource guid="{S1}" name="a"><PlainTextContent>Text.</PlainTextContent></TextSource>'
    no_project = io.BytesIO()
    with zipfile.ZipFile(no_project, "w") as z:
        z.writestr("sources/a.txt", "hello")
    return {
        "not a zip": (b"this is plain text, not a zip", "not a readable zip"),
        "truncated zip": (archive(project(good_source))[:60], "not a readable zip"),
        "no project.qde": (no_project.getvalue(), "no project.qde"),
        "schema": (archive(project(good_source).replace('isCodable="true"', 'isCodable="maybe"', 1)), "schema"),
        "not xml": (archive("<Project"), "not well-formed"),
        "missing file": (archive(project(f'<TextSource guid="{S1}" name="a" plainTextPath="internal://gone.txt"/>')), "not in the archive"),
        "missing source": (archive(project(good_source, f'<Cases><Case guid="{S2}" name="X"><SourceRef targetGUID="{P1}"/></Case></Cases>')), "refers to source"),
        "missing code": (archive(project(f'<TextSource guid="{S1}" name="a"><PlainTextContent>Text here.</PlainTextContent>'
                                         + selection("BBBBBBBB-0000-0000-0000-000000000001", 0, 4, P1) + "</TextSource>")), "not in the codebook"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_archives_give_one_message_and_change_nothing(demo_store, case):
    data, expected = _bad_cases()[case]
    before = snapshot(demo_store)
    with pytest.raises(UserError) as excinfo:
        do_import(demo_store, data)
    assert expected in excinfo.value.message and "\n" not in excinfo.value.message
    assert snapshot(demo_store) == before


def test_failure_late_in_the_import_rolls_everything_back(store):
    # schema-valid, but two codes share a GUID -> the codebook import fails after the study exists
    # (siblings sharing a name no longer fail: a foreign file's second one is renamed with a warning)
    xml = project(f'<TextSource guid="{S1}" name="a"><PlainTextContent>Text.</PlainTextContent></TextSource>')
    xml = xml.replace(f'<Code guid="{{{C3}}}" name="Support"', f'<Code guid="{{{C2}}}" name="Support"')
    before = snapshot(store)
    with pytest.raises(UserError, match="is used twice"):
        do_import(store, archive(xml))
    assert snapshot(store) == before


def test_unknown_offset_mode(store):
    with pytest.raises(UserError, match="unknown offset convention"):
        do_import(store, b"", offset_mode="bytes")


def test_access_is_checked(coded_demo):
    with coded_demo.read() as session:
        viewer = users.add_user(session, "viewer1", "viewer-password-1", "viewer")
        principal = access.researcher(viewer)
        with pytest.raises(access.AccessDenied):
            importer.import_qdpx(session, b"", principal=principal)
        with pytest.raises(access.AccessDenied):
            exchange_export.build_qdpx(session, studies.get_study(session), access.Principal(kind="expert", subject_id=1, name="x"))
        session.rollback()


# --- CLI -----------------------------------------------------------------------------------------
def test_cli_export_and_import(coded_demo, cli, tmp_path):
    target = tmp_path / "study.qdpx"
    result = cli("--db", coded_demo.url, "export", "qdpx", "--output", str(target))
    assert result.code == 0, result.err
    assert "not_carried" in result.out and "consent records" in result.out
    check_xsd(target.read_bytes())
    result = cli("--db", coded_demo.url, "import", "qdpx", str(target), "--title", "From CLI", "--offsets", "codepoints", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    with coded_demo.read() as session:
        codings = session.scalar(select(func.count()).select_from(Coding).where(Coding.study_id == 1))
    assert report["title"] == "From CLI" and report["sources"] == 14 and report["codings"] == codings
    result = cli("--db", coded_demo.url, "--study", "From CLI", "export", "qdpx", "-o", str(tmp_path / "again.qdpx"), "--format", "json")
    assert json.loads(result.out)["codings"] == codings
    check_xsd((tmp_path / "again.qdpx").read_bytes())


def test_cli_errors(demo_store, cli, tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"nope")
    result = cli("--db", demo_store.url, "import", "qdpx", str(bad))
    assert result.code == 2 and result.err.startswith("error: this is not a REFI-QDA project")
    result = cli("--db", demo_store.url, "import", "qdpx", str(tmp_path / "missing.qdpx"))
    assert result.code == 2 and "cannot read" in result.err
    result = cli("--db", demo_store.url, "import", "qdpx", str(bad), "--offsets", "bytes")
    assert result.code == 2


# --- page ----------------------------------------------------------------------------------------
def _page(store, monkeypatch, username="admin"):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", store.url)
    with store.read() as session:
        user = session.scalar(select(User).where(User.username == username)) or session.scalar(select(User).where(User.role == "admin"))
        principal = access.researcher(user)
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=60)
    at.session_state["_page_module"] = "casestudy.ui.pages.exchange"
    at.session_state["_principal"] = principal
    return at


def test_page_exports_and_imports(coded_demo, monkeypatch):
    at = _page(coded_demo, monkeypatch)
    at.run()
    assert not at.exception
    at.button(key="exchange_export_button").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("consent records" in m.value for m in at.markdown)
    data, report, _ = at.session_state[exchange_page.EXPORT_KEY]
    check_xsd(data)
    at.file_uploader(key="exchange_upload").set_value([("study.qdpx", data, "application/zip")])
    at.text_input(key="exchange_title").set_value("From the page")
    at.run()
    at.button(key="exchange_import").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("From the page" in s.value for s in at.success)
    with coded_demo.read() as session:
        assert studies.get_study(session, "From the page").id


def test_page_shows_a_bad_file_as_one_error(demo_store, monkeypatch):
    at = _page(demo_store, monkeypatch)
    at.run()
    at.file_uploader(key="exchange_upload").set_value([("bad.qdpx", b"not a zip", "application/zip")])
    at.run()
    at.button(key="exchange_import").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["this is not a REFI-QDA project: a .qdpx file is a zip archive, and this file is not a readable zip"]


def test_viewer_sees_no_import(demo_store, monkeypatch):
    with demo_store.write("test") as session:
        users.add_user(session, "viewer1", "viewer-password-1", "viewer")
        studies.add_member(session, studies.get_study(session), "viewer1")
    at = _page(demo_store, monkeypatch, "viewer1")
    at.run()
    assert not at.exception
    assert not at.file_uploader and any("Viewers cannot import" in i.value for i in at.info)


def test_case_names_that_clash_get_distinct_labels(store):
    sources = f'<TextSource guid="{S1}" name="a"><PlainTextContent>Some text.</PlainTextContent></TextSource>'
    cases = ('<Cases><Case guid="CCCCCCCC-0000-0000-0000-000000000001" name="North"/>'
             '<Case guid="CCCCCCCC-0000-0000-0000-000000000002" name="north"/>'
             '<Case guid="CCCCCCCC-0000-0000-0000-000000000003" name="Case A"/></Cases>')
    report = do_import(store, archive(project(sources, cases)))
    with store.read() as session:
        labels = [(c.internal_label, c.public_label) for c in studies.list_cases(session, session.get(Study, report["study_id"]))]
    flat = [label.lower() for pair in labels for label in pair]
    assert len(flat) == len(set(flat)) and len(labels) == 4  # three cases + 'Imported' for the unlisted source


def test_a_corrupt_member_is_one_message(store):
    good = archive(project(f'<TextSource guid="{S1}" name="a" plainTextPath="internal://{S1}.txt"/>'),
                   {f"sources/{S1}.txt": b"Some text that will be damaged in the archive." * 20})
    data = bytearray(good)
    position = data.rfind(b"Some text") if b"Some text" in data else data.find(f"sources/{S1}.txt".encode()) + 80
    data[position:position + 5] = b"XXXXX"  # stored uncompressed: flip bytes so the CRC check fails
    before = snapshot(store)
    with pytest.raises(UserError, match="corrupt zip|not a readable zip"):
        do_import(store, bytes(data))
    assert snapshot(store) == before


def test_decomposed_accents_are_mapped_after_normalisation(store):
    text = "Cafe\u0301 talk: costs rose."  # 'e' + combining acute; stored as NFC
    start = text.index("costs")
    sources = one_source("nfc", text, start, start + 5, "costs")
    report = do_import(store, archive(project(sources)))
    assert coded_texts(store, report["study_id"]) == [("costs", "Costs", "Ada.Lovelace")]


def test_utf8_byte_offsets_taguette(store):
    text = "Caf\u00e9 na\u00efve: costs rose."
    start = len(text[: text.index("costs")].encode("utf-8"))
    sources = one_source("t", text, start, start + 10, "costs rose")
    report = do_import(store, archive(project(sources)))
    assert report["offsets"]["t"].startswith("utf8: verified")
    assert coded_texts(store, report["study_id"])[0][0] == "costs rose"


def test_a_selection_outside_the_text_is_skipped_with_a_message(store):
    sources = one_source("short", "Tiny.", 2, 400, "")
    report = do_import(store, archive(project(sources)))
    assert report["codings"] == 0 and report["skipped_selections"] == 1
    assert any("lies outside the text" in m for m in report["messages"])


@pytest.mark.parametrize("origin, expected", [("NVivo 14", "costs"), ("OtherTool", "sts h")])
def test_the_exporting_tool_decides_when_nothing_can_be_verified(store, origin, expected):
    text = "\U0001F600\U0001F600 costs here"
    sources = one_source("e.txt", text, 5, 10, None)
    report = do_import(store, archive(project(sources, origin=origin)))
    assert coded_texts(store, report["study_id"])[0][0] == expected
    assert ("guessed from the exporting tool" in report["offsets"]["e.txt"]) == (origin != "OtherTool")
