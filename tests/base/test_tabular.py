"""Formula injection is neutralised in every CSV and XLSX export."""

from __future__ import annotations

import csv
import io

import openpyxl

from casestudy import tabular

DANGEROUS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_neutralises_formula_cells_and_keeps_numbers():
    text = tabular.csv_text(["quote", "n"], [[value, 3] for value in DANGEROUS] + [["plain", -2]])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in rows[1:-1]] == ["'" + v for v in DANGEROUS]
    assert rows[-1] == ["plain", "-2"]  # a number is not text: it stays a number


def test_xlsx_has_no_formulas():
    data = tabular.xlsx_bytes({"Segments": (["quote", "n"], [[v, 1] for v in DANGEROUS])}, title="T", notes=["=note"])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["Segments"]
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in values)
    assert "'=HYPERLINK(\"http://x\")" in values and "'=note" in values and "T" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
