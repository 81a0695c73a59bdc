"""Calibration diagnostics: what a cache says about each tensor, and what it leaves out.

"The calibrated INT8 engine is bigger than the uncalibrated one" has a mechanical answer. Without
a cache, trtexec gives every tensor a synthetic range, so every eligible layer may run INT8
(NVIDIA/TensorRT#687). A real cache can leave tensors without a range; "If a tensor does not have
dynamic range set, that layer won't run in INT8" (#2031, #2114), so those layers stay FP16/FP32
with wider weights. :func:`missing_ranges` finds them in an engine.

Scales are also checked on their own: zero, infinite or NaN scales, and outliers by orders of
magnitude against the cache's median (saturation, or wasted range). Dynamic range = scale x 127.
Pure Python for a cache (``layerlens calib`` imports no pandas), pandas for the tables the dashboard draws;
no TensorRT.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

from engine_core.importers.calib_cache import CalibrationCache

if TYPE_CHECKING:
    import pandas as pd

#: A finite scale this many orders of magnitude from the cache's median is an outlier.
OUTLIER_DECADES = 3.0
#: Layer kinds that can run INT8 under implicit quantization (they have INT8 kernels).
_INT8_ELIGIBLE = ("Convolution", "Deconvolution", "MatrixMultiply", "FullyConnected", "Pooling", "PointWise", "Scale",
                  "ElementWise", "Activation", "Concatenation", "Reformat", "Shuffle", "Resize", "Slice", "Padding")
_RANGE_COLUMNS = ["order", "tensor", "scale", "dynamic_range", "problem"]


def summarize_cache(cache: CalibrationCache) -> dict:
    """The ``layerlens calib --json`` entry of one cache (shape in the README)."""
    values = list(cache.scales.values())
    finite = [v for v in values if math.isfinite(v)]
    return {"file": cache.file, "tensorrt_version": cache.tensorrt_version, "calibrator": cache.calibrator,
            "tensors": len(cache.scales), "zero": sum(1 for v in values if v == 0),
            "inf": sum(1 for v in values if math.isinf(v)), "nan": sum(1 for v in values if math.isnan(v)),
            "min_scale": min(finite) if finite else None,
            "max_scale": max(finite) if finite else None,
            "scales": {k: _json_float(v) for k, v in cache.scales.items()}}


def _json_float(v: float):
    return v if math.isfinite(v) else str(v)  # JSON has no inf/nan: "inf", "nan"


def scale_rows(cache: CalibrationCache) -> list[tuple[str, float, str | None]]:
    """``(tensor, scale, problem)`` per tensor in file order; problem is None, or zero, inf, nan, negative,
    too large / too small (:data:`OUTLIER_DECADES` from the median scale, on a log scale). Pure Python,
    so ``layerlens calib`` answers without importing pandas."""
    scales = list(cache.scales.items())
    logs = [math.log10(s) for _, s in scales if math.isfinite(s) and s > 0]
    center = statistics.median(logs) if logs else 0.0
    rows = []
    for tensor, s in scales:
        if math.isnan(s):
            problem = "nan"
        elif math.isinf(s):
            problem = "inf"
        elif s == 0:
            problem = "zero"
        elif s < 0:
            problem = "negative"
        elif abs(math.log10(s) - center) > OUTLIER_DECADES:
            problem = "too large" if math.log10(s) > center else "too small"
        else:
            problem = None
        rows.append((tensor, s, problem))
    return rows


def dynamic_ranges(cache: CalibrationCache) -> pd.DataFrame:
    """One row per tensor in file order: order, tensor, scale, dynamic_range (scale x 127), problem."""
    import numpy as np
    import pandas as pd

    rows = scale_rows(cache)
    scales = np.array([s for _, s, _ in rows], dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        ranges = scales * 127.0
    return pd.DataFrame({"order": np.arange(len(rows)), "tensor": [t for t, _, _ in rows], "scale": scales,
                         "dynamic_range": ranges, "problem": pd.Series([p for _, _, p in rows], dtype=object)},
                        columns=_RANGE_COLUMNS)


def scale_problems(cache: CalibrationCache) -> pd.DataFrame:
    """The tensors whose scale is zero, inf, NaN, negative, or an outlier by :data:`OUTLIER_DECADES`."""
    frame = dynamic_ranges(cache)
    return frame[frame["problem"].notna()].reset_index(drop=True)


def _divide(b: float, a: float) -> float:
    """``b / a`` with IEEE semantics (x/0 is a signed inf, 0/0 NaN), as numpy divides."""
    if a != 0 or math.isnan(a):
        return b / a
    if b == 0 or math.isnan(b):
        return math.nan
    return math.copysign(math.inf, b) * math.copysign(1.0, a)


def compare_caches(a: CalibrationCache, b: CalibrationCache) -> dict:
    """Two caches of one model (calibrator A/B, or two runs): tensors only in one, and B/A scale ratios."""
    shared = [n for n in a.scales if n in b.scales]
    ratios = {n: _divide(b.scales[n], a.scales[n]) for n in shared}
    finite = [r for r in ratios.values() if math.isfinite(r) and r > 0]
    log_ratio = [abs(math.log2(r)) for r in finite]
    return {"a": a.file, "b": b.file, "shared": len(shared),
            "only_in_a": [n for n in a.scales if n not in b.scales],
            "only_in_b": [n for n in b.scales if n not in a.scales],
            "identical": int(sum(1 for n in shared if a.scales[n] == b.scales[n])),
            "within_10pct": sum(1 for x in log_ratio if x <= math.log2(1.1)),
            "more_than_2x": sum(1 for x in log_ratio if x > 1),
            "ratio_median": statistics.median(finite) if finite else None,
            "ratios": {n: _json_float(r) for n, r in ratios.items()}}


def missing_ranges(layers: pd.DataFrame, cache: CalibrationCache) -> pd.DataFrame:
    """Engine layers that could run INT8 but read a tensor the cache gives no scale.

    Columns: order, name, layer_type, compute_precision, tensor, avg_ms, weights_bytes. A layer
    already running INT8 is left out (its range came from elsewhere, e.g. Q/DQ).
    """
    import pandas as pd

    rows = []
    for layer in layers.itertuples(index=False):
        kind = layer.parameter_type or layer.layer_type or ""
        if layer.compute_precision == "INT8" or not any(k in kind for k in _INT8_ELIGIBLE):
            continue
        missing = [t.get("Name") for t in layer.inputs or () if t.get("Name") and t.get("Name") not in cache.scales]
        if missing:
            rows.append((layer.order, layer.name, layer.layer_type, layer.compute_precision, missing[0],
                         layer.avg_ms, layer.weights_bytes))
    return pd.DataFrame(rows, columns=["order", "name", "layer_type", "compute_precision", "tensor", "avg_ms",
                                       "weights_bytes"])
