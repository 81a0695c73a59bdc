"""Precision vocabulary: datatype strings, element sizes, and compute precision.

This module owns every rule that turns TensorRT's strings into LayerLens's
precision classes. It works on whole pandas Series at once (one regex pass per
rule, not one Python call per layer), so a 50k-layer engine classifies in
milliseconds. It must not import TensorRT or Streamlit.

Precision classes:

* floating math: ``FP32``, ``TF32``, ``BF16``, ``FP16``, ``FP8``, ``FP4``
* quantized integer math: ``INT8``, ``INT4``
* integer or boolean *data* (shape arithmetic, indices, masks): ``INT32``,
  ``INT64``, ``BOOL``. These can never be quantized, which is one real reason an
  "INT8 engine" keeps non-INT8 layers.
* ``NONE``: nothing to go on (a ``shape_call`` with no tensors, a names-only
  layer list).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FLOAT_PRECISIONS = ("FP32", "TF32", "BF16", "FP16", "FP8", "FP4")
QUANTIZED_PRECISIONS = ("INT8", "INT4")
DATA_PRECISIONS = ("INT32", "INT64", "BOOL")
ALL_PRECISIONS = ("INT4", "FP4", "INT8", "FP8", "FP16", "BF16", "TF32", "FP32", "INT32", "INT64", "BOOL", "NONE")

#: Rank used to say "higher precision than requested": larger is wider.
#: Integer data classes rank as NONE (-1): they are not on the float ladder.
PRECISION_RANK = {"FP4": 0, "INT4": 0, "INT8": 1, "FP8": 1, "FP16": 2, "BF16": 2, "TF32": 3, "FP32": 4}

#: Bytes per element. INT4/FP4 pack two values per byte.
ELEMENT_BYTES = {
    "FP32": 4.0, "TF32": 4.0, "FP16": 2.0, "BF16": 2.0, "FP8": 1.0, "INT8": 1.0,
    "FP4": 0.5, "INT4": 0.5, "INT32": 4.0, "INT64": 8.0, "BOOL": 1.0,
}

# Datatype tokens, checked in order on the lower-cased string. TensorRT writes
# long format descriptions ("Channel major FP16 format where channel % 8 == 0",
# "Four wide channel vectorized row major Int8 format") for Cask layers and short
# names ("Half", "Float", "FP4E2M1") for kgen/Myelin layers; see TREx's table
# https://github.com/NVIDIA/TensorRT/blob/release/10.16/tools/experimental/trt-engine-explorer/trex/activations.py
# "bfloat16" must precede "float", "fp4"/"int4" must precede "fp"/"int" matches.
_DTYPE_TOKENS: tuple[tuple[str, str], ...] = (
    (r"bfloat16|bf16", "BF16"),
    (r"fp8|e4m3|e5m2", "FP8"),
    (r"fp4|e2m1", "FP4"),
    (r"int4", "INT4"),
    (r"int8|uint8", "INT8"),
    (r"int64|uint64", "INT64"),
    (r"int32|uint32|int16|uint16", "INT32"),
    (r"bool", "BOOL"),
    (r"fp16|half", "FP16"),
    (r"fp32|float|double", "FP32"),
)
_DTYPE_PATTERNS = tuple((re.compile(p), c) for p, c in _DTYPE_TOKENS)


def precision_from_datatype(text: str | None) -> str:
    """Map one TensorRT datatype or format string to a precision class.

    Args:
        text: e.g. ``"Half"``, ``"Row major linear FP32"``, ``"Int8"``.

    Returns:
        A class from :data:`ALL_PRECISIONS`; ``"NONE"`` when unrecognised.
    """
    if not text:
        return "NONE"
    low = text.lower()
    for pattern, cls in _DTYPE_PATTERNS:
        if pattern.search(low):
            return cls
    return "NONE"


def tensor_datatype(tensor) -> str | None:
    """The datatype text of one inspector tensor, whichever way TensorRT wrote it.

    TensorRT 8.x-10.x write one ``Format/Datatype`` string ("Row major linear FP32"); TensorRT 11 splits
    it into ``Format`` (the layout) and ``DataType`` ("Float", "Half")
    (https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/tensorrt-10x-to-11x-IEngineInspector.html);
    TensorRT-RTX builder logs write ``Datatype`` and ``Format``. A layout alone names no type, so the
    ``Format`` of a split pair is read only when nothing else is there.
    """
    if not isinstance(tensor, dict):
        return None
    return tensor.get("DataType") or tensor.get("Datatype") or tensor.get("Format/Datatype") or tensor.get("Format")


def tensor_format(tensor) -> str | None:
    """One inspector tensor's format as written: ``Format/Datatype``, or ``DataType`` and ``Format`` joined
    (``"Half, Channel major format where channel % 8 == 0"``) where TensorRT 11 or TensorRT-RTX split them."""
    if not isinstance(tensor, dict):
        return None
    combined = tensor.get("Format/Datatype")
    if combined:
        return combined
    parts = [p for p in (tensor.get("DataType") or tensor.get("Datatype"), tensor.get("Format")) if p]
    return ", ".join(parts) or None


def _map_unique(values: pd.Series, classify) -> pd.Series:
    """Apply ``classify`` once per distinct string: engines repeat a few dozen datatype and tactic strings."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))  # a missing value (None, NaN, NA) is code -1
    classes = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate([*uniques.tolist(), None]):
        classes[i] = classify(value)
    return pd.Series(classes[codes], index=values.index, dtype=object)


def precisions_from_datatypes(values: pd.Series) -> pd.Series:
    """Vectorised :func:`precision_from_datatype` over a Series of strings."""
    return _map_unique(values, precision_from_datatype)


def element_bytes(precision: str) -> float:
    """Bytes per element of a precision class (0 for ``NONE``)."""
    return ELEMENT_BYTES.get(precision, 0.0)


def element_bytes_of_datatypes(values: pd.Series) -> np.ndarray:
    """Bytes per element of each datatype string of ``values`` (0 where it names no precision), as floats."""
    return _map_unique(values, lambda text: element_bytes(precision_from_datatype(text))).to_numpy(dtype=float)


# Tactic-name tokens that reveal the math precision, checked in order. Evidence:
#  - ``i8i8``/``i8f16``/``i8f32``/``int8x4``/``imma``: INT8 convolutions, e.g.
#    ``ampere_int8x4_icudnn_int8x4_128x32_relu_interior_c32_nn_v1`` and
#    ``sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_...`` (issue #4020).
#    ``i8f16`` means INT8 math writing FP16: the QAT residual-add clue.
#  - ``tf32``: ``sm80_xmma_fprop_implicit_gemm_f32f32_tf32f32_f32_...`` is an "FP32"
#    engine on Ampere running TF32 tensor cores (issue #1824). Checked before ``f32f32``.
#  - ``f16f16``/``h1688``/``h16816``/``hmma``/``fp16``: FP16 tensor-core kernels.
#  - ``f32f32``/``scudnn``/``sgemm``/``ffma``/``fp32``: plain FP32 CUDA-core kernels.
# Hex hashes (``__myl_MulSum_0x8622c45a...``, ``0xf64396b9...``) are stripped
# first: ``bf16``, ``f16f16`` and ``f32f32`` are all valid hex digits.
_TACTIC_RULES: tuple[tuple[str, str], ...] = (
    (r"e4m3|e5m2|fp8", "FP8"),
    (r"e2m1|fp4|nvfp4", "FP4"),
    (r"i8i8|i8f16|i8f32|i8i32|i8bf16|int8x4|int8|imma|i8816", "INT8"),
    (r"bf16", "BF16"),
    (r"tf32", "TF32"),
    (r"f16f16|f16f32|h1688|h16816|h884|hmma|hcudnn|fp16", "FP16"),
    (r"f32f32|scudnn|sgemm|ffma|fp32", "FP32"),
)
_TACTIC_PATTERNS = tuple((re.compile(p), c) for p, c in _TACTIC_RULES)
_HEX_HASH = re.compile(r"0x[0-9a-f]+|[0-9a-f]{16,}")

# INT8 kernels that write a wider output: ``i8f16`` -> FP16, ``i8f32`` -> FP32.
_WIDE_OUTPUT = re.compile(r"i8f16|i8f32|i8bf16")


def _tactic_tokens(tactic: str) -> str:
    """Lower-cased tactic name with hex hashes blanked (``bf16``, ``f16f16`` are valid hex)."""
    return _HEX_HASH.sub(" ", tactic.lower())


def precision_from_tactic(tactic: str | None) -> str | None:
    """Precision a tactic (kernel) name reveals, or None when no token decides."""
    return _precision_from_tokens(_tactic_tokens(tactic)) if tactic else None


def precisions_from_tactics(tactics: pd.Series, tokens: pd.Series | None = None) -> pd.Series:
    """Classify tactic names (see :data:`_TACTIC_RULES`); ``None`` where no token decides.
    ``tokens``: :func:`tactic_token_series` of ``tactics``, when the caller has it already."""
    return _map_unique(tactic_token_series(tactics) if tokens is None else tokens, _precision_from_tokens)


def tactic_token_series(tactics: pd.Series) -> pd.Series:
    """:func:`_tactic_tokens` of each tactic name. Myelin's names differ only in their hashes
    (``__myl_MulSum_0x8622c45a...``): a 100k-layer LLM engine has ~70k distinct names but a few dozen
    distinct token strings, so the rules run once per token string, not once per name."""
    return _map_unique(tactics, lambda t: _tactic_tokens(t) if t else None)


def _precision_from_tokens(low: str | None) -> str | None:
    if not low:
        return None
    for pattern, cls in _TACTIC_PATTERNS:
        if pattern.search(low):
            return cls
    return None


def wide_outputs(compute: pd.Series, output: pd.Series, tactics: pd.Series, tokens: pd.Series | None = None) -> pd.Series:
    """True where quantized math writes a wider float output.

    Evidence is either the tactic token (``i8f16``, ``i8f32``) or the output
    format itself: Turing's ``turing_fp16_i8816cudnn_int8_...`` kernels run INT8
    and write "Thirty-two wide channel vectorized row major FP16 format" with no
    ``i8f16`` in the name (TREx mobilenet QAT fixture). ``tokens``: :func:`tactic_token_series` of ``tactics``,
    when the caller has it already.
    """
    tokens = tactic_token_series(tactics) if tokens is None else tokens
    token = _map_unique(tokens, lambda low: bool(low) and bool(_WIDE_OUTPUT.search(low))).astype(bool)
    quantized = compute.isin(["INT8", "FP8", "INT4", "FP4"])
    wider = output.map(PRECISION_RANK).fillna(-1) > compute.map(PRECISION_RANK).fillna(99)
    return quantized & (wider | token)


def compute_precision(tactic_precision: pd.Series, weights_precision: pd.Series,
                      input_precision: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Combine the three evidence sources into the layer's compute precision.

    The rule order is the documented contract: tactic-name tokens first (the
    kernel is what actually runs), then the weights dtype (a convolution with
    ``Int8`` weights runs INT8 math even when its tactic name is opaque), then
    the first input's datatype. Integer or bool data stays in its own class.

    Returns:
        ``(precision, source)``; source is ``"tactic"``, ``"weights"``,
        ``"input"`` or ``"none"``.
    """
    precision = tactic_precision.copy()
    source = pd.Series(np.where(precision.notna(), "tactic", None), index=precision.index, dtype=object)
    use_weights = precision.isna() & (weights_precision != "NONE")
    precision[use_weights] = weights_precision[use_weights]
    source[use_weights] = "weights"
    use_input = precision.isna() & (input_precision != "NONE")
    precision[use_input] = input_precision[use_input]
    source[use_input] = "input"
    rest = precision.isna()
    precision[rest] = "NONE"
    source[rest] = "none"
    return precision, source


def lowest_requested_precision(build_precision: str | None) -> str | None:
    """The narrowest float/quantized precision a build asked for.

    ``"FP32+FP16+INT8"`` -> ``"INT8"``; ``"FP32"`` -> ``"FP32"``. Returns None when
    unknown. trtexec prints ``Precision: FP32+FP16`` in its Build Options
    (TensorRT <= 10); strongly typed builds take precision from the ONNX graph.
    """
    if not build_precision:
        return None
    found = [p for p in re.split(r"[^A-Za-z0-9]+", build_precision.upper()) if p in PRECISION_RANK]
    if not found:
        return None
    return min(found, key=lambda p: PRECISION_RANK[p])
