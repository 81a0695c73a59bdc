"""Nodes and edges of an engine, with the marks a reader looks for first.

A tensor written by one layer and read by others is an edge from the writer to
each reader. A tensor no layer writes is a network input, and one no layer reads
is a network output; each becomes a node of its own, as in TREx's graph.
Weight constants that TensorRT-RTX feeds as inputs (``__mye…_dconst``) are
not drawn: they are bytes of the layer, not data flow.

Layer info exported without ``Inputs``/``Outputs`` (``--profilingVerbosity=
layer_names_only``, a pasted ``--dumpProfile`` table) has no tensors, so its
layers are chained in execution order and :attr:`EngineGraph.wired_by` says so.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import compress, repeat

import numpy as np
import pandas as pd

from engine_core.engine import Engine
from engine_core.precision import PRECISION_RANK, precision_from_datatype, tensor_datatype
from engine_core.tensor_index import TensorIndex

NODE_COLUMNS = ("node", "name", "kind", "layer_type", "precision", "output_precision", "ms", "bytes", "order",
                "is_reformat", "is_quantize", "is_fallback", "reason", "scope", "members", "change", "mix", "reformats",
                "sqnr_db")

# TensorRT-RTX names a Myelin region's kernels `<op>_myl<region>_<index>`; weight constants it passes as
# inputs are named `__mye<id>_dconst` (seen in the TensorRT-RTX 1.x builder's VERBOSE "Layers:" dump).
_MYELIN_REGION = re.compile(r"_(myl\d+)_\d+$")
_CONSTANT_TENSOR = re.compile(r"dconst|constant|_weights?$", re.IGNORECASE)
_FUSED_OR_LISTED = re.compile(r" \+ |, ")
_WRAPPER_PREFIX = re.compile(r"^(PWN|ForeignNode)\[?\(?")


@dataclass
class EngineGraph:
    """``nodes`` (:data:`NODE_COLUMNS`, one row per layer or network I/O) and ``edges`` (src, dst, tensor)."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    wired_by: str = "tensors"   # or "order": no tensor names, layers chained in execution order
    depth: int | None = None    # scope depth the graph was collapsed to (None: every layer)
    scope_prefix: tuple = ()    # scope parts every layer shares (a model name), not used for grouping
    group_of: np.ndarray | None = None  # after folding: every layer/I-O node of the full graph -> its drawn node


def build_graph(engine: Engine, fallbacks: pd.DataFrame | None = None) -> EngineGraph:
    """The engine's layers as a DAG; ``fallbacks`` is :func:`~engine_core.analysis.fallback.explain_fallbacks` output."""
    layers = engine.layers
    # Columns as lists: iterating pandas 3's Arrow-backed strings element by element is slow at 100k rows.
    reasons = ({} if fallbacks is None or fallbacks.empty
               else dict(zip(fallbacks["name"].tolist(), fallbacks["reason_text"].tolist())))
    # The fallback table also lists layers that compute in the requested precision but write a wider
    # output (TensorRT-RTX's INT8 convolution writing FP32 for its split epilogue): a reason, not a fallback.
    computed_above = set() if not reasons else {
        name for name, c, r in zip(fallbacks["name"].tolist(), fallbacks["compute_precision"].tolist(),
                                   fallbacks["requested_precision"].tolist())
        if PRECISION_RANK.get(c, -1) > PRECISION_RANK.get(r, 99)}
    n = len(layers)
    scopes = _layer_scopes(layers, engine.analysis.glue)
    nodes = pd.DataFrame({
        "node": np.arange(n), "name": layers["name"].to_numpy(), "kind": "layer",
        "layer_type": layers["layer_type"].fillna("").to_numpy(), "precision": layers["compute_precision"].to_numpy(),
        "output_precision": layers["output_precision"].to_numpy(),
        "ms": pd.to_numeric(layers["avg_ms"], errors="coerce").to_numpy(dtype=float),
        "bytes": (layers["weights_bytes"].fillna(0) + layers["bias_bytes"].fillna(0)).to_numpy(dtype="int64"),
        "order": layers["order"].to_numpy(), "is_reformat": layers["is_reformat"].to_numpy(dtype=bool),
        "is_quantize": layers["is_quantize"].to_numpy(dtype=bool),
        "is_fallback": layers["name"].isin(computed_above).to_numpy(),
        "reason": np.array([reasons.get(name, np.nan) for name in layers["name"].tolist()], dtype=object),
        "scope": scopes, "members": 1, "change": None,
        "mix": layers["compute_precision"].to_numpy(), "reformats": layers["is_reformat"].to_numpy(dtype=int),
        "sqnr_db": np.nan,
    })
    edges, io_nodes = _wire(layers, engine.analysis.tensors)
    wired_by = "tensors"
    if edges.empty and n > 1:
        edges = pd.DataFrame({"src": np.arange(n - 1), "dst": np.arange(1, n), "tensor": ""})
        wired_by = "order"
    if io_nodes:
        io = pd.DataFrame(io_nodes)
        io["node"] = np.arange(n, n + len(io))
        nodes = pd.concat([nodes, io.reindex(columns=list(NODE_COLUMNS))], ignore_index=True)
        nodes["members"] = nodes["members"].fillna(1).astype(int)
        nodes["reformats"] = nodes["reformats"].fillna(0).astype(int)
        for column in ("is_reformat", "is_quantize", "is_fallback"):
            nodes[column] = nodes[column].fillna(False).astype(bool)
        nodes["bytes"] = nodes["bytes"].fillna(0).astype("int64")
    return EngineGraph(nodes[list(NODE_COLUMNS)], edges, wired_by, None, _common_prefix(scopes))


def mark_precision_change(graph: EngineGraph, groups: pd.DataFrame) -> EngineGraph:
    """Stamp each layer with its aligned group's precision change (``FP16->INT8``), ``same``, or ``only here``.

    ``groups`` is :attr:`~engine_core.analysis.compare.Comparison.groups` of (baseline, this engine): this
    engine is side B.
    """
    change: dict[str, str] = {}
    for layer_names, a, b in zip(groups["b_layers"], groups["a_precision"], groups["b_precision"]):
        label = f"{a}->{b}" if a and b and a != b else ("same" if a and b else "only here")
        for name in layer_names:
            change[name] = label
    nodes = graph.nodes.copy()
    is_layer = nodes["kind"] == "layer"
    nodes.loc[is_layer, "change"] = [change.get(name, "only here") for name in nodes.loc[is_layer, "name"].tolist()]
    return EngineGraph(nodes, graph.edges, graph.wired_by, graph.depth, graph.scope_prefix)


def mark_quantization_error(graph: EngineGraph, layer_sqnr: np.ndarray) -> EngineGraph:
    """Stamp each layer node with its SQNR against the float model (``layer_sqnr`` in layer order, from
    :func:`engine_core.accuracy.join.layer_sqnr`; NaN not measured, ``inf`` identical)."""
    nodes = graph.nodes.copy()
    is_layer = (nodes["kind"] == "layer").to_numpy()
    nodes.loc[is_layer, "sqnr_db"] = np.asarray(layer_sqnr, dtype=float)[nodes.loc[is_layer, "node"].to_numpy()]
    return EngineGraph(nodes, graph.edges, graph.wired_by, graph.depth, graph.scope_prefix, graph.group_of)


def _wire(layers: pd.DataFrame, tensors: TensorIndex) -> tuple[pd.DataFrame, list[dict]]:
    """Edges from each tensor's first writer to every other layer reading it, in reading order; network inputs
    (read, never written, not a constant) and outputs (written, never read) as extra nodes with their edges.

    Vectorised over the engine's :class:`~engine_core.tensor_index.TensorIndex`: the per-tensor Python loops this
    replaces were 0.7 s of a 100k-layer engine's graph.
    """
    n_read = len(tensors.read)
    read = np.fromiter(tensors.read, dtype=object, count=n_read)  # 1-D whatever a name holds
    reader_rows = np.asarray(tensors.reader_rows, dtype="int64")
    # The first writer of each tensor read; -1: a named tensor no layer writes; -2: a tensor without a name (never
    # wired, never looked up: a damaged file's empty list or dict is no key). C-level maps, no Python call per tensor.
    named = list(map(bool, tensors.read))
    source = np.full(n_read, -2, dtype="int64")
    source[named] = np.fromiter(map(tensors.first_writer.get, compress(tensors.read, named), repeat(-1)),
                                dtype="int64", count=sum(named))
    wired = (source >= 0) & (source != reader_rows)
    src, dst, names = source[wired].tolist(), reader_rows[wired].tolist(), read[wired].tolist()
    in_lists, out_lists = layers["inputs"].tolist(), layers["outputs"].tolist()
    inputs: dict[str, dict] = {}
    for k in np.flatnonzero(source == -1).tolist():
        name, row = tensors.read[k], tensors.reader_rows[k]
        if not _CONSTANT_TENSOR.search(name):
            tensor = in_lists[row][k - bisect_left(tensors.reader_rows, row)]
            inputs.setdefault(name, {"tensor": tensor, "readers": []})["readers"].append(row)
    io_nodes, extra_edges = [], []
    n = len(layers)
    # Layers with no tensors at all (TensorRT-RTX's multi-stream `signal`/`wait` events) hang off the
    # layer before them in execution order, so they sit where they run instead of floating apart.
    if any(tensors.written):
        extra_edges += [(i - 1, i, "") for i, (ins, outs) in enumerate(zip(in_lists, out_lists)) if i and not ins and not outs]
    for name, seen in inputs.items():
        node = n + len(io_nodes)
        io_nodes.append(_io_node(name, "input", seen["tensor"], order=-1))
        extra_edges += [(node, reader, name) for reader in seen["readers"]]
    read_names = set(compress(tensors.read, named))
    written_named = np.fromiter(map(bool, tensors.written), dtype=bool, count=len(tensors.written))
    unread = np.zeros(len(tensors.written), dtype=bool)
    unread[written_named] = ~np.fromiter(map(read_names.__contains__, compress(tensors.written, written_named.tolist())),
                                         dtype=bool, count=int(written_named.sum()))
    for k in np.flatnonzero(unread).tolist():
        name, row = tensors.written[k], tensors.writer_rows[k]
        node = n + len(io_nodes)
        io_nodes.append(_io_node(name, "output", out_lists[row][k - bisect_left(tensors.writer_rows, row)], order=n))
        extra_edges.append((row, node, name))
    edges = pd.DataFrame({"src": src + [e[0] for e in extra_edges], "dst": dst + [e[1] for e in extra_edges],
                          "tensor": names + [e[2] for e in extra_edges]})
    return edges.astype({"src": "int64", "dst": "int64"}), io_nodes


def _io_node(name: str, kind: str, tensor: dict, order: int) -> dict:
    """A network input (``order`` -1: before every layer) or output (``order`` n: after them)."""
    precision = precision_from_datatype(tensor_datatype(tensor))
    return {"name": name, "kind": kind, "layer_type": f"network {kind}", "precision": precision,
            "output_precision": precision, "ms": np.nan, "bytes": 0, "order": order, "reason": None,
            "scope": (), "members": 1, "change": None, "mix": precision, "reformats": 0}


def _layer_scopes(layers: pd.DataFrame, glue: np.ndarray) -> list[tuple]:
    """Each layer's ONNX scope (``("layer3", "layer3.0")`` for ``/layer3/layer3.0/conv1/Conv``); ``glue``:
    :attr:`~engine_core.analysis.engine_analysis.EngineAnalysis.glue` of the same layers.

    The scope comes from the first ONNX node that is not a Q/DQ node, else the
    layer name; a layer with neither (a reformat, a sync kernel) takes the scope
    of the layer before it, so glue folds into the block it sits in. Without any
    ONNX path, a TensorRT-RTX Myelin region (``…_myl0_12``) is the scope.
    """
    scopes: list[tuple] = []
    previous: tuple = ()
    # Glue's names (`Reformatting CopyNode for Input Tensor 0 to resnet50/…`) hold slashes that are not its path.
    for name, nodes, glue in zip(layers["name"].tolist(), layers["onnx_nodes"].tolist(), glue.tolist()):
        real = [n for n in (nodes or ()) if "QuantizeLinear" not in n and "DequantizeLinear" not in n]  # not Q/DQ
        scope = _path_scope(real[0]) if real else ()
        if not scope and not glue:
            scope = _path_scope(name)
        if not scope:
            region = _MYELIN_REGION.search(name)
            scope = previous or ((region.group(1),) if region else ())
        scopes.append(scope)
        previous = scope or previous
    return scopes


def _path_scope(name: str) -> tuple:
    """``/layer3/layer3.0/conv1/Conv`` -> ("layer3", "layer3.0", "conv1"); fused ``A + B`` uses A."""
    # Each regex runs only on names that can match it: this runs once per layer.
    first = name.strip("{}")
    if " + " in first or ", " in first:
        first = _FUSED_OR_LISTED.split(first)[0]
    if first.startswith(("PWN", "ForeignNode")):
        first = _WRAPPER_PREFIX.sub("", first)
    first = first.strip("()[]")
    if "_myl" in first:
        first = _MYELIN_REGION.sub("", first)
    parts = [p for p in first.split("/") if p]
    return tuple(parts[:-1])


def _common_prefix(scopes: list[tuple]) -> tuple:
    """Scope parts shared by every scoped layer (TF exports put the model name first: ``resnet50/…``)."""
    scoped = [s for s in scopes if s]
    if not scoped:
        return ()
    prefix = scoped[0]
    for s in scoped[1:]:
        while prefix and s[:len(prefix)] != prefix:
            prefix = prefix[:-1]
        if not prefix:
            break
    # Keep one level when every layer would share it entirely: a flat model still needs a group.
    return prefix[:-1] if prefix and all(len(s) == len(prefix) for s in scoped) else prefix
