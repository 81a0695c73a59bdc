"""The named constants an engine's layers hold, each tensor counted once, and what storing them costs.

TensorRT-RTX (and Myelin layers in general) list every constant a layer holds instead of ``Weights``/
``Bias``: ``Constants: [{Name, Dimensions, Datatype}]``. The builder stores each distinct tensor once,
but the records do not say which uses are the same tensor, so :func:`constants_table` decides it:

* the same name is the same tensor (a scale two kernels read, a weight named once for several layers);
* a weight the VERBOSE build log's ONNX parser lines trace to the same initializer(s) is the same tensor,
  whatever the builder named each use (:mod:`engine_core.importers.onnx_graph_log`): ALBERT's one layer
  called four times, tied embeddings. A fused Q/K/V weight is the concatenation of its nodes' weights in
  the fused layer's order, so two fusions in another order are two tensors;
* a constant the builder generated (no ONNX origin, more than one element) is a fill, the same for the
  same shape and type: TensorRT-RTX pads each channel of an INT8 depthwise convolution's input to 4 with a
  ``[1,C,3,H,W]`` Int8 constant, and stores one per shape.

The builder also aligns each stored constant to :data:`ALIGNMENT` bytes. Checked on TensorRT-RTX 1.7 builds
of the LayerLens sample models: with these rules and that padding, the FP32 and FP16 builds of ResNet-18,
ResNet-50, MobileNetV2 and EfficientNet-B0 match the builder's ``Total Weights Memory`` to the byte, and
every INT8 build within 2% (tests/test_bytes.py). Pure pandas; imports nothing above the importers.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from engine_core import precision as prec
from engine_core.importers.onnx_graph_log import OnnxGraphLog

#: Bytes each stored constant is padded to (TensorRT-RTX 1.7: see the module doc).
ALIGNMENT = 128
#: Layer types whose largest constant is their weight tensor; other layers' constants are kernel constants.
WEIGHTED_TYPES = {"correlation", "gemm", "runtime_fusion", "deconvolution", "convolution"}
CONSTANT_COLUMNS = ("layer", "layer_name", "layer_type", "name", "role", "dims", "datatype", "precision", "count",
                    "bytes", "identity", "first_use", "stored_bytes", "uses", "held_by")
_OBJECT_COLUMNS = {"layer_name", "layer_type", "name", "role", "dims", "datatype", "precision", "identity", "held_by"}
# "__mye123_dconst_myl0" is a device copy of an ONNX constant, "__mye9_const-lit-in_myl0" a literal; a name with a
# path ("__mye39591/encoder/.../MatMul_alpha_myl0") belongs to one node. Anything else the builder generated.
_ONNX_DERIVED = re.compile(r"dconst|const-lit|/")
_MYELIN_SUFFIX = re.compile(r"_myl\d+_\d+$")


def constants_table(records: list[dict], graph: OnnxGraphLog | None = None,
                    onnx_nodes: list[tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Every named constant the layers hold: one row per (layer, constant) use, in execution order.

    ``role``: in a weighted layer (convolution, GEMM) the largest constant is its ``"weights"`` and the others
    its ``"bias"`` (with folded scales); every constant of any other layer (above all TensorRT-RTX's generated
    ``kgen`` kernels, and a GEMM of two activations, whose only constants are its alpha and beta) is ``"kernel"``. ``identity`` decides which uses are one tensor (module doc); the first
    use holds it: ``first_use``, ``stored_bytes`` (its bytes padded to :data:`ALIGNMENT`, 0 on later uses),
    ``uses`` (layers holding it) and ``held_by`` (the layer where it is counted). Records with a ``Weights``
    blob (TensorRT <= 10 layers) are not listed.

    Args:
        records: inspector-style layer records.
        graph: the build log's ONNX parser lines, when there were any.
        onnx_nodes: each record's ONNX nodes (``layer_table``'s column), to trace weights to initializers.

    Returns:
        A frame with :data:`CONSTANT_COLUMNS`; ``count`` in elements, ``bytes`` at the element size of
        ``precision`` (INT4/FP4 two per byte, a trailing half byte rounded up).
    """
    rows = []
    for index, record in enumerate(records):
        constants = record.get("Constants") if isinstance(record, dict) else None
        if not isinstance(constants, list) or not constants or isinstance(record.get("Weights"), dict):
            continue
        layer_type = record.get("LayerType")
        sized = [(str(c.get("Name", "")), dims, _element_count(dims), str(c.get("Datatype") or c.get("DataType") or "Float"))
                 for c in constants if isinstance(c, dict) for dims in [c.get("Dimensions") or []]]
        if not sized:
            continue
        largest = max(range(len(sized)), key=lambda k: sized[k][2]) if layer_type in WEIGHTED_TYPES else None
        if largest is not None and sized[largest][2] <= 1:
            largest = None  # a GEMM of two activations holds only its alpha and beta scalars: no weights
        name = str(record.get("Name", ""))
        rows.extend((index, name, layer_type, c_name, "weights" if k == largest else "bias" if largest is not None else "kernel",
                     tuple(dims) if isinstance(dims, list) else (), dtype, count)
                    for k, (c_name, dims, count, dtype) in enumerate(sized))
    if not rows:
        return empty_constants_table()
    table = pd.DataFrame(rows, columns=["layer", "layer_name", "layer_type", "name", "role", "dims", "datatype", "count"])
    table["precision"] = prec.precisions_from_datatypes(table["datatype"])
    sizes = table["precision"].map(prec.ELEMENT_BYTES).fillna(0.0).to_numpy(dtype=float)
    table["bytes"] = np.ceil(table["count"].to_numpy(dtype="int64") * sizes).astype("int64")
    table["identity"] = _identities(table, records, graph, onnx_nodes)
    table["first_use"] = ~table["identity"].duplicated()
    table["stored_bytes"] = np.where(table["first_use"], -(-table["bytes"] // ALIGNMENT) * ALIGNMENT, 0).astype("int64")
    table["uses"] = table.groupby("identity")["layer"].transform("nunique").astype("int64")
    holder = table.loc[table["first_use"]].set_index("identity")["layer_name"]
    table["held_by"] = table["identity"].map(holder)
    return table[list(CONSTANT_COLUMNS)]


def empty_constants_table() -> pd.DataFrame:
    """A zero-row :func:`constants_table` with its declared dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=object if c in _OBJECT_COLUMNS else bool if c == "first_use" else "int64")
                         for c in CONSTANT_COLUMNS})


def _element_count(dims) -> int:
    if not isinstance(dims, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        return 0
    count = math.prod(dims)
    return count if count < 2**48 else 0  # no engine holds a constant that size: a damaged record


def _identities(table: pd.DataFrame, records: list[dict], graph: OnnxGraphLog | None,
                onnx_nodes: list[tuple[str, ...]] | None) -> list[str]:
    """One identity string per row (see the module doc): ``name:``, ``onnx:``, ``concat:`` or ``fill:``."""
    generated = ~table["name"].str.contains(_ONNX_DERIVED) & (table["count"] > 1)
    out = [f"name:{n}" for n in table["name"]]
    for i in np.flatnonzero(generated.to_numpy()):
        out[i] = f"fill:{table.at[i, 'datatype']}{list(table.at[i, 'dims'])}"
    if not graph:
        return out
    weights = table.index[table["role"] == "weights"]
    for i in weights:
        layer = int(table.at[i, "layer"])
        nodes = _layer_nodes(str(records[layer].get("Name", "")), onnx_nodes[layer] if onnx_nodes else (), graph)
        sources = [graph.weight_sources(n) for n in nodes]
        count = int(table.at[i, "count"])
        single = [s for found in sources for s in found if graph.element_counts.get(s) == count]
        if single:
            out[i] = f"onnx:{table.at[i, 'datatype']}:{single[0]}"
            continue
        parts = [max(found, key=lambda s: graph.element_counts.get(s, 0)) for found in sources if found]
        if len(parts) > 1 and sum(graph.element_counts.get(s, 0) for s in parts) == count:
            out[i] = f"concat:{table.at[i, 'datatype']}:" + "+".join(parts)
    return out


def _layer_nodes(name: str, metadata_nodes: tuple[str, ...], graph: OnnxGraphLog) -> list[str]:
    """The ONNX nodes a layer fuses, in the fused name's order (``value/MatMul+key/MatMul+query/MatMul_myl0_1``)."""
    fused = [n for n in _MYELIN_SUFFIX.sub("", name).split("+") if n in graph.node_inputs]
    return fused or [n for n in metadata_nodes if n in graph.node_inputs]
