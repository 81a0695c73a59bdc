"""Basic facts of an ONNX model: I/O, operators, parameters, and whether it is Q/DQ-quantized.

TensorRT 11 takes precision from the ONNX graph (ModelOpt Q/DQ or AutoCast),
so "does this model carry Q/DQ, and around which ops" is the first question
the model lens asks. Weights are not loaded for external-data models.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine_core.errors import ArtifactFormatError

_DTYPE_NAMES = {1: "FP32", 10: "FP16", 16: "BF16", 3: "INT8", 2: "UINT8", 6: "INT32", 7: "INT64", 9: "BOOL",
                17: "FP8", 18: "FP8", 19: "FP8", 20: "FP8", 22: "INT4", 21: "UINT4", 23: "FP4"}
_QDQ = {"QuantizeLinear", "DequantizeLinear"}


@dataclass
class OnnxModelInfo:
    path: str
    opset: int | None
    producer: str
    ir_version: int
    inputs: list[tuple[str, str, list]]        # name, dtype, shape (str for symbolic dims)
    outputs: list[tuple[str, str, list]]
    op_counts: dict[str, int]
    node_count: int
    parameter_count: int
    parameter_bytes_by_dtype: dict[str, int] = field(default_factory=dict)
    qdq_nodes: int = 0
    quantized_ops: list[str] = field(default_factory=list)   # ops fed by a DequantizeLinear
    #: The precision the graph asks a strongly typed builder for: the narrowest type its Q/DQ nodes
    #: quantize to, else the float type that holds most of its parameters; None without either.
    requested_precision: str | None = None

    @property
    def explicitly_quantized(self) -> bool:
        return self.qdq_nodes > 0


def read_onnx_info(path: str | Path) -> OnnxModelInfo:
    """Read an ONNX file's structure (and initializer sizes).

    Raises:
        ArtifactFormatError: the file is not a loadable ONNX model.
    """
    import onnx

    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError, ValueError, OSError...
        raise ArtifactFormatError(str(path), f"is not a readable ONNX model ({type(exc).__name__}).",
                                  "Export it again with torch.onnx.export or tf2onnx.") from None
    graph = model.graph
    init_names = {i.name for i in graph.initializer}

    def value_info(v):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
        return v.name, _DTYPE_NAMES.get(t.elem_type, str(t.elem_type)), dims

    params, by_dtype = 0, Counter()
    for init in graph.initializer:
        count = int(np.prod(init.dims, dtype=np.int64)) if init.dims else 1
        params += count
        dtype = _DTYPE_NAMES.get(init.data_type, str(init.data_type))
        size = {"FP32": 4, "INT32": 4, "INT64": 8, "FP16": 2, "BF16": 2, "INT4": 0.5, "UINT4": 0.5, "FP4": 0.5}.get(dtype, 1)
        by_dtype[dtype] += int(np.ceil(count * size))
    init_types = {i.name: _DTYPE_NAMES.get(i.data_type, str(i.data_type)) for i in graph.initializer}
    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    quantized = sorted({n.name or n.op_type for n in graph.node
                        if n.op_type not in _QDQ and any(i in dq_outputs for i in n.input)})
    ops = Counter(n.op_type for n in graph.node)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return OnnxModelInfo(
        path=str(path), opset=opset, producer=f"{model.producer_name} {model.producer_version}".strip(),
        ir_version=model.ir_version,
        inputs=[value_info(v) for v in graph.input if v.name not in init_names],
        outputs=[value_info(v) for v in graph.output], op_counts=dict(ops.most_common()),
        node_count=len(graph.node), parameter_count=params, parameter_bytes_by_dtype=dict(by_dtype),
        qdq_nodes=ops.get("QuantizeLinear", 0) + ops.get("DequantizeLinear", 0), quantized_ops=quantized,
        requested_precision=_requested_precision(graph, init_types, by_dtype))


# Quantized storage types as precision classes (UINT8 zero points quantize to 8 bits like INT8).
_QUANTIZED_CLASS = {"INT8": "INT8", "UINT8": "INT8", "FP8": "FP8", "INT4": "INT4", "UINT4": "INT4", "FP4": "FP4"}
_ELEMENT_SIZE = {"FP32": 4, "FP16": 2, "BF16": 2}


def _requested_precision(graph, init_types: dict[str, str], bytes_by_dtype: Counter) -> str | None:
    """What a strongly typed build of this graph is asked to run in (TensorRT 11 has no precision flags).

    Q/DQ nodes name it by their quantized type: a QuantizeLinear/DequantizeLinear zero point, or the
    quantized weight a DequantizeLinear reads. Without Q/DQ it is the float type of most parameters
    (AutoCast and onnxconverter-common's FP16 keep a few in FP32).
    """
    from engine_core.precision import PRECISION_RANK

    quantized = {_QUANTIZED_CLASS[init_types[name]] for n in graph.node if n.op_type in _QDQ
                 for k, name in enumerate(n.input) if k != 1 and name in init_types
                 and init_types[name] in _QUANTIZED_CLASS}
    if quantized:
        return min(quantized, key=lambda p: PRECISION_RANK[p])
    elements = {dtype: bytes_by_dtype[dtype] / size for dtype, size in _ELEMENT_SIZE.items() if bytes_by_dtype.get(dtype)}
    return max(elements, key=elements.get) if elements else None
