"""Publication-ready tables in every format, and the methods paragraph.

A :class:`ReportTable` (title, columns, rows, notes) renders as CSV and XLSX (through
:mod:`casestudy.tabular`), DOCX in APA style (bold table number, italic title, horizontal rules
only, "Note." below), LaTeX (booktabs, tabularx, threeparttable notes, every special character
escaped) and Markdown.
``render(tables, fmt)`` returns text for csv/md/tex and bytes for xlsx/docx.
"""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from casestudy import tabular
from casestudy.errors import UserError
from casestudy.panel.results import PanelFigures
from casestudy.reports.constants import (  # noqa: F401  (re-exported)
    BINARY_FORMATS,
    EXPORT_FORMATS,
    SPLIT_RULES,
    TEXT_FORMATS,
)
from casestudy.reports.table2 import (
    AVERAGES,
    Table2,
    fmt,
    round_decimal,
    rounding_text,
    table2_title,
)

MEDIA_TYPES = {
    "json": "application/json", "csv": "text/csv", "md": "text/markdown", "tex": "application/x-tex",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass
class ReportTable:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    sheet: str = "Table"
    #: A working table (unrounded statistics): its own sheet in XLSX, never in a DOCX or LaTeX manuscript.
    working: bool = False

    @property
    def label(self) -> str:
        """'Table 2' from 'Table 2. Title…'; '' when the title has no number."""
        m = re.match(r"(Table\s+\d+)\.\s*", self.title)
        return m.group(1) if m else ""

    @property
    def caption(self) -> str:
        return re.sub(r"^Table\s+\d+\.\s*", "", self.title)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3g}"
    return str(value)


# --- builders -------------------------------------------------------------------------------------
def table2_tables(t: Table2, for_format: str | None = None) -> list[ReportTable]:
    """Printed Table 2, the per-cell statistics and the level comparison.

    For ``docx`` (a manuscript) the long statistics table is left out; ``csv`` gets the printed table only.
    """
    tables = _table2_tables(t)
    if for_format == "docx":
        return [tables[0], tables[2]]
    if for_format == "csv":
        return tables[:1]
    return tables


def _table2_tables(t: Table2) -> list[ReportTable]:
    columns, rows = t.grid()
    # The Average column as rounded numbers (Decimal: a number with its decimals in a spreadsheet).
    outcome_rows = len(rows) - len(t.items)
    rows = rows[:outcome_rows] + [[*row[:-1], round_decimal(t.average_value(item), t.decimals, t.rounding)]
                                  for item, row in zip(t.items, rows[outcome_rows:])]
    printed = ReportTable(table2_title(t), columns, rows, [t.note()], "Table 2")
    stats_rows = []
    for item in t.items:
        for case in t.cases:
            c = t.cell(item, case)
            stats_rows.append([item, case, c.n, *(None if v is None else float(v) for v in (c.mean,)), c.sd,
                               *(None if v is None else float(v) for v in (c.median, c.q1, c.q3)), c.min, c.max])
    stats = ReportTable("Working table: Table 2 statistics per case and statement (unrounded, not for publication)",
                        ["item", "case", "n", "mean", "sd", "median", "q1", "q3", "min", "max"], stats_rows,
                        [f"SD with n - 1; quartiles by the {t.quartile_method} method."], "Statistics (working)", working=True)
    levels = ReportTable("Level comparison", ["Position", "Statement", "Average", "Highest case", "Lowest case"],
                         [[r["position"], r["item"], round_decimal(t.average_value(r["item"]), t.decimals, t.rounding),
                           r["highest_case"], r["lowest_case"]]
                          for r in sorted(t.level_comparison(), key=lambda r: r["position"])],
                         [f"Average = {AVERAGES[t.average]}."], "Levels")
    return [printed, stats, levels]


def rankings_tables(r) -> list[ReportTable]:
    from casestudy.reports.rankings import ranking_table

    columns, rows = ranking_table(r)
    notes = [
        f"Note. Determinants named by at least {r.threshold} of the {r.experts} experts who returned the questionnaire, "
        "ranked by the number of experts naming them (ties share a rank and are listed by Borda score, then name). "
        "Borda = modified Borda count of the experts' importance orders; mean rank = mean position where named"
        + (f"; Kendall's W = {round_decimal(r.kendall_w, 3)} (N = {r.kendall_objects} determinants ranked by m = {r.kendall_raters} experts; "
           "tie-corrected, partial rankings completed with mean ranks)" if r.kendall_w is not None else "")
        + ". Percentages, Borda scores and mean ranks are rounded half up.",
    ]
    tables = [ReportTable("Table 3. Determinants named by the experts", columns, rows, notes, "Ranking")]
    working = rankings_long_table(r)
    tables.append(ReportTable("Working table: determinants with unrounded Borda scores and mean ranks (not for publication)",
                              working.columns, working.rows, [], "Determinants (working)", working=True))
    tables.append(ReportTable("Determinants named by one expert", ["Determinant"], [[s] for s in r.singletons], [], "Singletons"))
    tables.append(ReportTable("Additional determinants", ["Determinant", "Experts (n)"],
                              [[a["determinant"], a["n_experts"]] for a in r.additional], [], "Additional"))
    return tables


def rankings_long_table(r) -> ReportTable:
    """All three lists in one table (CSV): list, rank, determinant, n_experts, percent, borda, mean_rank."""
    percent = lambda count: round_decimal(Fraction(100 * count, r.experts), 1)
    rows = [["ranking", x.rank, x.determinant, x.n_experts, percent(x.n_experts), float(x.borda),
             None if x.mean_rank is None else float(x.mean_rank)] for x in r.ranking]
    counts = r.counts or {}
    rows += [["singleton", None, s, counts.get(s), percent(counts[s]) if s in counts else None, None, None] for s in r.singletons]
    rows += [["additional", None, a["determinant"], a["n_experts"], percent(a["n_experts"]), None, None] for a in r.additional]
    return ReportTable("Determinants", ["list", "rank", "determinant", "n_experts", "percent", "borda", "mean_rank"], rows)


def _p_value(p: float) -> Any:
    """APA: p to three decimals, '< .001' below that."""
    return "< .001" if p < 0.001 else round_decimal(p, 3)


def _degrees_of_freedom(v, all_results, r) -> list:
    """df1 and df2: whole numbers as integers; two decimals for both columns if any df is fractional."""
    whole = all(float(x.df1).is_integer() and float(x.df2).is_integer() for x in all_results)
    return [int(v.df1), int(v.df2)] if whole else [r(v.df1, 2), r(v.df2, 2)]


def reliability_tables(rep, rounding: str = "half-up") -> list[ReportTable]:
    """Alpha, ICC, agreement per cell and r_wg(J) per case; every number rounded by the stated
    Decimal rule with one number of decimals per column (3 for coefficients, 2 for F, df and IQR,
    1 for percentages)."""
    r = lambda value, places=3: round_decimal(value, places, rounding)
    rule = f"Values are rounded {rounding_text(rounding)}."
    alpha_rows = [[a.metric, r(a.alpha), r(a.ci_low), r(a.ci_high), a.units, a.replicates, a.seed] for a in rep.alphas]
    tables = [ReportTable("Krippendorff's alpha", ["Metric", "Alpha", "CI low", "CI high", "Units", "Bootstrap", "Seed"], alpha_rows,
                          [f"95% percentile bootstrap over units (case x statement). {rule}"], "Alpha")]
    if rep.icc:
        tables.append(ReportTable("Intraclass correlations (Shrout & Fleiss 1979)", ["Form", "Model", "ICC", "F", "df1", "df2", "p", "CI low", "CI high"],
                                  [[v.form, v.label, r(v.value), r(v.f, 2), *_degrees_of_freedom(v, rep.icc.values(), r), _p_value(v.p), r(v.ci_low), r(v.ci_high)]
                                   for v in rep.icc.values()], [f"{rep.icc_note}. {rule}"], "ICC"))
    tables.append(ReportTable("Agreement per case and statement", ["Case", "Statement", "n", "Top agreement (%)", "r_wg", "IQR", "Consensus"],
                              [[c["case"], c["item"], c["n"], r(c["top_agreement_percent"], 1), r(c["rwg"]), r(c["iqr"], 2),
                                "yes" if c["consensus"] else "no"] for c in rep.per_cell],
                              [f"{rep.consensus_rule}. {rule}"], "Agreement"))
    from casestudy.reports.reliability import RWG_NOTE

    tables.append(ReportTable("r_wg(J) per case", ["Case", "r_wg(J)", "Statements"],
                              [[c["case"], r(c["rwg_j"]), c["statements"]] for c in rep.per_case], [f"{RWG_NOTE}. {rule}"], "rwg(J)"))
    unrounded = lambda v: None if v is None else float(v)
    tables.append(ReportTable("Working table: agreement per case and statement (unrounded, not for publication)",
                              ["case", "item", "n", "top_agreement_percent", "rwg", "iqr", "consensus"],
                              [[c["case"], c["item"], c["n"], unrounded(c["top_agreement_percent"]), c["rwg"], unrounded(c["iqr"]), c["consensus"]]
                               for c in rep.per_cell], [], "Agreement (working)", working=True))
    return tables


def table4_tables(t) -> list[ReportTable]:
    """Printed Table 4 (cells as entered, mean (range) and level means per period) and the
    unrounded summary per period."""
    columns, rows = t.grid()
    printed = ReportTable(t.title(), columns, rows, [t.note()], "Table 4")
    summary_rows = [[s.period, float(s.mean), float(s.min), float(s.max), s.n_items,
                     *(None if s.level_means.get(level) is None else float(s.level_means[level]) for level in t.levels)]
                    for s in t.summaries()]
    summary = ReportTable("Table 4 summary per period (unrounded)", ["period", "mean", "min", "max", "n_items", *t.levels],
                          summary_rows, [f"Split scores count as {SPLIT_RULES[t.split_rule]}."], "Summary")
    return [printed, summary]


def table1_table(rows: Sequence[dict], note: str = "") -> ReportTable:
    """Table 1; ``note`` expands the component types used (``reports.outcomes.table1_note``)."""
    return ReportTable("Table 1. Cases: programme, outcome and determinants", ["Case", "Programme", "Outcome", "Determinants"],
                       [[r["case"], r["programme"], r["outcome"], "; ".join(r["determinants"]) if isinstance(r["determinants"], list) else r["determinants"]] for r in rows],
                       [note] if note else [], "Table 1")


def findings_table(findings) -> ReportTable:
    return ReportTable("Consistency check", ["Severity", "Check", "Where", "Message"],
                       [[f.severity, f.check, f.where, f.message] for f in findings],
                       [f"{len(findings)} finding(s)."], "Check")


def duration_text(minutes: float) -> str:
    """'88 minutes', '1 minute', or '45 seconds' when it took under a minute (rounded half up)."""
    if minutes < 1:
        seconds = fmt(minutes * 60, 0)
        return f"{seconds} second{'' if seconds == '1' else 's'}"
    whole = fmt(minutes, 0)
    return f"{whole} minute{'' if whole == '1' else 's'}"


def level_sentence(t: Table2) -> str:
    """' The highest average was ... (highest: A and C).' naming every tied statement and case."""
    levels = [row for row in t.level_comparison() if row["average"] is not None]
    if not levels:
        return ""
    best = [row for row in levels if t.average_value(row["item"]) == max(t.average_value(x["item"]) for x in levels)]
    named = " and ".join(f"{row['item']!r} ({row['formatted']}; highest: {row['highest_case']})" for row in best)
    return f" The highest average{'s were' if len(best) > 1 else ' was'} {named}."


def methods_paragraph(figures: PanelFigures | None, t: Table2 | None = None, r=None, ethics: str = "") -> str:
    """A methods paragraph stating the panel figures and how the tables were computed, ending
    with the study's ethics sentence (``ethics``, see :func:`casestudy.ethics.ethics_sentence`)."""
    parts = []
    if figures and figures.invited:
        rate = figures.response_rate
        text = f"Of the {figures.invited} experts invited, {figures.returned} returned the questionnaire"
        if rate is not None:
            text += f" (response rate {fmt(Fraction(100 * figures.returned, figures.invited), 0)}%)"  # exact: 1 of 40 is 2.5 -> 3
        if figures.median_minutes is not None:
            text += f"; the median completion time was {duration_text(figures.median_minutes)}"
        parts.append(text + ".")
    if t is not None:
        parts.append(
            f"Each expert rated every statement per case on a {t.scale.text()} scale. For each case and statement we report "
            f"the mean and the range (minimum-maximum); means were rounded {rounding_text(t.rounding, t.scale)} to {t.decimals} decimal"
            f"{'s' if t.decimals != 1 else ''} with exact decimal arithmetic. The average column is {AVERAGES[t.average]}."
            + level_sentence(t)
        )
    if r is not None:
        parts.append(
            f"Determinants were ranked by the number of experts naming them (threshold {r.threshold}); tied counts share a rank. "
            "Importance orders were summarised by a modified Borda count and the mean rank, and agreement on the orders by "
            "Kendall's W with a correction for ties, unranked determinants sharing the mean of the remaining ranks"
            + (f" (W = {round_decimal(r.kendall_w, 2)}; N = {r.kendall_objects} determinants, m = {r.kendall_raters} experts)."
               if r.kendall_w is not None else ".")
        )
    if ethics:
        parts.append(ethics)
    return " ".join(parts)


# --- renderers ------------------------------------------------------------------------------------
def to_csv(table: ReportTable) -> str:
    return tabular.csv_text(table.columns, table.rows)


def to_xlsx(tables: Sequence[ReportTable]) -> bytes:
    """One sheet per table, each with its own title row and its own notes; working tables on
    their own sheets. Numbers stay numbers (see :func:`casestudy.tabular.xlsx_bytes`)."""
    sheets: dict[str, tabular.Sheet] = {}
    for table in tables:
        name = table.sheet[:31]
        while name in sheets:
            name = name[:30] + "_"
        sheets[name] = tabular.Sheet(table.columns, table.rows, table.title, table.notes)
    return tabular.xlsx_bytes(sheets)


MD_ESCAPE = re.compile(r"([\\|*_`\[\]<>#])")


def _md(value: Any) -> str:
    return MD_ESCAPE.sub(r"\\\1", _text(value)).replace("\n", " ")


def to_markdown(tables: Sequence[ReportTable]) -> str:
    out = []
    for table in tables:
        out.append(f"**{_md(table.title)}**\n")
        out.append("| " + " | ".join(_md(c) for c in table.columns) + " |")
        out.append("|" + "|".join("---" for _ in table.columns) + "|")
        for row in table.rows:
            out.append("| " + " | ".join(_md(v) for v in row) + " |")
        for note in table.notes:
            out.append(f"\n*{_md(note)}*" if not note.startswith("Note.") else f"\n*Note.*{_md(note[5:])}")
        out.append("")
    return "\n".join(out)


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
}


RANGE_DASH = re.compile(r"(?<=\d)-(?=\d)")
MINUS_SIGN = re.compile(r"(?<![\w.])-(?=\d)")
#: What the LaTeX output needs in the preamble.
LATEX_PACKAGES = ("booktabs", "tabularx", "threeparttable")
#: A text column whose longest cell is longer than this becomes a wrapping tabularx ``X`` column.
LATEX_WRAP_AT = 30


def latex_escape(value: Any) -> str:
    """Text for LaTeX: every special character escaped, a range '4-5' with an en dash (4--5), a
    minus sign before a number as math minus ($-$3), '–' as --."""
    text = _text(value)
    text = RANGE_DASH.sub("\u2013", text)
    text = MINUS_SIGN.sub("\u2212", text)
    escaped = "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)
    return escaped.replace("\u2013", "--").replace("\u2212", "$-$")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def latex_columns(table: ReportTable) -> tuple[str, bool]:
    """The column specification and whether it needs tabularx: numbers right-aligned (r), long
    text as a wrapping X column (the statement column), other text left-aligned (l)."""
    spec = []
    for index, _ in enumerate(table.columns):
        cells = [row[index] for row in table.rows if index < len(row) and row[index] not in (None, "")]
        if cells and all(_is_number(c) for c in cells):
            spec.append("r")
        elif cells and max(len(_text(c)) for c in cells) > LATEX_WRAP_AT:
            spec.append("X")
        else:
            spec.append("l")
    return "@{}" + "".join(spec) + "@{}", "X" in spec


def latex_label(table: ReportTable, used: set[str]) -> str:
    """'tab:table-2' from 'Table 2. ...', else from the caption's words; unique within ``used``."""
    base = re.sub(r"[^a-z0-9]+", "-", (table.label or table.caption or table.title).lower()).strip("-")[:40] or "table"
    label, number = f"tab:{base}", 2
    while label in used:
        label, number = f"tab:{base}-{number}", number + 1
    used.add(label)
    return label


def to_latex(tables: Sequence[ReportTable]) -> str:
    """Each table as a float: \\caption and \\label, booktabs rules, a tabularx whose long text
    column (the statements) wraps to the line width, the notes as a threeparttable ``tablenotes``
    block ('Note.' in italics). Needs ``\\usepackage{booktabs,tabularx,threeparttable}``."""
    out = [f"% requires \\usepackage{{{','.join(LATEX_PACKAGES)}}}"]
    used: set[str] = set()
    for table in tables:
        spec, wraps = latex_columns(table)
        environment = "tabularx" if wraps else "tabular"
        width = "{\\linewidth}" if wraps else ""
        out += ["\\begin{table}[htbp]", "\\centering", "\\begin{threeparttable}",
                f"\\caption{{{latex_escape(table.caption)}}}", f"\\label{{{latex_label(table, used)}}}",
                f"\\begin{{{environment}}}{width}{{{spec}}}", "\\toprule",
                " & ".join(latex_escape(c) for c in table.columns) + " \\\\", "\\midrule"]
        out += [" & ".join(latex_escape(v) for v in row) + " \\\\" for row in table.rows]
        out += ["\\bottomrule", f"\\end{{{environment}}}"]
        if table.notes:
            out += ["\\begin{tablenotes}[flushleft]", "\\footnotesize"]
            for note in table.notes:
                if note.startswith("Note."):
                    out.append(f"\\item[] \\textit{{Note.}}{latex_escape(note[5:])}")
                else:
                    out.append(f"\\item[] {latex_escape(note)}")
            out.append("\\end{tablenotes}")
        out += ["\\end{threeparttable}", "\\end{table}", ""]
    return "\n".join(out)


def _rule(cell, edges: Sequence[str]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for edge in edges:
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), "8")
        element.set(qn("w:color"), "000000")
        borders.append(element)
    tc_pr.append(borders)


def _set_text(cell, text: str) -> None:
    """Faster than ``cell.text = ...`` on big tables: write into the cell's existing empty paragraph."""
    if text:
        cell.paragraphs[0].add_run(text)


def to_docx(tables: Sequence[ReportTable], paragraphs: Sequence[str] = ()) -> bytes:
    """APA style: bold 'Table N', italic title, horizontal rules above/below the header and at the end, 'Note.' in italics."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    for text in paragraphs:
        document.add_paragraph(text)
    for table in tables:
        if table.label:
            document.add_paragraph().add_run(table.label).bold = True
        document.add_paragraph().add_run(table.caption).italic = True
        grid = document.add_table(rows=1 + len(table.rows), cols=len(table.columns))
        grid_rows = list(grid.rows)
        for cell, header in zip(grid_rows[0].cells, table.columns):
            _set_text(cell, str(header))
            _rule(cell, ("top", "bottom"))
        for r_index, (grid_row, row) in enumerate(zip(grid_rows[1:], table.rows), start=1):
            for cell, value in zip(grid_row.cells, row):
                _set_text(cell, _text(value))
                if r_index == len(table.rows):
                    _rule(cell, ("bottom",))
        for note in table.notes:
            paragraph = document.add_paragraph()
            if note.startswith("Note."):
                paragraph.add_run("Note.").italic = True
                paragraph.add_run(note[5:])
            else:
                paragraph.add_run(note)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def publishable(tables: Sequence[ReportTable], manuscript: bool = False) -> list[ReportTable]:
    """The tables worth exporting: empty ones are left out and named in a note under the first
    table that stays ('Not shown, no entries: Determinants named by one expert.'); for a
    manuscript (DOCX, LaTeX) the working tables are left out too."""
    kept = [t for t in tables if t.rows and not (manuscript and t.working)]
    empty = [t.caption or t.title for t in tables if not t.rows]
    if kept and empty:
        first = kept[0]
        kept[0] = ReportTable(first.title, first.columns, first.rows, [*first.notes, f"Not shown, no entries: {'; '.join(empty)}."],
                              first.sheet, first.working)
    return kept or list(tables[:1])


def render(tables: Sequence[ReportTable], fmt: str, csv_table: ReportTable | None = None, paragraphs: Sequence[str] = ()) -> str | bytes:
    """Render tables as csv (the first table, or ``csv_table``), md, tex, xlsx or docx; empty
    tables are left out with a note (:func:`publishable`), working tables stay out of docx/tex."""
    if not tables:
        raise UserError("nothing to export")
    if fmt == "csv":
        return to_csv(csv_table or tables[0])
    tables = publishable(tables, manuscript=fmt in ("docx", "tex"))
    if fmt == "md":
        return "\n\n".join([*paragraphs, to_markdown(tables)]) if paragraphs else to_markdown(tables)
    if fmt == "tex":
        return to_latex(tables)
    if fmt == "xlsx":
        return to_xlsx(tables)
    if fmt == "docx":
        return to_docx(tables, paragraphs)
    raise UserError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")


def median_minutes(durations: Sequence[float]) -> float | None:
    return statistics.median(durations) if durations else None


# --- the study's own pieces (researchers only) ----------------------------------------------------
def _short(label: str) -> str:
    return re.sub(r"^(case|unit)\s+", "", label.strip(), flags=re.I)


def study_outcomes(session, study, principal) -> dict[str, str]:
    """Outcome class per case, under the public label ('Case A') and its short form ('A')."""
    from casestudy import access
    from casestudy import study as studies

    access.require_researcher(principal)
    result = {}
    for case in studies.list_cases(session, study):
        result[case.public_label] = case.outcome_class
        result[_short(case.public_label)] = case.outcome_class
    return result


def study_table1(session, study, principal) -> list[dict]:
    """Table 1 rows from the study's cases: case, programme, outcome, determinants.

    Determinants come from the case-summary provider (member-check stage) when registered;
    until then the list is empty.
    """
    from casestudy import access
    from casestudy import study as studies
    from casestudy.reports.inputs import study_case_determinants

    access.require_researcher(principal)
    determinants = study_case_determinants(session, study)
    rows = []
    for case in studies.list_cases(session, study):
        outcome = case.outcome_class.capitalize()
        if case.outcome_description:
            outcome += f": {case.outcome_description}"
        rows.append({
            "case": case.public_label,
            "programme": studies.programme_text(case),
            "outcome": outcome,
            "determinants": list(determinants.get(case.public_label, determinants.get(_short(case.public_label), []))),
        })
    return rows
