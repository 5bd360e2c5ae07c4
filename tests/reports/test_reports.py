"""Exports: escaping in LaTeX/Markdown, formula neutralisation, APA DOCX, the methods paragraph."""

from __future__ import annotations

import io

from casestudy.reports import render as reports
from casestudy.reports.table2 import round_decimal
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


def _reference_table2():
    from pathlib import Path

    from casestudy.panel.scale import PANEL_SCALE
    from casestudy.reports.inputs import load_ratings
    from casestudy.reports.table2 import table2

    return table2(load_ratings(Path(__file__).resolve().parents[2] / "examples" / "reference-ratings.csv"), PANEL_SCALE)


def test_xlsx_stores_numbers_with_formats_widths_frozen_header_title_and_notes():
    import openpyxl

    t = _reference_table2()
    workbook = openpyxl.load_workbook(io.BytesIO(reports.render(reports.table2_tables(t), "xlsx")))
    sheet = workbook["Table 2"]
    assert sheet["A1"].value.startswith("Table 2.") and sheet["A1"].font.bold  # title row, blank row, header
    assert [c.value for c in sheet[3]][-1] == "Average" and sheet["B3"].font.bold
    assert sheet.freeze_panes == "A4"  # the header stays in view
    average = sheet.cell(row=4, column=len(t.cases) + 2)
    assert average.data_type == "n" and average.number_format == "0.0"  # a number, not the text '4.5'
    assert average.value == float(round_decimal(t.average_value(t.items[0]), 1))
    assert sheet.column_dimensions["A"].width > 40  # the statement column fits its text (up to 60 characters)
    assert 8 <= sheet.column_dimensions["B"].width <= 14
    notes = [row[0].value for row in sheet.iter_rows(min_row=5 + len(t.items)) if row[0].value]
    assert len(notes) == 1 and notes[0].startswith("Note. Cells show the mean")
    working = workbook["Statistics (working)"]
    assert "unrounded" in working["A1"].value and working.freeze_panes == "A4"
    working_notes = [row[0].value for row in working.iter_rows(min_row=4) if isinstance(row[0].value, str) and row[0].value.startswith("Note.")]
    assert working_notes == []  # each sheet carries its own notes only
    levels = workbook["Levels"]
    assert levels["C4"].data_type == "n" and levels["C4"].number_format == "0.0"


def test_empty_tables_are_left_out_with_a_note_and_working_tables_stay_out_of_manuscripts():
    import openpyxl

    from casestudy.panel.results import DeterminantMention as M
    from casestudy.reports.rankings import rank_determinants

    r = rank_determinants([M(e, "recurring", 1, "a") for e in ("e1", "e2")], experts=2)
    assert not r.singletons and not r.additional
    workbook = openpyxl.load_workbook(io.BytesIO(reports.render(reports.rankings_tables(r), "xlsx")))
    assert workbook.sheetnames == ["Ranking"]
    texts = [c.value for row in workbook["Ranking"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Not shown, no entries: Determinants named by one expert; Additional determinants." in texts
    tex = reports.render(reports.table2_tables(_reference_table2()), "tex")
    assert "unrounded" not in tex and "Level comparison" in tex
    assert "Working table" in reports.render(reports.table2_tables(_reference_table2()), "md")
