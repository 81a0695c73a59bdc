"""Roofline per layer: FLOPs and bytes from the layer record, against a GPU's peaks.

FLOPs (one multiply-add = 2 FLOPs):

* convolution: ``2 x N x P x Q x weights_count``; every output pixel of every
  output map multiplies ``(C / groups) x kh x kw`` weights, and
  ``weights_count = K x (C / groups) x kh x kw``. Exact, and it needs no layout;
* deconvolution: ``2 x N x H_in x W_in x weights_count``;
* matrix multiply / gemm / fully connected: ``2 x M x N x K`` from the two
  operands, or ``2 x rows x weights_count`` when the weights are a constant;
* pooling: output elements x window area; anything else: one op per output
  element, which keeps pointwise and data movement honestly memory-bound.

Bytes moved: every input and output tensor once at its own element size, plus
weights and bias. That is a lower bound on DRAM traffic (vectorized formats pad
channels), so achieved bandwidth computed from it is never overstated. Dynamic
dims (-1) make a layer's FLOPs and bytes unknown (NaN).

Everything derived from a GPU catalog is an *estimate*; columns say so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine_core.analysis.gpus import GpuSpec
from engine_core.layer_table import record_param
from engine_core.precision import ELEMENT_BYTES, precision_from_datatype

ROOFLINE_COLUMNS = ("order", "name", "layer_type", "compute_precision", "avg_ms", "flops", "bytes_moved",
                    "arithmetic_intensity", "bound", "roofline_ms", "fraction_of_peak_pct", "achieved_tflops",
                    "achieved_gbps")


def _prod(dims) -> float:
    if not dims or any((not isinstance(d, int)) or d < 0 for d in dims):
        return math.nan
    return float(np.prod(dims, dtype=np.float64))


def _tensor_bytes(tensors, first_fraction: float = 1.0) -> float:
    total = 0.0
    for i, t in enumerate(tensors or ()):
        size = ELEMENT_BYTES.get(precision_from_datatype(t.get("Format/Datatype") or t.get("Datatype")), 4.0)
        total += _prod(t.get("Dimensions")) * size * (first_fraction if i == 0 else 1.0)
    return total


def _input_read_fraction(record: dict, inputs, outputs) -> float:
    """Share of the first input a strided window actually reads.

    A 1x1 convolution with stride 2 (ResNet's downsampling blocks) touches one
    pixel in four; counting the whole input overstates bytes and yields >100%
    of DRAM bandwidth. Per spatial dim, a window of size k < stride s reads
    ``out x k`` of ``in`` rows.
    """
    kernel = record_param(record, "Kernel") or record_param(record, "WindowSize")
    stride = record_param(record, "Stride")
    if not kernel or not stride or not inputs or not outputs:
        return 1.0
    in_dims = inputs[0].get("Dimensions") or []
    out_dims = outputs[0].get("Dimensions") or []
    n = len(kernel)
    if len(stride) != n or len(in_dims) < n or len(out_dims) < n:
        return 1.0
    fraction = 1.0
    for k, s, i, o in zip(kernel, stride, in_dims[-n:], out_dims[-n:]):
        if isinstance(k, int) and isinstance(s, int) and k < s and i > 0 and o > 0:
            fraction *= min(1.0, o * k / i)
    return fraction


def layer_flops(row) -> float:
    """FLOPs of one layer row of the canonical table (NaN when dims are unknown)."""
    ptype = row.parameter_type or ""
    ltype = row.layer_type or ""
    outputs = row.outputs or ()
    inputs = row.inputs or ()
    out_dims = outputs[0].get("Dimensions") if outputs else None
    if (ptype == "Convolution" or "Convolution" in ltype) and row.weights_count and out_dims and len(out_dims) >= 3:
        spatial = _prod(out_dims[2:])
        return 2.0 * out_dims[0] * spatial * row.weights_count
    if ptype == "Deconvolution" and row.weights_count and inputs:
        in_dims = inputs[0].get("Dimensions") or []
        return 2.0 * in_dims[0] * _prod(in_dims[2:]) * row.weights_count if len(in_dims) >= 3 else math.nan
    if ptype in ("MatrixMultiply", "FullyConnected", "Gemm") or ltype in ("gemm", "CaskGemmMatrixMultiply"):
        if row.weights_count and out_dims:
            out_features = out_dims[-1] if out_dims[-1] > 0 else math.nan
            return 2.0 * (_prod(out_dims) / out_features) * row.weights_count
        matmul = _matmul_flops(inputs, out_dims)
        if not math.isnan(matmul):
            return matmul
    out_elems = sum(_prod(t.get("Dimensions")) for t in outputs) if outputs else 0.0
    if ptype == "Pooling":
        window = getattr(row, "window_area", None)
        return out_elems * (window or 1.0)
    if row.is_data_movement:
        return 0.0
    return out_elems


def _matmul_flops(inputs, out_dims) -> float:
    """``2 x outputs x K`` with K the last dim of operand A ``[..., M, K]`` (Myelin gemm records)."""
    a = next((t.get("Dimensions") for t in inputs if len(t.get("Dimensions") or []) >= 2), None)
    if not a or not out_dims or a[-1] <= 0:
        return math.nan
    return 2.0 * _prod(out_dims) * a[-1]


def roofline_table(layers: pd.DataFrame, gpu: GpuSpec) -> pd.DataFrame:
    """Per-layer roofline against ``gpu`` (estimate).

    Columns: :data:`ROOFLINE_COLUMNS`. ``fraction_of_peak_pct`` is the roofline
    (best-case) time over the measured time: 100% means the layer runs at the
    GPU's peak for its precision and arithmetic intensity.
    """
    rows = layers.assign(window_area=_window_areas(layers))
    flops = np.array([layer_flops(r) for r in rows.itertuples(index=False)], dtype=float)
    moved = np.array([_tensor_bytes(i, _input_read_fraction(rec or {}, i, o)) + _tensor_bytes(o)
                      for i, o, rec in zip(layers["inputs"], layers["outputs"], layers["record"])], dtype=float)
    moved = moved + layers["weights_bytes"].to_numpy(float) + layers["bias_bytes"].to_numpy(float)
    peaks = np.array([gpu.peak(p) or np.nan for p in layers["compute_precision"]], dtype=float)
    compute_s = flops / peaks
    memory_s = moved / gpu.bandwidth
    roofline_ms = np.fmax(compute_s, memory_s) * 1e3
    avg = layers["avg_ms"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(avg > 0, 100.0 * roofline_ms / avg, np.nan)
        intensity = np.where(moved > 0, flops / moved, np.nan)
        achieved_tflops = np.where(avg > 0, flops / (avg * 1e-3) / 1e12, np.nan)
        achieved_gbps = np.where(avg > 0, moved / (avg * 1e-3) / 1e9, np.nan)
    bound = np.where(np.isnan(roofline_ms), None, np.where(compute_s >= memory_s, "compute", "memory"))
    return pd.DataFrame({
        "order": layers["order"].to_numpy(), "name": layers["name"].to_numpy(),
        "layer_type": layers["layer_type"].to_numpy(), "compute_precision": layers["compute_precision"].to_numpy(),
        "avg_ms": avg, "flops": flops, "bytes_moved": moved, "arithmetic_intensity": intensity, "bound": bound,
        "roofline_ms": roofline_ms, "fraction_of_peak_pct": fraction, "achieved_tflops": achieved_tflops,
        "achieved_gbps": achieved_gbps,
    }, columns=list(ROOFLINE_COLUMNS))


def best_case_ms(roofline: pd.DataFrame, layers: pd.DataFrame, gpu: GpuSpec, precision: str) -> pd.Series:
    """Estimated best-case time of each layer if its math and float data were ``precision``.

    Float activations and weights are rescaled to ``precision``'s element size;
    integer data keeps its size. An estimate: the roofline bound, not a kernel.
    """
    peak = gpu.peak(precision)
    if peak is None:
        return pd.Series(np.nan, index=roofline.index)
    current = layers["compute_precision"].map(ELEMENT_BYTES).fillna(4.0).to_numpy(float)
    is_float = ~layers["compute_precision"].isin(["INT32", "INT64", "BOOL", "NONE"]).to_numpy()
    scale = np.where(is_float, ELEMENT_BYTES.get(precision, 4.0) / current, 1.0)
    moved = roofline["bytes_moved"].to_numpy(float) * scale
    flops = roofline["flops"].to_numpy(float)
    peaks = np.where(is_float, peak, np.array([gpu.peak(p) or np.nan for p in layers["compute_precision"]], float))
    return pd.Series(np.fmax(flops / peaks, moved / gpu.bandwidth) * 1e3, index=roofline.index)


def _window_areas(layers: pd.DataFrame) -> list[float | None]:
    """Pooling window areas from ``WindowSize`` (None for other layers)."""
    out = []
    for ptype, record in zip(layers["parameter_type"], layers["record"]):
        window = record_param(record or {}, "WindowSize") if ptype == "Pooling" else None
        out.append(_prod(window) if window else None)
    return out
