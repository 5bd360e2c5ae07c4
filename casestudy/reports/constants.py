"""Report vocabulary that the command line needs before any report module is loaded.

Only the standard library is imported here (no numpy, SciPy, plotly, python-docx, openpyxl), so
``casestudy --help`` stays light. :func:`round_decimal` (standard library only) is the one Decimal
rounding of every table, also the coding stage's. The report modules re-export these names: ``table2.ROUNDINGS``,
``render.EXPORT_FORMATS``, ``plots.FIGURE_FORMATS``, ``reliability.METRICS`` are the ones below.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

# Table 2: quartile methods (description, the Hyndman-Fan offset m(p)), roundings, averages.
QUARTILE_METHODS = {
    "linear": ("Hyndman-Fan type 7 (linear interpolation; pandas/numpy default)", lambda p: 1 - p),
    "weibull": ("Hyndman-Fan type 6 (Weibull, (n+1)p; SPSS)", lambda p: p),
    "hazen": ("Hyndman-Fan type 5 (Hazen, np + 1/2)", lambda p: Fraction(1, 2)),
    "median_unbiased": ("Hyndman-Fan type 8 (median-unbiased)", lambda p: (p + 1) / 3),
    "normal_unbiased": ("Hyndman-Fan type 9 (normal-unbiased)", lambda p: p / 4 + Fraction(3, 8)),
}
ROUNDINGS = {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN}
AVERAGES = {
    "mean_of_case_means": "the mean of the case means (each case weighs the same)",
    "pooled_mean": "the pooled mean of all ratings of the statement (each rating weighs the same)",
}

# Table 4: how a split consensus score "a/b" (b = a + 1) counts in means and ranges.
SPLIT_RULES = {
    "midpoint": "the midpoint of the two points (2/3 counts as 2.5)",
    "lower": "the lower of the two points (2/3 counts as 2)",
    "upper": "the upper of the two points (2/3 counts as 3)",
}

# Report export formats: text, binary, and all (with JSON).
TEXT_FORMATS = ("csv", "md", "tex")
BINARY_FORMATS = ("xlsx", "docx")
EXPORT_FORMATS = ("json", *TEXT_FORMATS, *BINARY_FORMATS)

# Statistical-package files (reports.statpackages) and the data sets they hold.
STAT_FORMATS = ("sav", "dta")
STAT_DATASETS = ("ratings-long", "ratings-wide", "case-code-matrix", "segments")

# Figure formats of the plots.
FIGURE_FORMATS = ("html", "png", "svg")

# Krippendorff's alpha metrics.
METRICS = ("nominal", "ordinal", "interval", "ratio")


def round_decimal(value, places: int = 1, rounding: str = "half-up") -> Decimal | None:
    """Round an exact value (Fraction, int, Decimal or float via its exact binary value) to
    ``places`` decimals by the named rule; the one rounding of every report and agreement table
    (here, import-free, so that the coding stage's agreement table uses it too).

    ``half-up`` rounds a tie away from zero, symmetrically for negative values (2.25 -> 2.3,
    -2.25 -> -2.3; -2.5 -> -3 at whole numbers); ``half-even`` to the even digit (-2.5 -> -2).
    A result of zero is always unsigned (-0.04 -> 0.0, never -0.0). None stays None.
    """
    if value is None:
        return None
    if rounding not in ROUNDINGS:
        # every entry point (table2(), the CLI's choices, the pages) refuses an unknown rule
        # with a UserError first; this module may import nothing of Casestudy.
        raise ValueError(f"unknown rounding {rounding!r}; use half-up or half-even")
    if not isinstance(value, Fraction):
        value = Fraction(value)
    quantum = Decimal(1).scaleb(-places)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        # 60 significant digits: any fraction of ratings whose decimal tail matters is exact enough;
        # an exact tie (…5 followed by zeros) is exactly representable for denominators 2^a 5^b.
        result = exact.quantize(quantum, rounding=ROUNDINGS[rounding])
    return result.copy_abs() if result.is_zero() else result

# Reporting checklists (shipped as reports/checklists/<name>.yaml) and their export formats.
CHECKLISTS = ("coreq", "srqr")
CHECKLIST_FORMATS = ("json", "md", "docx")
