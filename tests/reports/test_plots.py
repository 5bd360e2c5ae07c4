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
