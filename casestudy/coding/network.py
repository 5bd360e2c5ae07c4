"""The network of one case's code relations as a plotly figure: codes are nodes, relations edges.

Nodes are labelled by the code's name (the full path on hover). Each relation type has its own colour (Okabe-Ito, colour-blind safe) and line style, and every
edge carries its type as a text label at its middle, so the picture never relies on colour alone;
directed types end in an arrow. plotly is imported when a figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Per relation type: (colour, dash), colour-blind safe and told apart by line style as well.
RELATION_STYLE = {
    "reinforces": ("#009E73", "solid"),
    "weakens": ("#D55E00", "dash"),
    "causes": ("#0072B2", "solid"),
    "co-occurs": ("#7F7F7F", "dot"),
}


def node_positions(codes: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Codes evenly on a circle (in the order given), so no two nodes overlap."""
    count = max(len(codes), 1)
    return {code: (math.cos(2 * math.pi * i / count), math.sin(2 * math.pi * i / count)) for i, code in enumerate(codes)}


def relation_figure(rows: Sequence[dict], title: str = ""):
    """A plotly figure of relation rows (:func:`casestudy.coding.relations.relations`, one case)."""
    import plotly.graph_objects as go

    codes = sorted({r["source"] for r in rows} | {r["target"] for r in rows})
    where = node_positions(codes)
    figure = go.Figure()
    shown_kinds = set()
    for number, row in enumerate(rows):
        colour, dash = RELATION_STYLE[row["kind"]]
        (x0, y0), (x1, y1) = where[row["source"]], where[row["target"]]
        figure.add_trace(go.Scatter(
            x=[x0, x1], y=[y0, y1], mode="lines", line={"color": colour, "width": 2 + min(len(row["evidence"]), 4), "dash": dash},
            name=row["kind"], legendgroup=row["kind"], showlegend=row["kind"] not in shown_kinds, hoverinfo="skip",
        ))
        shown_kinds.add(row["kind"])
        evidence = f"{len(row['evidence'])} coding(s)" if row["evidence"] else "no evidence yet"
        along = 0.4 if number % 2 == 0 else 0.6  # edges that cross in the middle keep their labels apart
        figure.add_annotation(x=x0 + along * (x1 - x0), y=y0 + along * (y1 - y0), text=f"{row['kind']}<br><sup>{evidence}</sup>", showarrow=False,
                              font={"color": colour, "size": 12}, bgcolor="rgba(255,255,255,0.85)")
        if row["directed"]:
            figure.add_annotation(x=x0 + 0.85 * (x1 - x0), y=y0 + 0.85 * (y1 - y0), ax=x0 + 0.6 * (x1 - x0), ay=y0 + 0.6 * (y1 - y0),
                                  xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.5,
                                  arrowwidth=2, arrowcolor=colour, text="")
    figure.add_trace(go.Scatter(
        x=[where[c][0] for c in codes], y=[where[c][1] for c in codes], mode="markers+text", text=[c.rsplit("/", 1)[-1] for c in codes],
        textposition="top center", marker={"size": 18, "color": "#FFFFFF", "line": {"color": "#333333", "width": 2}},
        hovertext=codes, hoverinfo="text", showlegend=False,
    ))
    figure.update_layout(title=title, xaxis={"visible": False, "range": [-1.5, 1.5]}, yaxis={"visible": False, "range": [-1.4, 1.4]},
                         legend={"title": "relation"}, height=520, margin={"l": 20, "r": 20, "t": 50, "b": 20}, plot_bgcolor="white")
    return figure
