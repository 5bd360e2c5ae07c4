"""Agreement statistics checked against hand-worked and published values."""

from __future__ import annotations

import pytest

from casestudy.coding.agreement import Document, Span, compute
from casestudy.errors import UserError


def _document_from_table(both: int, only_a: int, only_b: int, neither: int) -> Document:
    """Characters laid out so that the 2x2 table of decisions is exactly the one given."""
    spans, position = [], 0
    for count, coders in ((both, "AB"), (only_a, "A"), (only_b, "B"), (neither, "")):
        for coder in coders:
            spans.append(Span(coder, "code", position, position + count))
        position += count
    return Document("d", position, [], spans)


def test_cohen_kappa_textbook_example():
    # 50 units: both yes 20, A only 5, B only 10, both no 15 -> p_o .70, p_e .50, kappa .40
    report = compute([_document_from_table(20, 5, 10, 15)], ["A", "B"])
    result = report.per_code[0]
    assert result.percent_agreement == pytest.approx(0.70)
    assert result.kappa == pytest.approx(0.40)
    # alpha nominal for two coders, binary: 1 - (n-1) * D / (n0*n1) with n=100, n1=55, n0=45, D=15
    assert result.alpha == pytest.approx(1 - 99 * 15 / (45 * 55))


def test_krippendorff_binary_hand_worked():
    # Krippendorff's 2-coder binary illustration (2011, section A): 10 units,
    # coder A: 0 1 0 0 0 0 0 0 1 0 ; coder B: 1 1 1 0 0 1 0 0 0 0 -> alpha = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    spans = [Span("A", "c", i, i + 1) for i, v in enumerate(a) if v] + [Span("B", "c", i, i + 1) for i, v in enumerate(b) if v]
    result = compute([Document("d", 10, [], spans)], ["A", "B"]).per_code[0]
    assert round(result.alpha, 3) == 0.095
    assert result.percent_agreement == pytest.approx(0.6)


def test_sentence_unit_counts_overlap_and_lists_disagreements():
    sentences = [(0, 10), (10, 20), (20, 30), (30, 40)]
    spans = [Span("A", "x", 2, 12), Span("B", "x", 5, 8), Span("B", "x", 35, 36)]
    report = compute([Document("int-1", 40, sentences, spans)], ["A", "B"], unit="sentence")
    result = report.per_code[0]
    assert result.units == 4 and result.coded_units == {"A": 2, "B": 2}
    assert result.percent_agreement == pytest.approx(0.5)  # agree on sentences 1 and 3
    assert [(d.start, d.end, d.coded_by) for d in report.disagreements] == [(10, 20, ("A",)), (30, 40, ("B",))]


def test_perfect_and_degenerate_cases():
    spans = [Span("A", "x", 0, 5), Span("B", "x", 0, 5), Span("C", "x", 0, 5)]
    report = compute([Document("d", 10, [], spans)], ["A", "B", "C"])
    assert report.per_code[0].alpha == pytest.approx(1.0)
    assert report.per_code[0].kappa is None  # kappa is for two coders only
    everything = compute([Document("d", 5, [], [Span("A", "x", 0, 5), Span("B", "x", 0, 5)])], ["A", "B"]).per_code[0]
    assert everything.alpha is None and everything.kappa is None and everything.percent_agreement == 1.0
    with pytest.raises(UserError, match="two different coders"):
        compute([Document("d", 5, [], [])], ["A", "A"])
    with pytest.raises(UserError, match="unknown unit"):
        compute([Document("d", 5, [], [])], ["A", "B"], unit="word")


def test_overall_pools_codes():
    spans = [Span("A", "x", 0, 5), Span("B", "x", 0, 5), Span("A", "y", 5, 10)]
    report = compute([Document("d", 10, [], spans)], ["A", "B"])
    assert [c.code for c in report.per_code] == ["x", "y"]
    assert report.overall.units == 20 and report.overall.percent_agreement == pytest.approx(15 / 20)


def test_kappa_of_a_sparse_code_in_a_long_document_matches_scikit_learn():
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    # 5,000,000 characters; A codes 10, B codes 12 of them, 8 in common: p_e = 0.9999956,
    # within np.isclose's 1e-5 of 1, which used to hide kappa
    length = 5_000_000
    spans = [Span("A", "rare", 1000, 1010), Span("B", "rare", 1002, 1014)]
    result = compute([Document("long", length, [], spans)], ["A", "B"]).per_code[0]
    a, b = np.zeros(length, dtype=np.int8), np.zeros(length, dtype=np.int8)
    a[1000:1010], b[1002:1014] = 1, 1
    expected = cohen_kappa_score(a, b)
    assert result.kappa is not None
    assert result.kappa == pytest.approx(expected, rel=1e-9)
    # by hand: N = 5e6 units, 6 disagreeing (A alone 1000-1001, B alone 1010-1013), so agreeing = N - 6;
    # E = N^2 p_e = 10 x 12 + (N - 10)(N - 12); kappa = (agreeing N - E)/(N^2 - E) (about 16/22 for large N)
    from fractions import Fraction

    exact = Fraction((length - 6) * length - (120 + (length - 10) * (length - 12)), length ** 2 - (120 + (length - 10) * (length - 12)))
    assert result.kappa == float(exact) and abs(result.kappa - 16 / 22) < 1e-5


@pytest.mark.parametrize("table", [(20, 5, 10, 15), (1, 0, 0, 99), (0, 3, 4, 93), (7, 2, 1, 0)])
def test_kappa_matches_scikit_learn_on_small_tables(table):
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    both, only_a, only_b, neither = table
    a = np.array([1] * (both + only_a) + [0] * (only_b + neither))
    b = np.array([1] * both + [0] * only_a + [1] * only_b + [0] * neither)
    kappa = compute([_document_from_table(*table)], ["A", "B"]).per_code[0].kappa
    assert kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_undefined_only_when_chance_agreement_is_exactly_one():
    # both coders code every character: p_e = 1 exactly, kappa is undefined
    report = compute([Document("d", 7, [], [Span("A", "x", 0, 7), Span("B", "x", 0, 7)])], ["A", "B"])
    assert report.per_code[0].kappa is None


def test_agreement_table_rounds_half_up_with_one_precision_per_column():
    from decimal import Decimal

    from casestudy.coding.agreement import agreement_table

    # 16 units, 5 agreeing (both code 0-5), 11 coded by A alone: 5/16 = 31.25 % prints 31.3 (round() gives 31.2)
    spans = [Span("A", "x", 0, 16), Span("B", "x", 0, 5)]
    report = compute([Document("d", 16, [], spans)], ["A", "B"])
    columns, rows = agreement_table(report)
    assert columns[:5] == ["Code", "Units", "Agreement (%)", "Cohen's kappa", "Krippendorff's alpha"]
    assert rows[0][:3] == ["x", 16, Decimal("31.3")]
    # kappa: p_o = 5/16, p_e = (16 x 5 + 0 x 11)/256 = 5/16 -> kappa 0 (never printed as -0.000)
    assert rows[0][3] == Decimal("0.000") and str(rows[0][3]) == "0.000"
    assert rows[-1][0] == "(all codes)" and rows[0][5:] == [16, 5, ""]  # every value defined: no reason
    everything = compute([Document("d", 5, [], [Span("A", "x", 0, 5), Span("B", "x", 0, 5)])], ["A", "B"])
    assert agreement_table(everything)[1][0][2:5] == [Decimal("100.0"), None, None]
