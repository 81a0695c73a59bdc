"""The engine graph as a Plotly figure: nodes coloured by precision (or by change against a baseline).

Pure Plotly, no Streamlit: the Graph page and the offline report draw the same figure.

Marks, so the eye finds the float islands and glue first:
* colour: compute precision (the same palette as every other chart), the aligned group's
  precision change against the baseline, or the quantization error (each layer's SQNR against
  the float model, in bands; a folded group takes its noisiest layer's);
* symbol: circle = layer, square = folded group, diamond = reformat, triangle = quantize,
  star = network input/output;
* a thick red outline: the layer is not in the requested precision (hover says why);
* size: time (or weight bytes), square-root scaled so small layers stay visible.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from layerlens.views.figures import PRECISION_COLORS, PRECISION_ORDER, _titled
from engine_core.graph.layout import GraphLayout
from engine_core.graph.model import EngineGraph
from engine_core.precision import PRECISION_RANK

FALLBACK_OUTLINE = "#c62828"
HIGHLIGHT_OUTLINE = "#111111"
WEBGL_ABOVE = 1500        # nodes; SVG scatter is crisper and supports every marker below this
LABELS_UP_TO = 400        # drawn nodes that still get a text label (the view shows ~45 ranks at a time)
VISIBLE_RANKS = 45        # ranks on screen at first; pan or zoom out for the rest
CHANGE_COLORS = {"same": "#9e9e9e", "only here": "#8e44ad", "lower": "#2e7d32", "higher": "#c62828", "other": "#f9a825"}
#: Quantization-error bands (lower bound in dB, colour), best first; NaN is "not measured".
ERROR_BANDS = (("identical", math.inf, "#1b7837"), ("≥ 50 dB", 50.0, "#5aae61"), ("40–50 dB", 40.0, "#a6dba0"),
               ("30–40 dB", 30.0, "#fee08b"), ("20–30 dB", 20.0, "#fdae61"), ("< 20 dB", -math.inf, "#d73027"))
ERROR_OTHER = {"not measured": "#d9d9d9", "network I/O": "#9e9e9e"}


def make_engine_graph_figure(graph: EngineGraph, layout: GraphLayout, colour_by: str = "precision",
                             size_by: str = "ms", highlight: set[int] | None = None, provenance: str = "",
                             title: str = "Engine graph", focus_rank: float | None = None) -> go.Figure:
    """Scatter of nodes over line segments of edges; ``customdata[0]`` is the node id (for click handling)."""
    nodes = graph.nodes.assign(_x=layout.x, _y=layout.y)
    fig = go.Figure()
    scatter = go.Scattergl if len(nodes) > WEBGL_ABOVE else go.Scatter
    fig.add_trace(scatter(x=_segments(graph.edges, layout.x), y=_segments(graph.edges, layout.y),
                          mode="lines", line=dict(color="#b0b7c3", width=1), hoverinfo="skip", showlegend=False))
    span = min(layout.ranks, VISIBLE_RANKS)
    height = int(min(max(span * 22 + 140, 420), 1100))
    biggest = max(10.0, min(30.0, 0.8 * (height - 140) / max(span, 1)))  # neighbours in a chain must not overlap
    sizes = _sizes(nodes[size_by] if size_by in nodes else pd.Series(0.0, index=nodes.index), biggest)
    highlight = highlight or set()
    categories = _categories(nodes, colour_by)
    labelled = len(nodes) <= LABELS_UP_TO
    for category, colour in _palette(categories, colour_by):
        part = nodes[categories == category]
        if part.empty:
            continue
        lit = part["node"].isin(highlight).to_numpy()
        # The legend shows a plain circle per colour: the first node's symbol (a reformat's diamond) would mislead.
        fig.add_trace(scatter(x=[None], y=[None], mode="markers", name=category, legendgroup=category,
                              marker=dict(color=colour, size=11, symbol="circle")))
        fig.add_trace(scatter(
            x=part["_x"], y=part["_y"], mode="markers+text" if labelled else "markers", name=category,
            legendgroup=category, showlegend=False,
            text=[_short(n) for n in part["name"]] if labelled else None, textposition="middle right",
            textfont=dict(size=10, color="#444"),
            marker=dict(color=colour, size=sizes[part.index] + lit * 6, symbol=[_symbol(r) for r in part.itertuples()],
                        line=dict(color=np.where(lit, HIGHLIGHT_OUTLINE, np.where(part["is_fallback"], FALLBACK_OUTLINE, "white")),
                                  width=np.where(lit | part["is_fallback"].to_numpy(), 3, 1))),
            customdata=np.stack([part["node"].to_numpy(), [_hover(r) for r in part.itertuples()]], axis=-1),
            hovertemplate="%{customdata[1]}<extra></extra>"))
    top = 0.5
    if focus_rank is not None and layout.ranks > VISIBLE_RANKS:
        top = min(0.5, focus_rank + span / 2)
    x_low, x_high = (float(layout.x.min()), float(layout.x.max())) if len(layout.x) else (0.0, 1.0)
    room = max(1.0, (x_high - x_low) * 0.3) if labelled else 0.5  # labels sit right of their node
    fig = _titled(fig, title, provenance)
    # After _titled, whose legend sits below the plot: here it goes on top, under the title.
    fig.update_layout(height=height, dragmode="pan", hovermode="closest", clickmode="event+select", margin=dict(t=110),
                      xaxis=dict(visible=False, range=[x_low - 0.5, x_high + room]),
                      yaxis=dict(visible=False, range=[top - span - 0.5, top]),
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", title_text=_legend_title(colour_by)))
    return fig


def _segments(edges: pd.DataFrame, coord: np.ndarray) -> np.ndarray:
    """Edge endpoints interleaved with NaN breaks: one trace draws every edge."""
    if edges.empty:
        return np.array([])
    out = np.full(len(edges) * 3, np.nan)
    out[0::3] = coord[edges["src"].to_numpy()]
    out[1::3] = coord[edges["dst"].to_numpy()]
    return out


def _sizes(values: pd.Series, biggest: float) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").fillna(0).clip(lower=0)
    top, smallest = v.max(), min(8.0, biggest)
    return (smallest + (biggest - smallest) * np.sqrt(v / top)) if top > 0 else pd.Series(smallest + 2, index=v.index)


def _categories(nodes: pd.DataFrame, colour_by: str) -> pd.Series:
    if colour_by == "error":
        return error_bands(nodes["sqnr_db"]).where(~nodes["kind"].isin(["input", "output"]), "network I/O")
    if colour_by != "change" or nodes["change"].isna().all():
        return nodes["precision"].fillna("NONE")
    return nodes["change"].fillna("network I/O")


def error_bands(sqnr: pd.Series) -> pd.Series:
    """Each SQNR's band label (:data:`ERROR_BANDS`), ``not measured`` for NaN: one vectorised cut."""
    values = pd.to_numeric(sqnr, errors="coerce").to_numpy(dtype=float)
    bounds = [b for _, b, _ in ERROR_BANDS]            # descending
    index = np.searchsorted(-np.array(bounds), -values, side="left")  # first band whose bound <= value
    labels = np.array([name for name, _, _ in ERROR_BANDS] + ["not measured"], dtype=object)
    return pd.Series(labels[np.where(np.isnan(values), len(ERROR_BANDS), np.minimum(index, len(ERROR_BANDS) - 1))],
                     index=sqnr.index)


def _palette(categories: pd.Series, colour_by: str) -> list[tuple[str, str]]:
    present = list(dict.fromkeys(categories))
    if colour_by == "error":
        order = [(name, colour) for name, _, colour in ERROR_BANDS] + list(ERROR_OTHER.items())
        return [(name, colour) for name, colour in order if name in present]
    if colour_by != "change" or all(c in PRECISION_COLORS for c in present):
        return [(p, PRECISION_COLORS.get(p, "#d9d9d9")) for p in sorted(present, key=lambda p: PRECISION_ORDER.index(p)
                                                                           if p in PRECISION_ORDER else 99)]
    return [(c, _change_colour(c)) for c in sorted(present)]


def _change_colour(change: str) -> str:
    if change in CHANGE_COLORS:
        return CHANGE_COLORS[change]
    if "->" in change:
        a, b = change.split("->", 1)
        if a in PRECISION_RANK and b in PRECISION_RANK:
            return CHANGE_COLORS["lower" if PRECISION_RANK[b] < PRECISION_RANK[a] else "higher"]
        return CHANGE_COLORS["other"]
    return "#d9d9d9"


def _legend_title(colour_by: str) -> str:
    return {"change": "precision change vs baseline:", "error": "SQNR vs float model:"}.get(colour_by, "compute precision:")


def _symbol(row) -> str:
    if row.kind in ("input", "output"):
        return "star"
    if row.kind == "group" and row.members > 1:
        return "square"
    if row.is_reformat:
        return "diamond"
    if row.is_quantize:
        return "triangle-up"
    return "circle"


def _short(name: str, width: int = 28) -> str:
    text = str(name)
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _hover(row) -> str:
    lines = [f"<b>{_esc(row.name)[:90]}</b>", f"{_esc(row.layer_type)} · {row.precision}"
             + (f" → out {row.output_precision}" if row.output_precision and row.output_precision != row.precision else "")]
    if row.kind == "group":
        lines.append(f"precisions: {row.mix}")
        if row.reformats:
            lines.append(f"{row.reformats} reformat{'s' if row.reformats != 1 else ''}")
    if pd.notna(row.ms):
        lines.append(f"{row.ms:.4f} ms")
    if row.bytes:
        lines.append(f"{row.bytes / 2**20:.2f} MiB weights")
    marks = [m for m, on in (("reformat", row.is_reformat and row.kind != "group"), ("quantize", row.is_quantize)) if on]
    if marks:
        lines.append(" · ".join(marks))
    if isinstance(row.change, str):
        lines.append(f"vs baseline: {row.change}")
    if not np.isnan(row.sqnr_db):
        lines.append("SQNR vs float model: " + ("identical" if row.sqnr_db == math.inf else f"{row.sqnr_db:.1f} dB"))
    if isinstance(row.reason, str) and row.reason:
        lines.append(f"<span style='color:{FALLBACK_OUTLINE}'>{'not in the requested precision: ' if row.is_fallback else ''}"
                     f"{_esc(row.reason)[:120]}</span>")
    return "<br>".join(lines)


def _esc(text) -> str:
    return str(text).replace("<", "&lt;").replace(">", "&gt;")
