"""Per-node precision toggles: ``--keep fp16:PATTERN`` / ``--keep fp32:PATTERN`` resolved to nodes, and FP16 islands.

A kept node leaves the recipe's precision: in an INT8/FP8 recipe it gets no Q/DQ
(onnxruntime's ``nodes_to_exclude``) and runs in the named float type; in an FP16/BF16
recipe ``fp32`` adds it to the float16 converter's block list. Patterns are
``fnmatch`` patterns over ONNX node names (``/layer4/*``; ``*`` crosses ``/``), and a
pattern equal to a node name matches that node even when the name holds ``[`` or ``?``.

FP16 islands are cast here, not by onnxconverter-common: its converter makes every
tensor FP16 and wraps *blocked* nodes in casts, so keeping a few nodes in FP16 means
blocking all the others, and then every tensor between two FP32 nodes still makes an
FP32 -> FP16 -> FP32 round trip (seen on a Q/DQ ResNet-18: the dequantized weights of
FP32 convolutions went through FP16). :func:`cast_nodes_to_float16` touches only the
kept nodes: a Cast to FP16 on each float input (FP16 copies of float initializers),
a Cast back to FP32 on each float output, and kept neighbours hand FP16 to each other
directly. Must not import TensorRT or Streamlit; onnx is imported inside functions.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np

from engine_core.errors import ArtifactFormatError, LayerLensError
from engine_core.recipes.spec import KEEP_TYPES

#: The largest finite FP16 value: weights beyond it are clamped, as onnxconverter-common does.
FP16_MAX = 65504.0


def keep_fact(kind: str) -> str:
    """The build-log fact naming the nodes kept in ``kind`` (``kept in FP16 (--keep)``), written and read back."""
    return f"kept in {kind.upper()} (--keep)"


def kept_nodes(build_facts: dict[str, str]) -> dict[str, str]:
    """ONNX node -> ``FP16``/``FP32`` for the nodes a build kept on request, from its build-log facts."""
    out = {}
    for kind in KEEP_TYPES:
        for node in filter(None, build_facts.get(keep_fact(kind), "").split(", ")):
            out[node] = kind.upper()
    return out


def parse_keep(items) -> list[tuple[str, str]]:
    """``["fp16:/layer4/*", "fp32:/fc/Gemm"]`` -> ``[("fp16", "/layer4/*"), ("fp32", "/fc/Gemm")]``.

    Raises:
        LayerLensError: an item is not ``fp16:PATTERN`` or ``fp32:PATTERN``.
    """
    out = []
    for item in items or ():
        kind, sep, pattern = str(item).partition(":")
        if not sep or kind.lower() not in KEEP_TYPES or not pattern.strip():
            raise LayerLensError(f"--keep {item!r} is not TYPE:PATTERN with TYPE fp16 or fp32.",
                                 "Example: --keep fp16:/layer4/* --keep fp32:/fc/Gemm (patterns match ONNX node names).")
        out.append((kind.lower(), pattern.strip()))
    return out


def read_node_names(model_path: str | Path) -> list[str]:
    """The node names of an ONNX model, in graph order (weights are not loaded).

    Raises:
        ArtifactFormatError: the file is not readable ONNX.
    """
    import onnx

    try:
        model = onnx.load(str(model_path), load_external_data=False)
    except Exception as exc:  # DecodeError, OSError
        raise ArtifactFormatError(str(model_path), f"is not a readable ONNX model ({type(exc).__name__}).",
                                  "Check the model path.") from None
    return [n.name for n in model.graph.node]


def resolve_keep(node_names: list[str], requests: list[tuple[str, str]], model_label: str = "the model"
                 ) -> tuple[tuple[str, str], ...]:
    """The ``(node, type)`` pairs the requests name, sorted (one pass over the nodes per pattern).

    Raises:
        LayerLensError: a pattern matches no node, or a node is asked for in both FP16 and FP32.
    """
    chosen: dict[str, str] = {}
    names = [n for n in node_names if n]
    for kind, pattern in requests:
        matched = [n for n in names if n == pattern or fnmatchcase(n, pattern)]
        if not matched:
            examples = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
            raise LayerLensError(f"--keep {kind}:{pattern} matches no ONNX node of {model_label}.",
                                 f"Patterns match node names (fnmatch, '*' crosses '/'), e.g. {examples}.")
        for node in matched:
            if chosen.get(node, kind) != kind:
                raise LayerLensError(f"ONNX node {node} is asked to stay in both FP16 and FP32.",
                                     "Make the --keep patterns disjoint.")
            chosen[node] = kind
    return tuple(sorted(chosen.items()))


def check_keep(precision: str, keep: tuple[tuple[str, str], ...]) -> None:
    """Raises LayerLensError for a keep list the recipe cannot honour."""
    if not keep:
        return
    kinds = {kind for _, kind in keep}
    if not kinds <= set(KEEP_TYPES):
        raise LayerLensError(f"Unknown keep type(s) {', '.join(sorted(kinds - set(KEEP_TYPES)))}.", "Use fp16 or fp32.")
    if precision == "fp32":
        raise LayerLensError("--keep needs a lower-precision recipe: in fp32 every node is FP32 already.",
                             "Use --precision int8, fp8, fp16 or bf16.")
    if precision in ("fp16", "bf16") and "fp16" in kinds:
        raise LayerLensError(f"--keep fp16 in a {precision} recipe: only fp32 can be kept there.",
                             "Use --keep fp32:PATTERN to leave nodes in FP32, or --precision int8 to keep nodes in FP16.")


def keep_out_of_quantization(model, spec) -> tuple[dict[str, list[str]], list[str]]:
    """Finish a Q/DQ model whose kept nodes onnxruntime excluded: float inputs, and FP16 islands; in place.

    Returns ``({"fp16": [...], "fp32": [...]}, notes)``: what each kept node runs in, and why some differ
    from the request (an op with no FP16 form stays FP32).
    """
    unquantize_inputs(model, [node for node, _ in spec.keep])
    notes, stayed = [], []
    if spec.kept_in("fp16"):
        stayed = cast_nodes_to_float16(model, spec.kept_in("fp16"))
    if stayed:
        notes.append(f"{len(stayed)} node(s) kept out of {spec.precision.upper()} have no FP16 form and stay FP32: "
                     + ", ".join(stayed[:5]) + (" …" if len(stayed) > 5 else ""))
    fp16 = [n for n in spec.kept_in("fp16") if n not in set(stayed)]
    kept = {"fp16": fp16, "fp32": sorted(spec.kept_in("fp32") + stayed)}
    return {kind: nodes for kind, nodes in kept.items() if nodes}, notes


def unquantize_inputs(model, nodes: list[str]) -> int:
    """Point kept nodes at the float tensors behind their ``DequantizeLinear(QuantizeLinear(x))`` inputs, in place.

    onnxruntime's ``nodes_to_exclude`` keeps Q/DQ off a node's *own* quantization, but when a tensor
    also feeds a quantized node the quantizer routes every consumer through the one Q/DQ pair
    (seen on ResNet-18: a kept convolution still read ``..._DequantizeLinear_Output``). Q/DQ pairs
    left without readers are removed. Returns the number of inputs rerouted.
    """
    graph = model.graph
    producers = {o: n for n in graph.node for o in n.output}
    wanted = set(nodes)
    rerouted = 0
    for node in graph.node:
        if node.name not in wanted:
            continue
        for i, name in enumerate(node.input):
            dq = producers.get(name)
            q = producers.get(dq.input[0]) if dq is not None and dq.op_type == "DequantizeLinear" else None
            if q is not None and q.op_type == "QuantizeLinear":
                node.input[i] = q.input[0]
                rerouted += 1
    if rerouted:
        drop_dead_qdq(graph)
    return rerouted


def drop_dead_qdq(graph) -> None:
    """Remove Q/DQ nodes nothing reads any more (a DQ first, then the Q that fed only it), and their scales."""
    outputs = {o.name for o in graph.output}
    dropped_inputs: set[str] = set()
    for op in ("DequantizeLinear", "QuantizeLinear"):
        read = {i for n in graph.node for i in n.input} | outputs
        alive = [n for n in graph.node if n.op_type != op or any(o in read for o in n.output)]
        if len(alive) != len(graph.node):
            dropped_inputs |= {i for n in graph.node if n.op_type == op and not any(o in read for o in n.output)
                               for i in n.input}
            del graph.node[:]
            graph.node.extend(alive)
    used = {i for n in graph.node for i in n.input} | {i.name for i in graph.input}
    remaining = [i for i in graph.initializer if i.name in used or i.name not in dropped_inputs]
    if len(remaining) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(remaining)


def cast_nodes_to_float16(model, nodes: list[str]) -> list[str]:
    """Run ``nodes`` in FP16 in place: casts around each, FP16 copies of their float weights.

    Returns the requested nodes that stay FP32 because their op has no FP16 form: onnxconverter-common's
    ``DEFAULT_OP_BLOCK_LIST`` (ONNX-ML ops, Resize/Upsample whose scales stay FP32, TopK, Range, Min/Max, ...),
    read from the converter so the two lists never drift apart.
    """
    from onnx import TensorProto, helper, numpy_helper, shape_inference
    from onnxconverter_common.float16 import DEFAULT_OP_BLOCK_LIST

    graph = model.graph
    wanted = set(nodes)
    kept = {n.name for n in graph.node if n.name in wanted and n.op_type not in DEFAULT_OP_BLOCK_LIST}
    stayed = sorted(wanted - kept)
    if not kept:
        return stayed
    float_tensors = _float_tensors(shape_inference.infer_shapes(model, strict_mode=False))
    initializers = {i.name: i for i in graph.initializer}
    graph_outputs = {o.name for o in graph.output}
    half: dict[str, str] = {}          # float tensor -> its FP16 twin (a cast, an FP16 initializer, or a kept node's output)
    new_inits, nodes_out, back_casts = [], [], []
    for node in graph.node:
        if node.name not in kept:
            nodes_out.append(node)
            continue
        for i, name in enumerate(node.input):
            if not name or name not in float_tensors:
                continue
            if name not in half:
                half[name] = f"{name}_fp16"
                if name in initializers:
                    values = np.clip(numpy_helper.to_array(initializers[name]), -FP16_MAX, FP16_MAX).astype(np.float16)
                    new_inits.append(numpy_helper.from_array(values, half[name]))
                else:
                    nodes_out.append(helper.make_node("Cast", [name], [half[name]], to=TensorProto.FLOAT16,
                                                      name=f"{node.name}_keep_fp16_in{i}"))
            node.input[i] = half[name]
        nodes_out.append(node)
        for i, name in enumerate(node.output):
            if name not in float_tensors:
                continue
            half[name] = f"{name}_fp16"
            node.output[i] = half[name]
            back_casts.append(helper.make_node("Cast", [half[name]], [name], to=TensorProto.FLOAT,
                                               name=f"{node.name}_keep_fp32_out{i}"))
            nodes_out.append(back_casts[-1])
    # A kept node's FP32 copy that only kept nodes read (they take the FP16 twin) is dead: drop it.
    read = {i for n in nodes_out for i in n.input} | graph_outputs
    dead = {id(c) for c in back_casts if c.output[0] not in read}
    nodes_out = [n for n in nodes_out if id(n) not in dead]
    del graph.node[:]
    graph.node.extend(nodes_out)
    # FP32 weights that only kept nodes read are now unused: their FP16 copies replace them.
    used = {i for n in nodes_out for i in n.input} | graph_outputs | {i.name for i in graph.input}
    replaced = {name for name in half if name in initializers and name not in used}
    if replaced:
        remaining = [i for i in graph.initializer if i.name not in replaced]
        del graph.initializer[:]
        graph.initializer.extend(remaining)
    graph.initializer.extend(new_inits)
    return stayed


def _float_tensors(inferred) -> set[str]:
    from onnx import TensorProto

    graph = inferred.graph
    typed = list(graph.input) + list(graph.value_info) + list(graph.output)
    out = {v.name for v in typed if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    out |= {i.name for i in graph.initializer if i.data_type == TensorProto.FLOAT}
    return out

