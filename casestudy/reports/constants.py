"""Report vocabulary that the command line needs before any report module is loaded.

Only the standard library is imported here (no numpy, SciPy, plotly, python-docx, openpyxl), so
``casestudy --help`` stays light. The report modules re-export these names: ``table2.ROUNDINGS``,
``render.EXPORT_FORMATS``, ``plots.FIGURE_FORMATS``, ``reliability.METRICS`` are the ones below.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP
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

# Figure formats of the plots.
FIGURE_FORMATS = ("html", "png", "svg")

# Krippendorff's alpha metrics.
METRICS = ("nominal", "ordinal", "interval", "ratio")
