"""Figures (plotly): heatmap of case x statement means, diverging stacked bars of the rating
distributions per case, a ranking bar chart with n, and the integration heatmap (ranked
determinants x cases).

``figure_bytes(fig, "html")`` needs no browser; "png" and "svg" go through kaleido, which drives a
Chromium: the system one (/usr/bin/chromium) is used via BROWSER_PATH when it is not set.

Starting kaleido's Chromium takes several seconds, so one kaleido server is kept for the
process (:func:`start_renderer`, also started by the first PNG/SVG export; the Reports page
warms it up in the background) and exports are serialised through it; a failed server is
stopped and the next export starts a fresh one.
"""

from __future__ import annotations

import os
import shutil
import threading

import plotly.graph_objects as go

from casestudy.errors import UserError
from casestudy.reports.table2 import Table2, fmt

# Colour-blind-safe scales: a sequential scale whose lightness rises monotonically (cividis,
# designed to read the same with red-green colour blindness) for means, and ColorBrewer's
# purple-orange diverging scale (distinguishable in deuteranopia, protanopia and tritanopia) for
# the Likert distributions, orange below the midpoint and purple above.
SEQUENTIAL_SCALE = "Cividis"
DIVERGING_SCALE = "PuOr"
BAR_OUTLINE = {"color": "#777777", "width": 0.5}  # the near-white middle of the scale stays visible on white

# Labels are wrapped, not cut, and the margins and the height grow with them.
WRAP_CHARS = 50  # characters per line of an axis label
TITLE_WRAP_CHARS = 90
CHAR_PX = 7.5  # a generous average character width of plotly's 12 px font
LINE_PX = 15  # one line of a 12 px label
ROW_GAP_PX = 10


def wrap_label(text: str, width: int = WRAP_CHARS) -> str:
    """``text`` broken into lines of at most ``width`` characters (joined by plotly's ``<br>``);
    nothing is cut."""
    import textwrap

    lines = textwrap.wrap(str(text), width, break_long_words=True, break_on_hyphens=False)
    return "<br>".join(lines) if lines else str(text)


def _lines(label: str) -> list[str]:
    return label.split("<br>")


def _fit_labels(fig: go.Figure, labels: list[str], title: str, min_height: int = 450, legend_rows: int = 0) -> None:
    """Left margin from the longest label line, top margin from the title's lines, height from
    the labels' lines, so that no tick label or title is clipped at any label length."""
    longest = max((len(line) for label in labels for line in _lines(label)), default=0)
    # categories share the axis evenly: every row gets the room of the label with the most lines
    rows_px = len(labels) * (max((len(_lines(label)) for label in labels), default=1) * LINE_PX + ROW_GAP_PX)
    wrapped_title = wrap_label(title, TITLE_WRAP_CHARS)
    top = 40 + 22 * len(_lines(wrapped_title))
    bottom = 70 + 24 * legend_rows
    fig.update_layout(
        template="plotly_white",
        title={"text": wrapped_title, "x": 0.01, "xanchor": "left"},
        margin={"l": int(longest * CHAR_PX) + 30, "t": top, "b": bottom, "r": 40},
        height=max(min_height, rows_px + top + bottom),
    )
    fig.update_yaxes(automargin=True)


def heatmap(t: Table2) -> go.Figure:
    """Case x statement means on the sequential scale, each cell printed as 'mean (range)'."""
    z = [[None if t.cell(i, c).mean is None else float(t.cell(i, c).mean) for c in t.cases] for i in t.items]
    text = [[t.formatted_cell(i, c) for c in t.cases] for i in t.items]
    labels = [wrap_label(i) for i in t.items]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in t.cases], y=labels, text=text, texttemplate="%{text}",
        zmin=t.scale.min, zmax=t.scale.max, colorscale=SEQUENTIAL_SCALE, colorbar={"title": "mean"},
        hovertemplate="case %{x}<br>%{y}<br>mean (range) %{text}<extra></extra>",
    ))
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"title": "case"})
    _fit_labels(fig, labels, f"Mean expert rating per case and statement ({t.scale.text()} scale)")
    return fig


def diverging_bars(t: Table2, item: str | None = None) -> go.Figure:
    """Per case the share of ratings per scale point, centred on the scale midpoint."""
    items = [item] if item else list(t.items)
    points = list(range(t.scale.min, t.scale.max + 1))
    mid = (t.scale.min + t.scale.max) / 2
    colours = diverging_colours(len(points))
    labels = [wrap_label(f"{i} / {c}") for i in items for c in t.cases] if len(items) > 1 else [str(c) for c in t.cases]
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
        fig.add_trace(go.Bar(y=labels, x=x, name=_point_name(t, p), orientation="h", marker={"color": colours[points.index(p)], "line": BAR_OUTLINE},
                             legendgroup=str(p), hovertemplate=f"{_point_name(t, p)}: %{{customdata:.1f}}%<extra></extra>", customdata=values))
    for p in points:
        values = shares[p]
        if p > mid:
            x = values
        elif p == mid:
            x = [v / 2 for v in values]
        else:
            continue
        fig.add_trace(go.Bar(y=labels, x=x, name=_point_name(t, p), orientation="h", marker={"color": colours[points.index(p)], "line": BAR_OUTLINE},
                             legendgroup=str(p), showlegend=p != mid, hovertemplate=f"{_point_name(t, p)}: %{{customdata:.1f}}%<extra></extra>", customdata=values))
    # the legend below the axis title, in the bottom margin (which grows with its rows)
    fig.update_layout(barmode="relative", legend={"orientation": "h", "yref": "container", "y": 0.005, "yanchor": "bottom", "x": 0.01},
                      xaxis={"title": "% of ratings (left: below the scale midpoint, right: above)"}, yaxis={"autorange": "reversed"})
    _fit_labels(fig, labels, "Distribution of the ratings per case" + (f": {item}" if item else ""), legend_rows=2)
    return fig


def _point_name(t: Table2, p: int) -> str:
    return t.scale.point_label(p)


def diverging_colours(k: int) -> list[str]:
    """``k`` colours of the diverging scale, lowest point first (the middle one neutral)."""
    from plotly.colors import sample_colorscale

    return sample_colorscale(DIVERGING_SCALE, [i / (k - 1) for i in range(k)]) if k > 1 else ["#888888"]


def ranking_chart(r) -> go.Figure:
    labels = [wrap_label(x.determinant) for x in r.ranking]
    fig = go.Figure(go.Bar(
        x=[x.n_experts for x in r.ranking], y=labels, orientation="h", marker_color=sample_sequential(0.35),
        text=[f"n = {x.n_experts} ({fmt(x.percent, 0)}%)" for x in r.ranking], textposition="auto",
        hovertemplate="%{y}: %{x} experts<extra></extra>",
    ))
    fig.update_layout(xaxis={"title": "experts naming the determinant (n)", "dtick": 1}, yaxis={"autorange": "reversed"})
    _fit_labels(fig, labels, f"Determinants named by at least {r.threshold} of {r.experts} experts")
    return fig


def integration_heatmap(view) -> go.Figure:
    """Ranked determinant x case (a ``reports.integration.Integration``): the colour is the number
    of codings of the mapped code in the case's interviews (sequential colour-blind-safe scale),
    each cell printed as 'codings (respondents)' with a ■ when Table 1 names the determinant;
    an unmapped determinant's row stays empty."""
    labels = [wrap_label(f"{r.rank}. {r.determinant} (n = {r.n_experts})") for r in view.rows]
    z = [[c.codings if r.code_id is not None else None for c in r.cells] for r in view.rows]
    text = [[("" if r.code_id is None else f"{c.codings} ({c.respondents})") + (" ■" if c.in_table1 else "") for c in r.cells]
            for r in view.rows]
    hover = [[f"{c.codings} coding(s) by {c.respondents} respondent(s)" + (f": {', '.join(c.roles)}" if c.roles else "")
              + ("<br>named in Table 1: " + "; ".join(c.table1_labels) if c.in_table1 else "<br>not in Table 1")
              + ("" if r.code_id is not None else "<br>no code mapped") for c in r.cells] for r in view.rows]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(view.cases), y=labels, text=text, texttemplate="%{text}", customdata=hover, zmin=0,
        colorscale=SEQUENTIAL_SCALE, colorbar={"title": "codings"}, xgap=2, ygap=2,
        hovertemplate="%{x}<br>%{y}<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"side": "top"})
    _fit_labels(fig, labels, "Ranked determinants in the cases: codings (respondents) of the mapped code; ■ = named in Table 1")
    return fig


def sample_sequential(position: float) -> str:
    """One colour of the sequential scale (0 = its lowest end, 1 = its highest)."""
    from plotly.colors import sample_colorscale

    return sample_colorscale(SEQUENTIAL_SCALE, [position])[0]


def _ensure_browser() -> None:
    if not os.environ.get("BROWSER_PATH"):
        for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or ""):
            if candidate and os.path.exists(candidate):
                os.environ["BROWSER_PATH"] = candidate
                break


# kaleido's sync server answers one request at a time through shared queues: concurrent callers
# (several page sessions) must not interleave, or one could receive another's image.
_RENDER_LOCK = threading.Lock()


def start_renderer() -> None:
    """Start the process's kaleido server (and its Chromium) if it is not running; idempotent."""
    import kaleido

    _ensure_browser()
    with _RENDER_LOCK:
        # No MathJax (no figure here uses LaTeX): its default is a CDN script the page would wait for.
        kaleido.start_sync_server(mathjax=False, silence_warnings=True)


def warm_up_renderer() -> threading.Thread:
    """Start the renderer and draw one tiny figure in a background thread, so that the first
    PNG/SVG a user asks for does not wait for Chromium; errors surface at the real export."""

    def run():
        # a small heatmap with cell texts and a bar chart, in both formats: the first real export
        # then finds plotly.js's code for them already compiled in the page (2.4 s -> 0.5 s here)
        samples = (go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], text=[["a", "b"], ["c", "d"]], texttemplate="%{text}", colorscale=SEQUENTIAL_SCALE)),
                   go.Figure(go.Bar(x=[1, -1], y=["a", "b"], orientation="h")))
        try:
            for sample in samples:
                for fmt_ in ("png", "svg"):
                    figure_bytes(sample, fmt_, width=400, height=300)
        except UserError:
            pass

    thread = threading.Thread(target=run, name="kaleido-warm-up", daemon=True)
    thread.start()
    return thread


def stop_renderer() -> None:
    import kaleido

    with _RENDER_LOCK:
        kaleido.stop_sync_server(silence_warnings=True)


def figure_bytes(fig: go.Figure, fmt_: str, width: int = 1000, height: int | None = None, self_contained: bool = True) -> bytes:
    """HTML (self-contained, or loading plotly.js from its CDN), PNG or SVG (through the
    process's kaleido server, started on first use); the height defaults to the figure's own
    (grown with its labels), else 600 px."""
    if fmt_ == "html":
        return fig.to_html(include_plotlyjs=True if self_contained else "cdn", full_html=True).encode("utf-8")
    if fmt_ not in ("png", "svg"):
        raise UserError(f"unknown figure format {fmt_!r}; use html, png or svg")
    import kaleido

    height = height or fig.layout.height or 600
    try:
        start_renderer()
        with _RENDER_LOCK:
            return kaleido.calc_fig_sync(fig.to_dict(), opts={"format": fmt_, "width": width, "height": height, "scale": 1})
    except Exception as exc:  # kaleido/chromium missing or failing: the next export starts afresh
        stop_renderer()
        raise UserError(f"could not render {fmt_.upper()} (kaleido needs Chromium; set BROWSER_PATH): {exc}") from exc
