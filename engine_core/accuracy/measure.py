"""Run a baseline and a candidate ONNX model on the same inputs with onnxruntime (CPU) and measure the error.

Output error: per model output, SQNR, worst per-sample cosine, largest absolute error and,
for ``(batch, classes)`` outputs, top-1 agreement. Per-node error: every tensor that a
baseline node writes and the candidate also holds under the same name is added as a
graph output on copies of both models, and compared batch by batch. Names carry over
because every recipe keeps them: onnxruntime's Q/DQ quantizer leaves a node's output
named as it was (then quantizes it: the tensor compared is the node's own result on
dequantized inputs), the float16 converter renames nothing, and a ``--keep`` FP16 island
casts back to the original name.

Why not ``onnxruntime.quantization.qdq_loss_debug``: it matches tensors only through the
Q/DQ naming (so FP16 recipes and kept nodes fall outside it), keeps every batch of every
tensor in memory, and floors the noise at machine epsilon, which turns "identical" into a
large finite number. Its SQNR formula is the one used here (:mod:`engine_core.accuracy.metrics`).

FP16 on the CPU: onnxruntime computes float16 nodes it has no CPU kernel for in float32
between float16 tensors (its cast-insertion transformer), so the measured error is the
FP16 rounding of weights and activations; TensorRT's FP16 kernels accumulate in FP32 too.
The per-node capture is always on, and it matters for FP16: a tensor that is a graph output
is materialized in its declared type, while onnxruntime drops FP16 round trips between two
nodes it runs in FP32 when nothing reads the tensor (ResNet-18 FP16: 68.8 dB with every
tensor materialized, as TensorRT stores each layer's output, 70.1 dB without). One setting,
so one pair of models always gets one number.
onnxruntime is imported inside functions. Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from engine_core.accuracy.inputs import EVAL_BATCHES, SYNTHETIC_NOTE, EvaluationInputs, evaluation_inputs
from engine_core.accuracy.metrics import TensorError, relative_noise
from engine_core.accuracy.report import NODE_COLUMNS, AccuracyReport, OutputAccuracy, empty_nodes
from engine_core.errors import ArtifactFormatError, LayerLensError, MissingDependencyError

#: Ops that hand a tensor on with a new type or a quantization round trip: an input's origin is found through them.
PASS_THROUGH = ("QuantizeLinear", "DequantizeLinear", "Cast")
_QUANTIZED_ZERO_POINTS = {3: "INT8", 2: "INT8", 17: "FP8", 18: "FP8", 19: "FP8", 20: "FP8", 22: "INT4", 21: "INT4"}

ProgressFn = Callable[[str], None]


def load_onnx(path: str | Path):
    """Read an ONNX model (with external data).

    Raises:
        ArtifactFormatError: missing or unreadable.
    """
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ArtifactFormatError(str(path), "does not exist.", "Check the path (a run's recipe ONNX lives on the machine that built it).")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # DecodeError, OSError, ValueError
        raise ArtifactFormatError(str(path), f"is not a readable ONNX model ({type(exc).__name__}).",
                                  "Export it again and check it with onnx.checker.") from None


def measure_accuracy(baseline: str | Path, candidate: str | Path, data_dir: str | Path | None = None, *,
                     batches: int = EVAL_BATCHES, recipe: str | None = None,
                     kept: dict | None = None, on_progress: ProgressFn = lambda detail: None) -> AccuracyReport:
    """Compare ``candidate`` against ``baseline`` on ``data_dir`` batches (else seeded synthetic ones).

    Args:
        baseline: the reference ONNX (usually the float model a recipe started from).
        candidate: the ONNX under test (a recipe's output).
        data_dir: folder of ``.npz``/``.npy`` batches (the calibration format); None for synthetic inputs.
        batches: synthetic batch count.
        recipe, kept: recorded in the report.

    Raises:
        ArtifactFormatError: a model is missing or unreadable.
        MissingDependencyError: onnxruntime is not installed.
        LayerLensError: the models take different inputs, or onnxruntime cannot run one of them.
    """
    from engine_core.recipes.apply import file_sha256

    base_model, cand_model = load_onnx(baseline), load_onnx(candidate)
    inputs = evaluation_inputs(base_model, data_dir, count=batches)
    _check_same_inputs(base_model, cand_model, baseline, candidate)
    outputs = output_pairs(base_model, cand_model)
    tensors = _shared_tensors(base_model, cand_model)
    on_progress(f"running both models on {inputs.description}" + (f", comparing {len(tensors)} tensors" if tensors else ""))
    errors, dtypes = _run_pair(base_model, cand_model, inputs, outputs, tensors, baseline, candidate)
    report = AccuracyReport(
        inputs.to_json(),
        [_output_accuracy(name, errors[("out", name, cand)]) for name, cand in outputs],
        _node_table(base_model, cand_model, tensors, errors, dtypes) if tensors else empty_nodes(),
        {"path": str(baseline), "sha256": file_sha256(baseline)},
        {"path": str(candidate), "sha256": file_sha256(candidate), **({"recipe": recipe} if recipe else {})},
        dict(kept or {}))
    if [n for n, c in outputs if n != c]:
        report.notes.append("the candidate names its outputs differently: they were matched by position")
    if inputs.source == "synthetic":
        report.notes.append(SYNTHETIC_NOTE)
    return report


def identical_report(model: str | Path, recipe: str | None = None) -> AccuracyReport:
    """The report of a model against itself (an FP32 build): identical by definition, nothing run."""
    from engine_core.recipes.apply import file_sha256

    loaded = load_onnx(model)
    sha = file_sha256(model)
    inputs = EvaluationInputs([], "none", "none: the candidate is the baseline model")
    outputs = [OutputAccuracy(o.name, math.inf, 1.0, 0.0, None) for o in loaded.graph.output]
    return AccuracyReport(inputs.to_json(), outputs, empty_nodes(), {"path": str(model), "sha256": sha},
                          {"path": str(model), "sha256": sha, **({"recipe": recipe} if recipe else {})},
                          notes=["the candidate is the baseline model itself: identical by definition"])


def _check_same_inputs(base, cand, base_path, cand_path) -> None:
    from engine_core.recipes.calibration import model_inputs

    def described(model) -> list[str]:
        return sorted(f"{i.name} {'x'.join('?' if d is None else str(d) for d in i.shape)}" for i in model_inputs(model))

    a, b = described(base), described(cand)
    if a != b:
        raise LayerLensError(f"{Path(cand_path).name} takes inputs {', '.join(b)}, but {Path(base_path).name} takes "
                             f"{', '.join(a)}.",
                             "Compare two versions of the same model (a recipe's output against the model it came from).")


def output_pairs(base, cand) -> list[tuple[str, str]]:
    """(baseline output, candidate output): by name when the names agree, else by position."""
    a, b = [o.name for o in base.graph.output], [o.name for o in cand.graph.output]
    if len(a) != len(b):
        raise LayerLensError(f"The models have {len(a)} and {len(b)} outputs.", "Compare two versions of the same model.")
    if set(a) == set(b):
        return [(n, n) for n in a]
    return list(zip(a, b))


def _shared_tensors(base, cand) -> dict[str, tuple[str, str, str]]:
    """``{baseline tensor: (node, op type, candidate tensor)}`` for the first output of every baseline node.

    The candidate tensor is the same-named node's own first output (a kept FP16 node writes
    ``<name>_fp16`` and casts it back), else the same-named tensor, else the node is not compared.
    A node writing a graph output is compared on that output as the candidate delivers it: its
    output Q/DQ (onnxruntime's ``ort`` placement quantizes the logits) is error no consumer inherits.
    """
    cand_nodes = {n.name: n for n in cand.graph.node if n.name}
    cand_tensors = {o for n in cand.graph.node for o in n.output}
    graph_outputs = {o.name for o in base.graph.output} & {o.name for o in cand.graph.output}
    out = {}
    for node in base.graph.node:
        if node.op_type == "Constant" or not node.output or not node.output[0]:
            continue
        twin = cand_nodes.get(node.name) if node.name else None
        tensor = twin.output[0] if twin is not None and twin.output else node.output[0]
        if node.output[0] in graph_outputs:
            tensor = node.output[0]
        if tensor in cand_tensors:
            out[node.output[0]] = (node.name or node.output[0], node.op_type, tensor)
    return out


def cpu_session(model, extra_outputs: list[str], path):
    """An onnxruntime CPU session of ``model`` with ``extra_outputs`` added as graph outputs (on a copy)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError("onnxruntime", "measure accuracy", "pip install 'layerlens[recipes]'") from None
    import onnx

    augmented = onnx.ModelProto()
    augmented.CopyFrom(model)
    outputs = {o.name for o in model.graph.output}
    # An output with only a name: onnxruntime takes the type from the producing node.
    augmented.graph.output.extend(onnx.ValueInfoProto(name=t) for t in extra_outputs if t not in outputs)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Run the graph as written (Q/DQ by their ONNX semantics, as TensorRT executes them). With optimizations on,
    # onnxruntime fuses Q/DQ into its own x86 integer kernels, and the numbers move: ResNet-18's INT8 output reads
    # 28.6 dB that way and 35.1 dB as written (its docs warn that the x86 U8S8 kernels can saturate:
    # https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html). That is onnxruntime's error,
    # not the recipe's.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        return ort.InferenceSession(augmented.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except ValueError as exc:  # protobuf refuses models over 2 GB
        raise LayerLensError(f"{Path(path).name} is too large to measure in memory ({exc}).",
                             "Measure a smaller variant of the model.") from None
    except Exception as exc:  # onnxruntime raises its own exception types with the useful text
        raise LayerLensError(f"onnxruntime cannot run {Path(path).name} on the CPU: {type(exc).__name__}: {str(exc)[:300]}",
                             "Check the model runs in onnxruntime; BF16 models have few CPU kernels.") from None


def _run_pair(base, cand, inputs: EvaluationInputs, outputs, tensors, base_path, cand_path) -> tuple[dict, dict]:
    names = list(tensors)
    twins = [tensors[t][2] for t in names]
    base_session = cpu_session(base, names, base_path)
    cand_session = cpu_session(cand, list(dict.fromkeys(twins)), cand_path)
    base_fetch = [a for a, _ in outputs] + names
    cand_fetch = [b for _, b in outputs] + twins
    errors: dict = {("out", a, b): TensorError() for a, b in outputs}
    errors.update({("node", t): TensorError() for t in names})
    dtypes: dict[str, np.dtype] = {}    # the candidate's type of each compared tensor (float16: an FP16 node)
    for batch in inputs.batches:
        try:
            ref = base_session.run(base_fetch, batch)
            got = cand_session.run(cand_fetch, batch)
        except Exception as exc:  # onnxruntime's own exception types
            raise LayerLensError(f"onnxruntime failed running the models: {type(exc).__name__}: {str(exc)[:300]}",
                                 "Check both models run in onnxruntime on these inputs.") from None
        for (a, b), r, g in zip(outputs, ref, got):
            errors[("out", a, b)].add(r, g, per_sample=True)
        for name, r, g in zip(names, ref[len(outputs):], got[len(outputs):]):
            r, g = np.asarray(r), np.asarray(g)
            if not (np.issubdtype(r.dtype, np.floating) and np.issubdtype(g.dtype, np.floating)) or r.shape != g.shape:
                errors.pop(("node", name), None)  # integer data (shapes, indices) or a reshaped tensor: not comparable
                continue
            if ("node", name) in errors:
                errors[("node", name)].add(r, g)
                dtypes[name] = g.dtype
    return errors, dtypes


def _output_accuracy(name: str, error: TensorError) -> OutputAccuracy:
    cosine = None if error.cosine_min == math.inf else error.cosine_min
    return OutputAccuracy(name, error.sqnr, cosine, error.max_abs, error.top1_agreement, error.nonfinite)


def _node_table(base, cand, tensors: dict, errors: dict, dtypes: dict) -> pd.DataFrame:
    """One row per compared baseline node, in graph order, with its candidate precision and input error."""
    sqnr = {t: errors[("node", t)].sqnr for t in tensors if ("node", t) in errors}
    sqnr.update({tensors[t][2]: value for t, value in list(sqnr.items())})  # a kept node's FP16 twin is the same tensor
    cand_nodes = {n.name: n for n in cand.graph.node if n.name}
    producers = {o: n for n in cand.graph.node for o in n.output}
    initializers = {i.name: i for i in cand.graph.initializer}
    origin = tensor_origins(cand)
    base_inputs = {n.name or (n.output[0] if n.output else ""): list(n.input) for n in base.graph.node}
    graph_inputs = {i.name for i in base.graph.input} - set(initializers)
    rows = []
    for tensor, (node, op, _) in tensors.items():
        if tensor not in sqnr:
            continue
        cand_node = cand_nodes.get(node)
        precision = _precision(cand_node, producers, initializers, dtypes.get(tensor))
        # Activation inputs, traced back through Q/DQ and casts to the tensors both models hold.
        feeding = [origin.get(i, i) for i in (cand_node.input if cand_node is not None else base_inputs.get(node, []))]
        noise_in = max([0.0 if i in graph_inputs else relative_noise(sqnr[i]) for i in feeding if i in sqnr or i in graph_inputs],
                       default=0.0)
        noise_out = relative_noise(sqnr[tensor])
        added = noise_out - noise_in
        rows.append((node, op, precision, sqnr[tensor], math.inf if noise_in == 0 else -10 * math.log10(noise_in),
                     -10 * math.log10(added) if added > 0 and math.isfinite(added) else math.nan))
    return pd.DataFrame(rows, columns=list(NODE_COLUMNS)).astype(
        {"sqnr_db": float, "input_sqnr_db": float, "local_sqnr_db": float}) if rows else empty_nodes()


def tensor_origins(model) -> dict[str, str]:
    """Tensor -> the tensor it passes on through Q/DQ/Cast chains (graph order makes one pass enough)."""
    origin: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type in PASS_THROUGH and node.input and node.output:
            origin[node.output[0]] = origin.get(node.input[0], node.input[0])
    return origin


def _precision(node, producers: dict, initializers: dict, runtime_dtype) -> str:
    """INT8/FP8 when the candidate node reads a DequantizeLinear, FP16 when its output is float16, else FP32."""
    from onnx import TensorProto

    for name in node.input if node is not None else ():
        producer = producers.get(name)
        if producer is not None and producer.op_type == "DequantizeLinear":
            zero_point = initializers.get(producer.input[2]) if len(producer.input) > 2 else None
            typed = zero_point if zero_point is not None else initializers.get(producer.input[0])
            return _QUANTIZED_ZERO_POINTS.get(typed.data_type if typed is not None else TensorProto.INT8, "INT8")
    return "FP16" if runtime_dtype == np.float16 else "FP32"
