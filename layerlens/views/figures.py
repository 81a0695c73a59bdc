"""Pure Plotly figure builders: DataFrame in, ``go.Figure`` out. No Streamlit here.

Every figure carries its provenance (engine, GPU, TensorRT, precision, shapes)
in a subtitle, so a PNG from Plotly's camera button is self-explaining when it
is pasted into an issue. Estimated quantities say "estimate" in their titles.
Bar charts never draw more than :data:`MAX_BARS` bars: callers aggregate first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from engine_core.analysis.size import KERNEL_CONSTANTS, PADDING, REST, UNITEMISED

MAX_BARS = 300
PRECISION_COLORS = {
    "INT4": "#1b7837", "FP4": "#1b7837", "INT8": "#5aae61", "FP8": "#a6dba0", "FP16": "#4393c3", "BF16": "#92c5de",
    "TF32": "#f4a582", "FP32": "#d6604d", "INT32": "#8c8c8c", "INT64": "#6e6e6e", "BOOL": "#b0b0b0", "NONE": "#d9d9d9",
}
PRECISION_ORDER = list(PRECISION_COLORS)


def _titled(fig: go.Figure, title: str, provenance: str = "") -> go.Figure:
    text = f"{title}<br><sup>{provenance}</sup>" if provenance else title
    fig.update_layout(title=dict(text=text, x=0.0, xanchor="left"), margin=dict(t=70, l=10, r=10, b=10),
                      legend=dict(orientation="h", y=-0.15))
    _white(fig)
    return fig


def _white(fig: go.Figure) -> None:
    """Give ``fig`` the ``plotly_white`` template, unvalidated: the registered template is already valid, and
    validating it again builds an object for every trace type Plotly knows (40-300 ms a figure on two busy cores,
    most of the Latency page's drawing time). Plotly applies its default template the same way
    (``BaseFigure._initialize_layout_template``); the figure's JSON is the same as with ``template="plotly_white"``."""
    fig.layout._validate = False
    try:
        fig.layout.template = pio.templates["plotly_white"]
    finally:
        fig.layout._validate = fig._validate


def _color(precision: str) -> str:
    return PRECISION_COLORS.get(precision, "#d9d9d9")


def make_precision_share_figure(by_precision: pd.DataFrame, provenance: str = "") -> go.Figure:
    """One stacked horizontal bar: share of per-layer time per compute precision."""
    frame = by_precision.assign(_rank=by_precision["compute_precision"].map(PRECISION_ORDER.index))
    fig = go.Figure()
    for row in frame.sort_values("_rank").itertuples():
        fig.add_trace(go.Bar(y=["time"], x=[row.share_pct], name=row.compute_precision, orientation="h",
                             marker_color=_color(row.compute_precision),
                             text=f"{row.compute_precision} {row.share_pct:.0f}%", textposition="inside",
                             hovertemplate=f"{row.compute_precision}: {row.time_ms:.4f} ms ({row.share_pct:.1f}%), "
                                           f"{row.layers} layers<extra></extra>"))
    fig.update_layout(barmode="stack", height=170, xaxis=dict(title="% of per-layer time", range=[0, 100]),
                      yaxis=dict(visible=False), showlegend=False)
    return _titled(fig, "Share of time per compute precision", provenance)


def make_waterfall_figure(waterfall: pd.DataFrame, provenance: str = "") -> go.Figure:
    """Per-layer waterfall in execution order; bars start where the previous layer ended.

    ``waterfall`` is :func:`engine_core.analysis.latency.waterfall` output (at most
    :data:`MAX_BARS` rows: aggregate with ``aggregate_waterfall`` first).
    """
    if len(waterfall) > MAX_BARS:
        raise ValueError(f"{len(waterfall)} bars: aggregate to at most {MAX_BARS} first")
    fig = go.Figure()
    for precision, part in waterfall.groupby("compute_precision", sort=False):
        fig.add_trace(go.Bar(
            x=part["order"], y=part["avg_ms"], base=part["start_ms"], name=precision, marker_color=_color(precision),
            customdata=np.stack([part["name"], part["layer_type"], part["end_ms"]], axis=-1),
            hovertemplate="#%{x} %{customdata[0]}<br>%{customdata[1]}: %{y:.4f} ms<br>cumulative %{customdata[2]:.4f} ms<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0.05, xaxis_title="layer (execution order)", yaxis_title="cumulative ms", height=420)
    return _titled(fig, "Latency waterfall", provenance)


def make_bucket_waterfall_figure(buckets: pd.DataFrame, provenance: str = "") -> go.Figure:
    """Aggregated waterfall for big engines: one bar per bucket of consecutive layers."""
    labels = [f"{a}-{b}" for a, b in zip(buckets["first_order"], buckets["last_order"])]
    fig = go.Figure(go.Bar(
        x=labels, y=buckets["avg_ms"], base=buckets["start_ms"], marker_color="#4393c3",
        customdata=np.stack([buckets["layers"], buckets["top_layer"]], axis=-1),
        hovertemplate="layers %{x} (%{customdata[0]})<br>%{y:.4f} ms<br>largest: %{customdata[1]}<extra></extra>"))
    fig.update_layout(xaxis_title="layers (execution order buckets)", yaxis_title="cumulative ms", height=420, bargap=0.05)
    return _titled(fig, f"Latency waterfall ({buckets['layers'].sum()} layers in {len(buckets)} buckets)", provenance)


def make_time_by_figure(by: pd.DataFrame, column: str, provenance: str = "", title: str | None = None) -> go.Figure:
    """Bars of time per group (layer type or precision), largest first."""
    frame = by.head(MAX_BARS).iloc[::-1]
    colors = [_color(v) for v in frame[column]] if column == "compute_precision" else "#4393c3"
    fig = go.Figure(go.Bar(x=frame["time_ms"], y=frame[column].astype(str), orientation="h", marker_color=colors,
                           text=[f"{s:.1f}%" for s in frame["share_pct"]], textposition="outside",
                           customdata=frame["layers"], hovertemplate="%{y}: %{x:.4f} ms, %{customdata} layers<extra></extra>"))
    fig.update_layout(xaxis_title="ms (per-layer profile)", height=max(220, 28 * len(frame) + 100))
    return _titled(fig, title or f"Time by {column.replace('_', ' ')}", provenance)


def make_top_layers_figure(top: pd.DataFrame, provenance: str = "") -> go.Figure:
    frame = top.iloc[::-1]
    labels = [f"#{o} {n[:60]}" for o, n in zip(frame["order"], frame["name"])]
    fig = go.Figure(go.Bar(x=frame["avg_ms"], y=labels, orientation="h",
                           marker_color=[_color(p) for p in frame["compute_precision"]],
                           hovertemplate="%{y}: %{x:.4f} ms<extra></extra>"))
    fig.update_layout(xaxis_title="ms", height=max(260, 26 * len(frame) + 100))
    return _titled(fig, f"Top {len(frame)} layers by time", provenance)


def make_precision_sunburst_figure(layers: pd.DataFrame, value: str, provenance: str = "") -> go.Figure:
    """Sunburst of precision -> layer type, sized by ``value`` (avg_ms or weights_bytes)."""
    frame = layers.assign(amount=layers[value].fillna(0)).groupby(["compute_precision", "layer_type"], dropna=False)["amount"].sum().reset_index()
    frame = frame[frame["amount"] > 0]
    ids, labels, parents, values, colors = [], [], [], [], []
    for precision, part in frame.groupby("compute_precision"):
        ids.append(precision)
        labels.append(precision)
        parents.append("")
        values.append(part["amount"].sum())
        colors.append(_color(precision))
        for row in part.itertuples():
            ids.append(f"{precision}/{row.layer_type}")
            labels.append(str(row.layer_type))
            parents.append(precision)
            values.append(row.amount)
            colors.append(_color(precision))
    fig = go.Figure(go.Sunburst(ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
                                marker=dict(colors=colors), hovertemplate="%{label}: %{value:.4g}<extra></extra>"))
    fig.update_layout(height=420)
    what = "time (ms)" if value == "avg_ms" else "weight bytes"
    return _titled(fig, f"{what.capitalize()} by precision and layer type", provenance)


def make_fallback_reasons_figure(summary: pd.DataFrame, provenance: str = "") -> go.Figure:
    frame = summary.iloc[::-1]
    fig = go.Figure(go.Bar(x=frame["layers"], y=frame["reason"], orientation="h", marker_color="#d6604d",
                           customdata=np.stack([frame["time_ms"].fillna(0), frame["reason_text"]], axis=-1),
                           hovertemplate="%{y}: %{x} layers, %{customdata[0]:.4f} ms<br>%{customdata[1]}<extra></extra>"))
    fig.update_layout(xaxis_title="layers", height=max(220, 34 * len(frame) + 100))
    return _titled(fig, "Layers not in the requested precision, by reason", provenance)


def make_size_components_figure(components: pd.DataFrame, ideal_bytes: int | None, requested: str | None,
                                provenance: str = "") -> go.Figure:
    """Stacked bar of what the engine file holds, beside the ideal weights at the requested precision."""
    fig = go.Figure()
    for row in components.itertuples():
        fig.add_trace(go.Bar(x=["this engine"], y=[row.bytes / 2**20], name=row.component,
                             marker_color=component_color(row.component),
                             hovertemplate=f"{row.component}: %{{y:.2f}} MiB<extra></extra>"))
    if ideal_bytes is not None and requested:
        fig.add_trace(go.Bar(x=[f"weights at {requested}"], y=[ideal_bytes / 2**20], name=f"ideal weights at {requested}",
                             marker_color="#5aae61", hovertemplate="%{y:.2f} MiB<extra></extra>"))
    fig.update_layout(barmode="stack", yaxis_title="MiB", height=400)
    return _titled(fig, "Where the engine's bytes go", provenance)


def make_bytes_by_figure(by: pd.DataFrame, column: str, provenance: str = "") -> go.Figure:
    """Bars of constant bytes (weights, bias, generated-kernel constants) per precision or layer type."""
    frame = by.head(MAX_BARS).iloc[::-1]
    colors = [_color(v) for v in frame[column]] if column == "precision" else "#4393c3"
    total = (frame["weights_bytes"] + frame["bias_bytes"] + frame["kernel_constants_bytes"]) / 2**20
    fig = go.Figure(go.Bar(x=total, y=frame[column].astype(str), orientation="h", marker_color=colors,
                           customdata=frame["layers"], hovertemplate="%{y}: %{x:.3f} MiB, %{customdata} layers<extra></extra>"))
    fig.update_layout(xaxis_title="MiB (weights, bias and generated-kernel constants)", height=max(220, 30 * len(frame) + 100))
    return _titled(fig, f"Constant bytes by {column.replace('_', ' ')}", provenance)


def make_bytes_diff_figure(diff: pd.DataFrame, a_name: str, b_name: str, provenance: str = "", top: int = 25) -> go.Figure:
    frame = diff.head(top).iloc[::-1]
    labels = [" + ".join(n)[:60] for n in frame["onnx_nodes"]]
    colors = ["#5aae61" if d < 0 else "#d6604d" for d in frame["delta_bytes"]]
    fig = go.Figure(go.Bar(x=frame["delta_bytes"] / 2**20, y=labels, orientation="h", marker_color=colors,
                           customdata=np.stack([frame["a_weights_precision"], frame["b_weights_precision"]], axis=-1),
                           hovertemplate="%{y}: %{x:+.3f} MiB (%{customdata[0]} -> %{customdata[1]})<extra></extra>"))
    fig.update_layout(xaxis_title=f"MiB change ({b_name} - {a_name})", height=max(260, 24 * len(frame) + 100))
    return _titled(fig, f"Weight bytes moved: {a_name} -> {b_name}", provenance)


def make_reconcile_figure(per_layer_ms: float, e2e_ms: float, provenance: str = "") -> go.Figure:
    fig = go.Figure(go.Bar(x=["sum of per-layer times", "GPU compute median (end to end)"], y=[per_layer_ms, e2e_ms],
                           marker_color=["#92c5de", "#4393c3"], text=[f"{per_layer_ms:.4f} ms", f"{e2e_ms:.4f} ms"],
                           textposition="outside"))
    fig.update_layout(yaxis_title="ms", height=330)
    return _titled(fig, "Reconciliation: per-layer sum vs end-to-end", provenance)


def make_stream_lanes_figure(layers: pd.DataFrame, provenance: str = "", max_segments: int = 150) -> go.Figure:
    """Lanes per CUDA stream, layers laid end to end within each stream (profile order).

    A lane with more than ``max_segments`` layers is drawn as buckets of
    consecutive layers (coloured by their dominant precision), never one bar per layer.
    """
    timed = layers.loc[layers["stream_id"].notna() & layers["avg_ms"].notna(),
                       ["stream_id", "order", "name", "compute_precision", "avg_ms"]].sort_values("order")
    fig = go.Figure()
    for stream, part in timed.groupby("stream_id"):
        size = max(1, int(np.ceil(len(part) / max_segments)))
        bucket = np.arange(len(part)) // size
        grouped = part.groupby(bucket)
        seg = grouped.agg(ms=("avg_ms", "sum"), first=("order", "min"), last=("order", "max"), layers=("name", "size"))
        # Each bucket's dominant precision: one groupby over (bucket, precision), not a pandas call per bucket.
        by_precision = part.groupby([bucket, part["compute_precision"].to_numpy()])["avg_ms"].sum()
        seg["precision"] = [key[1] for key in by_precision.groupby(level=0).idxmax()]
        seg["label"] = np.where(seg["layers"] == 1, part.groupby(bucket)["name"].first(),
                                "layers " + seg["first"].astype(str) + "-" + seg["last"].astype(str))
        starts = seg["ms"].cumsum() - seg["ms"]
        fig.add_trace(go.Bar(y=[f"stream {stream}"] * len(seg), x=seg["ms"], base=starts, orientation="h",
                             name=f"stream {stream}", marker_color=[_color(p) for p in seg["precision"]],
                             customdata=seg["label"], hovertemplate="%{customdata}: %{x:.4f} ms<extra></extra>"))
    fig.update_layout(barmode="overlay", xaxis_title="ms within stream", height=120 + 50 * max(1, timed["stream_id"].nunique()),
                      showlegend=False)
    return _titled(fig, "Stream lanes", provenance)


MAX_POINTS = 1500


def make_roofline_figure(roof: pd.DataFrame, gpu, provenance: str = "", max_points: int = MAX_POINTS) -> go.Figure:
    """Achieved TFLOP/s against arithmetic intensity, under the GPU's rooflines (estimate).

    Big engines show their ``max_points`` slowest layers: thousands of SVG markers
    take seconds to draw, and the slowest layers carry nearly all the time.
    """
    frame = roof[(roof["flops"] > 0) & (roof["avg_ms"] > 0) & roof["arithmetic_intensity"].notna()]
    note = ""
    if len(frame) > max_points:
        kept = frame.nlargest(max_points, "avg_ms")
        note = f" ({max_points:,} slowest of {len(frame):,} layers, {100 * kept['avg_ms'].sum() / frame['avg_ms'].sum():.0f}% of time)"
        frame = kept
    fig = go.Figure()
    if not frame.empty:
        ai = np.logspace(np.log10(max(frame["arithmetic_intensity"].min() / 2, 1e-2)),
                         np.log10(frame["arithmetic_intensity"].max() * 2), 60)
        for precision in [p for p in ("INT8", "FP16", "TF32", "FP32") if p in set(frame["compute_precision"]) or p == "FP32"]:
            peak = gpu.peak(precision)
            if peak:
                fig.add_trace(go.Scatter(x=ai, y=np.minimum(peak, ai * gpu.bandwidth) / 1e12, mode="lines",
                                         name=f"{precision} roof", line=dict(color=_color(precision), dash="dot")))
        for precision, part in frame.groupby("compute_precision"):
            fig.add_trace(go.Scatter(
                x=part["arithmetic_intensity"], y=part["achieved_tflops"], mode="markers", name=precision,
                marker=dict(color=_color(precision), size=8, line=dict(width=0.5, color="#333")),
                customdata=np.stack([part["name"], part["fraction_of_peak_pct"], part["bound"]], axis=-1),
                hovertemplate="%{customdata[0]}<br>%{y:.2f} TFLOP/s at %{x:.1f} FLOP/B<br>"
                              "%{customdata[1]:.0f}% of roofline, %{customdata[2]}-bound<extra></extra>"))
    fig.update_layout(xaxis=dict(type="log", title="arithmetic intensity (FLOP/byte)"),
                      yaxis=dict(type="log", title="achieved TFLOP/s"), height=460)
    label = f"{gpu.name}{' (derived from device info)' if gpu.derived else ''}"
    return _titled(fig, f"Roofline on {label}: estimate{note}", provenance)


#: Marker colours of the latency model's layer classes (engine_core.analysis.latency_model.LAYER_CLASSES).
CLASS_COLORS = {"matmul": "#4393c3", "shallow": "#92c5de", "pointwise": "#5aae61", "pool": "#a6dba0",
                "movement": "#f4a582", "reformat": "#d6604d", "unknown": "#8c8c8c", "none": "#d9d9d9"}


def make_measured_vs_estimated_figure(table: pd.DataFrame, model_label: str, outlier_ratio: float, gpu_name: str,
                                      provenance: str = "", max_points: int = MAX_POINTS) -> go.Figure:
    """Each measured layer's time against the latency model's estimate for it (log-log), by layer class.

    ``table`` is :func:`engine_core.analysis.estimate.measured_vs_estimated` output. On the diagonal the
    layer runs as the model expects; above the dashed line (``outlier_ratio`` x the estimate, where 90% of
    real layers stay) it is slower than the model can explain: red rings mark those layers.
    """
    frame = table[(table["measured_ms"] > 0) & (table["estimated_ms"] > 0)]
    note = ""
    if len(frame) > max_points:
        frame = frame.nlargest(max_points, "measured_ms")
        note = f" ({max_points:,} slowest layers)"
    fig = go.Figure()
    if not frame.empty:
        low = min(frame["measured_ms"].min(), frame["estimated_ms"].min()) / 1.5
        high = max(frame["measured_ms"].max(), frame["estimated_ms"].max()) * 1.5
        line = np.array([low, high])
        fig.add_trace(go.Scatter(x=line, y=line, mode="lines", name="as estimated", line=dict(color="#8c8c8c", width=1)))
        fig.add_trace(go.Scatter(x=line, y=line * outlier_ratio, mode="lines", name=f"{outlier_ratio:.2f}x the estimate",
                                 line=dict(color="#cf222e", width=1, dash="dash")))
        for cls, part in frame.groupby("layer_class", sort=False):
            fig.add_trace(go.Scatter(
                x=part["estimated_ms"], y=part["measured_ms"], mode="markers", name=cls,
                marker=dict(color=CLASS_COLORS.get(cls, "#d9d9d9"), size=8, line=dict(width=0.5, color="#333")),
                customdata=np.stack([part["name"], part["layer_type"].fillna("?"), part["compute_precision"], part["ratio"]], axis=-1),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]} %{customdata[2]}<br>measured %{y:.4f} ms, "
                              "estimated %{x:.4f} ms (%{customdata[3]:.2f}x)<extra></extra>"))
        slow = frame[frame["slower_than_model"]]
        if not slow.empty:
            fig.add_trace(go.Scatter(x=slow["estimated_ms"], y=slow["measured_ms"], mode="markers",
                                     name="slower than the model expects", hoverinfo="skip",
                                     marker=dict(size=15, color="rgba(0,0,0,0)", line=dict(width=2, color="#cf222e"))))
    fig.update_layout(xaxis=dict(type="log", title=f"estimated ms ({model_label}, {gpu_name})"),
                      yaxis=dict(type="log", title="measured ms (per-layer profile)"), height=480)
    return _titled(fig, f"Measured vs estimated per layer{note}", provenance)


def make_speedup_waterfall_figure(groups: pd.DataFrame, a_name: str, b_name: str, a_total: float,
                                  top: int = 15, provenance: str = "") -> go.Figure:
    """Which ONNX groups made B faster or slower than A: A's total, per-group deltas, B's total."""
    ordered = groups.reindex(groups["delta_ms"].abs().sort_values(ascending=False).index)
    shown = ordered.head(top)
    rest = ordered.iloc[top:]["delta_ms"].sum()
    labels = [" + ".join(n)[:40] for n in shown["onnx_nodes"]]
    x = [f"{a_name} (matched groups)"] + labels + (["other groups"] if len(ordered) > top else []) + [f"{b_name} (matched groups)"]
    y = [a_total] + list(shown["delta_ms"]) + ([rest] if len(ordered) > top else []) + [0]
    measure = ["absolute"] + ["relative"] * (len(x) - 2) + ["total"]
    fig = go.Figure(go.Waterfall(x=x, y=y, measure=measure, decreasing=dict(marker=dict(color="#5aae61")),
                                 increasing=dict(marker=dict(color="#d6604d")), totals=dict(marker=dict(color="#4393c3")),
                                 hovertemplate="%{x}: %{y:+.4f} ms<extra></extra>"))
    fig.update_layout(yaxis_title="ms (matched groups, per-layer profile)", height=460, xaxis=dict(tickangle=-35))
    return _titled(fig, f"Speedup attribution: {a_name} -> {b_name}", provenance)


_COMPONENT_COLORS = {"weights": "#4393c3", "bias": "#bdbdbd", KERNEL_CONSTANTS: "#8c510a", PADDING: "#d9d9d9",
                     UNITEMISED: "#9e9ac8", REST: "#fdae6b"}


def component_color(component: str) -> str:
    """The colour of a byte-account part: weights by their precision's colour, the other parts their own."""
    precision = component.removeprefix("weights ")
    return PRECISION_COLORS.get(precision) if precision in PRECISION_COLORS else _COMPONENT_COLORS.get(component, "#d9d9d9")


def make_engine_bytes_figure(rows: pd.DataFrame, provenance: str = "", title: str = "Engine bytes by component") -> go.Figure:
    """One stacked bar per engine: weights by precision, the other constants, and the rest of the plan (MiB)."""
    fig = go.Figure()
    order = {c: (PRECISION_ORDER.index(c.removeprefix("weights ")) if c.removeprefix("weights ") in PRECISION_ORDER
                 else len(PRECISION_ORDER) + list(_COMPONENT_COLORS).index(c) if c in _COMPONENT_COLORS else 99)
             for c in rows["component"].unique()}
    for component in sorted(order, key=order.get):
        part = rows[rows["component"] == component]
        fig.add_trace(go.Bar(y=part["engine"], x=part["bytes"] / 2**20, name=component, orientation="h",
                             marker_color=component_color(component),
                             hovertemplate="%{y}: " + component + " %{x:.2f} MiB<extra></extra>"))
    engines = list(dict.fromkeys(rows["engine"]))
    fig.update_layout(barmode="stack", xaxis_title="MiB", height=140 + 45 * len(engines),
                      yaxis=dict(categoryorder="array", categoryarray=engines[::-1]))  # baseline on top
    return _titled(fig, title, provenance)


def make_attribution_figure(parts: list[tuple[str, float]], a_label: str, a_ms: float, b_label: str, b_ms: float,
                            provenance: str = "", estimate: bool = False) -> go.Figure:
    """Waterfall from A's per-layer sum to B's: faster groups, slower groups, layers only in B, only in A."""
    x = [a_label] + [label for label, _ in parts] + [b_label]
    y = [a_ms] + [ms for _, ms in parts] + [b_ms]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=["absolute"] + ["relative"] * len(parts) + ["total"],
        text=[f"{v:+.4f}" if i and i <= len(parts) else f"{v:.4f}" for i, v in enumerate(y)], textposition="outside",
        decreasing=dict(marker_color="#1a7f37"), increasing=dict(marker_color="#cf222e"),
        totals=dict(marker_color="#4393c3"), connector=dict(line=dict(color="#8c8c8c", width=1)),
        hovertemplate="%{x}: %{y:.4f} ms<extra></extra>"))
    unit = "ms, per-layer estimate (see subtitle)" if estimate else "ms, per-layer profile"
    fig.update_layout(yaxis_title=unit, height=380, showlegend=False)
    return _titled(fig, "Where the difference comes from" + (" (estimate)" if estimate else ""), provenance)


def make_dynamic_range_figure(ranges: pd.DataFrame, provenance: str = "") -> go.Figure:
    """Dynamic range (scale x 127) of every cached tensor along the network, log scale; problems marked.

    ``ranges`` is :func:`engine_core.analysis.calibration.dynamic_ranges` output. Zero, inf and NaN
    scales cannot sit on a log axis: they are drawn at the axis edge in red.
    """
    finite = ranges[np.isfinite(ranges["dynamic_range"]) & (ranges["dynamic_range"] > 0)]
    ok = finite[finite["problem"].isna()]
    odd = finite[finite["problem"].notna()]
    fig = go.Figure(go.Scattergl(x=ok["order"], y=ok["dynamic_range"], mode="markers", name="scale x 127",
                                 marker=dict(size=5, color="#4393c3"), text=ok["tensor"],
                                 hovertemplate="%{text}<br>range %{y:.4g}<extra></extra>"))
    if not odd.empty:
        fig.add_trace(go.Scattergl(x=odd["order"], y=odd["dynamic_range"], mode="markers", name="outlier",
                                   marker=dict(size=9, color="#cf222e", symbol="x"), text=odd["tensor"] + " (" + odd["problem"] + ")",
                                   hovertemplate="%{text}<br>range %{y:.4g}<extra></extra>"))
    unusable = ranges[~ranges.index.isin(finite.index)]
    if not unusable.empty and not finite.empty:
        fig.add_trace(go.Scattergl(x=unusable["order"], y=[finite["dynamic_range"].min()] * len(unusable), mode="markers",
                                   name="zero / inf / NaN", marker=dict(size=10, color="#cf222e", symbol="triangle-down"),
                                   text=unusable["tensor"] + " (" + unusable["problem"] + ")",
                                   hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(xaxis_title="tensor (order in the cache)", yaxis_title="dynamic range (scale x 127)",
                      yaxis_type="log", height=360)
    return _titled(fig, "Calibration: dynamic range per tensor", provenance)
