"""Benchmark of the figure exports: PNG and SVG of the Table 2 heatmap, the distribution bars and
the ranking chart from the reference data, through kaleido and the system Chromium.

Prints the seconds of each export in one process: the first (kaleido and Chromium start), then
the following ones (the page's "Prepare PNG/SVG" after the first); with ``--warm`` the renderer is
warmed up first, as the Reports page does in the background. Run: python bench/figures.py [--warm]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy.panel.scale import PANEL_SCALE
from casestudy.reports import plots, rankings
from casestudy.reports import table2 as aggregation
from casestudy.reports.inputs import load_determinants, load_ratings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    t = aggregation.table2(load_ratings(EXAMPLES / "reference-ratings.csv"), PANEL_SCALE)
    r = rankings.rank_determinants(load_determinants(EXAMPLES / "reference-determinants.csv"))
    figures = {"heatmap": plots.heatmap(t), "bars": plots.diverging_bars(t), "ranking": plots.ranking_chart(r)}
    if "--warm" in sys.argv:
        start = time.perf_counter()
        plots.warm_up_renderer().join()
        print(f"warm-up (kaleido and Chromium start, two small figures in PNG and SVG): {time.perf_counter() - start:5.2f} s", flush=True)
    for round_ in ("first", "again"):
        for name, fig in figures.items():
            for fmt in ("png", "svg"):
                start = time.perf_counter()
                data = plots.figure_bytes(fig, fmt)
                print(f"{round_:5} {name:8} {fmt}: {time.perf_counter() - start:5.2f} s ({len(data):,} bytes)", flush=True)


if __name__ == "__main__":
    main()
