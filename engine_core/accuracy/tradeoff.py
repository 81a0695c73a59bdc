"""Accuracy beside size and speed for a set of builds of one model: the rows of a Pareto view, and its front.

One row per engine that carries an accuracy measurement: output SQNR against the float
model, engine bytes, and latency (measured GPU compute median when there is one, else
the labelled latency-model estimate). A build is on the front when no other build is at least
as accurate and at least as small (or as fast) while strictly better in one. Pure pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POINT_COLUMNS = ("name", "run_id", "recipe", "sqnr_db", "engine_bytes", "latency_ms", "latency_basis", "inputs", "kept")


def tradeoff_points(engines: list, run_ids: list[str] | None = None) -> pd.DataFrame:
    """:data:`POINT_COLUMNS` for the engines that carry accuracy (``inf`` SQNR: identical to the float model)."""
    rows = []
    for i, engine in enumerate(engines):
        if engine.accuracy is None:
            continue
        if engine.gpu_compute is not None:
            latency, basis = engine.gpu_compute.median_ms, "measured"
        else:
            estimate = engine.analysis.estimate()
            latency, basis = (estimate.total_ms, f"{estimate.label} on {estimate.gpu}") if estimate else (None, None)
        kept = sum(len(v) for v in engine.accuracy.kept.values())
        rows.append((engine.name, run_ids[i] if run_ids else None, engine.recipe, engine.accuracy.output.sqnr_db,
                     engine.engine_size_bytes, latency, basis, engine.accuracy.inputs_label, kept))
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS)).astype({"sqnr_db": float})


def pareto_front(points: pd.DataFrame, cost: str) -> pd.Series:
    """True for the rows no other row dominates on (higher ``sqnr_db``, lower ``cost``); NaN costs are never on it.

    Sorted by cost, a row is on the front when its SQNR beats every cheaper row's: one pass, O(n log n).
    """
    valid = points[cost].notna() & points["sqnr_db"].notna()
    ordered = points[valid].sort_values([cost, "sqnr_db"], ascending=[True, False], kind="stable")
    best_before = ordered["sqnr_db"].cummax().shift(fill_value=-np.inf)
    on_front = pd.Series(False, index=points.index)
    on_front[ordered.index] = (ordered["sqnr_db"] > best_before).to_numpy()
    return on_front
