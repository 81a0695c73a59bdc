"""Calibration diagnostics: what a cache says about each tensor, and what it leaves out.

"The calibrated INT8 engine is bigger than the uncalibrated one" has a mechanical answer. Without
a cache, trtexec gives every tensor a synthetic range, so every eligible layer may run INT8
(NVIDIA/TensorRT#687). A real cache can leave tensors without a range; "If a tensor does not have
dynamic range set, that layer won't run in INT8" (#2031, #2114), so those layers stay FP16/FP32
with wider weights. :func:`missing_ranges` finds them in an engine.

Scales are also checked on their own: zero, infinite or NaN scales, and outliers by orders of
magnitude against the cache's median (saturation, or wasted range). Dynamic range = scale x 127.
Pure pandas; no TensorRT.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine_core.importers.calib_cache import CalibrationCache

#: A finite scale this many orders of magnitude from the cache's median is an outlier.
OUTLIER_DECADES = 3.0
#: Layer kinds that can run INT8 under implicit quantization (they have INT8 kernels).
_INT8_ELIGIBLE = ("Convolution", "Deconvolution", "MatrixMultiply", "FullyConnected", "Pooling", "PointWise", "Scale",
                  "ElementWise", "Activation", "Concatenation", "Reformat", "Shuffle", "Resize", "Slice", "Padding")


def summarize_cache(cache: CalibrationCache) -> dict:
    """The ``layerlens calib --json`` entry of one cache (shape in the README)."""
    values = np.array(list(cache.scales.values()), dtype=float)
    finite = values[np.isfinite(values)]
    return {"file": cache.file, "tensorrt_version": cache.tensorrt_version, "calibrator": cache.calibrator,
            "tensors": len(cache.scales), "zero": int((values == 0).sum()), "inf": int(np.isinf(values).sum()),
            "nan": int(np.isnan(values).sum()),
            "min_scale": float(finite.min()) if finite.size else None,
            "max_scale": float(finite.max()) if finite.size else None,
            "scales": {k: _json_float(v) for k, v in cache.scales.items()}}


def _json_float(v: float):
    return v if math.isfinite(v) else str(v)  # JSON has no inf/nan: "inf", "nan"


def dynamic_ranges(cache: CalibrationCache) -> pd.DataFrame:
    """One row per tensor in file order: order, tensor, scale, dynamic_range (scale x 127), problem."""
    names = list(cache.scales)
    scales = np.array([cache.scales[n] for n in names], dtype=float)
    finite = scales[np.isfinite(scales) & (scales > 0)]
    center = float(np.median(np.log10(finite))) if finite.size else 0.0
    problem = []
    for s in scales:
        if math.isnan(s):
            problem.append("nan")
        elif math.isinf(s):
            problem.append("inf")
        elif s == 0:
            problem.append("zero")
        elif s < 0:
            problem.append("negative")
        elif abs(math.log10(s) - center) > OUTLIER_DECADES:
            problem.append("too large" if math.log10(s) > center else "too small")
        else:
            problem.append(None)
    with np.errstate(over="ignore", invalid="ignore"):
        ranges = scales * 127.0
    return pd.DataFrame({"order": np.arange(len(names)), "tensor": names, "scale": scales, "dynamic_range": ranges,
                         "problem": pd.Series(problem, dtype=object)})


def scale_problems(cache: CalibrationCache) -> pd.DataFrame:
    """The tensors whose scale is zero, inf, NaN, negative, or an outlier by :data:`OUTLIER_DECADES`."""
    frame = dynamic_ranges(cache)
    return frame[frame["problem"].notna()].reset_index(drop=True)


def compare_caches(a: CalibrationCache, b: CalibrationCache) -> dict:
    """Two caches of one model (calibrator A/B, or two runs): tensors only in one, and B/A scale ratios."""
    shared = [n for n in a.scales if n in b.scales]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = {n: float(np.float64(b.scales[n]) / np.float64(a.scales[n])) for n in shared}
    finite = np.array([r for r in ratios.values() if math.isfinite(r) and r > 0])
    log_ratio = np.abs(np.log2(finite)) if finite.size else np.array([])
    return {"a": a.file, "b": b.file, "shared": len(shared),
            "only_in_a": [n for n in a.scales if n not in b.scales],
            "only_in_b": [n for n in b.scales if n not in a.scales],
            "identical": int(sum(1 for n in shared if a.scales[n] == b.scales[n])),
            "within_10pct": int((log_ratio <= math.log2(1.1)).sum()),
            "more_than_2x": int((log_ratio > 1).sum()),
            "ratio_median": float(np.median(finite)) if finite.size else None,
            "ratios": {n: _json_float(r) for n, r in ratios.items()}}


def missing_ranges(layers: pd.DataFrame, cache: CalibrationCache) -> pd.DataFrame:
    """Engine layers that could run INT8 but read a tensor the cache gives no scale.

    Columns: order, name, layer_type, compute_precision, tensor, avg_ms, weights_bytes. A layer
    already running INT8 is left out (its range came from elsewhere, e.g. Q/DQ).
    """
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
