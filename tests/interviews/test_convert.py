"""Reading transcript files: formats, encodings, BOMs, normalisation and every kind of bad input."""

from __future__ import annotations

import codecs
import hashlib
import io
import unicodedata
import zipfile

import pytest

from casestudy import config
from casestudy.interviews import convert
from casestudy.errors import UserError

DUTCH = "Interviewer: Hoe was de coördinatie?\nR: Naïef, eerlijk gezegd. Het café kostte € 12.\n"


def docx_bytes(paragraphs=(), table_rows=None, header: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
        document.sections[0].footer.paragraphs[0].text = "page footer"
    for text in paragraphs:
        document.add_paragraph(text)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for r, row in enumerate(table_rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        document.add_paragraph("After the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, encoding",
    [
        (DUTCH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + DUTCH.encode("utf-8"), "utf-8 (BOM)"),
        (DUTCH.encode("utf-16"), "utf-16 (BOM)"),  # Python writes a BOM
        (codecs.BOM_UTF16_BE + DUTCH.encode("utf-16-be"), "utf-16 (BOM)"),
        (DUTCH.encode("utf-32"), "utf-32 (BOM)"),
        (DUTCH.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected_named_and_decoded_exactly(data, encoding):
    result = convert.convert("t.txt", data)
    assert result.encoding == encoding
    assert result.text == DUTCH
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert "\ufeff" not in result.text


def test_latin1_is_read_and_bytes_no_western_encoding_reads_are_refused():
    data = ("The caf\u00e9 was na\u00efve about money. " * 5).encode("latin-1") + b"\x81\n"  # 0x81: undefined in cp1252
    with pytest.raises(UserError, match="undecodable bytes"):
        convert.convert("t.txt", data)
    result = convert.convert("t.txt", "Gar\u00e7on d\u00e9j\u00e0 vu, \u00fcber Stra\u00dfe.\n".encode("latin-1"))
    assert result.text == "Garçon déjà vu, über Straße.\n"
    assert result.encoding in ("cp1252", "latin_1")


def test_non_latin_legacy_text_uses_the_detected_encoding():
    russian = "Интервьюер: Как начиналась программа? Респондент: Медленно, очень медленно.\n" * 3
    result = convert.convert("ru.txt", russian.encode("cp1251"))
    assert result.text == russian
    assert result.encoding == "cp1251"


def test_normalisation_crlf_cr_and_nfc_only():
    decomposed = "Cafe\u0301 coo\u0308rdinatie"  # e + combining acute, o + combining diaeresis
    data = f"A: {decomposed}\r\nB: two\rC:  three  \t\n".encode("utf-8")
    text = convert.convert("t.txt", data).text
    assert text == "A: Café coördinatie\nB: two\nC:  three  \t\n"  # spaces and tabs untouched
    assert unicodedata.is_normalized("NFC", text)
    assert convert.normalise("x\u2028y") == "x\ny"


def test_markdown_is_read_as_text():
    result = convert.convert("notes.md", b"# Interview\n\n**Interviewer:** Hello.\n")
    assert result.format == "md" and result.text == "# Interview\n\n**Interviewer:** Hello.\n"


def test_docx_paragraphs_and_tables_in_order_without_headers():
    data = docx_bytes(["Interview with the manager", "Interviewer: First question?"], [["R", "An answer."], ["I", "Next?"]], header="CONFIDENTIAL")
    result = convert.convert("t.docx", data)
    assert result.text == "Interview with the manager\nInterviewer: First question?\nR: An answer.\nI: Next?\nAfter the table."
    assert "CONFIDENTIAL" not in result.text and "footer" not in result.text


def test_docx_table_with_time_and_speaker_columns_and_header_row():
    rows = [["Time", "Speaker", "Text"], ["00:01:02", "Interviewer", "How did it start?"], ["00:01:09", "Anna", "Slowly. Very slowly."]]
    text = convert.convert("t.docx", docx_bytes([], rows)).text
    assert "[00:01:02] Interviewer: How did it start?" in text
    assert "[00:01:09] Anna: Slowly. Very slowly." in text


def test_docx_plain_table_rows_become_tab_separated_lines():
    rows = [["Programme", "Groups", "Status of the programme in spring"], ["PH", "2", "stopped after a year of losses."]]
    text = convert.convert("t.docx", docx_bytes([], rows)).text
    assert "PH\t2\tstopped after a year of losses." in text


def test_docx_that_is_not_a_zip():
    with pytest.raises(UserError, match=r"t\.docx: not a valid \.docx file \(it is not a zip archive\)"):
        convert.convert("t.docx", b"this is plain text pretending to be a docx")


def test_docx_zip_without_document_xml():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UserError, match="no word/document.xml"):
        convert.convert("t.docx", buffer.getvalue())


def test_docx_zip_bomb_is_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (convert.MAX_UNZIPPED_BYTES + 1024))
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # small on disk
    with pytest.raises(UserError, match="zip bomb"):
        convert.convert("bomb.docx", data)


def test_docx_high_ratio_bomb_below_the_absolute_limit(monkeypatch):
    monkeypatch.setattr(convert, "MAX_UNZIPPED_BYTES", 10**12)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"a" * (50 * 1024 * 1024))
    with pytest.raises(UserError, match=r"ratio \d+:1"):
        convert.convert("bomb.docx", buffer.getvalue())


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the file is empty"),
        (b"  \n\r\n ", "the file is empty"),
        (codecs.BOM_UTF8, "the file is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary file (a PNG image)"),
        (b"PK\x03\x04" + b"\x00" * 40, "binary file (a ZIP archive"),
        (b"abc\x00def" * 10, "binary file (it contains NUL bytes)"),
        ("Caf\u00e9 ".encode() + b"\xff\xfe\xfa broken", "undecodable bytes at byte 6"),
    ],
)
def test_bad_text_files_give_one_message_naming_the_file(data, message):
    with pytest.raises(UserError) as info:
        convert.convert("interview.txt", data)
    assert info.value.message.startswith("interview.txt: ")
    assert message in info.value.message


def test_size_limit(monkeypatch):
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(UserError, match=r"big\.txt: the file is .* over the limit of"):
        convert.convert("big.txt", b"x" * 101)


@pytest.mark.parametrize("name, message", [("a.doc", ".doc files are not supported"), ("a.exe", "unsupported file type .exe"), ("README", "(no extension)")])
def test_unsupported_types(name, message):
    with pytest.raises(UserError, match=message):
        convert.convert(name, b"hello")


VTT = """WEBVTT

NOTE produced by a transcription service

1
00:00:01.000 --> 00:00:04.500
<v Interviewer>Welcome. Shall we begin?</v>

2
00:00:05.000 --> 00:00:08.000
<v Anna de Vries>Yes. <i>Gladly</i>.

3
00:00:08.000 --> 00:00:10.250
<v Anna de Vries>It started in 2019.

00:00:11.000 --> 00:00:12.000
<v.loud Interviewer>Why?
"""


def test_vtt_voice_tags_become_turns_with_times():
    result = convert.convert("t.vtt", VTT.encode())
    assert result.text == "Interviewer: Welcome. Shall we begin?\nAnna de Vries: Yes. Gladly. It started in 2019.\nInterviewer: Why?"
    assert [(c.speaker, c.time) for c in result.turns] == [
        ("Interviewer", "00:00:01.000 --> 00:00:04.500"),
        ("Anna de Vries", "00:00:05.000 --> 00:00:10.250"),
        ("Interviewer", "00:00:11.000 --> 00:00:12.000"),
    ]


def test_srt_with_labels_in_cue_text_and_comma_times():
    srt = "1\r\n00:00:01,000 --> 00:00:02,000\r\nI: Hello.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nR: Hi there.\r\n"
    result = convert.convert("t.srt", srt.encode("utf-8-sig"))
    assert result.text == "I: Hello.\nR: Hi there."
    assert result.turns[1].time == "00:00:03.000 --> 00:00:04.000"


def test_vtt_without_header_or_cues():
    with pytest.raises(UserError, match="not a WebVTT file"):
        convert.convert("t.vtt", b"hello\n")
    with pytest.raises(UserError, match="no subtitle cues"):
        convert.convert("t.srt", b"just text\n")


def test_odt_paragraphs():
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Interview"))
    document.text.addElement(P(text="Interviewer: Hello?"))
    document.text.addElement(P(text="R: Hello back."))
    buffer = io.BytesIO()
    document.write(buffer)
    result = convert.convert("t.odt", buffer.getvalue())
    assert result.text == "Interview\nInterviewer: Hello?\nR: Hello back."


def test_pdf_without_text_layer_and_broken_pdf():
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UserError, match="no text layer"):
        convert.convert("scan.pdf", buffer.getvalue())
    with pytest.raises(UserError, match="not a valid .pdf"):
        convert.convert("fake.pdf", b"hello")
