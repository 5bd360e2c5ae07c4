"""Figures (plotly): heatmap of case x statement means, diverging stacked bars of the rating
distributions per case, and a ranking bar chart with n.

``figure_bytes(fig, "html")`` needs no browser; "png" and "svg" go through kaleido, which drives a
Chromium: the system one (/usr/bin/chromium) is used via BROWSER_PATH when it is not set.
"""

from __future__ import annotations

import os
import shutil

import plotly.graph_objects as go

from casestudy.errors import UserError
from casestudy.reports.table2 import Table2, fmt


def heatmap(t: Table2) -> go.Figure:
    z = [[None if t.cell(i, c).mean is None else float(t.cell(i, c).mean) for c in t.cases] for i in t.items]
    text = [[t.formatted_cell(i, c) for c in t.cases] for i in t.items]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in t.cases], y=list(t.items), text=text, texttemplate="%{text}",
        zmin=t.scale.min, zmax=t.scale.max, colorscale="RdYlGn", colorbar={"title": "mean"},
        hovertemplate="case %{x}<br>%{y}<br>mean (range) %{text}<extra></extra>",
    ))
    fig.update_layout(title=f"Mean expert rating per case and statement ({t.scale.text()} scale)",
                      yaxis={"autorange": "reversed"}, xaxis={"title": "case"}, margin={"l": 260})
    return fig


def diverging_bars(t: Table2, item: str | None = None) -> go.Figure:
    """Per case the share of ratings per scale point, centred on the scale midpoint."""
    items = [item] if item else list(t.items)
    points = list(range(t.scale.min, t.scale.max + 1))
    mid = (t.scale.min + t.scale.max) / 2
    colours = _diverging_colours(len(points))
    labels = [f"{i[:28]}… / {c}" if len(i) > 28 else f"{i} / {c}" for i in items for c in t.cases] if len(items) > 1 else [str(c) for c in t.cases]
    shares = {p: [] for p in points}
    for i in items:
        for c in t.cases:
            scores = t.cell(i, c).scores
            for p in points:
                shares[p].append(100 * scores.count(p) / len(scores) if scores else 0.0)
    fig = go.Figure()
    # negative side: from the midpoint outwards (points below the middle, half of a middle point)
    for p in points:
        values = shares[p]
        if p < mid:
            x = [-v for v in values]
        elif p == mid:
            x = [-v / 2 for v in values]
        else:
            continue
        fig.add_trace(go.Bar(y=labels, x=x, name=_point_name(t, p), orientation="h", marker_color=colours[points.index(p)],
                             legendgroup=str(p), hovertemplate=f"{_point_name(t, p)}: %{{customdata:.1f}}%<extra></extra>", customdata=values))
    for p in points:
        values = shares[p]
        if p > mid:
            x = values
        elif p == mid:
            x = [v / 2 for v in values]
        else:
            continue
        fig.add_trace(go.Bar(y=labels, x=x, name=_point_name(t, p), orientation="h", marker_color=colours[points.index(p)],
                             legendgroup=str(p), showlegend=p != mid, hovertemplate=f"{_point_name(t, p)}: %{{customdata:.1f}}%<extra></extra>", customdata=values))
    fig.update_layout(barmode="relative", title="Distribution of the ratings per case" + (f": {item}" if item else ""),
                      xaxis={"title": "% of ratings (left: below the scale midpoint, right: above)"}, yaxis={"autorange": "reversed"})
    return fig


def _point_name(t: Table2, p: int) -> str:
    return t.scale.point_label(p)


def _diverging_colours(k: int) -> list[str]:
    from plotly.colors import sample_colorscale

    return sample_colorscale("RdBu", [i / (k - 1) for i in range(k)]) if k > 1 else ["#888888"]


def ranking_chart(r) -> go.Figure:
    names = [x.determinant for x in r.ranking]
    fig = go.Figure(go.Bar(
        x=[x.n_experts for x in r.ranking], y=names, orientation="h",
        text=[f"n = {x.n_experts} ({fmt(x.percent, 0)}%)" for x in r.ranking], textposition="auto",
        hovertemplate="%{y}: %{x} experts<extra></extra>",
    ))
    fig.update_layout(title=f"Determinants named by at least {r.threshold} of {r.experts} experts",
                      xaxis={"title": "experts naming the determinant (n)", "dtick": 1}, yaxis={"autorange": "reversed"}, margin={"l": 300})
    return fig


def _ensure_browser() -> None:
    if not os.environ.get("BROWSER_PATH"):
        for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or ""):
            if candidate and os.path.exists(candidate):
                os.environ["BROWSER_PATH"] = candidate
                break


def figure_bytes(fig: go.Figure, fmt_: str, width: int = 1000, height: int = 600, self_contained: bool = True) -> bytes:
    """HTML (self-contained, or loading plotly.js from its CDN), PNG or SVG."""
    if fmt_ == "html":
        return fig.to_html(include_plotlyjs=True if self_contained else "cdn", full_html=True).encode("utf-8")
    if fmt_ not in ("png", "svg"):
        raise UserError(f"unknown figure format {fmt_!r}; use html, png or svg")
    _ensure_browser()
    try:
        return fig.to_image(format=fmt_, width=width, height=height)
    except Exception as exc:  # kaleido/chromium missing or failing
        raise UserError(f"could not render {fmt_.upper()} (kaleido needs Chromium; set BROWSER_PATH): {exc}") from exc
