"""Reliability against published reference values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from casestudy.reports import reliability as rel
from casestudy.errors import UserError
from casestudy.panel.scale import PANEL_SCALE, Scale
from casestudy.panel.results import Rating
from casestudy.reports.inputs import load_ratings

n = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units.
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],  # observer B
    [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],  # observer D
]).T
# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


@pytest.mark.parametrize("metric, expected", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_example(metric, expected):
    assert round(rel.krippendorff_alpha(KRIPPENDORFF_2011, metric), 3) == expected


def test_alpha_nominal_exact_and_perfect_agreement():
    # nominal alpha of the example is 1 - 4/(64/9 * ...) : check against its exact value 0.7434...
    assert rel.krippendorff_alpha(KRIPPENDORFF_2011, "nominal") == pytest.approx(0.743421, abs=1e-6)
    perfect = np.array([[1, 1], [2, 2], [3, 3]])
    assert rel.krippendorff_alpha(perfect, "interval") == 1.0


def test_bootstrap_is_reproducible_and_brackets_alpha():
    a = rel.alpha_bootstrap(KRIPPENDORFF_2011, "ordinal", replicates=500, seed=7)
    b = rel.alpha_bootstrap(KRIPPENDORFF_2011, "ordinal", replicates=500, seed=7)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low <= a.alpha <= a.ci_high and a.units == 11  # unit 12 has one value: not pairable
    assert round(a.alpha, 3) == 0.815


def test_shrout_fleiss_1979_all_six_iccs():
    result = rel.icc(SHROUT_FLEISS)
    values = {k: round(v.value, 2) for k, v in result.items()}
    assert values == {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71, "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}
    # F-based intervals as printed by R psych::ICC for the same data
    cis = {k: (round(v.ci_low, 2), round(v.ci_high, 2)) for k, v in result.items()}
    assert cis == {"ICC(1,1)": (-0.13, 0.72), "ICC(2,1)": (0.02, 0.76), "ICC(3,1)": (0.34, 0.95),
                   "ICC(1,k)": (-0.88, 0.91), "ICC(2,k)": (0.07, 0.93), "ICC(3,k)": (0.68, 0.99)}
    assert round(result["ICC(3,1)"].f, 1) == 11.0 and result["ICC(1,1)"].df2 == 18


def test_icc_needs_complete_data():
    with pytest.raises(UserError, match="complete"):
        rel.icc([[1, n], [2, 3]])


def test_rwg_uniform_null():
    assert rel.uniform_null_variance(Scale(1, 5)) == 2.0
    assert rel.uniform_null_variance(PANEL_SCALE) == pytest.approx(35 / 12)
    assert rel.rwg([4, 4, 4], Scale(1, 5)) == 1.0
    assert rel.rwg([3, 4, 5], Scale(1, 5)) == pytest.approx(1 - 1 / 2)
    # r_wg(J) for J = 2 items, mean variance 1, sigma^2 = 2: 2*0.5 / (2*0.5 + 0.5)
    assert rel.rwg_j([[3, 4, 5], [3, 4, 5]], Scale(1, 5)) == pytest.approx(2 / 3)


def test_reliability_report_on_reference_ratings():
    ratings = load_ratings(Path(__file__).resolve().parents[2] / "examples" / "reference-ratings.csv")
    rep = rel.reliability(ratings, PANEL_SCALE, replicates=200, seed=1)
    assert [a.metric for a in rep.alphas] == ["ordinal", "interval"]
    assert rep.icc is not None and set(rep.icc) >= {"ICC(2,k)"}
    assert len(rep.per_cell) == 28 and len(rep.per_case) == 7
    cell = next(c for c in rep.per_cell if c["case"] == "A" and c["item"].startswith("Success"))
    assert cell["top_agreement_percent"] == 100.0  # all 12 ratings are 4 or 5
    assert "Hyndman-Fan type 7" in rep.consensus_rule and "(A^2 - 1)/12" in rep.consensus_rule


def test_icc_left_out_when_experts_incomplete():
    ratings = [Rating("e1", "A", "x", 1), Rating("e2", "A", "x", None), Rating("e1", "B", "x", 2), Rating("e2", "B", "x", 2)]
    rep = rel.reliability(ratings, PANEL_SCALE, replicates=0)
    assert rep.icc is None and "not computed" in rep.icc_note
