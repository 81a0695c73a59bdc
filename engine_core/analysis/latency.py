"""Where the time goes: waterfall, groupings, reformat cost, and reconciliation.

Per-layer times come from the profiler (``averageMs``); end-to-end GPU compute
time from ``--exportTimes`` or the performance summary. They differ for known
reasons, named by :func:`reconcile`: per-layer profiling synchronizes after
every layer, so TensorRT 8.x per-layer sums exceed end-to-end time (TREx
README), and layers on auxiliary streams (``StreamId`` > 0) overlap, so their
sum exceeds wall time (trtexec warns: "the Total latency may not be accurate").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine_core.engine import Engine

WATERFALL_COLUMNS = ("order", "name", "layer_type", "compute_precision", "avg_ms", "start_ms", "end_ms", "share_pct")


def waterfall(layers: pd.DataFrame) -> pd.DataFrame:
    """Layers in execution order with cumulative start/end times (ms) and share of the sum."""
    # Only the columns used are copied: a row filter of every column is most of the time at 100k layers.
    timed = layers.loc[layers["avg_ms"].notna(), list(WATERFALL_COLUMNS[:5])].sort_values("order")
    end = timed["avg_ms"].cumsum()
    total = timed["avg_ms"].sum()
    return pd.DataFrame({
        "order": timed["order"], "name": timed["name"], "layer_type": timed["layer_type"],
        "compute_precision": timed["compute_precision"], "avg_ms": timed["avg_ms"],
        "start_ms": end - timed["avg_ms"], "end_ms": end,
        "share_pct": 100.0 * timed["avg_ms"] / total if total else np.nan,
    }, columns=list(WATERFALL_COLUMNS)).reset_index(drop=True)


def aggregate_waterfall(layers: pd.DataFrame, max_bars: int = 200) -> pd.DataFrame:
    """A waterfall of at most ``max_bars`` bars: consecutive layers merged into buckets.

    Thousands of layers cannot be drawn as bars; buckets keep execution order,
    so a user can zoom into one (``waterfall`` of its ``order`` range).
    Columns: bucket, first_order, last_order, layers, avg_ms, start_ms, end_ms, top_layer.
    """
    wf = waterfall(layers)
    if wf.empty:
        return pd.DataFrame(columns=["bucket", "first_order", "last_order", "layers", "avg_ms", "start_ms", "end_ms", "top_layer"])
    size = max(1, int(np.ceil(len(wf) / max_bars)))
    bucket = np.arange(len(wf)) // size
    top_idx = wf.groupby(bucket)["avg_ms"].idxmax()
    out = wf.groupby(bucket).agg(first_order=("order", "min"), last_order=("order", "max"), layers=("name", "size"),
                                 avg_ms=("avg_ms", "sum"), start_ms=("start_ms", "min"), end_ms=("end_ms", "max"))
    out["top_layer"] = wf.loc[top_idx.to_numpy(), "name"].to_numpy()
    return out.rename_axis("bucket").reset_index()


def time_by(layers: pd.DataFrame, column: str) -> pd.DataFrame:
    """Time and layer count per value of ``column`` (e.g. layer_type, compute_precision), most time first."""
    timed = layers.loc[layers["avg_ms"].notna(), [column, "avg_ms"]]
    total = timed["avg_ms"].sum()
    grouped = timed.groupby(column, dropna=False).agg(layers=("avg_ms", "size"), time_ms=("avg_ms", "sum")).reset_index()
    grouped["share_pct"] = 100.0 * grouped["time_ms"] / total if total else np.nan
    return grouped.sort_values("time_ms", ascending=False, ignore_index=True)


def top_layers(layers: pd.DataFrame, k: int = 15) -> pd.DataFrame:
    columns = ["order", "name", "layer_type", "compute_precision", "avg_ms", "latency_share_pct"]
    return layers.loc[layers["avg_ms"].notna(), columns].nlargest(k, "avg_ms")


def reformat_boundaries(layers: pd.DataFrame) -> pd.DataFrame:
    """Reformat layers grouped by the boundary that caused them.

    ``FP32->INT8`` is a precision boundary; ``FP16->FP16`` a layout change
    (e.g. linear to channel-vectorized). Zero-cost NoOp copies are left out.
    Columns: boundary, layers, time_ms, share_pct, names.
    """
    total = layers["avg_ms"].sum()
    reformats = layers[layers["is_reformat"] & ~layers["is_noop"]]
    if reformats.empty:
        return pd.DataFrame(columns=["boundary", "layers", "time_ms", "share_pct", "names"])
    boundary = reformats["input_precision"] + "->" + reformats["output_precision"]
    boundary = boundary.where(reformats["input_precision"] != reformats["output_precision"], boundary + " (layout)")
    grouped = reformats.assign(boundary=boundary).groupby("boundary").agg(
        layers=("name", "size"), time_ms=("avg_ms", "sum"), names=("name", list)).reset_index()
    grouped["share_pct"] = 100.0 * grouped["time_ms"] / total if total else np.nan
    return grouped[["boundary", "layers", "time_ms", "share_pct", "names"]].sort_values("time_ms", ascending=False, ignore_index=True)


@dataclass
class Reconciliation:
    per_layer_sum_ms: float | None
    gpu_compute_median_ms: float | None
    gap_ms: float | None
    gap_pct: float | None
    streams: int
    explanation: str


def reconcile(engine: Engine) -> Reconciliation:
    """Per-layer sum against end-to-end GPU compute median, with the gap named."""
    per_layer = engine.per_layer_sum_ms
    e2e = engine.gpu_compute.median_ms if engine.gpu_compute else None
    streams = int(engine.layers["stream_id"].dropna().nunique()) if not engine.layers.empty else 0
    if per_layer is None or e2e is None:
        missing = "per-layer profile (--exportProfile)" if per_layer is None else "end-to-end times (--exportTimes)"
        return Reconciliation(per_layer, e2e, None, None, streams, f"Cannot reconcile: no {missing}.")
    gap = per_layer - e2e
    pct = 100.0 * gap / e2e if e2e else None
    if streams > 1 and gap > 0:
        why = (f"Layers run on {streams} CUDA streams and overlap, so their sum exceeds wall time; "
               "the per-layer sum is an upper bound on any one layer's share.")
    elif gap > 0:
        why = ("Profiler overhead: per-layer timing synchronizes after every layer, which end-to-end runs do not; "
               "treat per-layer times as relative weights.")
    else:
        why = ("Time outside the profiled layers (launch gaps, enqueue, host sync) or a profile from another run; "
               "profile with --separateProfileRun and --useCudaGraph.")
    return Reconciliation(per_layer, e2e, gap, pct, streams, f"Per-layer sum {per_layer:.4f} ms vs GPU compute median "
                          f"{e2e:.4f} ms ({gap:+.4f} ms, {pct:+.1f}%). {why}")


def stream_lanes(layers: pd.DataFrame) -> pd.DataFrame:
    """Per stream: layers and time, for lane charts (empty when StreamId is absent)."""
    with_stream = layers[layers["stream_id"].notna() & layers["avg_ms"].notna()]
    if with_stream.empty:
        return pd.DataFrame(columns=["stream_id", "layers", "time_ms"])
    return with_stream.groupby("stream_id").agg(layers=("name", "size"), time_ms=("avg_ms", "sum")).reset_index()
