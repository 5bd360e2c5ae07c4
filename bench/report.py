"""Benchmark of the reports stage: 200 experts x 50 cases x 10 statements (100,000 ratings).

Prints the time for all tables (Table 2 with every format, rankings, alpha without bootstrap, ICC,
consistency check) and, separately, Krippendorff's alpha with a 1,000-replicate bootstrap.
Run: python bench/report.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy.reports import table2 as aggregation
from casestudy.reports import consistency
from casestudy.reports import rankings
from casestudy.reports import reliability
from casestudy.reports import render as reports
from casestudy.panel.scale import PANEL_SCALE
from casestudy.panel.results import DeterminantMention, Rating

EXPERTS, CASES, ITEMS, DETERMINANTS = 200, 50, 10, 60


def data():
    rng = random.Random(42)
    ratings = []
    for e in range(EXPERTS):
        for c in range(CASES):
            for i in range(ITEMS):
                base = 1 + (c * 7 + i * 3) % 4
                score = min(5, max(0, base + rng.choice([-1, 0, 0, 1, 1])))
                ratings.append(Rating(f"E{e:03d}", f"C{c:02d}", f"statement {i}", None if rng.random() < 0.01 else score))
    mentions = []
    for e in range(EXPERTS):
        chosen = rng.sample(range(DETERMINANTS), rng.randint(3, 8))
        mentions += [DeterminantMention(f"E{e:03d}", "recurring", rank, f"determinant {d}") for rank, d in enumerate(chosen, 1)]
        mentions.append(DeterminantMention(f"E{e:03d}", "additional", None, f"extra {rng.randint(0, 40)}"))
    return ratings, mentions


def timed(label, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed * 1000:9.1f} ms")
    return result, elapsed


def main() -> None:
    import docx  # noqa: F401  - imports are warmed up first: the figures are for the work, not the imports
    import scipy.stats  # noqa: F401
    import xlsxwriter  # noqa: F401

    ratings, mentions = data()
    print(f"{len(ratings):,} ratings ({EXPERTS} experts x {CASES} cases x {ITEMS} statements), {len(mentions):,} determinant mentions")
    total = 0.0
    t, s = timed("Table 2 (statistics, exact rounding)", lambda: aggregation.table2(ratings, PANEL_SCALE)); total += s
    for fmt in ("csv", "md", "tex", "xlsx", "docx"):
        _, s = timed(f"  render {fmt}", lambda fmt=fmt: reports.render(reports.table2_tables(t, fmt), fmt)); total += s
    r, s = timed("Rankings (counts, Borda, Kendall's W)", lambda: rankings.rank_determinants(mentions)); total += s
    _, s = timed("  render rankings (md + xlsx)", lambda: (reports.render(reports.rankings_tables(r), "md"), reports.render(reports.rankings_tables(r), "xlsx"))); total += s
    rep, s = timed("Reliability without bootstrap (alpha x2, ICC, r_wg)", lambda: reliability.reliability(ratings, PANEL_SCALE, replicates=0)); total += s
    _, s = timed("Consistency check of the generated Table 2", lambda: consistency.check_tables(consistency.table2_as_published(t), None, PANEL_SCALE, EXPERTS)); total += s
    print(f"{'ALL TABLES (no bootstrap)':<48} {total * 1000:9.1f} ms  (target < 1000 ms)")
    X, _, _ = reliability.ratings_matrix(ratings)
    timed("Alpha ordinal + 1,000-replicate bootstrap", lambda: reliability.alpha_bootstrap(X, "ordinal", 1000))
    timed("Alpha interval + 1,000-replicate bootstrap", lambda: reliability.alpha_bootstrap(X, "interval", 1000))


if __name__ == "__main__":
    main()
