"""The canonical per-layer table: one row per engine layer, defined once here.

Every importer produces this table and every analysis consumes it. Column names
are ``snake_case`` and carry their unit (``_ms``, ``_bytes``, ``_pct``); display
labels exist only in the dashboard. Nothing here imports TensorRT or Streamlit.

Bump :data:`SCHEMA_VERSION` whenever a column changes meaning; the run store
records it in every manifest. Version 2: constants are counted once per engine
(``weights_*``/``bias_*`` of a layer that reuses an earlier layer's constant are
0, ``weights_shared_from`` says whose), the constants of generated kernels are
``kernel_constants_*`` instead of bias, and the format columns read TensorRT 11's
split ``Format``/``DataType``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the run store reads SCHEMA_VERSION without pandas (`layerlens runs` answers at once)
    import pandas as pd

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    doc: str


LAYER_COLUMNS: tuple[Column, ...] = (
    Column("order", "int64", "Position in the engine's layer list (execution order), from 0."),
    Column("name", "object", "Layer name as TensorRT wrote it (fused names joined by ' + ')."),
    Column("layer_type", "object", "Implementation type (LayerType), e.g. CaskConvolution, kgen, Reformat."),
    Column("parameter_type", "object", "Logical type (ParameterType), e.g. Convolution, Pooling; None when absent."),
    Column("onnx_nodes", "object", "Tuple of ONNX node names the layer came from (Metadata, else the fused name)."),
    Column("inputs", "object", "Tuple of input tensors: dicts with name, precision, format, dims."),
    Column("outputs", "object", "Tuple of output tensors: dicts with name, precision, format, dims."),
    Column("input_precision", "object", "Precision class of the first input tensor."),
    Column("output_precision", "object", "Precision class of the first output tensor."),
    Column("input_format", "object", "Format/Datatype string of the first input, as written (split DataType and "
                                     "Format joined by ', ')."),
    Column("output_format", "object", "Format/Datatype string of the first output, as written (split keys joined)."),
    Column("compute_precision", "object", "Precision the layer's math runs in (see engine_core.precision)."),
    Column("compute_precision_source", "object", "Which evidence decided compute_precision: tactic, weights, input, none."),
    Column("wide_output", "bool", "INT8 tactic that writes FP16/FP32 output (i8f16, i8f32)."),
    Column("weights_precision", "object", "Precision class of the Weights, 'NONE' without weights (a layer "
                                          "reusing another layer's weight tensor keeps its precision)."),
    Column("weights_count", "int64", "Number of weight elements this layer adds to the engine: 0 when its weight "
                                     "tensor was counted at an earlier layer (see weights_shared_from)."),
    Column("weights_bytes", "int64", "Bytes of weights counted once per engine: count x element size (INT4/FP4 "
                                     "pack two per byte)."),
    Column("weights_shared_from", "object", "The earlier layer that holds this layer's weight tensor (same constant "
                                            "name: shared initializers, tied embeddings); None when its own."),
    Column("bias_precision", "object", "Precision class of the Bias, 'NONE' without bias."),
    Column("bias_count", "int64", "Number of bias elements (with a weighted layer's other constants: folded "
                                  "scales), counted once per engine."),
    Column("bias_bytes", "int64", "Bytes of bias, each constant at its own element size."),
    Column("kernel_constants_precision", "object", "Precision class of the largest constant of a layer without "
                                                   "weights (TensorRT-RTX kgen kernels), 'NONE' without any."),
    Column("kernel_constants_count", "int64", "Elements of the constants held by layers without weights "
                                              "(generated kernels), counted once per engine; never bias."),
    Column("kernel_constants_bytes", "int64", "Bytes of those constants, each at its own element size."),
    Column("constants_padding_bytes", "int64", "Bytes the builder adds to align the named constants this layer holds "
                                               "(each stored on a 128-byte boundary; see engine_core.constants); 0 "
                                               "for records without named constants."),
    Column("tactic_name", "object", "Kernel name (TacticName); None when not exported."),
    Column("tactic_value", "object", "Tactic id (TacticValue) as written, e.g. '0x9fc2bcaa51428a78'."),
    Column("origin", "object", "Reformat origin: 'QDQ' or 'REFORMAT'; None otherwise."),
    Column("stream_id", "Int64", "CUDA stream the layer runs on (TensorRT >= 10); <NA> when not exported."),
    Column("profile_index", "int64", "Optimization profile from a '[profile N]' suffix; 0 without one."),
    Column("avg_ms", "float64", "Average time per inference (averageMs), NaN without a profile."),
    Column("median_ms", "float64", "Median time per inference (medianMs), NaN when not exported."),
    Column("total_ms", "float64", "Time summed over all profiled iterations (timeMs)."),
    Column("latency_share_pct", "float64", "Share of the summed per-layer time, in percent."),
    Column("is_reformat", "bool", "A reformat/copy layer inserted at a format or precision boundary."),
    Column("is_noop", "bool", "A NoOp layer (no kernel launched)."),
    Column("is_data_movement", "bool", "Moves or reshapes data without math: reformat, shuffle, slice, pad, concat, NoOp."),
    Column("is_quantize", "bool", "Converts float data into a quantized format (Q/DQ reformat, TensorRT-RTX quantize kgen)."),
    Column("is_myelin", "bool", "An opaque Myelin/ForeignNode fusion or one of its kgen/gemm kernels."),
    Column("record", "object", "The layer's raw TensorRT record (shared, not copied): Kernel, Stride, Weights, ..."),
)

LAYER_COLUMN_NAMES = tuple(c.name for c in LAYER_COLUMNS)


def empty_layer_table() -> pd.DataFrame:
    """A zero-row layer table with the declared dtypes."""
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in LAYER_COLUMNS})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the schema's columns, in order, cast to their dtypes."""
    import pandas as pd

    out = {}
    n = len(frame)
    for col in LAYER_COLUMNS:
        if col.name in frame:
            series = frame[col.name]
        else:
            series = pd.Series([None] * n, index=frame.index, dtype=object)
        if col.dtype == "object":
            out[col.name] = series.astype(object)
        elif col.dtype == "bool":
            out[col.name] = series.fillna(False).astype(bool)
        elif col.dtype == "int64":
            out[col.name] = pd.to_numeric(series, errors="coerce").fillna(0).astype("int64")
        else:
            out[col.name] = pd.to_numeric(series, errors="coerce").astype(col.dtype)
    return pd.DataFrame(out, index=frame.index)
