"""Why is a layer not in the precision the user asked for?

For every layer whose compute or output precision is wider than the lowest
precision the build enabled, :func:`explain_fallbacks` gives one reason from a
closed vocabulary (:data:`REASONS`), first match wins, with the evidence that
decided it:

1. ``integer_data``: the layer works on INT32/INT64/BOOL data (shapes, indices);
   TensorRT never quantizes those.
2. ``precision_ignored``: the verbose build log says the builder chose "a
   non-conforming implementation ... because it resulted in faster network
   performance" for this layer (NVIDIA/TensorRT#2407).
3. ``missing_dynamic_range``: the log says a tensor of this layer has no scale
   ("Missing scale and zero-point for tensor", #2031/#2114) or a ForeignNode got
   default quantization params (#3754).
4. ``int8_wide_output``: an INT8 kernel (``i8f16``/``i8f32``) writes FP16/FP32
   because its consumer is not quantized: the QAT residual-add case.
5. ``myelin_fusion``: inside a Myelin/ForeignNode fusion, which picks its own
   precisions and hides per-op detail (#3889, #4157).
6. ``no_qdq``: in an explicitly quantized (Q/DQ) network, no Q/DQ surrounds the
   op, so TensorRT must run it in float (explicit quantization is honoured
   exactly: developer guide, "Explicit Quantization").
7. ``no_low_precision_kernel``: TensorRT has no INT8 implementation for the
   layer type (softmax, resize, normalization, ...).
8. ``tactic_choice``: implicit (calibrated) INT8 or weakly typed FP16 are
   permissions, not orders; the builder timed a wider kernel as faster
   ("uses INT8 opportunistically", developer guide 8.x).
9. ``unknown``: none of the above had evidence.

A layer from an ONNX node the build kept out of its precision on purpose (``--keep``,
named in the build log) is ``kept``, before any of these: it is a choice, not a miss.

Three reasons name structure rather than a fallback, so every non-requested layer
carries one:

* ``quantize_boundary``: a Q/DQ reformat or a quantize kernel (TensorRT-RTX
  ``__myl_MulMinMaxRounCast``) that *produces* the requested precision reads float
  by definition.
* ``split_epilogue``: TensorRT-RTX runs an INT8 convolution with FP32 output and
  applies bias, activation, the residual Add and re-quantization in a separate
  kgen kernel (TensorRT 8-10 fuse these into the convolution). Both the
  convolution and its epilogue kernel carry this reason; the kernel's ops are
  spelled out from its name (:mod:`engine_core.analysis.kernels`).
* ``io_boundary``: a kernel that converts the network's own float input or output
  (recipes keep the model's I/O types, so an FP16 engine starts with a cast).

Pure pandas; no TensorRT, no Streamlit.
"""

from __future__ import annotations

import re
from collections import namedtuple
from pathlib import Path

import pandas as pd

from engine_core.analysis.kernels import describe_kernel, is_generated_kernel
from engine_core.analysis.requested import is_explicitly_quantized
from engine_core.engine import Engine
from engine_core.importers.trtexec_log import LogEvent
from engine_core.layer_table import REFORMAT_TARGET
from engine_core.precision import DATA_PRECISIONS, PRECISION_RANK
from engine_core.recipes.keep import kept_nodes
from engine_core.tensor_index import TensorIndex

REASONS: dict[str, str] = {
    "integer_data": "Integer or bool data (shapes, indices) cannot be quantized",
    "precision_ignored": "The builder ignored the requested precision and chose a faster implementation",
    "missing_dynamic_range": "The build log or the calibration cache says a tensor of this layer has no quantization scale",
    "int8_wide_output": "INT8 kernel writes a wider output because its consumer is not quantized",
    "myelin_fusion": "Inside an opaque Myelin/ForeignNode fusion that picks its own precision",
    "no_qdq": "No Q/DQ around this op in an explicitly quantized network",
    "no_low_precision_kernel": "TensorRT has no implementation of this layer type at the requested precision",
    "tactic_choice": "The builder timed a wider-precision kernel as faster",
    "unknown": "No evidence for a cause",
    "quantize_boundary": "Quantize node: converts float input into the quantized region (not a fallback)",
    "split_epilogue": "INT8 convolution writes FP32; bias, activation, residual and re-quantization run in a separate kernel",
    "io_boundary": "Converts the network's float input or output (the model's I/O types are kept)",
    "kept": "Kept out of the requested precision on request (--keep)",
}
#: Reasons that describe the engine's structure (or the user's choice), not a layer that missed the requested precision.
STRUCTURAL_REASONS = ("quantize_boundary", "io_boundary", "kept")

# Layer types with no INT8 kernel in TensorRT <= 10 (operator support matrix,
# https://docs.nvidia.com/deeplearning/tensorrt/latest/getting-started/support-matrix.html).
_NO_INT8_TYPES = {"SoftMax", "Softmax", "CudaSoftMax", "Resize", "TopK", "Reduce", "Normalization", "LayerNorm",
                  "Einsum", "NonZero", "Scatter", "Cast", "RaggedSoftMax", "Unary", "Assertion", "Fill", "Sort"}

# A fused elementwise Add in a consumer's name: the residual join of a ResNet/MobileNetV2 block.
_RESIDUAL_ADD = re.compile(r"(?:^|[ /_])(?:Add|add)(?:_\d+)?(?:$| )")
RESIDUAL_ADD_EVIDENCE = "residual Add without Q/DQ"

FALLBACK_COLUMNS = ("order", "name", "layer_type", "compute_precision", "output_precision", "requested_precision",
                    "reason", "reason_text", "evidence", "inherited_from", "avg_ms", "weights_bytes")


def explain_fallbacks(engine: Engine) -> pd.DataFrame:
    """One row per layer above the requested precision, with reason and evidence.

    Returns an empty frame with :data:`FALLBACK_COLUMNS` when the requested
    precision is unknown or every layer meets it.
    """
    layers = engine.layers
    requested, _ = engine.analysis.requested_precision
    if requested is None or layers.empty:
        return pd.DataFrame(columns=list(FALLBACK_COLUMNS))
    flagged = layers[_above_requested(layers, requested)]
    explicit = is_explicitly_quantized(layers)
    tensors = engine.analysis.tensors
    ignored = {e.subject for e in engine.events if e.kind == "precision_ignored"}
    no_range = {e.subject for e in engine.events if e.kind in ("missing_dynamic_range", "default_quantization")}
    events = {e.subject: e for e in engine.events}
    if engine.calibration is not None and requested == "INT8":
        # The cache the engine was built with has no scale for these tensors: no INT8 for their layers (#2031).
        for tensor in _uncalibrated_tensors(tensors, engine.calibration):
            no_range.add(tensor)
            events.setdefault(tensor, LogEvent(0, "I", "missing_dynamic_range", tensor,
                                               f"calibration cache {Path(engine.calibration.file).name} has no scale "
                                               f"for tensor {tensor!r}"))
    names = layers["name"].tolist()
    graph = _Graph(tensors, names, layers["compute_precision"].tolist(), dict(zip(names, layers["layer_type"].tolist())))
    # Row tuples from column lists: itertuples iterates each column element by element (Arrow strings slowly).
    flagged_rows = list(map(_FlaggedLayer._make, zip(*(flagged[c].tolist() for c in _READ_COLUMNS))))
    decided: dict[str, tuple[str, str, str | None]] = {}
    kept = kept_nodes(engine.build_facts)
    for layer in flagged_rows if kept else ():  # the user's choice comes first, for the work and its glue alike
        hit = next((n for n in layer.onnx_nodes if n in kept), None)
        if hit is not None:
            decided[layer.name] = ("kept", f"ONNX node {hit} kept in {kept[hit]} on request (--keep)", None)

    def own_reason(layer):
        return (*_reason(layer, requested, explicit, ignored, no_range, events, graph), None)

    # First the layers that do the work; then the glue around them (reformats, generated kernels),
    # which exists because of a neighbour and inherits its reason where it has one.
    glue = [(layer.is_reformat and layer.origin != "QDQ") or _is_generated(layer) or _only_output_wider(layer, requested)
            for layer in flagged_rows]
    for layer, is_glue in zip(flagged_rows, glue):
        if not is_glue and layer.name not in decided:
            decided[layer.name] = _structural_reason(layer, graph) or own_reason(layer)
    rows = []
    for layer in flagged_rows:
        if layer.name not in decided:
            if layer.is_reformat and not _is_generated(layer):  # a reformat exists because of the layer on its wide side
                found = _reformat_reason(layer, decided, graph)
            else:
                found = _structural_reason(layer, graph)
                if found is None or found[0] == "io_boundary":
                    found = _feeder_reason(layer, decided, graph) or _reformat_reason(layer, decided, graph) or found
            decided[layer.name] = found or own_reason(layer)
        reason, evidence, inherited = decided[layer.name]
        rows.append((layer.order, layer.name, layer.layer_type, layer.compute_precision, layer.output_precision,
                     requested, reason, REASONS[reason], evidence, inherited, layer.avg_ms, layer.weights_bytes))
    if not rows:
        return pd.DataFrame(columns=list(FALLBACK_COLUMNS))
    # Column by column: a frame from 100k row tuples goes through one 2-D object array first.
    return pd.DataFrame(dict(zip(FALLBACK_COLUMNS, map(list, zip(*rows)))))


_WEIGHTED_MYELIN = ("correlation", "gemm")
#: The columns the reasons below read: a row tuple of these, not of all forty, per flagged layer.
_READ_COLUMNS = ("order", "name", "layer_type", "parameter_type", "onnx_nodes", "inputs", "outputs", "input_precision",
                 "output_precision", "input_format", "compute_precision", "compute_precision_source", "wide_output",
                 "weights_count", "weights_bytes", "tactic_name", "tactic_value", "origin", "avg_ms", "is_reformat",
                 "is_quantize", "is_myelin")
_FlaggedLayer = namedtuple("_FlaggedLayer", _READ_COLUMNS)


class _Graph:
    """Who writes and who reads each tensor, and each layer's type: enough to see epilogues and I/O.

    Writers and readers come from the engine's :class:`~engine_core.tensor_index.TensorIndex`, as rows; ``names`` and
    ``precisions`` (per row) and ``types`` (per layer name) say who they are."""

    def __init__(self, tensors: TensorIndex, names: list, precisions: list, types: dict) -> None:
        self.tensors, self.names, self.precisions, self.types = tensors, names, precisions, types
        self._first: dict = {}

    def producer(self, tensor) -> str | None:
        """The name of the layer writing ``tensor`` (the last, if several do); None for a network input."""
        row = self.tensors.last_writer.get(tensor)
        return None if row is None else self.names[row]

    def consumers(self, tensor) -> list[tuple[str, str]]:
        """``(layer name, its compute precision)`` of every layer reading ``tensor``, in execution order."""
        return [(self.names[row], self.precisions[row]) for row in self.tensors.readers.get(tensor, ())]

    def first_reader(self, tensor, kind: str) -> str | None:
        """The first layer reading ``tensor`` that is a ``"kgen"`` kernel or a ``"residual_add"``.

        Memoized per tensor: an LLM's rotary tables or attention mask are read by every block, and
        scanning their readers once per layer that writes or reads them was quadratic in layers.
        """
        key = (tensor, kind)
        if key not in self._first:
            test = (lambda n: self.types.get(n) == "kgen") if kind == "kgen" else _RESIDUAL_ADD.search
            self._first[key] = next((n for n, _ in self.consumers(tensor) if test(n)), None)
        return self._first[key]

    def producer_of(self, layer) -> str | None:
        return self.producer(layer.inputs[0].get("Name")) if layer.inputs else None

    def touches_network_io(self, layer) -> bool:
        """An input no layer writes (a network input) or an output no layer reads (a network output)."""
        ins = [t.get("Name") for t in layer.inputs or ()]
        outs = [t.get("Name") for t in layer.outputs or ()]
        return any(i not in self.tensors.last_writer for i in ins) or any(o not in self.tensors.first_reader for o in outs)


def _article(precision: str) -> str:
    """``an FP32``, ``an INT8``, ``a BF16``, ``a TF32``: said the way engineers read them aloud."""
    return "an" if precision[:1] in "AEFHILMNORSX" else "a"


def _only_output_wider(layer, requested: str) -> bool:
    """Math at the requested precision, output wider: it writes for a wider neighbour."""
    rank = PRECISION_RANK.get(layer.compute_precision)
    return rank is not None and rank <= PRECISION_RANK[requested] and not layer.wide_output


def _is_generated(layer) -> bool:
    return is_generated_kernel(layer.name, layer.weights_count)


_INHERITABLE = ("no_low_precision_kernel", "no_qdq", "tactic_choice", "precision_ignored", "missing_dynamic_range", "kept")


def _feeder_reason(layer, decided, graph: _Graph) -> tuple[str, str, str] | None:
    """A kernel whose only job is to feed a float layer (a Q/DQ round trip, weights dequantized at run time)."""
    words = describe_kernel(layer.name) or "generated kernel"
    for tensor in layer.outputs or ():
        for reader, _ in graph.consumers(tensor.get("Name")):
            if reader in decided and decided[reader][0] in _INHERITABLE:
                reason = decided[reader][0]
                return reason, f"feeds {reader[:70]!r}, which is {reason} ({words})", reader
    return None


def _structural_reason(layer, graph: _Graph) -> tuple[str, str, str | None] | None:
    """split_epilogue / quantize_boundary / io_boundary for generated kernels (see module doc)."""
    quantized_out = layer.output_precision in ("INT8", "FP8", "INT4", "FP4")
    words = describe_kernel(layer.name, quantized_out)
    if layer.layer_type in _WEIGHTED_MYELIN and layer.wide_output:
        kernel = graph.first_reader(layer.outputs[0].get("Name") if layer.outputs else None, "kgen")
        if kernel:
            return ("split_epilogue", f"{layer.compute_precision} math writes {layer.output_precision}; the epilogue "
                    f"runs in {kernel[:70]!r} ({describe_kernel(kernel, True) or 'generated kernel'})", None)
    wider_out = PRECISION_RANK.get(layer.output_precision, -1) > PRECISION_RANK.get(layer.compute_precision, 99)
    if wider_out and graph.touches_network_io(layer) and not layer.wide_output:
        return ("io_boundary", f"{layer.compute_precision} math writes the network's {layer.output_precision} output"
                + (f" ({words})" if words else ""), None)
    if words is None or layer.weights_count:
        return None
    producer = graph.producer_of(layer)
    if producer and graph.types.get(producer) in _WEIGHTED_MYELIN:
        return ("split_epilogue", f"epilogue of {producer[:70]!r}: {words}", producer)
    if layer.is_quantize:
        return "quantize_boundary", f"quantize kernel ({words}): {layer.input_precision}->{layer.output_precision}", None
    if graph.touches_network_io(layer):
        return "io_boundary", f"converts network I/O {layer.input_precision}->{layer.output_precision} ({words})", None
    return None


def _uncalibrated_tensors(tensors: TensorIndex, cache) -> set[str]:
    return {n for n in set(tensors.read) if n and n not in cache.scales}


def _reformat_reason(layer, decided, graph: _Graph) -> tuple[str, str, str] | None:
    """A reformat inherits the reason of the fallback layer it converts from or into."""
    source = graph.producer_of(layer)
    target = REFORMAT_TARGET.match(layer.name)
    for neighbour, side in ((source, "after"), (target.group(1) if target else None, "before")):
        if neighbour in decided and decided[neighbour][0] != "quantize_boundary":
            reason = decided[neighbour][0]
            return reason, (f"{layer.input_precision}->{layer.output_precision} reformat {side} "
                            f"{neighbour[:80]!r}, which is {reason}"), neighbour
    return None


def summarize_fallbacks(fallbacks: pd.DataFrame) -> pd.DataFrame:
    """Per reason: layers, time and weights bytes at stake, most time first."""
    if fallbacks.empty:
        return pd.DataFrame(columns=["reason", "reason_text", "layers", "time_ms", "weights_bytes"])
    grouped = fallbacks.groupby(["reason", "reason_text"], sort=False).agg(
        layers=("name", "size"), time_ms=("avg_ms", "sum"), timed=("avg_ms", "count"),
        weights_bytes=("weights_bytes", "sum")).reset_index()
    # No measured layer in a group: its time is unknown, not zero (a CPU-built engine has no profile).
    grouped["time_ms"] = grouped["time_ms"].where(grouped["timed"] > 0)
    grouped = grouped.drop(columns="timed")
    return grouped.sort_values(["time_ms", "layers"], ascending=False, ignore_index=True)


def _above_requested(layers: pd.DataFrame, requested: str) -> pd.Series:
    rank = PRECISION_RANK[requested]
    compute_rank = layers["compute_precision"].map(PRECISION_RANK)
    output_rank = layers["output_precision"].map(PRECISION_RANK)
    wider = (compute_rank > rank) | (output_rank > rank)
    integer = layers["compute_precision"].isin(DATA_PRECISIONS) & (rank < PRECISION_RANK["FP32"])
    return wider | integer


def _tensor_names(layer) -> list[str]:
    return [t.get("Name") for t in (layer.inputs or ())] + [t.get("Name") for t in (layer.outputs or ())]


def _dequantizing_feeders(layer, graph: _Graph) -> list[str]:
    """Generated kernels that dequantize this layer's inputs (a Q/DQ round trip, weights dequantized at run time)."""
    feeders = [graph.producer(t.get("Name")) for t in layer.inputs or ()]
    return [f for f in feeders if f and "dequantize" in (describe_kernel(f) or "")]


def _reason(layer, requested, explicit, ignored, no_range, events, graph: _Graph) -> tuple[str, str]:
    if layer.origin == "QDQ" and PRECISION_RANK.get(layer.output_precision, 99) <= PRECISION_RANK[requested]:
        return "quantize_boundary", f"Q/DQ reformat {layer.input_precision}->{layer.output_precision}"
    if layer.compute_precision in DATA_PRECISIONS:
        return "integer_data", f"{layer.compute_precision} data ({layer.input_format or 'no input'})"
    if layer.name in ignored:
        e = events[layer.name]
        return "precision_ignored", f"build log line {e.line_no}: {e.message[:160]}"
    hit = next((t for t in _tensor_names(layer) if t in no_range), None) or (layer.name if layer.name in no_range else None)
    if hit:
        e = events[hit]
        where = f"build log line {e.line_no}" if e.line_no else "calibration"
        return "missing_dynamic_range", f"{where}: {e.message[:160]}"
    if layer.wide_output:
        out_name = layer.outputs[0].get("Name") if layer.outputs else ""
        add = graph.first_reader(out_name, "residual_add")
        if add:
            return "int8_wide_output", (f"{RESIDUAL_ADD_EVIDENCE}: output {layer.output_precision} feeds {add[-60:]!r} "
                                        f"unquantized; tactic {layer.tactic_name}")
        who = ", ".join(f"{n[:60]} ({p})" for n, p in graph.consumers(out_name)[:3]) or "the network output"
        return "int8_wide_output", f"output {layer.output_precision} feeds {who}; tactic {layer.tactic_name}"
    if layer.is_myelin:
        return "myelin_fusion", f"{layer.layer_type} layer {layer.name[:80]}"
    dequantized = [n for n in layer.onnx_nodes if "DequantizeLinear" in n] or _dequantizing_feeders(layer, graph)
    weighted = layer.parameter_type in ("Convolution", "MatrixMultiply", "Deconvolution", "FullyConnected")
    if dequantized and weighted and requested in ("INT8", "FP8", "INT4", "FP4"):
        dims = (layer.inputs[0].get("Dimensions") or []) if layer.inputs else []
        channels = f"; its input has {dims[1]} channels" if len(dims) >= 2 and layer.parameter_type == "Convolution" else ""
        return ("no_low_precision_kernel", f"the model quantizes it ({dequantized[0]}), but the builder chose "
                f"{_article(layer.compute_precision)} {layer.compute_precision} kernel{channels}: no {requested} implementation for this shape")
    if explicit and requested in ("INT8", "FP8", "INT4", "FP4"):
        first_input = layer.inputs[0].get("Name") if layer.inputs else "?"
        return "no_qdq", f"input {first_input!r} is {layer.input_precision}: no QuantizeLinear feeds this op"
    if requested in ("INT8", "FP8") and (layer.layer_type in _NO_INT8_TYPES or layer.parameter_type in _NO_INT8_TYPES):
        return "no_low_precision_kernel", f"{layer.parameter_type or layer.layer_type} has no {requested} kernel"
    if layer.tactic_name == "__myelin_CASK_STUB":
        # TensorRT-RTX names every library kernel this way: the choice is real, its cause is not logged.
        return "tactic_choice", (f"TensorRT-RTX chose {_article(layer.compute_precision)} {layer.compute_precision} kernel "
                                 "(__myelin_CASK_STUB; the log "
                                 "does not say why)")
    if layer.compute_precision_source == "tactic" or layer.tactic_name or layer.tactic_value:
        tactic = layer.tactic_name or layer.tactic_value
        return "tactic_choice", f"chosen tactic {tactic} runs {layer.compute_precision}"
    return "unknown", f"compute {layer.compute_precision} (from {layer.compute_precision_source})"
