"""Determinant rankings: counts by distinct experts, shared ranks, Borda, Kendall's W."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from casestudy.reports import rankings as rk
from casestudy.errors import UserError
from casestudy.panel.results import DeterminantMention as M
from casestudy.reports.inputs import load_determinants

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_reference_determinants_reproduce_published_counts():
    r = rk.rank_determinants(load_determinants(EXAMPLES / "reference-determinants.csv"))
    assert r.experts == 12
    assert [(x.rank, x.determinant, x.n_experts) for x in r.ranking] == [
        (1, "support within the organization", 8),
        (2, "leadership", 7), (2, "selection of therapist", 7),
        (4, "training", 5), (4, "highly structured project-based implementation", 5),
        (6, "availability of methodical expertise", 3), (6, "budget", 3),
        (8, "team size", 2),
    ]
    assert r.ranking[0].percent == pytest.approx(200 / 3)  # unrounded; tables print 66.7
    assert len(r.singletons) == 7
    assert len(r.additional) == 7 and all(a["n_experts"] == 1 for a in r.additional)
    assert r.kendall_w is not None and 0 < r.kendall_w < 1


def test_expert_counts_once_mapping_and_normalisation():
    mentions = [M("e1", "recurring", 1, "Budget"), M("e1", "recurring", 2, "money "), M("e2", "recurring", 1, "  budget"),
                M("e3", "recurring", 1, "leadership")]
    r = rk.rank_determinants(mentions, {"money": "budget"})
    assert [(x.determinant, x.n_experts) for x in r.ranking] == [("Budget", 2)]
    assert r.singletons == ["leadership"] and r.unmapped == ["Budget", "leadership"]
    assert r.ranking[0].mean_rank == 1.0
    assert rk.rank_determinants(mentions, experts=10).ranking[0].percent == 20.0
    with pytest.raises(UserError, match="smaller than"):
        rk.rank_determinants(mentions, experts=2)


def test_ties_share_rank_and_are_ordered_by_borda_then_name():
    mentions = []
    for e in ("e1", "e2"):
        mentions += [M(e, "recurring", 1, "zeta"), M(e, "recurring", 2, "alpha"), M(e, "recurring", 3, "beta")]
    mentions += [M("e3", "recurring", 1, "gamma"), M("e4", "recurring", 1, "gamma")]
    r = rk.rank_determinants(mentions, experts=4)
    # all named by 2 experts: one shared rank; Borda zeta 3+3, alpha 2+2, beta 1+1, gamma 1+1 (lists of one) -> name
    assert [(x.rank, x.determinant, x.borda) for x in r.ranking] == [(1, "zeta", 6.0), (1, "alpha", 4.0), (1, "beta", 2.0), (1, "gamma", 2.0)]
    assert [x.mean_rank for x in r.ranking] == [1.0, 2.0, 3.0, 1.0]


def test_competition_ranking_1_2_2_4():
    mentions = [M(f"e{i}", "recurring", None, "a") for i in range(4)]
    mentions += [M(f"e{i}", "recurring", None, "b") for i in range(3)] + [M(f"e{i}", "recurring", None, "c") for i in range(3)]
    mentions += [M(f"e{i}", "recurring", None, "d") for i in range(2)]
    assert [x.rank for x in rk.rank_determinants(mentions).ranking] == [1, 2, 2, 4]


def test_unranked_entries_share_the_mean_of_remaining_positions():
    mentions = [M("e1", "recurring", 1, "a"), M("e1", "recurring", None, "b"), M("e1", "recurring", None, "c")]
    assert rk.expert_positions(mentions)["e1"] == {"a": 1, "b": 2.5, "c": 2.5}
    tied = [M("e1", "recurring", 1, "a"), M("e1", "recurring", 1, "b"), M("e1", "recurring", 2, "c")]
    assert rk.expert_positions(tied)["e1"] == {"a": 1.5, "b": 1.5, "c": 3}


def test_kendall_w_equals_friedman_on_complete_rankings():
    R = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]], dtype=float)
    chi2 = stats.friedmanchisquare(*R.T).statistic
    assert rk.kendall_w(R) == pytest.approx(chi2 / (3 * (4 - 1)))
    # hand-worked: rank sums 4, 6, 8, 12; S = 16+4+0+... mean 7.5 -> S = 12.25+2.25+0.25+20.25 = 35
    assert rk.kendall_w(R) == pytest.approx(12 * 35 / (9 * (64 - 4)))
    assert rk.kendall_w([[1, 2, 3], [1, 2, 3]]) == 1.0


def test_kendall_w_tie_corrected_matches_friedman_with_ties():
    R = np.array([[1, 2.5, 2.5, 4], [1.5, 1.5, 3, 4], [1, 2, 3.5, 3.5], [2, 1, 3, 4]])
    chi2 = stats.friedmanchisquare(*R.T).statistic  # scipy applies the tie correction
    assert rk.kendall_w(R) == pytest.approx(chi2 / (4 * 3))


def test_partial_rankings_completed_with_mean_ranks():
    positions = {"e1": {"a": 1, "b": 2}, "e2": {"b": 1}}
    matrix = rk.complete_partial(positions, ["a", "b", "c", "d"])
    assert matrix.tolist() == [[1, 2, 3.5, 3.5], [3, 1, 3, 3]]


def test_suggestions_by_similarity():
    out = rk.suggest_mapping(["Support from the organisation", "lead ership", "budget"],
                             ["support within the organization", "leadership", "budget"])
    assert out[0]["suggestions"][0]["canonical"] == "support within the organization"
    assert out[2]["suggestions"][0] == {"canonical": "budget", "score": 100.0}


def _mean_rank_2625_mentions() -> list:
    """'x' at positions 1, 2, 3 and 4.5 (sharing 4-5 with an unranked entry): mean rank 10.5 / 4 = 2.625."""
    mentions = [M("e1", "recurring", 1, "x"),
                M("e2", "recurring", 1, "y"), M("e2", "recurring", 2, "x"),
                M("e3", "recurring", 1, "y"), M("e3", "recurring", 2, "z"), M("e3", "recurring", 3, "x"),
                M("e4", "recurring", 1, "y"), M("e4", "recurring", 2, "z"), M("e4", "recurring", 3, "w"),
                M("e4", "recurring", None, "x"), M("e4", "recurring", None, "v")]
    return mentions


def test_ranking_table_rounds_half_up_with_decimals():
    from decimal import Decimal

    r = rk.rank_determinants(_mean_rank_2625_mentions(), experts=16)
    x = next(d for d in r.ranking if d.determinant == "x")
    assert x.mean_rank == Fraction(21, 8) and x.percent == Fraction(25)  # exact: 10.5/4 and 4/16 x 100
    columns, rows = rk.ranking_table(r)
    row = next(row for row in rows if row[1] == "x")
    # Borda 1 + 1 + 1 + 1.5 (position 4.5 of 5); binary round() printed the mean rank 2.62
    assert row[3:] == [Decimal("25.0"), Decimal("4.5"), Decimal("2.63")]
    # 5 of 16 experts = 31.25 % prints 31.3 (round(31.25, 1) gives 31.2)
    five = [M(f"e{i}", "recurring", None, "q") for i in range(5)]
    assert rk.ranking_table(rk.rank_determinants(five, experts=16))[1][0][3] == Decimal("31.3")
    half_even = next(row for row in rk.ranking_table(r, rounding="half-even")[1] if row[1] == "x")
    assert half_even[5] == Decimal("2.62")  # the stated other rule: the tie goes to the even digit


def test_kendall_note_states_n_and_m():
    from casestudy.reports import render

    r = rk.rank_determinants(_mean_rank_2625_mentions(), experts=4)
    note = render.rankings_tables(r)[0].notes[0]
    assert r.kendall_objects == 5 and r.kendall_raters == 4  # x, y, z, w, v ranked by e1..e4
    assert "N = 5 determinants ranked by m = 4 experts" in note
