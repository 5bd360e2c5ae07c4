"""Balanced case orders for the expert panel: Williams designs.

A Williams design is a Latin square (each case once in each position) in which every case is
immediately followed by every other case equally often, so order and carry-over effects are
balanced across experts. For an even number of cases one square of n orders suffices (each
ordered pair adjacent exactly once); for an odd number the square and its mirror image are used
(2n orders; each ordered pair adjacent exactly twice). Experts receive the orders in invitation
sequence: the i-th invited expert gets order i mod len(orders).
"""

from __future__ import annotations

from collections.abc import Sequence


def williams_orders(n: int) -> list[list[int]]:
    """Orders of the case indices 0..n-1 (n >= 1)."""
    if n < 1:
        raise ValueError("a design needs at least one case")
    if n == 1:
        return [[0]]
    # First row: 0, 1, n-1, 2, n-2, 3, ...; every next row adds 1 (mod n).
    first = [0]
    low, high = 1, n - 1
    take_low = True
    while len(first) < n:
        if take_low:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
        take_low = not take_low
    square = [[(value + shift) % n for value in first] for shift in range(n)]
    if n % 2 == 1:
        square += [list(reversed(row)) for row in square]
    return square


def order_for(position: int, cases: Sequence[str]) -> list[str]:
    """The case order for the expert invited at ``position`` (0-based)."""
    orders = williams_orders(len(cases))
    return [cases[i] for i in orders[position % len(orders)]]


def carryover_counts(orders: Sequence[Sequence[int]]) -> dict[tuple[int, int], int]:
    """How often case a is immediately followed by case b."""
    counts: dict[tuple[int, int], int] = {}
    for order in orders:
        for a, b in zip(order, order[1:]):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return counts
