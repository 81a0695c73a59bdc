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
    """Product of a tensor's dims; NaN when a dim is dynamic (-1) or not a number."""
    if not dims:
        return math.nan
    try:
        return math.nan if min(dims) < 0 else float(math.prod(dims))
    except TypeError:
        return math.nan


def _input_read_fraction(record: dict, inputs, outputs) -> float:
    """Share of the first input a strided window actually reads.

    A 1x1 convolution with stride 2 (ResNet's downsampling blocks) touches one
    pixel in four; counting the whole input overstates bytes and yields >100%
    of DRAM bandwidth. Per spatial dim, a window of size k < stride s reads
    ``out x k`` of ``in`` rows.
    """
    kernel = record_param(record, "Kernel") or record_param(record, "WindowSize")
    stride = record_param(record, "Stride") if kernel else None
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


#: What :func:`layer_work` collects per layer from its tensors (columns of its shape array).
_SHAPES = ("tensor_bytes", "output_elements", "first_output", "out_features", "out_pixels", "in_pixels", "operand_k")
#: Layers that may read their input through a strided window (fused ``ConvActPool`` included).
_WINDOWED = r"conv|pool"


def layer_work(layers: pd.DataFrame) -> pd.DataFrame:
    """FLOPs, bytes moved and output elements of every layer (NaN where a dim is unknown).

    Computed once per engine and shared by the roofline and the calibrated latency model
    (:mod:`engine_core.analysis.latency_model`). The layers' tensors are flattened into columns once; the
    formulas then run on whole columns and each datatype string is classified once, so a 100k-layer
    engine takes a fraction of a second.
    """
    shapes = np.full((len(layers), len(_SHAPES)), np.nan)
    inputs = [t or () for t in layers["inputs"]]
    outputs = [t or () for t in layers["outputs"]]
    ins, in_layer, in_first = _flat_tensors(inputs)
    outs, out_layer, out_first = _flat_tensors(outputs)
    in_elements, in_dims = _elements(ins)
    out_elements, out_dims = _elements(outs)
    read = np.ones(len(layers))
    windowed = (layers["parameter_type"].fillna("").astype(str).str.contains(_WINDOWED, case=False)
                | layers["layer_type"].fillna("").astype(str).str.contains(_WINDOWED, case=False)).to_numpy()
    records = layers["record"].tolist()
    for i in np.flatnonzero(windowed):
        read[i] = _input_read_fraction(records[i], inputs[i], outputs[i])
    in_bytes = in_elements * _element_sizes(ins) * np.where(in_first, read[in_layer], 1.0)
    n = len(layers)
    shapes[:, 0] = np.bincount(in_layer, in_bytes, n) + np.bincount(out_layer, out_elements * _element_sizes(outs), n)
    shapes[:, 1] = np.bincount(out_layer, out_elements, n)
    first_out = np.flatnonzero(out_first)
    first_out_dims = [out_dims[j] for j in first_out]
    shapes[out_layer[first_out], 2] = out_elements[first_out]
    shapes[out_layer[first_out], 3] = [d[-1] if d and isinstance(d[-1], int) and d[-1] > 0 else math.nan
                                      for d in first_out_dims]
    # N x spatial of an NC... tensor: its elements over its channels.
    shapes[out_layer[first_out], 4] = out_elements[first_out] / _channels(first_out_dims)
    first_in = np.flatnonzero(in_first)
    shapes[in_layer[first_in], 5] = in_elements[first_in] / _channels([in_dims[j] for j in first_in])
    # K of operand A [..., M, K]: the first input with two or more dims (Myelin gemm records).
    operand = [j for j, d in enumerate(in_dims) if d and len(d) >= 2]
    operand = [j for k, j in enumerate(operand) if k == 0 or in_layer[operand[k - 1]] != in_layer[j]]
    shapes[in_layer[operand], 6] = [in_dims[j][-1] if isinstance(in_dims[j][-1], int) and in_dims[j][-1] > 0 else math.nan
                                    for j in operand]
    moved = shapes[:, 0] + layers["weights_bytes"].to_numpy(float) + layers["bias_bytes"].to_numpy(float)
    return pd.DataFrame({"flops": _flops(layers, shapes, outputs), "bytes_moved": moved,
                         "output_elements": shapes[:, 1]}, index=layers.index)


def _flat_tensors(per_layer: list) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Every tensor of every layer in one list, with its layer's position and whether it is the layer's first."""
    counts = np.fromiter((len(t) for t in per_layer), dtype=np.intp, count=len(per_layer))
    flat = [t for tensors in per_layer for t in tensors]
    layer = np.repeat(np.arange(len(per_layer)), counts)
    first = np.ones(len(flat), dtype=bool)
    first[1:] = layer[1:] != layer[:-1]
    return flat, layer, first


def _elements(tensors: list[dict]) -> tuple[np.ndarray, list]:
    """Element count of each tensor (NaN for a dynamic or malformed shape), and their dims."""
    dims = [t.get("Dimensions") for t in tensors]
    try:
        counts = [float(math.prod(d)) if d and min(d) >= 0 else math.nan for d in dims]
    except TypeError:  # a dim that is not a number: the slow path decides per tensor
        counts = [_prod(d) for d in dims]
    return np.array(counts, dtype=float), dims


def _channels(dims: list) -> np.ndarray:
    """Dim 1 of each NC... shape of three or more dims; NaN otherwise (or when dynamic)."""
    return np.array([d[1] if d and len(d) >= 3 and isinstance(d[1], int) and d[1] > 0 else math.nan for d in dims],
                    dtype=float)


def _element_sizes(tensors: list[dict]) -> np.ndarray:
    """Bytes per element of each tensor, from its datatype string (4 when unknown); one lookup per distinct string."""
    dtypes = [t.get("Format/Datatype") or t.get("Datatype") for t in tensors]
    sizes = {d: ELEMENT_BYTES.get(precision_from_datatype(d), 4.0) for d in set(dtypes)}
    return np.array([sizes[d] for d in dtypes], dtype=float)


def _flops(layers: pd.DataFrame, shapes: np.ndarray, outputs: list) -> np.ndarray:
    """FLOPs of every layer (the formulas of the module docstring) from :func:`layer_work`'s shapes."""
    ptype = layers["parameter_type"].fillna("").astype(str)
    ltype = layers["layer_type"].fillna("").astype(str)
    weights = layers["weights_count"].to_numpy(float)
    elements, first_output, out_features, out_pixels, in_pixels, operand_k = (shapes[:, c] for c in range(1, 7))
    has_outputs = np.fromiter((bool(o) for o in outputs), dtype=bool, count=len(outputs))
    has_output_dims = np.fromiter((bool(o) and bool(o[0].get("Dimensions")) for o in outputs), dtype=bool,
                                  count=len(outputs))
    has_inputs = np.fromiter((bool(i) for i in layers["inputs"]), dtype=bool, count=len(layers))
    matmul = (ptype.isin(("MatrixMultiply", "FullyConnected", "Gemm"))
              | ltype.isin(("gemm", "CaskGemmMatrixMultiply"))).to_numpy()
    weighted = weights > 0
    conv = ((ptype == "Convolution") | ltype.str.contains("Convolution", regex=False)).to_numpy() & weighted \
        & ~np.isnan(out_pixels)
    deconv = (ptype == "Deconvolution").to_numpy() & weighted & has_inputs
    weighted_matmul = matmul & weighted & has_output_dims
    operand_matmul = matmul & ~weighted_matmul & ~np.isnan(operand_k) & ~np.isnan(first_output)
    window = np.array([w or 1.0 for w in _window_areas(layers)], dtype=float)
    return np.select(
        [conv, deconv, weighted_matmul, operand_matmul, (ptype == "Pooling").to_numpy(),
         layers["is_data_movement"].to_numpy(bool)],
        [2.0 * out_pixels * weights, 2.0 * in_pixels * weights, 2.0 * first_output / out_features * weights,
         2.0 * first_output * operand_k, elements * window, 0.0],
        default=np.where(has_outputs, elements, 0.0))


def roofline_table(layers: pd.DataFrame, gpu: GpuSpec, work: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-layer roofline against ``gpu`` (estimate).

    Columns: :data:`ROOFLINE_COLUMNS`. ``fraction_of_peak_pct`` is the roofline
    (best-case) time over the measured time: 100% means the layer runs at the
    GPU's peak for its precision and arithmetic intensity. ``work`` is
    :func:`layer_work` of ``layers`` when the caller already has it.
    """
    work = layer_work(layers) if work is None else work
    flops, moved = work["flops"].to_numpy(float), work["bytes_moved"].to_numpy(float)
    peaks = gpu_peaks(gpu, layers["compute_precision"])
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
    if gpu.peak(precision) is None:
        return pd.Series(np.nan, index=roofline.index)
    precisions, scale = at_precision(layers, precision)
    moved = roofline["bytes_moved"].to_numpy(float) * scale
    flops = roofline["flops"].to_numpy(float)
    return pd.Series(np.fmax(flops / gpu_peaks(gpu, precisions), moved / gpu.bandwidth) * 1e3, index=roofline.index)


def at_precision(layers: pd.DataFrame, precision: str) -> tuple[pd.Series, np.ndarray]:
    """Each layer's compute precision, and the factor on its bytes, if its float math and data were ``precision``.

    Integer and boolean data (shape arithmetic, indices) keep both: they can never change precision.
    """
    current = layers["compute_precision"].map(ELEMENT_BYTES).fillna(4.0).to_numpy(float)
    is_float = ~layers["compute_precision"].isin(["INT32", "INT64", "BOOL", "NONE"]).to_numpy()
    scale = np.where(is_float, ELEMENT_BYTES.get(precision, 4.0) / current, 1.0)
    return layers["compute_precision"].where(~is_float, precision), scale


def gpu_peaks(gpu: GpuSpec, precisions: pd.Series) -> np.ndarray:
    """Peak FLOP/s of ``gpu`` for each layer's precision class (NaN when the GPU has no rate for it)."""
    table = {p: gpu.peak(p) or np.nan for p in pd.unique(precisions)}
    return precisions.map(table).to_numpy(float)


def _window_areas(layers: pd.DataFrame) -> list[float | None]:
    """Pooling window areas from ``WindowSize`` (None for other layers)."""
    out = []
    for ptype, record in zip(layers["parameter_type"], layers["record"]):
        window = record_param(record or {}, "WindowSize") if ptype == "Pooling" else None
        out.append(_prod(window) if window else None)
    return out
