"""Agreement among the experts: Krippendorff's alpha, ICC, percent agreement, r_wg, consensus.

All formulas are implemented here with numpy/scipy.stats distributions only.

Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
units = case x item, coders = experts. For every unit with m_u >= 2 values, each ordered pair of
values (c, k) from different coders adds 1/(m_u - 1) to the coincidence matrix o_ck;
n_c = sum_k o_ck, n = sum_c n_c. alpha = 1 - (n - 1) sum o_ck d_ck / sum n_c n_k d_ck with the
squared difference d_ck: nominal [c != k]; ordinal (sum_{g=c..k} n_g - (n_c + n_k)/2)^2;
interval (c - k)^2; ratio ((c - k)/(c + k))^2.
Bootstrap CI: units resampled with replacement (B replicates, fixed seed), alpha recomputed
from the summed per-unit coincidences, percentile interval.

ICC (Shrout & Fleiss 1979) on a complete n targets x k judges matrix, from the two-way ANOVA
mean squares BMS (targets), JMS (judges), EMS (residual) and WMS (within targets):
ICC(1,1) = (BMS-WMS)/(BMS+(k-1)WMS); ICC(2,1) = (BMS-EMS)/(BMS+(k-1)EMS+k(JMS-EMS)/n);
ICC(3,1) = (BMS-EMS)/(BMS+(k-1)EMS); ICC(1,k) = (BMS-WMS)/BMS;
ICC(2,k) = ICC(A,k) = (BMS-EMS)/(BMS+(JMS-EMS)/n); ICC(3,k) = (BMS-EMS)/BMS.
Confidence intervals: F-based (Shrout & Fleiss 1979; McGraw & Wong 1996 with Satterthwaite's df
for the random-judges forms).

r_wg (James, Demaree & Wolf 1984): per cell r_wg = 1 - s^2 / sigma_EU^2 with the uniform
(rectangular) null variance sigma_EU^2 = (A^2 - 1)/12 for A scale points (A = 6 on 0-5:
35/12); s^2 is the sample variance of the experts' ratings (n - 1 denominator). Per case, over
the J statements rated by at least two experts, with q = mean(s^2) / sigma_EU^2:
r_wg(J) = J (1 - q) / (J (1 - q) + q), the Spearman-Brown form of 1 - q. Following James,
Demaree & Wolf (1984) and Lindell & Brandt (1997), when the observed (mean) variance exceeds
the null variance (q > 1) the agreement is set to 0 (for r_wg and r_wg(J) alike): otherwise
r_wg(J) can exceed 1 (two experts rating 0 and 5 on two items: 2.875) or divide by zero
(q = J/(J - 1)). Computed exactly with fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats

from casestudy.errors import UserError
from casestudy.panel.results import Rating
from casestudy.panel.scale import Scale
from casestudy.reports.constants import METRICS
from casestudy.reports.table2 import iqr


# --- Krippendorff's alpha -----------------------------------------------------------------------
def _counts(data) -> tuple[np.ndarray, np.ndarray]:
    """units x coders array (nan = missing) -> (sorted values, units x values count matrix)."""
    X = np.asarray(data, dtype=float)
    if X.ndim != 2:
        raise UserError("reliability data must be a units x coders table")
    present = ~np.isnan(X)
    values = np.unique(X[present])
    counts = np.zeros((X.shape[0], len(values)))
    for v_index, value in enumerate(values):
        counts[:, v_index] = (X == value).sum(axis=1)
    return values, counts


def _unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """units x V x V: each pairable unit's contribution to the coincidence matrix."""
    m = counts.sum(axis=1)
    weight = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    outer = counts[:, :, None] * counts[:, None, :]
    diag = np.zeros_like(outer)
    idx = np.arange(counts.shape[1])
    diag[:, idx, idx] = counts
    return (outer - diag) * weight[:, None, None]


def _delta(values: np.ndarray, n_c: np.ndarray, metric: str) -> np.ndarray:
    c = values[:, None]
    k = values[None, :]
    if metric == "nominal":
        return (c != k).astype(float)
    if metric == "interval":
        return (c - k) ** 2
    if metric == "ratio":
        total = c + k
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(total == 0, 0.0, ((c - k) / np.where(total == 0, 1, total)) ** 2)
        return d
    if metric == "ordinal":
        cum = np.cumsum(n_c)
        i = np.arange(len(values))
        lo = np.minimum(i[:, None], i[None, :])
        hi = np.maximum(i[:, None], i[None, :])
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0)
        return (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    raise UserError(f"unknown metric {metric!r}; use {', '.join(METRICS)}")


def _alpha_from(o: np.ndarray, values: np.ndarray, metric: str) -> float:
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    d = _delta(values, n_c, metric)
    observed = (o * d).sum()
    expected = (np.outer(n_c, n_c) * d).sum()
    if expected == 0:
        return float("nan")
    return float(1 - (n - 1) * observed / expected)


def krippendorff_alpha(data, metric: str = "interval") -> float:
    """Alpha for a units x coders array (np.nan = missing value)."""
    values, counts = _counts(data)
    o = _unit_coincidences(counts).sum(axis=0)
    return _alpha_from(o, values, metric)


@dataclass
class AlphaResult:
    metric: str
    alpha: float
    ci_low: float | None
    ci_high: float | None
    replicates: int
    seed: int
    units: int


def alpha_bootstrap(data, metric: str = "interval", replicates: int = 1000, seed: int = 20260101, level: float = 0.95) -> AlphaResult:
    """Alpha with a percentile bootstrap CI over units (resampled with replacement; fixed seed)."""
    values, counts = _counts(data)
    per_unit = _unit_coincidences(counts)
    pairable = counts.sum(axis=1) >= 2
    per_unit = per_unit[pairable]
    alpha = _alpha_from(per_unit.sum(axis=0), values, metric)
    units = per_unit.shape[0]
    low = high = None
    if replicates and units >= 2:
        rng = np.random.default_rng(seed)
        flat = per_unit.reshape(units, -1)
        alphas = np.empty(replicates)
        chunk = 200
        for start in range(0, replicates, chunk):
            size = min(chunk, replicates - start)
            draws = rng.integers(0, units, size=(size, units))
            weights = np.zeros((size, units))
            np.add.at(weights, (np.repeat(np.arange(size), units), draws.ravel()), 1.0)
            matrices = (weights @ flat).reshape(size, len(values), len(values))
            for i in range(size):
                alphas[start + i] = _alpha_from(matrices[i], values, metric)
        alphas = alphas[~np.isnan(alphas)]
        if len(alphas):
            tail = (1 - level) / 2 * 100
            low, high = (float(x) for x in np.percentile(alphas, [tail, 100 - tail]))
    return AlphaResult(metric, alpha, low, high, replicates, seed, units)


def ratings_matrix(ratings: Sequence[Rating]) -> tuple[np.ndarray, list[tuple[str, str]], list[str]]:
    """units (case x item, in order of appearance) x experts; nan where missing."""
    units = list(dict.fromkeys((r.case, r.item) for r in ratings))
    experts = list(dict.fromkeys(r.expert for r in ratings))
    u_index = {u: i for i, u in enumerate(units)}
    e_index = {e: i for i, e in enumerate(experts)}
    X = np.full((len(units), len(experts)), np.nan)
    for r in ratings:
        if r.score is not None:
            X[u_index[(r.case, r.item)], e_index[r.expert]] = r.score
    return X, units, experts


# --- ICC -----------------------------------------------------------------------------------------
@dataclass
class ICCResult:
    form: str  # e.g. "ICC(2,k)"
    label: str
    value: float
    f: float
    df1: float
    df2: float
    p: float
    ci_low: float
    ci_high: float


ICC_LABELS = {
    "ICC(1,1)": "one-way random, single rater",
    "ICC(2,1)": "two-way random, absolute agreement, single rater (ICC(A,1))",
    "ICC(3,1)": "two-way mixed, consistency, single rater (ICC(C,1))",
    "ICC(1,k)": "one-way random, mean of k raters",
    "ICC(2,k)": "two-way random, absolute agreement, mean of k raters (ICC(A,k))",
    "ICC(3,k)": "two-way mixed, consistency, mean of k raters (ICC(C,k))",
}


def icc(data, level: float = 0.95) -> dict[str, ICCResult]:
    """All six Shrout-Fleiss ICCs of a complete targets x judges matrix, with F-based CIs."""
    Y = np.asarray(data, dtype=float)
    if Y.ndim != 2 or np.isnan(Y).any():
        raise UserError("the ICC needs a complete targets x judges table (no missing ratings)")
    n, k = Y.shape
    if n < 2 or k < 2:
        raise UserError("the ICC needs at least two targets and two judges")
    grand = Y.mean()
    ss_total = ((Y - grand) ** 2).sum()
    ss_rows = k * ((Y.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((Y.mean(axis=0) - grand) ** 2).sum()
    ss_err = ss_total - ss_rows - ss_cols
    bms = ss_rows / (n - 1)
    wms = (ss_cols + ss_err) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = ss_err / ((n - 1) * (k - 1))
    q = 1 - (1 - level) / 2
    out: dict[str, ICCResult] = {}

    # one-way
    f1 = bms / wms
    df1, df2 = n - 1, n * (k - 1)
    fl, fu = f1 / stats.f.ppf(q, df1, df2), f1 * stats.f.ppf(q, df2, df1)
    p1 = float(stats.f.sf(f1, df1, df2))
    out["ICC(1,1)"] = ICCResult("ICC(1,1)", ICC_LABELS["ICC(1,1)"], (bms - wms) / (bms + (k - 1) * wms), f1, df1, df2, p1,
                                (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1))
    out["ICC(1,k)"] = ICCResult("ICC(1,k)", ICC_LABELS["ICC(1,k)"], (bms - wms) / bms, f1, df1, df2, p1, 1 - 1 / fl, 1 - 1 / fu)

    # two-way, consistency (fixed judges)
    f3 = bms / ems
    df1, df2 = n - 1, (n - 1) * (k - 1)
    fl, fu = f3 / stats.f.ppf(q, df1, df2), f3 * stats.f.ppf(q, df2, df1)
    p3 = float(stats.f.sf(f3, df1, df2))
    out["ICC(3,1)"] = ICCResult("ICC(3,1)", ICC_LABELS["ICC(3,1)"], (bms - ems) / (bms + (k - 1) * ems), f3, df1, df2, p3,
                                (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1))
    out["ICC(3,k)"] = ICCResult("ICC(3,k)", ICC_LABELS["ICC(3,k)"], (bms - ems) / bms, f3, df1, df2, p3, 1 - 1 / fl, 1 - 1 / fu)

    # two-way random, absolute agreement (McGraw & Wong 1996, Satterthwaite df)
    icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    fj = jms / ems
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f_star = stats.f.ppf(q, n - 1, v)
    f_star2 = stats.f.ppf(q, v, n - 1)
    low1 = n * (bms - f_star * ems) / (f_star * (k * jms + (k * n - k - n) * ems) + n * bms)
    high1 = n * (f_star2 * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f_star2 * bms)
    out["ICC(2,1)"] = ICCResult("ICC(2,1)", ICC_LABELS["ICC(2,1)"], icc2, f3, n - 1, (n - 1) * (k - 1), p3, low1, high1)
    out["ICC(2,k)"] = ICCResult(
        "ICC(2,k)", ICC_LABELS["ICC(2,k)"], (bms - ems) / (bms + (jms - ems) / n), f3, n - 1, (n - 1) * (k - 1), p3,
        low1 * k / (1 + low1 * (k - 1)), high1 * k / (1 + high1 * (k - 1)),
    )
    order = ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]
    return {name: out[name] for name in order}


# --- agreement per case ------------------------------------------------------------------------
def uniform_null_variance(scale: Scale) -> Fraction:
    """sigma_EU^2 = (A^2 - 1) / 12 for the A points of the scale (exact)."""
    return Fraction(scale.points ** 2 - 1, 12)


def _sample_variance(xs: Sequence[int]) -> Fraction:
    """s^2 with the n - 1 denominator, exact: (n sum x^2 - (sum x)^2) / (n (n - 1))."""
    n, total = len(xs), sum(xs)
    return Fraction(n * sum(x * x for x in xs) - total * total, n * (n - 1))


def rwg(scores: Sequence[int], scale: Scale) -> float | None:
    """r_wg = 1 - s^2 / sigma_EU^2, 0 when s^2 exceeds sigma_EU^2; None for fewer than two ratings."""
    xs = [s for s in scores if s is not None]
    if len(xs) < 2:
        return None
    q = _sample_variance(xs) / uniform_null_variance(scale)
    return 0.0 if q > 1 else float(1 - q)


def rwg_j(score_lists: Sequence[Sequence[int]], scale: Scale) -> float | None:
    """r_wg(J) over the statements with at least two ratings (module doc); 0 when the mean
    variance exceeds sigma_EU^2; None when no statement has two ratings."""
    variances = [_sample_variance(xs) for xs in ([s for s in lst if s is not None] for lst in score_lists) if len(xs) >= 2]
    if not variances:
        return None
    j = len(variances)
    q = sum(variances) / j / uniform_null_variance(scale)
    if q > 1:
        return 0.0
    return float(j * (1 - q) / (j * (1 - q) + q))


RWG_NOTE = ("r_wg = 1 - s^2/sigma_EU^2 and r_wg(J) = J(1 - q)/(J(1 - q) + q), q = mean s^2/sigma_EU^2 over the J statements "
            "(James, Demaree & Wolf 1984); s^2 = sample variance (n - 1); sigma_EU^2 = (A^2 - 1)/12, the uniform null "
            "for A scale points; set to 0 when the observed variance exceeds sigma_EU^2 (Lindell & Brandt)")


def top_agreement(scores: Sequence[int], top: Sequence[int]) -> Fraction | None:
    """Percent of the ratings among the ``top`` points, exact (5 of 16 -> 125/4 = 31.25)."""
    xs = [s for s in scores if s is not None]
    if not xs:
        return None
    return Fraction(100 * sum(1 for s in xs if s in set(top)), len(xs))


@dataclass
class ReliabilityReport:
    alphas: list[AlphaResult]
    icc: dict[str, ICCResult] | None
    icc_note: str
    per_cell: list[dict]  # percentages and IQRs exact (Fraction); as_json gives floats
    per_case: list[dict]
    consensus_rule: str

    def as_json(self) -> dict:
        from dataclasses import asdict

        return {
            "alpha": [asdict(a) for a in self.alphas],
            "icc": None if self.icc is None else [asdict(v) for v in self.icc.values()],
            "icc_note": self.icc_note,
            "cells": [{k: float(v) if isinstance(v, Fraction) else v for k, v in c.items()} for c in self.per_cell],
            "cases": self.per_case,
            "consensus_rule": self.consensus_rule,
        }


def reliability(
    ratings: Sequence[Rating],
    scale: Scale,
    metrics: Sequence[str] = ("ordinal", "interval"),
    replicates: int = 1000,
    seed: int = 20260101,
    top: int = 2,
    iqr_threshold=1,
    quartile_method: str = "linear",
) -> ReliabilityReport:
    """Everything on agreement for a panel's ratings (units = case x statement, raters = experts)."""
    if not ratings:
        raise UserError("no ratings")
    X, units, experts = ratings_matrix(ratings)
    alphas = [alpha_bootstrap(X, m, replicates, seed) for m in metrics]
    complete_experts = ~np.isnan(X).any(axis=0)
    icc_result, note = None, ""
    Y = X[:, complete_experts]
    if Y.shape[1] >= 2 and Y.shape[0] >= 2:
        icc_result = icc(Y)
        note = (f"ICC over {Y.shape[0]} case x statement targets and the {Y.shape[1]} experts with complete ratings"
                + (f" ({len(experts) - Y.shape[1]} experts with missing ratings left out)" if Y.shape[1] < len(experts) else ""))
    else:
        note = "ICC not computed: fewer than two experts rated every case and statement"
    top_points = list(range(scale.max - top + 1, scale.max + 1))
    per_cell = []
    by_case: dict[str, list[list[int]]] = {}
    for (case, item), row in zip(units, X):
        xs = [int(v) for v in row if not np.isnan(v)]
        by_case.setdefault(case, []).append(xs)
        value = iqr(xs, quartile_method) if xs else None
        per_cell.append({
            "case": case, "item": item, "n": len(xs),
            "top_agreement_percent": top_agreement(xs, top_points),
            "rwg": rwg(xs, scale),
            "iqr": value,
            "consensus": value is not None and value <= Fraction(iqr_threshold),
        })
    per_case = [{"case": case, "rwg_j": rwg_j(lists, scale), "statements": len(lists)} for case, lists in by_case.items()]
    from casestudy.reports.table2 import QUARTILE_METHODS

    rule = (f"consensus when IQR <= {iqr_threshold} (quartiles by {QUARTILE_METHODS[quartile_method][0]}); "
            f"top agreement = % of ratings in {', '.join(map(str, top_points))}; {RWG_NOTE}: "
            f"sigma_EU^2 = {uniform_null_variance(scale)} = {float(uniform_null_variance(scale)):.4g} for A = {scale.points} points")
    return ReliabilityReport(alphas, icc_result, note, per_cell, per_case, rule)
