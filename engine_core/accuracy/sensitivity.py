"""Output gain of keeping each quantized node: one onnxruntime run per node, on the Q/DQ model as it is.

A node's own SQNR, or even the noise it adds locally, does not say how much of that noise
reaches the output: ResNet-18's global average pool takes 10 dB of accumulated noise off
the convolutions before it, while the Q/DQ on the pooled features and the logits lands on
the output whole. So the advisor asks the model: for each quantized node, the candidate
with that one node taken out of quantization (its inputs read the float tensors behind
their Q/DQ and its weights the float weights; a graph output it writes loses its Q/DQ),
run on a few of the evaluation batches. This simulates a keep in FP32 without
re-quantizing (calibration is the slow part of a recipe); the builds that follow keep in
FP16 for real. onnxruntime is imported inside functions.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import pandas as pd

from engine_core.accuracy.inputs import EvaluationInputs
from engine_core.accuracy.measure import tensor_origins, output_pairs, cpu_session
from engine_core.accuracy.metrics import TensorError

#: Evaluation batches each one-node variant runs on: enough to order the nodes, few enough for a 2-core machine.
RANKING_BATCHES = 2


def keep_gains(base, cand, nodes: list[str], inputs: EvaluationInputs, *, deadline: float | None = None,
               on_progress: Callable[[str], None] = lambda message: None) -> pd.DataFrame:
    """Per node in ``nodes`` (names in both models): ``sqnr_if_kept_db`` and ``gain_db`` over the candidate as is.

    Nodes not reached before ``deadline`` (a ``time.monotonic()`` value) get NaN. ``base``/``cand`` are
    ``onnx.ModelProto``.
    """
    batches = inputs.batches[:RANKING_BATCHES]
    outputs = output_pairs(base, cand)
    reference = _run(base, [a for a, _ in outputs], batches, "baseline")
    start = _sqnr(reference, _run(cand, [b for _, b in outputs], batches, "candidate"))
    base_nodes = {n.name: n for n in base.graph.node if n.name}
    base_inits = {i.name: i for i in base.graph.initializer}
    origin = tensor_origins(cand)
    rows = []
    for i, node in enumerate(nodes):
        if deadline is not None and time.monotonic() > deadline:
            rows.append((node, math.nan, math.nan))
            continue
        if i % 10 == 0:
            on_progress(f"output gain of keeping each node: {i}/{len(nodes)}")
        variant = _without_quantization(cand, node, base_nodes.get(node), base_inits, origin)
        kept = _sqnr(reference, _run(variant, [b for _, b in outputs], batches, f"{node} kept"))
        rows.append((node, kept, kept - start))
    gains = pd.DataFrame(rows, columns=["onnx_node", "sqnr_if_kept_db", "gain_db"])
    missed = int(gains["gain_db"].isna().sum())
    on_progress(f"output gain of keeping each node: {len(nodes) - missed}/{len(nodes)}"
                + (f" ({missed} not reached within a third of the budget: ranked by local SQNR)" if missed else ""))
    return gains


def _run(model, names: list[str], batches: list[dict], label: str) -> list[list]:
    session = cpu_session(model, [], label)
    return [session.run(names, batch) for batch in batches]


def _sqnr(reference: list[list], candidate: list[list]) -> float:
    """Output SQNR of the first output over the batches."""
    error = TensorError()
    for ref, got in zip(reference, candidate):
        error.add(ref[0], got[0])
    return error.sqnr


def _without_quantization(cand, name: str, base_node, base_inits: dict, origin: dict):
    """A copy of ``cand`` in which node ``name`` reads float inputs and writes an unquantized graph output."""
    import onnx

    from engine_core.recipes.keep import drop_dead_qdq

    model = onnx.ModelProto()
    model.CopyFrom(cand)
    graph = model.graph
    producers = {o: n for n in graph.node for o in n.output}
    node = next((n for n in graph.node if n.name == name), None)
    if node is None:
        return model
    have = {i.name for i in graph.initializer}
    for j, tensor in enumerate(node.input):
        producer = producers.get(tensor)
        if producer is None or producer.op_type != "DequantizeLinear":
            continue
        float_name = base_node.input[j] if base_node is not None and j < len(base_node.input) else None
        if float_name in base_inits:            # a quantized weight: the float weight it came from
            if float_name not in have:
                graph.initializer.append(base_inits[float_name])
                have.add(float_name)
            node.input[j] = float_name
        elif origin.get(tensor, tensor) != tensor:  # DQ(Q(x)): read x
            node.input[j] = origin[tensor]
    outputs = {o.name for o in graph.output}
    consumers = [n for n in graph.node if node.output and node.output[0] in n.input]
    if len(consumers) == 1 and consumers[0].op_type == "QuantizeLinear":
        dequantize = [n for n in graph.node if consumers[0].output[0] in n.input]
        if len(dequantize) == 1 and dequantize[0].output[0] in outputs:
            node.output[0] = dequantize[0].output[0]   # the graph output, without its Q/DQ
            pair = {id(consumers[0]), id(dequantize[0])}
            remaining = [n for n in graph.node if id(n) not in pair]
            del graph.node[:]
            graph.node.extend(remaining)
    drop_dead_qdq(graph)
    return model
