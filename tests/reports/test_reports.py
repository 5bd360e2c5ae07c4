"""Exports: escaping in LaTeX/Markdown, formula neutralisation, APA DOCX, the methods paragraph."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

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
    assert workbook.sheetnames == ["Ranking", "Determinants (working)"]  # unrounded values on their own sheet
    assert "Working table" not in reports.render(reports.rankings_tables(r), "tex")
    texts = [c.value for row in workbook["Ranking"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Not shown, no entries: Determinants named by one expert; Additional determinants." in texts
    tex = reports.render(reports.table2_tables(_reference_table2()), "tex")
    assert "unrounded" not in tex and "Level comparison" in tex
    assert "Working table" in reports.render(reports.table2_tables(_reference_table2()), "md")


def _negative_table2():
    from casestudy.panel.results import Rating
    from casestudy.panel.scale import Scale
    from casestudy.reports.table2 import table2

    ratings = [Rating("e1", "A", "A statement long enough to need wrapping in print", -3), Rating("e2", "A", "A statement long enough to need wrapping in print", -2),
               Rating("e1", "B", "A statement long enough to need wrapping in print", 1), Rating("e2", "B", "A statement long enough to need wrapping in print", 2)]
    return table2(ratings, Scale(-3, 3))


def test_latex_is_publication_ready():
    tex = reports.render(reports.table2_tables(_reference_table2()), "tex")
    assert tex.startswith("% requires \\usepackage{booktabs,tabularx,threeparttable}")
    assert "\\caption{Expert ratings per case on a 0--5 scale: mean (range)}\n\\label{tab:table-2}" in tex
    assert "\\begin{tabularx}{\\linewidth}{@{}Xlllllllr@{}}" in tex  # statements wrap; the average is a number column
    assert " & 4.8 (4--5) & " in tex  # en dash in ranges
    assert tex.count("\\toprule") == tex.count("\\midrule") == tex.count("\\bottomrule") == 2
    assert "\\begin{tablenotes}[flushleft]\n\\footnotesize\n\\item[] \\textit{Note.} Cells show the mean" in tex
    assert "\\label{tab:level-comparison}" in tex
    for environment in ("table", "threeparttable", "tablenotes"):
        assert tex.count(f"\\begin{{{environment}}}") == tex.count(f"\\end{{{environment}}}") == 2
    for line in tex.splitlines():  # every row has one cell per column
        if line.endswith("\\\\"):
            assert line.count(" & ") in (8, 4), line  # 9 columns in Table 2, 5 in the level comparison
    negative = reports.to_latex(reports.table2_tables(_negative_table2()))
    assert "$-$2.5 ($-$3 to $-$2)" in negative and "1.5 (1--2)" in negative


def _pdflatex_document(tex: str) -> str:
    return ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
            "\\usepackage{booktabs,tabularx,threeparttable}\n\\begin{document}\n" + tex + "\n\\end{document}\n")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not found: no TeX installation on this machine")
def test_latex_compiles_with_pdflatex(tmp_path):
    tables = reports.table2_tables(_reference_table2()) + reports.table2_tables(_negative_table2())
    tables.append(reports.ReportTable("Table 9. 50% & more_{x}", ["a|b", "c"], [["$5 #1 ~^\\ <>", 2]], ["Note. 100%"]))
    (tmp_path / "t.tex").write_text(_pdflatex_document(reports.render(tables, "tex")), encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0 and "Overfull \\hbox" not in result.stdout


def test_methods_response_rate_is_rounded_exactly():
    # 23 of 40 = 57.5 % exactly; the float 23/40*100 is 57.49999999999999 and used to print 57%
    assert "(response rate 58%)" in reports.methods_paragraph(PanelFigures(40, 23, None))
