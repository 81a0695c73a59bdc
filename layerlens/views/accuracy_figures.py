"""Accuracy figures: per-layer SQNR along the network, and size/latency against output SQNR (the Pareto view).

Pure Plotly, DataFrame in, figure out; the CLI report and the dashboard draw the same ones.
Every title names the inputs the numbers came from ("synthetic inputs" or the data), and
a roofline latency says "estimate".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layerlens.views.figures import PRECISION_COLORS, PRECISION_ORDER, _titled

MAX_NODES = 3000   # above this, each bucket of nodes shows its worst one


def make_layer_sqnr_figure(nodes: pd.DataFrame, output_sqnr: float, inputs_label: str, provenance: str = "") -> go.Figure:
    """SQNR of every compared ONNX node in graph order, coloured by its precision in the candidate, with the
    local SQNR (the noise the node adds itself) as open markers and the output's SQNR as a line."""
    shown = nodes.reset_index(drop=True).assign(position=np.arange(len(nodes)))
    finite = shown[np.isfinite(shown["sqnr_db"])]
    if len(finite) > MAX_NODES:
        bucket = finite["position"] * MAX_NODES // max(len(shown), 1)
        finite = finite.loc[finite.groupby(bucket)["sqnr_db"].idxmin()]
    fig = go.Figure()
    for precision in [p for p in PRECISION_ORDER if p in set(finite["precision"])]:
        part = finite[finite["precision"] == precision]
        fig.add_trace(go.Scatter(
            x=part["position"], y=part["sqnr_db"], mode="markers", name=f"{precision} (output SQNR)",
            marker=dict(color=PRECISION_COLORS.get(precision, "#999"), size=8, line=dict(color="white", width=1)),
            customdata=np.stack([part["onnx_node"], part["op_type"], part["local_sqnr_db"].map(_db)], axis=-1),
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} · " + precision +
                          "<br>SQNR %{y:.1f} dB<br>local SQNR %{customdata[2]}<extra></extra>"))
    local = finite[np.isfinite(finite["local_sqnr_db"])]
    if not local.empty:
        fig.add_trace(go.Scatter(x=local["position"], y=local["local_sqnr_db"], mode="markers", name="local SQNR",
                                 marker=dict(symbol="circle-open", color="#555", size=7), hoverinfo="skip"))
    if math.isfinite(output_sqnr):
        fig.add_hline(y=output_sqnr, line=dict(color="#c62828", dash="dash"),
                      annotation_text=f"model output {output_sqnr:.1f} dB", annotation_position="bottom right")
    identical = int((shown["sqnr_db"] == math.inf).sum())
    fig.update_layout(height=380, xaxis_title="ONNX node, in graph order", yaxis_title="SQNR vs baseline (dB)",
                      hovermode="closest")
    note = f" · {identical} identical nodes not drawn" if identical else ""
    return _titled(fig, f"Per-layer SQNR vs the float model ({inputs_label}; higher is closer){note}", provenance)


def make_accuracy_tradeoff_figure(points: pd.DataFrame, front_size: pd.Series, front_latency: pd.Series,
                                  inputs_label: str, provenance: str = "", highlight: set[str] | None = None) -> go.Figure:
    """Two panels: engine MiB and latency against output SQNR, one marker per build, the Pareto front joined.

    ``points`` is :func:`engine_core.accuracy.tradeoff.tradeoff_points` output; builds identical to the float
    model (infinite SQNR) sit at the right edge, labelled so.
    """
    highlight = highlight or set()
    finite = points["sqnr_db"][np.isfinite(points["sqnr_db"])]
    edge = (finite.max() if not finite.empty else 40.0) + 10.0
    x = points["sqnr_db"].where(np.isfinite(points["sqnr_db"]), edge)
    bases = points["latency_basis"].dropna()
    estimated = bases[bases.str.startswith("estimate")]
    # An estimate is labelled as one, with the model and its error band (the basis names them).
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "engine size", "latency" + (f" ({estimated.iloc[0]})" if not estimated.empty else "")))
    for col, (column, front, scale, unit) in enumerate(((("engine_bytes"), front_size, 2**20, "MiB"),
                                                        ("latency_ms", front_latency, 1.0, "ms")), start=1):
        y = points[column] / scale
        labels = [f"{n}" for n in points["name"]]
        sqnr_text = [("identical" if not math.isfinite(s) else f"{s:.1f} dB") for s in points["sqnr_db"]]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers+text", text=[_short(n) for n in labels], textposition=_label_positions(x, y),
            textfont=dict(size=9, color="#555"), name=f"builds ({unit})", showlegend=col == 1,
            marker=dict(size=[14 if n in highlight else 10 for n in points["name"]],
                        color=["#c62828" if n in highlight else "#4393c3" for n in points["name"]],
                        line=dict(color="white", width=1)),
            customdata=np.stack([labels, sqnr_text, points["recipe"].fillna("?"), points["kept"]], axis=-1),
            hovertemplate="<b>%{customdata[0]}</b><br>recipe %{customdata[2]} · kept %{customdata[3]}<br>"
                          "output SQNR %{customdata[1]}<br>%{y:.4f} " + unit + "<extra></extra>"), row=1, col=col)
        on = points[front.reindex(points.index, fill_value=False)].sort_values(column)
        if len(on) > 1:
            fig.add_trace(go.Scatter(x=x[on.index], y=on[column] / scale, mode="lines", name="Pareto front",
                                     line=dict(color="#2e7d32", dash="dot"), showlegend=col == 1, hoverinfo="skip"),
                          row=1, col=col)
        fig.update_xaxes(title_text="output SQNR vs FP32 (dB)", row=1, col=col)
        fig.update_yaxes(title_text=unit, row=1, col=col)
    if (~np.isfinite(points["sqnr_db"])).any():
        fig.add_annotation(x=edge, y=1.0, yref="paper", text="identical →", showarrow=False, font=dict(size=10))
    fig.update_layout(height=420)
    return _titled(fig, f"Size and speed against accuracy, every build of the model ({inputs_label})", provenance)


#: Where a build's label goes, tried in order: the first place no nearer-listed neighbour's label took.
_LABEL_PLACES = ("top center", "bottom center", "middle right", "middle left")


def _label_positions(x: pd.Series, y: pd.Series, near: float = 0.08) -> list[str]:
    """A label place per point so that builds sitting close together (two INT8 recipes of one model: the same
    latency, SQNR a dB apart) do not print their names over each other; ``near`` is a share of each axis's range."""
    def scaled(values: pd.Series) -> np.ndarray:  # 0..1 over the axis; an unknown value (NaN) is near nothing
        values = values.astype(float)
        span = values.max() - values.min()
        return ((values - values.min()) / span).to_numpy() if span > 0 else np.zeros(len(values))

    sx, sy = scaled(x), scaled(y)
    places: list[str] = []
    for i in range(len(sx)):
        taken = {places[j] for j in range(i) if abs(sx[i] - sx[j]) < near and abs(sy[i] - sy[j]) < near}
        places.append(next((p for p in _LABEL_PLACES if p not in taken), _LABEL_PLACES[0]))
    return places


def _db(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.1f} dB"


def _short(name: str, width: int = 26) -> str:
    text = str(name)
    return text if len(text) <= width else "…" + text[-(width - 1):]
