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


def test_rwg_j_hand_computed_and_truncated_at_zero():
    """James, Demaree & Wolf (1984) with the Lindell & Brandt convention, by hand on a 1-5 scale
    (A = 5, sigma_EU^2 = (25 - 1)/12 = 2)."""
    five = Scale(1, 5)
    # item 1: 2, 3, 4 -> mean 3, s^2 = (1 + 0 + 1)/(3 - 1) = 1; item 2: 3, 3, 4, 4 -> mean 3.5,
    # s^2 = 4 x 0.25 / 3 = 1/3; mean s^2 = (1 + 1/3)/2 = 2/3, q = (2/3)/2 = 1/3;
    # r_wg(J) = 2 (1 - 1/3) / (2 (1 - 1/3) + 1/3) = (4/3) / (5/3) = 0.8
    assert rel.rwg_j([[2, 3, 4], [3, 3, 4, 4]], five) == pytest.approx(0.8, abs=1e-15)
    # r_wg(J) is the Spearman-Brown step-up of 1 - q: J r / (1 + (J - 1) r) with r = 2/3, J = 2 -> 0.8
    assert rel.rwg_j([[2, 3, 4], [3, 3, 4, 4]], five) == pytest.approx(2 * (2 / 3) / (1 + 2 / 3))
    assert rel.rwg([3, 3, 4, 4], five) == pytest.approx(1 - (1 / 3) / 2)  # 5/6
    # two experts rating 0 and 5 on two items (0-5, sigma_EU^2 = 35/12): s^2 = 12.5 > 35/12 -> 0
    # (without truncation 2 (1 - 30/7) / (2 (1 - 30/7) + 30/7) = 2.875)
    assert rel.rwg_j([[0, 5], [0, 5]], PANEL_SCALE) == 0.0
    assert rel.rwg([0, 5], PANEL_SCALE) == 0.0
    # s1 = {0, 4}: s^2 = 8; s2 = {0, 0, 2, 4}: mean 1.5, s^2 = (2.25 + 2.25 + 0.25 + 6.25)/3 = 11/3;
    # mean s^2 = 35/6, q = (35/6)/(35/12) = 2 = J/(J - 1): the untruncated formula divides by zero
    assert rel.rwg_j([[0, 4], [0, 0, 2, 4]], PANEL_SCALE) == 0.0
    # exactly at the null variance ({1, 3} and {2, 4}: s^2 = 2 = sigma_EU^2, q = 1): 0 by the formula itself
    assert rel.rwg_j([[1, 3], [2, 4]], five) == 0.0 and rel.rwg([1, 3], five) == 0.0
    # one rating is no agreement to measure
    assert rel.rwg([4], five) is None and rel.rwg_j([[4], []], five) is None


def test_reliability_tables_round_half_up_and_state_rwg_rule():
    from decimal import Decimal

    from casestudy.reports import render

    # 16 experts, 5 of them rate in the top two points: 5/16 = 31.25 % prints 31.3 (round() gave 31.2)
    scores = [5, 4, 5, 4, 5] + [1] * 11
    ratings = [Rating(f"e{i}", "A", "x", s) for i, s in enumerate(scores)] + [Rating(f"e{i}", "B", "x", 3) for i in range(16)]
    rep = rel.reliability(ratings, PANEL_SCALE, replicates=0)
    tables = {t.sheet: t for t in render.reliability_tables(rep)}
    row = tables["Agreement"].rows[0]
    assert row[3] == Decimal("31.3")
    assert row[4] == Decimal("0.000")  # s^2 = 3.796 > 35/12: set to 0
    assert tables["Agreement"].rows[1][4] == Decimal("1.000")
    for table in tables.values():
        for column in range(len(table.columns)):
            places = {-v.as_tuple().exponent for r in table.rows if isinstance(v := r[column], Decimal)}
            assert len(places) <= 1, (table.title, table.columns[column], places)
    working = tables["Agreement (working)"]
    assert working.working and working.rows[0][3] == 31.25  # the unrounded value, on its own sheet
    note = tables["rwg(J)"].notes[0]
    assert "(A^2 - 1)/12" in note and "n - 1" in note and "set to 0 when the observed variance exceeds" in note
    assert "half up" in note


def test_icc_table_prints_shrout_fleiss_half_up_with_whole_degrees_of_freedom():
    from decimal import Decimal

    from casestudy.reports import render

    ratings = [Rating(f"j{j}", "A", f"t{t}", score) for t, row in enumerate(SHROUT_FLEISS) for j, score in enumerate(row)]
    rep = rel.reliability(ratings, Scale(1, 10), replicates=0)
    icc = next(t for t in render.reliability_tables(rep) if t.sheet == "ICC")
    by_form = {row[0]: row for row in icc.rows}
    # Shrout & Fleiss (1979) Table 4: .17, .29, .71, .44, .62, .91
    assert [by_form[f][2] for f in ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")] == [
        Decimal("0.166"), Decimal("0.290"), Decimal("0.715"), Decimal("0.443"), Decimal("0.620"), Decimal("0.909")]
    assert by_form["ICC(1,1)"][4:6] == [5, 18] and by_form["ICC(3,1)"][4:6] == [5, 15]
