"""Agreement between raters of an audit or of a focus group's first round.

The units are what each rater scored (an audit's items; a focus group's item x period cells),
the raters the columns. Reported, with the reports' one implementation of each statistic
(:mod:`casestudy.reports.reliability`): Krippendorff's alpha (ordinal and interval; missing
scores allowed), the six Shrout-Fleiss ICCs on the units every rater scored (at least two units
and two raters, else left out with a reason), and the share of units on which all raters give
the same score ("exact") or scores at most one point apart ("within one").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from casestudy.reports import reliability


def _value(x: float | None):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def agreement(cells: Sequence[tuple[str, str, int | None]]) -> dict:
    """Agreement of ``(unit, rater, score)`` triples (``score`` None = not scored).

    Returns ``raters``, ``units`` (scored by anyone), ``complete_units`` (scored by every
    rater), ``alpha_ordinal``, ``alpha_interval``, ``icc`` (form -> value, CI), ``exact`` and
    ``within_one`` (shares of the units scored by at least two raters), and ``notes``
    explaining what could not be computed. Numbers are unrounded."""
    units = list(dict.fromkeys(u for u, _, s in cells if s is not None))
    raters = list(dict.fromkeys(r for _, r, s in cells if s is not None))
    result: dict = {"raters": raters, "units": len(units), "complete_units": 0, "alpha_ordinal": None,
                    "alpha_interval": None, "icc": {}, "exact": None, "within_one": None, "notes": []}
    if len(raters) < 2:
        result["notes"].append("agreement needs at least two raters")
        return result
    u_index, r_index = {u: i for i, u in enumerate(units)}, {r: i for i, r in enumerate(raters)}
    matrix = np.full((len(units), len(raters)), np.nan)
    for unit, rater, score in cells:
        if score is not None:
            matrix[u_index[unit], r_index[rater]] = score
    shared = [row[~np.isnan(row)] for row in matrix if (~np.isnan(row)).sum() >= 2]
    if not shared:
        result["notes"].append("no unit was scored by two raters")
        return result
    result["exact"] = sum(1 for row in shared if row.max() == row.min()) / len(shared)
    result["within_one"] = sum(1 for row in shared if row.max() - row.min() <= 1) / len(shared)
    result["alpha_ordinal"] = _value(reliability.krippendorff_alpha(matrix, "ordinal"))
    result["alpha_interval"] = _value(reliability.krippendorff_alpha(matrix, "interval"))
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    result["complete_units"] = int(complete.shape[0])
    if complete.shape[0] >= 2 and np.ptp(complete) > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            for form, r in reliability.icc(complete).items():
                result["icc"][form] = {"value": _value(r.value), "ci_low": _value(r.ci_low), "ci_high": _value(r.ci_high),
                                       "label": r.label}
    else:
        result["notes"].append("the ICC needs at least two units scored by every rater, with some variation")
    return result


def audit_agreement(summary: dict) -> dict:
    """Agreement of the raters of an audit summary (:func:`casestudy.panel.audits.audit_summary`)."""
    return agreement([(item["key"], rater, score) for item in summary["items"] for rater, score in item["scores"].items()])
