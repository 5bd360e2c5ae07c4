"""Regenerate examples/reference-ratings.csv and reference-determinants.csv (deterministic).

The ratings reproduce every cell of the reference study's Table 2 (mean rounded half-up to one
decimal, and the range) with 12 experts; the row averages (mean of case means) round to the
published 4.1 / 4.2 / 3.4 (the first row's published 4.49 is itself an error). The determinant
lists reproduce the published counts of distinct experts. All expert ids are invented.
"""

from __future__ import annotations

import csv
import itertools
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).parent
EXPERTS = [f"E{i:02d}" for i in range(1, 13)]
CASES = ["A", "B", "C", "D", "E", "F", "G"]
ITEMS = [
    "Success depends on a combination of organization, team and therapist factors",
    "Organizational factors contributed",
    "Team factors contributed",
    "Therapist factors contributed",
]
PUBLISHED = [  # mean, min, max per case A..G; then the published average
    ([(4.8, 4, 5), (4.4, 4, 5), (4.8, 4, 5), (4.6, 3, 5), (4.2, 3, 5), (4.4, 3, 5), (4.1, 3, 5)], None),
    ([(4.8, 4, 5), (3.8, 3, 5), (4.1, 3, 5), (4.1, 3, 5), (3.9, 3, 5), (4.4, 3, 5), (3.6, 2, 5)], Fraction(41, 10)),
    ([(3.9, 3, 5), (4.5, 4, 5), (4.4, 3, 5), (3.8, 3, 5), (4.9, 4, 5), (4.0, 3, 5), (3.8, 3, 5)], Fraction(42, 10)),
    ([(2.4, 1, 4), (3.8, 3, 4), (3.3, 3, 4), (3.1, 2, 4), (3.8, 3, 4), (3.9, 3, 4), (3.8, 3, 4)], Fraction(34, 10)),
]


def half_up(value: Fraction) -> Fraction:
    return Fraction(int(value * 10 + Fraction(1, 2)), 10)


def sums(mean: float, low: int, high: int) -> list[int]:
    target = Fraction(str(mean))
    return [s for s in range(12 * low, 12 * high + 1)
            if half_up(Fraction(s, 12)) == target and low + high + 10 * low <= s <= low + high + 10 * high]


def scores(total: int, low: int, high: int, shift: int) -> list[int]:
    rest = [low] * 10
    left = total - low - high - 10 * low
    i = 0
    while left:
        if rest[i % 10] < high:
            rest[i % 10] += 1
            left -= 1
        i += 1
    values = sorted([low, high, *rest])
    return values[shift:] + values[:shift]  # rotate so experts differ from cell to cell


def main() -> None:
    rows = []
    for number, (cells, average) in enumerate(PUBLISHED):
        options = [sums(*cell) for cell in cells]
        chosen = None
        for combo in itertools.product(*options):
            mean_of_means = Fraction(sum(combo), 12 * len(combo))
            if average is None or half_up(mean_of_means) == average:
                chosen = combo
                break
        assert chosen is not None, ITEMS[number]
        for c, (case, total, (_, low, high)) in enumerate(zip(CASES, chosen, cells)):
            for expert, score in zip(EXPERTS, scores(total, low, high, (3 * c + 5 * number) % 12)):
                rows.append((expert, case, ITEMS[number], score))
    rows.sort(key=lambda r: (r[0], CASES.index(r[1]), ITEMS.index(r[2])))
    with open(HERE / "reference-ratings.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["expert", "case", "item", "score"])
        writer.writerows(rows)


S, L, T = "support within the organization", "leadership", "selection of therapist"
TR, H = "training", "highly structured project-based implementation"
M, B, Z = "availability of methodical expertise", "budget", "team size"
RECURRING = {  # each expert's recurring determinants, most important first (None = not ordered)
    "E01": [S, L, TR, "clear referral pathways"],
    "E02": [T, S, H],
    "E03": [L, "Support within the  organization", H, B],
    "E04": [S, T, M, "supervision by a senior therapist"],
    "E05": ["Leadership", T, TR, "cohesion within the team"],
    "E06": [H, S, L, Z],
    "E07": [T, L, M, "continuity of staff"],
    "E08": [S, B, T, "inclusion criteria for patients"],
    "E09": [L, TR, H, "reflective stance of therapists"],
    "E10": [S, H, "Selection of therapist", Z],
    "E11": [TR, S, M, "fit with the mission of the institution"],
    "E12": [T, L, B, TR],
}
UNORDERED = {"E10"}  # this expert named determinants without ordering them
ADDITIONAL = {
    "E01": "involvement of health insurers", "E03": "national policy on personality disorders",
    "E04": "collaboration with referrers", "E06": "case load per therapist",
    "E08": "peer consultation between programmes", "E09": "suitable building and rooms",
    "E12": "management of the waiting list",
}


def determinants() -> None:
    with open(HERE / "reference-determinants.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["expert", "task", "rank", "determinant"])
        for expert in EXPERTS:
            for rank, text in enumerate(RECURRING[expert], start=1):
                writer.writerow([expert, "recurring", "" if expert in UNORDERED else rank, text])
            if expert in ADDITIONAL:
                writer.writerow([expert, "additional", "", ADDITIONAL[expert]])


if __name__ == "__main__":
    main()
    determinants()
