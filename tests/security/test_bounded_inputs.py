"""Structured imports are bounded: the YAML alias bomb, oversized tables, zip and XML floods."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
import zipfile

import pytest

from casestudy import security
from casestudy.codebook import exchange as cio
from casestudy.errors import UserError
from casestudy.exchange import importer
from tests.conftest import ROOT

# The bomb: nine levels of nine aliases each, used as a code's name (9**9 leaves).
ALIAS_BOMB = textwrap.dedent("""\
    format: casestudy-codebook
    a: &a ["x","x","x","x","x","x","x","x","x"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    codes:
      - {name: *i, level: Intervention}
""")


def test_alias_bomb_fails_fast_under_a_memory_limit(tmp_path):
    """The whole codebook import path (library and CLI reader) in a process capped at 1 GiB."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    script = textwrap.dedent(f"""
        import resource, time
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from casestudy.codebook import exchange
        from casestudy.errors import UserError
        started = time.perf_counter()
        try:
            exchange.read_file({str(bomb)!r}, ["Intervention"])
        except UserError as exc:
            print("REFUSED", round(time.perf_counter() - started, 3), exc.message)
        else:
            print("ACCEPTED")
    """)
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    verdict, seconds, message = result.stdout.strip().split(" ", 2)
    assert verdict == "REFUSED" and float(seconds) < 1.0
    assert message == ("the YAML file uses a YAML anchor or alias ('&' or '*') at line 2; they are not allowed here: "
                       "write each value out")


def test_alias_bomb_is_refused_by_the_cli_and_the_page_path(tmp_path, store, cli):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    assert cli("--db", store.url, "init", "--title", "S").code == 0
    started = time.perf_counter()
    result = cli("--db", store.url, "codebook", "import", str(bomb))
    assert result.code == 2 and "anchor or alias" in result.err and time.perf_counter() - started < 5
    with pytest.raises(UserError, match="anchor or alias"):
        cio.read_bytes(ALIAS_BOMB.encode(), "yaml", ["Intervention"])  # what the page calls


def test_a_single_harmless_anchor_is_refused_too():
    with pytest.raises(UserError, match="anchor or alias"):
        cio.read_yaml("codes:\n  - &one {name: A, level: Intervention}\n")


def test_yaml_size_and_node_bounds():
    too_big = "codes: []\n#" + "x" * security.MAX_STRUCTURED_BYTES
    with pytest.raises(UserError, match="the limit for this kind of file is 5.0 MB"):
        cio.read_yaml(too_big)
    many = "[" + ",".join(["1"] * 50) + "]"
    with pytest.raises(UserError, match="more than 20 values"):
        security.load_yaml(many, max_nodes=20)
    assert security.load_yaml(many) == [1] * 50


def test_csv_codebook_rows_are_capped():
    rows = "path,level\n" + "".join(f"Code {n},Intervention\n" for n in range(security.MAX_TABLE_ROWS + 1))
    with pytest.raises(UserError, match="the CSV file has more than 20,000 rows"):
        cio.read_csv(rows)
    nodes, _ = cio.read_csv("path,level\n" + "".join(f"Code {n},Intervention\n" for n in range(100)))
    assert len(nodes) == 100


def _xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    from casestudy import tabular

    good = tabular.xlsx_bytes({"codes": (["path", "level"], [["A", "Intervention"]])})
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            target.writestr(info.filename, data)
    return out.getvalue()


def test_xlsx_zip_bomb_and_oversized_sheet_are_refused():
    head = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    padding = b"<!--" + b" " * (security.MAX_XLSX_UNPACKED_BYTES + 1) + b"-->"
    bomb = _xlsx_with_sheet(head + padding + b"</sheetData></worksheet>")
    assert len(bomb) < 1_000_000
    with pytest.raises(UserError, match="unpacks to"):
        cio.read_xlsx(bomb)
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>C%d</t></is></c></row>' % (n, n, n)
        for n in range(1, security.MAX_TABLE_ROWS + 3)
    )
    with pytest.raises(UserError, match="the XLSX file has more than 20,000 rows"):
        cio.read_xlsx(_xlsx_with_sheet(head.replace(b"<sheetData>", b'<sheetData>') + rows + b"</sheetData></worksheet>"))


def test_xml_parser_refuses_entities_floods_and_huge_text():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><CodeBook>&c;</CodeBook>')
    with pytest.raises(UserError, match="uses XML entities"):  # never expanded, refused
        security.parse_xml(laughs, "the file")
    flood = b"<r>" + b"<e/>" * 101 + b"</r>"
    with pytest.raises(UserError, match="more than 100 XML elements"):
        security.parse_xml(flood, "the file", max_nodes=100)
    from lxml import etree

    with pytest.raises(etree.XMLSyntaxError):
        security.parse_xml(b"<r>" + b"x" * (11 * 1024 * 1024) + b"</r>", "the file")  # huge_tree stays off
    with pytest.raises(etree.XMLSyntaxError, match="Entity 'foo' not defined"):
        security.parse_xml(b"<r>a &foo; b</r>", "the file")


def test_qdpx_with_an_undefined_or_declared_entity_gets_one_message():
    for body in (b"<Project>&foo;</Project>",
                 b'<!DOCTYPE Project [<!ENTITY foo "x">]><Project xmlns="urn:QDA-XML:project:1.0">&foo;</Project>'):
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as archive:
            archive.writestr("project.qde", b'<?xml version="1.0"?>' + body)
        with pytest.raises(UserError, match="project.qde is not well-formed XML: Entity 'foo' not defined|uses XML entities"):
            importer.read_archive(data.getvalue())


def test_qdpx_with_an_element_flood_is_refused(monkeypatch):
    monkeypatch.setattr(security, "MAX_XML_NODES", 1000)
    project = b'<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">' + b"<Users/>" * 2000 + b"</Project>"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project)
    with pytest.raises(UserError, match="project.qde has more than 1,000 XML elements"):
        importer.read_archive(data.getvalue())
