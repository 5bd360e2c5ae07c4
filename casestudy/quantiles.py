"""Sample quantiles by a NAMED method, computed exactly: the one definition of a quartile that
Table 2, its consensus rule and the Delphi feedback of the expert panel all use.

Quartile methods (Hyndman & Fan 1996 types; x_(j) the j-th order statistic, h = n p + m), named
as numpy's ``method=`` and pandas' ``interpolation=`` call them (listed in
:data:`QUARTILE_METHODS`):

* ``linear``  (HF 7, pandas/numpy default): m = 1 - p
* ``weibull`` (HF 6, "(n+1)p", SPSS/Minitab): m = p
* ``hazen``   (HF 5): m = 1/2
* ``median_unbiased`` (HF 8): m = (p + 1)/3
* ``normal_unbiased`` (HF 9): m = p/4 + 3/8

Q(p) = x_(j) + g (x_(j+1) - x_(j)) with j = floor(h), g = h - j, clamped to [x_(1), x_(n)].
Example: [3,3,3,4,4,4,4,4,4,5,5,5] has IQR 0.5 (linear) and 1.5 (weibull).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from casestudy.errors import UserError
from casestudy.reports.constants import QUARTILE_METHODS  # noqa: F401  (re-exported)


def check_method(method: str) -> str:
    """``method`` if it is a known quartile method, else a UserError naming the known ones."""
    if method not in QUARTILE_METHODS:
        raise UserError(f"unknown quartile method {method!r}; choose from {', '.join(QUARTILE_METHODS)}")
    return method


def method_text(method: str) -> str:
    """How a note names the method, e.g. 'Hyndman-Fan type 7 (linear interpolation; pandas/numpy default)'."""
    return QUARTILE_METHODS[check_method(method)][0]


def quantile(values: Sequence, p, method: str = "linear", presorted: bool = False) -> Fraction:
    """Exact sample quantile of ``values`` at probability ``p`` by a named method (see module doc)."""
    check_method(method)
    xs = values if presorted else sorted(values)
    if not len(xs):
        raise UserError("no values for a quantile")
    n = len(xs)
    p = Fraction(p)
    h = n * p + QUARTILE_METHODS[method][1](p)
    j = math.floor(h)
    g = h - j
    if j < 1:
        return Fraction(xs[0])
    if j >= n:
        return Fraction(xs[-1])
    low = Fraction(xs[j - 1])
    return low + g * (Fraction(xs[j]) - low)


def iqr(values: Sequence, method: str = "linear") -> Fraction:
    """Interquartile range Q(3/4) - Q(1/4) by the named method."""
    return quantile(values, Fraction(3, 4), method) - quantile(values, Fraction(1, 4), method)
