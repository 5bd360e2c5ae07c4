"""Table 2 aggregation: exact statistics, named quartiles, stated rounding, the reference study."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from casestudy.reports import table2 as ag
from casestudy.errors import UserError
from casestudy.panel.scale import PANEL_SCALE, Scale
from casestudy.panel.results import Rating
from casestudy.reports.inputs import load_ratings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Table 2 as published (mean (range)); the '4,5' decimal comma of the original written as 4.5.
PUBLISHED = {
    "Success depends on a combination of organization, team and therapist factors":
        ["4.8 (4-5)", "4.4 (4-5)", "4.8 (4-5)", "4.6 (3-5)", "4.2 (3-5)", "4.4 (3-5)", "4.1 (3-5)"],
    "Organizational factors contributed": ["4.8 (4-5)", "3.8 (3-5)", "4.1 (3-5)", "4.1 (3-5)", "3.9 (3-5)", "4.4 (3-5)", "3.6 (2-5)"],
    "Team factors contributed": ["3.9 (3-5)", "4.5 (4-5)", "4.4 (3-5)", "3.8 (3-5)", "4.9 (4-5)", "4.0 (3-5)", "3.8 (3-5)"],
    "Therapist factors contributed": ["2.4 (1-4)", "3.8 (3-4)", "3.3 (3-4)", "3.1 (2-4)", "3.8 (3-4)", "3.9 (3-4)", "3.8 (3-4)"],
}


def reference_table(**kwargs) -> ag.Table2:
    return ag.table2(load_ratings(EXAMPLES / "reference-ratings.csv"), PANEL_SCALE, **kwargs)


def test_reference_ratings_reproduce_every_published_cell():
    t = reference_table()
    assert t.cases == list("ABCDEFG")
    assert list(t.items) == list(PUBLISHED)
    assert t.experts == 12
    for item, cells in PUBLISHED.items():
        assert [t.formatted_cell(item, c) for c in t.cases] == cells
        assert all(t.cell(item, c).n == 12 for c in t.cases)
    columns, rows = t.grid()
    assert columns[-1] == "Average"
    # mean of case means: the three published one-decimal averages; the first row is 4.45 (published 4.49, an error)
    assert [r[-1] for r in rows] == ["4.5", "4.1", "4.2", "3.4"]
    first = t.averages[0]
    assert first.mean_of_case_means == Fraction(374, 84) and first.pooled_mean == Fraction(374, 84)


def test_quartile_methods_named_example():
    xs = [3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5]
    assert ag.iqr(xs, "linear") == Fraction(1, 2)
    assert ag.iqr(xs, "weibull") == Fraction(3, 2)
    for method, numpy_name in [("linear", "linear"), ("weibull", "weibull"), ("hazen", "hazen"),
                               ("median_unbiased", "median_unbiased"), ("normal_unbiased", "normal_unbiased")]:
        for p in (0.1, 0.25, 0.5, 0.75, 0.9):
            data = [1, 2, 2, 3, 5, 8, 13]
            assert float(ag.quantile(data, Fraction(p).limit_denominator(100), method)) == pytest.approx(np.quantile(data, p, method=numpy_name))
    with pytest.raises(UserError, match="unknown quartile method"):
        ag.quantile(xs, Fraction(1, 4), "guess")


def test_describe_exact_values():
    c = ag.describe([4, 5, 5, 3])
    assert (c.n, c.mean, c.median, c.min, c.max) == (4, Fraction(17, 4), Fraction(9, 2), 3, 5)
    assert c.sd == pytest.approx(np.std([4, 5, 5, 3], ddof=1))
    assert ag.describe([]).mean is None


def test_rounding_is_decimal_and_stated():
    assert ag.round_decimal(Fraction(13, 4), 1, "half-up") == Decimal("3.3")
    assert ag.round_decimal(Fraction(13, 4), 1, "half-even") == Decimal("3.2")
    assert ag.round_decimal(2.675, 2, "half-up") == Decimal("2.67")  # the binary value of 2.675 is below the tie
    assert ag.round_decimal(Fraction(2675, 1000), 2, "half-up") == Decimal("2.68")
    t_up, t_even = reference_table(), reference_table(rounding="half-even")
    item = "Therapist factors contributed"
    assert t_up.formatted_cell(item, "C") == "3.3 (3-4)"
    assert t_even.formatted_cell(item, "C") == "3.2 (3-4)"
    assert any("rounding tie" in w and "case C" in w for w in t_up.warnings)
    assert "rounded half up" in t_up.note() and "rounded half even" in t_even.note()


def test_pooled_mean_differs_when_n_differs():
    ratings = [Rating("e1", "A", "x", 5), Rating("e2", "A", "x", 5), Rating("e3", "A", "x", 5), Rating("e1", "B", "x", 1),
               Rating("e2", "B", "x", None), Rating("e3", "B", "x", None)]
    t = ag.table2(ratings, Scale(1, 5))
    a = t.averages[0]
    assert a.mean_of_case_means == 3 and a.pooled_mean == 4 and a.n == 4
    assert t.grid()[1][0][-1] == "3.0"
    assert ag.table2(ratings, Scale(1, 5), average="pooled_mean").grid()[1][0][-1] == "4.0"
    assert any("differs from the pooled mean" in w for w in t.warnings)
    assert any("1 of 3 experts" in w for w in t.warnings)
    assert "n = 1-3" in t.note()


def test_note_lists_every_scale_label_and_n():
    scale = Scale(1, 3, {1: "no", 2: "partly", 3: "yes"})
    t = ag.table2([Rating("e1", "A", "x", 1), Rating("e2", "A", "x", 3)], scale)
    note = t.note()
    assert "1 = no; 2 = partly; 3 = yes" in note and "n = 2" in note and "1-3 scale" in note
    assert "mean of the case means" in note


def test_level_comparison_orders_statements_by_average():
    levels = reference_table().level_comparison()
    best = min(levels, key=lambda r: r["position"])
    assert best["item"].startswith("Success depends") and best["highest_case"] == "A and C"  # an exact tie names both
    worst = max(levels, key=lambda r: r["position"])
    assert worst["item"] == "Therapist factors contributed" and worst["lowest_case"] == "A"


def test_consensus_names_its_method():
    t = ag.table2([Rating(f"e{i}", "A", "x", s) for i, s in enumerate([3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5])], PANEL_SCALE)
    assert ag.consensus(t, 1, "linear")[0]["consensus"] is True
    assert ag.consensus(t, 1, "weibull")[0] == {"item": "x", "case": "A", "n": 12, "iqr": 1.5, "method": "weibull", "consensus": False}


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError):
        ag.table2([], PANEL_SCALE)
    with pytest.raises(UserError, match="rounding"):
        ag.table2([Rating("e", "A", "x", 1)], rounding="up")
    with pytest.raises(UserError, match="outside the scale"):
        ag.table2([Rating("e", "A", "x", 9)], PANEL_SCALE)


def test_no_negative_zero_and_half_up_on_negative_values():
    assert ag.fmt(Fraction(-1, 25)) == "0.0" and ag.fmt(-0.0, 2) == "0.00"  # never '-0.0'
    assert ag.fmt(Fraction(-9, 4)) == "-2.3" and ag.fmt(Fraction(-5, 2), 0) == "-3"  # away from zero, as 2.25 -> 2.3
    assert ag.fmt(Fraction(-5, 2), 0, "half-even") == "-2"
    # ratings -1, 1, 0 ... on -3..3: the mean -1/30 prints 0.0
    scores = [-1] * 16 + [1] * 15
    t = ag.table2([Rating(f"e{i}", "A", "x", s) for i, s in enumerate(scores)], Scale(-3, 3))
    assert t.grid()[1][0][1] == "0.0 (-1 to 1)" and t.grid()[1][0][2] == "0.0"
    note = t.note()
    assert "half up (ties away from zero, symmetrically for negative values: -2.5 -> -3" in note
    assert "-2.5" not in ag.table2([Rating("e", "A", "x", 1)], PANEL_SCALE).note()  # only stated where negatives occur


def test_average_note_says_empty_cells_are_left_out():
    t = ag.table2([Rating("e1", "A", "x", 4), Rating("e1", "B", "y", 3)], PANEL_SCALE)
    assert t.grid()[1][0] == ["x", "4.0 (4-4)", "–", "4.0"]
    assert "cells without ratings (–) are left out of it" in t.note()


def test_pooled_versus_case_means_warning_shows_differing_digits():
    # A: 0, 0, 1 (mean 1/3); B: five 1s and nine 0s (5/14): mean of case means 0.3452 -> 0.3,
    # pooled 6/17 = 0.3529 -> 0.4; at two decimals both print 0.35
    ratings = [Rating(f"e{i}", "A", "x", s) for i, s in enumerate([0, 0, 1])]
    ratings += [Rating(f"e{i}", "B", "x", 1 if i < 5 else 0) for i in range(14)]
    warning = next(w for w in ag.table2(ratings, PANEL_SCALE).warnings if "pooled" in w)
    assert "mean of case means 0.345 differs from the pooled mean 0.353" in warning


def test_levels_name_every_tied_case():
    ratings = [Rating("e1", c, "x", s) for c, s in (("A", 5), ("B", 3), ("C", 5), ("D", 3))]
    row = ag.table2(ratings, PANEL_SCALE).level_comparison()[0]
    assert row["highest_case"] == "A and C" and row["lowest_case"] == "B and D"
    three = [Rating("e1", c, "x", 4) for c in "ABC"]
    assert ag.table2(three, PANEL_SCALE).level_comparison()[0]["highest_case"] == "A, B and C"
