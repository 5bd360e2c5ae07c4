"""Williams designs are Latin squares balanced for first-order carry-over."""

from __future__ import annotations

import pytest

from casestudy.panel.design import carryover_counts, order_for, williams_orders


@pytest.mark.parametrize("n", range(2, 11))
def test_williams_is_latin_and_carryover_balanced(n):
    orders = williams_orders(n)
    assert len(orders) == (n if n % 2 == 0 else 2 * n)
    assert all(sorted(order) == list(range(n)) for order in orders)
    for position in range(n):  # every case equally often in every position
        column = [order[position] for order in orders]
        assert all(column.count(case) == len(orders) // n for case in range(n))
    counts = carryover_counts(orders)
    expected = 1 if n % 2 == 0 else 2
    assert counts == {(a, b): expected for a in range(n) for b in range(n) if a != b}


def test_known_square_for_four():
    assert williams_orders(4) == [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]]


def test_orders_follow_invitation_order():
    cases = [f"Case {c}" for c in "ABCDEFG"]
    first = order_for(0, cases)
    assert first[0] == "Case A" and sorted(first) == cases
    assert order_for(14, cases) == first  # 2 x 7 orders, then it starts again
    assert order_for(1, cases) != first
