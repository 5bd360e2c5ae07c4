"""Exports: escaping in LaTeX/Markdown, formula neutralisation, APA DOCX, the methods paragraph."""

from __future__ import annotations

import io

from casestudy.reports import render as reports
from casestudy.panel.results import PanelFigures


def test_latex_and_markdown_escape():
    table = reports.ReportTable("Table 9. 50% & more_{x}", ["a|b", "c"], [["$5 #1 ~^\\", "x*y"]], ["Note. 100%"])
    tex = reports.to_latex([table])
    assert r"\caption{50\% \& more\_\{x\}}" in tex
    assert r"\$5 \#1 \textasciitilde{}\textasciicircum{}\textbackslash{}" in tex
    md = reports.to_markdown([table])
    assert r"a\|b" in md and r"x\*y" in md


def test_csv_neutralises_formulas():
    table = reports.ReportTable("t", ["determinant"], [["=HYPERLINK(1)"]])
    assert "'=HYPERLINK(1)" in reports.render([table], "csv")


def test_docx_is_apa_like():
    from docx import Document

    table = reports.ReportTable("Table 3. Something", ["A", "B"], [[1, 2.5], [3, None]], ["Note. Explained."])
    document = Document(io.BytesIO(reports.to_docx([table])))
    paragraphs = document.paragraphs
    assert paragraphs[0].runs[0].bold and paragraphs[0].text == "Table 3"
    assert paragraphs[1].runs[0].italic and paragraphs[1].text == "Something"
    assert paragraphs[2].runs[0].italic and paragraphs[2].runs[0].text == "Note."
    assert document.tables[0].rows[2].cells[1].text == ""


def test_methods_paragraph_figures():
    text = reports.methods_paragraph(PanelFigures(20, 12, 87.5))
    assert text == ("Of the 20 experts invited, 12 returned the questionnaire (response rate 60%); "
                    "the median completion time was 88 minutes.")
    assert reports.methods_paragraph(None) == ""


def test_methods_paragraph_in_seconds_and_with_tied_levels():
    from casestudy.reports.table2 import table2
    from casestudy.panel.results import Rating
    from casestudy.panel.scale import PANEL_SCALE

    assert "the median completion time was 45 seconds." in reports.methods_paragraph(PanelFigures(5, 4, 0.75))
    assert "was 1 minute." in reports.methods_paragraph(PanelFigures(5, 4, 1.2))
    t = table2([Rating("e1", c, "x", s) for c, s in (("A", 5), ("B", 3), ("C", 5))], PANEL_SCALE)
    text = reports.methods_paragraph(None, t)
    assert "The highest average was 'x' (4.3; highest: A and C)." in text
