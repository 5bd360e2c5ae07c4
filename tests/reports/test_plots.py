"""Figures: structure of the plotly figures; HTML without a browser; PNG/SVG through kaleido."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casestudy.reports import table2 as aggregation
from casestudy.reports import plots
from casestudy.reports import rankings
from casestudy.panel.scale import PANEL_SCALE
from casestudy.reports.inputs import load_determinants, load_ratings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def table():
    return aggregation.table2(load_ratings(EXAMPLES / "reference-ratings.csv"), PANEL_SCALE)


def test_heatmap_means(table):
    fig = plots.heatmap(table)
    z = fig.data[0].z
    assert len(z) == 4 and len(z[0]) == 7
    assert z[0][0] == pytest.approx(4.75) and fig.data[0].text[2][1] == "4.5 (4-5)"


def test_diverging_bars_shares_add_to_100(table):
    fig = plots.diverging_bars(table, "Team factors contributed")
    shares = [sum(abs(x) for x in trace.x) for trace in fig.data]
    assert sum(shares) == pytest.approx(700)  # 7 cases x 100 %
    assert fig.layout.barmode == "relative"


def test_ranking_chart_has_n():
    r = rankings.rank_determinants(load_determinants(EXAMPLES / "reference-determinants.csv"))
    fig = plots.ranking_chart(r)
    assert list(fig.data[0].x) == [8, 7, 7, 5, 5, 3, 3, 2]
    assert fig.data[0].text[0] == "n = 8 (67%)"
    html = plots.figure_bytes(fig, "html")
    assert b"<html>" in html[:100] and len(html) > 1_000_000  # plotly.js embedded: works offline
    assert b"cdn.plot.ly" in plots.figure_bytes(fig, "html", self_contained=False)


@pytest.mark.skipif(not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()), reason="kaleido needs a Chromium")
def test_png_and_svg_via_kaleido(table):
    fig = plots.heatmap(table)
    assert plots.figure_bytes(fig, "png").startswith(b"\x89PNG")
    assert b"<svg" in plots.figure_bytes(fig, "svg")[:200]


# --- colour-blind-safe scales -----------------------------------------------------------------
# Machado, Oliveira & Fernandes (2009) simulation matrices at full severity, on linear RGB.
CVD = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def _rgb(colour: str) -> tuple[float, float, float]:
    from plotly.colors import hex_to_rgb, unlabel_rgb

    values = hex_to_rgb(colour) if colour.startswith("#") else unlabel_rgb(colour)
    return tuple(v / 255 for v in values)


def _linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _lab(linear_rgb):
    r, g, b = (min(1.0, max(0.0, v)) for v in linear_rgb)
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _seen(colour: str, deficiency: str | None):
    linear = [_linear(c) for c in _rgb(colour)]
    if deficiency:
        linear = [sum(m * v for m, v in zip(row, linear)) for row in CVD[deficiency]]
    return _lab(linear)


def _delta_e(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


@pytest.mark.parametrize("deficiency", [None, *CVD])
def test_sequential_scale_for_means_keeps_its_order_in_colour_blindness(table, deficiency):
    from plotly.colors import sample_colorscale

    fig = plots.heatmap(table)
    scale = [colour for _, colour in fig.data[0].colorscale]
    samples = sample_colorscale([[i / (len(scale) - 1), c] for i, c in enumerate(scale)], [i / 20 for i in range(21)])
    lightness = [_seen(c, deficiency)[0] for c in samples]
    # a mean higher on the scale is always lighter, also as a colour-blind reader sees it
    assert all(b > a for a, b in zip(lightness, lightness[1:])), lightness
    assert lightness[-1] - lightness[0] > 60


@pytest.mark.parametrize("points", [5, 6, 7, 11])
@pytest.mark.parametrize("deficiency", [None, *CVD])
def test_diverging_scale_for_likert_points_stays_distinct_in_colour_blindness(points, deficiency):
    colours = plots.diverging_colours(points)
    seen = [_seen(c, deficiency) for c in colours]
    neighbours = [_delta_e(a, b) for a, b in zip(seen, seen[1:])]
    assert min(neighbours) > 8, neighbours  # adjacent points are told apart
    assert _delta_e(seen[0], seen[-1]) > 40  # the two ends never look alike
    # the two sides differ in hue, not only in lightness: mirrored points keep apart
    for low, high in zip(seen, reversed(seen)):
        if low is not high and abs(low[0] - high[0]) < 15:
            assert _delta_e(low, high) > 15


def test_bars_use_the_diverging_scale(table):
    fig = plots.diverging_bars(table, "Team factors contributed")
    used = {trace.name: trace.marker.color for trace in fig.data}
    assert used["0 (clearly contradicted in this case)"] == plots.diverging_colours(6)[0]
    assert used["5 (completely confirmed in this case)"] == plots.diverging_colours(6)[-1]


# --- no clipped labels --------------------------------------------------------------------------
LONG = ("Implementation succeeded because the organisation, the team and the therapists together kept "
        "the programme's structure, its supervision and its training going for years despite much turnover and cuts.")


def _long_table():
    from casestudy.panel.results import Rating

    ratings = [Rating(f"E{e}", case, item, score) for e in range(3) for case, score in (("A", 4), ("B", 2))
               for item in ("Short statement", LONG)]
    return aggregation.table2(ratings, PANEL_SCALE)


def _assert_fits(fig, labels_on_axis, original_texts):
    longest = 0
    for label, original in zip(labels_on_axis, original_texts):
        lines = label.split("<br>")
        assert " ".join(lines) == original  # wrapped, nothing cut
        assert all(len(line) <= plots.WRAP_CHARS for line in lines)
        longest = max(longest, *(len(line) for line in lines))
    assert fig.layout.margin.l >= longest * plots.CHAR_PX  # the left margin holds the longest line
    most_lines = max(len(label.split("<br>")) for label in labels_on_axis)
    plot_height = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    assert plot_height / len(labels_on_axis) >= most_lines * plots.LINE_PX  # every row holds its label
    assert fig.layout.yaxis.automargin


def test_a_200_character_statement_is_wrapped_not_clipped():
    assert len(LONG) == 200
    t = _long_table()
    fig = plots.heatmap(t)
    _assert_fits(fig, list(fig.data[0].y), list(t.items))
    assert len(fig.data[0].y[1].split("<br>")) == 5
    bars = plots.diverging_bars(t)
    _assert_fits(bars, list(bars.data[0].y), [f"{i} / {c}" for i in t.items for c in t.cases])
    one = plots.diverging_bars(t, LONG)  # the statement is in the title: wrapped, the top margin grows
    title_lines = one.layout.title.text.split("<br>")
    assert len(title_lines) == 3 and all(len(line) <= plots.TITLE_WRAP_CHARS for line in title_lines)
    assert " ".join(title_lines) == f"Distribution of the ratings per case: {LONG}"
    assert one.layout.margin.t >= 22 * len(title_lines) + 40


def test_a_long_determinant_is_wrapped_in_the_ranking_chart():
    from casestudy.panel.results import DeterminantMention

    r = rankings.rank_determinants([DeterminantMention(f"E{e}", "recurring", 1, LONG) for e in range(3)]
                                   + [DeterminantMention(f"E{e}", "recurring", 2, "Leadership") for e in range(2)])
    fig = plots.ranking_chart(r)
    _assert_fits(fig, list(fig.data[0].y), [x.determinant for x in r.ranking])


# --- PNG/SVG through one kaleido server ----------------------------------------------------------
@pytest.mark.skipif(not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()), reason="kaleido needs a Chromium")
def test_exports_reuse_one_renderer(table):
    # Speed is measured by bench/figures.py (0.3-1.3 s per export after the warm-up, 6.5-11.7 s
    # before, when every export started its own Chromium); here: one server serves them all.
    import threading

    import kaleido

    plots.warm_up_renderer().join()
    assert kaleido._global_server.is_running()  # the warm-up started the process's server (and drew without error)
    server_thread = kaleido._global_server._thread
    for fig, fmt_ in ((plots.heatmap(table), "png"), (plots.diverging_bars(table), "svg"), (plots.heatmap(table), "png")):
        data = plots.figure_bytes(fig, fmt_)
        assert data.startswith(b"\x89PNG") if fmt_ == "png" else b"<svg" in data[:200]
    assert kaleido._global_server._thread is server_thread  # no new Chromium per export
    # concurrent exports (two page sessions) each get their own figure
    results = {}
    figures = {"heat": plots.heatmap(table), "rank": plots.ranking_chart(rankings.rank_determinants(load_determinants(EXAMPLES / "reference-determinants.csv")))}
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, plots.figure_bytes(figures[k], "svg"))) for k in figures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert b"Mean expert rating" in results["heat"] and b"Determinants named" in results["rank"]
    assert b"Determinants named" not in results["heat"]
