"""Inter-coder agreement on span codings, at the character or the sentence level.

Units
- ``character``: every character of an interview is a unit; per code, a coder "coded" the unit
  when one of their codings with that code covers the character (as NVivo does).
- ``sentence``: every sentence is a unit; it counts as coded when a coding with that code
  overlaps it (shares at least one character).

Statistics (per code, and overall by pooling the code x unit decisions of all codes)
- percent agreement = units on which all coders made the same decision / all units.
- Cohen's kappa (two coders) = (p_o - p_e) / (1 - p_e), with p_e from each coder's own marginal
  proportions of coded units, computed exactly from the counts; undefined (None) only when p_e is
  exactly 1.
- Krippendorff's alpha, nominal = 1 - D_o / D_e from the coincidence matrix. With binary decisions
  and every coder deciding every unit this is exactly
  alpha = 1 - (n - 1) * sum_u(n_u0 * n_u1) / ((m - 1) * n_0 * n_1), where m = number of coders,
  n = units x m pairable values, n_0 / n_1 = values "not coded" / "coded" overall and n_u0 / n_u1
  the counts in unit u. Undefined (None) when all values are the same. Checked against
  Krippendorff (2011), binary two-observer example (alpha = 0.095).
Units in which no coder coded anything are still units: they count as agreement, as in NVivo.
An undefined value comes with the reason (``Agreement.undefined``), e.g. "no variation: both
coders coded nothing".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from casestudy.coding.places import passage_link
from casestudy.errors import UserError
from casestudy.reports.constants import round_decimal

UNITS = ("character", "sentence")


@dataclass(frozen=True)
class Span:
    coder: str
    code: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One interview: its length, its sentence boundaries, and the codings to compare."""

    key: str
    length: int
    sentences: Sequence[tuple[int, int]]
    spans: Sequence[Span]
    interview_id: int | None = None


@dataclass
class Agreement:
    code: str
    units: int
    percent_agreement: float | None
    kappa: float | None
    alpha: float | None
    coded_units: dict[str, int] = field(default_factory=dict)
    #: why a value is None: {"percent_agreement" / "kappa" / "alpha": reason}
    undefined: dict[str, str] = field(default_factory=dict)


@dataclass
class Disagreement:
    document: str
    code: str
    start: int
    end: int
    coded_by: tuple[str, ...]
    not_coded_by: tuple[str, ...]
    interview_id: int | None = None
    link: str = ""  # the coding page at this passage (casestudy.coding.places)


@dataclass
class AgreementReport:
    unit: str
    coders: tuple[str, ...]
    per_code: list[Agreement]
    overall: Agreement
    disagreements: list[Disagreement]
    #: the interviews compared ({"id", "interview"}) and those left out ({"id", "interview", "reason"})
    interviews_used: list[dict] = field(default_factory=list)
    interviews_left_out: list[dict] = field(default_factory=list)
    formula: str = (
        "percent agreement = agreeing units / units; Cohen's kappa = (p_o - p_e)/(1 - p_e) (two coders); "
        "Krippendorff's alpha (nominal) = 1 - D_o/D_e"
    )


def _decisions(document: Document, unit: str, coders: Sequence[str], code: str) -> np.ndarray:
    """A coders x units 0/1 matrix for one code in one document."""
    if unit == "character":
        matrix = np.zeros((len(coders), document.length), dtype=np.int8)
        for row, coder in enumerate(coders):
            for span in document.spans:
                if span.coder == coder and span.code == code:
                    matrix[row, span.start : span.end] = 1
        return matrix
    starts = np.array([s for s, _ in document.sentences], dtype=np.int64)
    ends = np.array([e for _, e in document.sentences], dtype=np.int64)
    matrix = np.zeros((len(coders), len(starts)), dtype=np.int8)
    for row, coder in enumerate(coders):
        for span in document.spans:
            if span.coder == coder and span.code == code:
                matrix[row, (starts < span.end) & (ends > span.start)] = 1
    return matrix


def _cohen_kappa(agreeing: int, coded_a: int, coded_b: int, units: int) -> float | None:
    """(p_o - p_e) / (1 - p_e) from integer counts, exactly: with N units, p_o = agreeing / N and
    p_e = (a b + (N - a)(N - b)) / N^2, kappa = (agreeing N - E) / (N^2 - E), E = N^2 p_e.
    None only when p_e is exactly 1 (both coders coded all units, or none); a p_e of
    0.99999... (a sparse code in a long document) still has a kappa."""
    expected = coded_a * coded_b + (units - coded_a) * (units - coded_b)
    if expected == units * units:
        return None
    return float(Fraction(agreeing * units - expected, units * units - expected))


def _who(coders: Sequence[str]) -> str:
    return "both coders" if len(coders) == 2 else "all coders"


def _statistics(code: str, matrix: np.ndarray, coders: Sequence[str]) -> Agreement:
    m, units = matrix.shape
    coded = {coder: int(matrix[i].sum()) for i, coder in enumerate(coders)}
    if units == 0:
        reason = "no units: the compared interviews have no text" if code == "(all codes)" else "no units to compare"
        return Agreement(code, 0, None, None, None, coded, {"percent_agreement": reason, "kappa": reason, "alpha": reason})
    column_sums = matrix.sum(axis=0, dtype=np.int64)
    agreeing = int(np.count_nonzero((column_sums == 0) | (column_sums == m)))
    percent = agreeing / units
    kappa = None
    if m == 2:
        kappa = _cohen_kappa(agreeing, coded[coders[0]], coded[coders[1]], units)
    n = units * m
    n_1 = int(column_sums.sum())
    n_0 = n - n_1
    alpha = None
    if n_0 > 0 and n_1 > 0:
        disagreeing_pairs = float(np.sum(column_sums * (m - column_sums), dtype=np.float64))
        alpha = float(1 - (n - 1) * disagreeing_pairs / ((m - 1) * n_0 * n_1))
    undefined = {}
    no_variation = (f"no variation: {_who(coders)} coded nothing" if n_1 == 0
                    else f"only one category: {_who(coders)} coded every unit")
    if m != 2:
        undefined["kappa"] = "Cohen's kappa is for two coders; see Krippendorff's alpha"
    elif kappa is None:
        undefined["kappa"] = no_variation
    if alpha is None:
        undefined["alpha"] = no_variation
    return Agreement(code, units, percent, kappa, alpha, coded, undefined)


def _disagreements(document: Document, code: str, matrix: np.ndarray, coders: Sequence[str], unit: str) -> list[Disagreement]:
    m = matrix.shape[0]
    column_sums = matrix.sum(axis=0)
    differs = (column_sums > 0) & (column_sums < m)
    result = []
    if not differs.any():
        return result
    # Runs of units with the same pattern of decisions.
    index = np.flatnonzero(differs)
    run_start = index[0]
    previous = index[0]
    for position in list(index[1:]) + [None]:
        same_run = position is not None and position == previous + 1 and np.array_equal(matrix[:, position], matrix[:, previous])
        if same_run:
            previous = position
            continue
        pattern = matrix[:, previous]
        if unit == "character":
            start, end = int(run_start), int(previous) + 1
        else:
            start, end = int(document.sentences[run_start][0]), int(document.sentences[previous][1])
        result.append(
            Disagreement(
                document.key, code, start, end,
                tuple(c for c, v in zip(coders, pattern) if v), tuple(c for c, v in zip(coders, pattern) if not v),
                document.interview_id, "" if document.interview_id is None else passage_link(document.interview_id, start, end),
            )
        )
        if position is not None:
            run_start = previous = position
    return result


def distinct_coders(coders: Sequence[str]) -> tuple[str, ...]:
    """The coders once each, in order; fewer than two is a UserError."""
    distinct = tuple(dict.fromkeys(coders))
    if len(distinct) < 2:
        raise UserError("agreement needs at least two different coders")
    return distinct


def compute(documents: Iterable[Document], coders: Sequence[str], unit: str = "character", codes: Sequence[str] | None = None) -> AgreementReport:
    """Agreement of ``coders`` on ``documents`` per code and overall."""
    if unit not in UNITS:
        raise UserError(f"unknown unit {unit!r}; choose character or sentence")
    coders = distinct_coders(coders)
    documents = list(documents)
    if not documents:
        raise UserError("choose at least one interview coded by these coders")
    all_codes = sorted({s.code for d in documents for s in d.spans if s.coder in coders}) if codes is None else list(codes)
    per_code, disagreements, pooled = [], [], []
    for code in all_codes:
        matrices = []
        for document in documents:
            matrix = _decisions(document, unit, coders, code)
            matrices.append(matrix)
            disagreements.extend(_disagreements(document, code, matrix, coders, unit))
        combined = np.concatenate(matrices, axis=1) if matrices else np.zeros((len(coders), 0), dtype=np.int8)
        pooled.append(combined)
        per_code.append(_statistics(code, combined, coders))
    overall_matrix = np.concatenate(pooled, axis=1) if pooled else np.zeros((len(coders), 0), dtype=np.int8)
    overall = _statistics("(all codes)", overall_matrix, coders)
    return AgreementReport(unit, coders, per_code, overall, disagreements)


#: Decimals of the agreement table: percent agreement, Cohen's kappa, Krippendorff's alpha.
TABLE_DECIMALS = {"percent": 1, "kappa": 3, "alpha": 3}


UNDEFINED_NAMES = {"percent_agreement": "agreement", "kappa": "kappa", "alpha": "alpha"}


def undefined_text(a: Agreement) -> str:
    """Why the undefined values of a row are undefined, in one line ("" when all are defined)."""
    reasons: dict[str, list[str]] = {}
    for key, reason in a.undefined.items():
        reasons.setdefault(reason, []).append(UNDEFINED_NAMES.get(key, key))
    return "; ".join(f"{' and '.join(names)}: {reason}" for reason, names in reasons.items())


def agreement_table(report: AgreementReport, rounding: str = "half-up") -> tuple[list[str], list[list]]:
    """The agreement as a printable table, one row per code and the pooled '(all codes)' row:
    percent agreement in % and the coefficients rounded by the stated Decimal rule (the reports'
    :func:`~casestudy.reports.constants.round_decimal`), one number of decimals per column
    (:data:`TABLE_DECIMALS`); an undefined kappa or alpha stays empty."""
    columns = ["Code", "Units", "Agreement (%)", "Cohen's kappa", "Krippendorff's alpha", *(f"Coded by {c}" for c in report.coders), "Undefined because"]
    rows = []
    for a in [*report.per_code, report.overall]:
        # exact: the agreeing units are a whole number (the float ratio is recovered exactly)
        percent = None if a.percent_agreement is None else Fraction(100 * round(a.percent_agreement * a.units), a.units)
        rows.append([a.code, a.units, round_decimal(percent, TABLE_DECIMALS["percent"], rounding),
                     round_decimal(a.kappa, TABLE_DECIMALS["kappa"], rounding), round_decimal(a.alpha, TABLE_DECIMALS["alpha"], rounding),
                     *(a.coded_units.get(c, 0) for c in report.coders), undefined_text(a)])
    return columns, rows
