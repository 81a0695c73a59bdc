"""The advisor: the fewest quantized nodes to keep in FP16 for an output SQNR target, each candidate built for real.

Search, every probe a real build (recipe, TensorRT-RTX engine, accuracy artifact) through
:func:`engine_core.build.matrix.build_matrix`, so every step has its true engine bytes and its
measured output SQNR, and lands in the store beside the other builds of the model:

1. Quantize everything. Met: done, nothing kept.
2. Rank the quantized nodes by the output gain of keeping each alone
   (:mod:`engine_core.accuracy.sensitivity`: one onnxruntime run per node, no re-quantization),
   then by their local SQNR (``local_sqnr_db``: signal over the noise the node adds itself). A
   node's own SQNR would pick the last layers, low only because error accumulates on the way to
   them; the local SQNR alone misses what later layers do to the noise (a global average pool
   takes 10 dB off ResNet-18's convolutions, while the Q/DQ after it lands on the output whole).
   The gains get at most a third of the budget; nodes not reached rank by local SQNR after them.
3. Keep all of them in FP16. Not met: the target is unreachable with this recipe, and the
   advisor says so (an FP16 build is the next step).
4. Bisect the number kept, top of the ranking first, to the smallest count that meets the
   target (output SQNR falls roughly monotonically as fewer nodes are kept; the step table
   shows every probe, so a non-monotone model is visible).

A time budget bounds the search; when it runs out the best build that met the target is the
answer and the result says the set may not be minimal. Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from engine_core.accuracy.metrics import finite_or_none
from engine_core.accuracy.report import format_sqnr
from engine_core.errors import ArtifactFormatError, LayerLensError
from engine_core.recipes.spec import QUANTIZED

ProgressFn = Callable[[str], None]
QUANTIZED_PRECISIONS = ("INT8", "FP8", "INT4", "FP4")
RANKING_COLUMNS = ("onnx_node", "op_type", "sqnr_db", "local_sqnr_db", "gain_db")


@dataclass
class AdviceStep:
    kept: list[str]
    sqnr_db: float                        # inf identical, nan not measured
    met: bool
    stem: str
    engine_bytes: int | None = None
    latency_estimate_ms: float | None = None
    run_id: str | None = None
    folder: str | None = None
    seconds: float = 0.0
    latency_basis: str | None = None      # "estimate on RTX 4090 (LayerLens latency model v1, ±24% on 7 real engines)"

    def to_json(self) -> dict:
        return {"kept": list(self.kept), "kept_count": len(self.kept), "sqnr_db": finite_or_none(self.sqnr_db),
                "identical": self.sqnr_db == math.inf, "met": self.met, "engine_bytes": self.engine_bytes,
                "latency_estimate_ms": finite_or_none(self.latency_estimate_ms), "latency_basis": self.latency_basis,
                "run": self.run_id or self.folder,
                "name": self.stem, "seconds": round(self.seconds, 1)}


@dataclass
class Advice:
    target_db: float
    met: bool
    kept: list[str]
    steps: list[AdviceStep]
    ranking: pd.DataFrame                 # RANKING_COLUMNS, noisiest first
    inputs: dict
    complete: bool = True                 # False: the budget ran out before the search finished
    notes: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> AdviceStep | None:
        """The build the advice points to: the met step with the fewest kept nodes."""
        met = [s for s in self.steps if s.met]
        return min(met, key=lambda s: len(s.kept)) if met else None

    def to_json(self) -> dict:
        ranking = [{"onnx_node": r.onnx_node, "op_type": r.op_type, "sqnr_db": finite_or_none(r.sqnr_db),
                    "local_sqnr_db": finite_or_none(r.local_sqnr_db), "gain_db": finite_or_none(r.gain_db)}
                   for r in self.ranking.itertuples()]
        chosen = self.chosen
        return {"target_db": self.target_db, "met": self.met, "kept": list(self.kept),
                "steps": [s.to_json() for s in self.steps], "chosen": (chosen.run_id or chosen.folder) if chosen else None,
                "complete": self.complete, "inputs": dict(self.inputs), "ranking": ranking, "notes": list(self.notes)}


def rank_quantized_nodes(nodes: pd.DataFrame, gains: pd.DataFrame | None = None) -> pd.DataFrame:
    """The quantized nodes of a per-node table, most worth keeping first: largest output gain of keeping each
    (``gains`` from :func:`~engine_core.accuracy.sensitivity.keep_gains`), then lowest local SQNR."""
    quantized = nodes[nodes["precision"].isin(QUANTIZED_PRECISIONS)]
    if gains is not None and not gains.empty:
        quantized = quantized.merge(gains[["onnx_node", "gain_db"]], on="onnx_node", how="left")
    else:
        quantized = quantized.assign(gain_db=float("nan"))
    ranked = quantized.assign(_gain=-quantized["gain_db"])
    ranked = ranked.sort_values(["_gain", "local_sqnr_db", "sqnr_db"], na_position="last", kind="stable")
    return ranked.reset_index(drop=True)[list(RANKING_COLUMNS)]


def advise(model: str | Path, target_db: float, *, precision: str = "int8", placement: str = "ort",
           calibrator: str = "minmax", calibration_dir: str | None = None, data_dir: str | None = None,
           targets: tuple[str, ...] = (), store=None, out_dir: Path | None = None, model_label: str | None = None,
           budget_s: float = 600.0, on_progress: ProgressFn = lambda message: None,
           cancel: threading.Event | None = None) -> Advice:
    """Find the fewest nodes of ``model`` to keep in FP16 so the ``precision`` recipe's output SQNR >= ``target_db``.

    Every probe is built with TensorRT-RTX and stored (``store``) or written under ``out_dir``.

    Raises:
        LayerLensError: the recipe or the first build fails, or its accuracy cannot be measured.
    """
    if precision not in QUANTIZED:
        raise LayerLensError(f"advise keeps nodes out of a quantized recipe, not {precision}.",
                             f"Use --precision {' or '.join(QUANTIZED)}.")
    if not math.isfinite(target_db):
        raise LayerLensError(f"--min-sqnr {target_db} is not a number of dB.", "Example: --min-sqnr 30")
    _refuse_quantized_model(Path(model))
    started = time.monotonic()
    probe = _Prober(model, precision, placement, calibrator, calibration_dir, data_dir, targets, store, out_dir,
                    model_label, target_db, on_progress, cancel)
    on_progress(f"step 1: {precision.upper()} everywhere")
    first = probe([])
    inputs = probe.inputs
    if first.met:
        return Advice(target_db, True, [], probe.steps, pd.DataFrame(columns=list(RANKING_COLUMNS)),
                      inputs, notes=[f"{precision.upper()} everywhere already meets {target_db:g} dB: nothing to keep."])
    quantized = rank_quantized_nodes(probe.nodes)["onnx_node"].tolist()
    if not quantized:
        return Advice(target_db, False, [], probe.steps, rank_quantized_nodes(probe.nodes), inputs,
                      notes=["the recipe quantized no node that could be kept, so the target cannot be reached this way."])
    on_progress(f"ranking {len(quantized)} quantized nodes by the output gain of keeping each")
    ranking = rank_quantized_nodes(probe.nodes, probe.gains(quantized, deadline=started + budget_s / 3))
    order = ranking["onnx_node"].tolist()

    def out_of_time() -> bool:
        spent = time.monotonic() - started
        return spent + probe.typical_seconds > budget_s or (cancel is not None and cancel.is_set())

    if out_of_time():
        return Advice(target_db, False, [], probe.steps, ranking, inputs, complete=False,
                      notes=[f"the {budget_s:g} s budget ran out after the first build."])
    on_progress(f"step 2: all {len(order)} quantized nodes in FP16 (is {target_db:g} dB reachable?)")
    everything = probe(order)
    if not everything.met:
        return Advice(target_db, False, order, probe.steps, ranking, inputs, notes=[
            f"unreachable: even with all {len(order)} quantized nodes kept in FP16 the output SQNR is "
            f"{format_sqnr(everything.sqnr_db)}, below {target_db:g} dB. Try a calibration folder (--calib), "
            "another placement, or an FP16 build."])
    low, high, complete = 0, len(order), True   # keeping `low` fails, keeping `high` meets
    while high - low > 1:
        if out_of_time():
            complete = False
            break
        middle = (low + high) // 2
        on_progress(f"bisect: keep the {middle} noisiest of {len(order)} (met with {high}, not with {low})")
        if probe(order[:middle]).met:
            high = middle
        else:
            low = middle
    notes = [] if complete else [f"the {budget_s:g} s budget ran out: {high} kept nodes meet the target, "
                                 "fewer might too (rerun with a larger --budget)."]
    advice = Advice(target_db, True, order[:high], probe.steps, ranking, inputs, complete=complete, notes=notes)
    advice.notes += _when_keeping_everything_is_faster(advice.chosen, everything)
    return advice


def _when_keeping_everything_is_faster(chosen: AdviceStep, everything: AdviceStep) -> list[str]:
    """The search minimises kept nodes, not latency: say so when keeping every quantized node (with the ``ort``
    placement, an FP16 build in effect) is estimated faster than the answer, as on ResNet-18 at 40 dB (25 kept:
    21.98 MiB, ~0.298 ms; all 49 kept: 22.68 MiB, ~0.206 ms) and MobileNetV2 (28 kept: 18.91 MiB, ~0.727 ms; all
    100: 7.11 MiB, ~0.371 ms): the reformats between INT8 and FP16 layers can cost more than INT8 saves."""
    if chosen is everything or chosen.latency_estimate_ms is None or everything.latency_estimate_ms is None \
            or everything.latency_estimate_ms >= chosen.latency_estimate_ms:
        return []

    def size(step: AdviceStep) -> str:
        return f"{step.engine_bytes / 2**20:.2f} MiB" if step.engine_bytes else "size unknown"

    smaller = bool(everything.engine_bytes and chosen.engine_bytes and everything.engine_bytes < chosen.engine_bytes)
    return [f"keeping all {len(everything.kept)} quantized nodes ({format_sqnr(everything.sqnr_db)}, {size(everything)}, "
            f"~{everything.latency_estimate_ms:.4f} ms) is {'smaller and ' if smaller else ''}estimated faster than "
            f"this answer ({size(chosen)}, ~{chosen.latency_estimate_ms:.4f} ms): compare it with an FP16 build before "
            "you choose (estimates, not measurements)."]


def _refuse_quantized_model(model: Path) -> None:
    """advise places Q/DQ itself and measures against the float model: a model with Q/DQ has neither to offer.

    Raises:
        ArtifactFormatError: the file is not readable ONNX.
        LayerLensError: the model already carries Q/DQ nodes.
    """
    import onnx

    from engine_core.recipes.apply import carries_qdq

    if not model.is_file():
        return  # the first build says what is wrong with the path
    try:
        proto = onnx.load(str(model), load_external_data=False)
    except Exception as exc:  # DecodeError, OSError
        raise ArtifactFormatError(str(model), f"is not a readable ONNX model ({type(exc).__name__}).",
                                  "Export it again (torch.onnx.export, tf2onnx) and check it with onnx.checker.") from None
    if carries_qdq(proto):
        raise LayerLensError(f"{model.name} already carries Q/DQ nodes (a QAT or ModelOpt export), so advise cannot "
                             "choose where they go, and there is no float model to measure it against.",
                             "Run advise on the float model the Q/DQ were made from, or measure this one with "
                             f"`layerlens accuracy {model} --baseline FLOAT_MODEL.onnx`.")


class _Prober:
    """Builds one keep list (a real build through the build matrix) and records it as a step."""

    def __init__(self, model, precision, placement, calibrator, calibration_dir, data_dir, targets, store, out_dir,
                 model_label, target_db, on_progress, cancel) -> None:
        self.model, self.precision, self.placement = Path(model), precision, placement
        self.calibrator, self.calibration_dir, self.data_dir = calibrator, calibration_dir, data_dir
        self.targets, self.store, self.out_dir, self.model_label = targets, store, out_dir, model_label
        self.target_db, self.on_progress, self.cancel = target_db, on_progress, cancel
        self.steps: list[AdviceStep] = []
        self.nodes = None
        self.inputs: dict = {}
        self.first_onnx: str | None = None

    def gains(self, nodes: list[str], deadline: float) -> pd.DataFrame:
        """Output gain of keeping each node of the first build's Q/DQ model (see the module docstring)."""
        from engine_core.accuracy.inputs import evaluation_inputs
        from engine_core.accuracy.measure import load_onnx
        from engine_core.accuracy.sensitivity import keep_gains

        base, cand = load_onnx(self.model), load_onnx(self.first_onnx)
        return keep_gains(base, cand, nodes, evaluation_inputs(base, self.data_dir), deadline=deadline,
                          on_progress=lambda message: self.on_progress(f"  {message}"))

    @property
    def typical_seconds(self) -> float:
        return max((s.seconds for s in self.steps), default=0.0)

    def __call__(self, kept: list[str]) -> AdviceStep:
        from engine_core.build.matrix import Variant, build_matrix

        start = time.monotonic()
        variant = Variant(self.precision, self.placement, tuple(sorted((n, "fp16") for n in kept)))
        result = build_matrix(self.model, [variant], targets=self.targets, calibration_dir=self.calibration_dir,
                              calibrator=self.calibrator, store=self.store, out_dir=self.out_dir,
                              model_label=self.model_label, accuracy_data=self.data_dir, cancel=self.cancel,
                              on_progress=lambda stem, stage, detail: self.on_progress(f"  [{stem}] {stage}"))
        item = result.results[0] if result.results else None
        if item is None or item.engine is None:
            raise LayerLensError(f"The build keeping {len(kept)} node(s) failed: {item.error if item else 'cancelled'}",
                                 "Fix the build (see the message) and run advise again.")
        accuracy = item.engine.accuracy
        if accuracy is None:
            why = item.engine.build_facts.get("accuracy", "no accuracy file was written")
            raise LayerLensError(f"The accuracy of {item.stem} could not be measured ({why}).",
                                 "Check that onnxruntime runs the model on the CPU.")
        if self.nodes is None:
            self.nodes, self.inputs = accuracy.nodes, accuracy.inputs
            self.first_onnx = item.engine.build_facts.get("onnx")
        estimate = item.engine.analysis.estimate()
        sqnr = accuracy.output.sqnr_db
        step = AdviceStep(list(kept), sqnr, bool(sqnr >= self.target_db), item.stem, item.engine.engine_size_bytes,
                          estimate.total_ms if estimate else None, item.run_id,
                          str(item.folder) if item.folder else None, time.monotonic() - start,
                          estimate.label if estimate else None)
        self.steps.append(step)
        self.on_progress(f"  kept {len(kept)}: output SQNR {format_sqnr(sqnr, 2)} "  # 39.98 is not "40.0, below 40"
                         f"({'meets' if step.met else 'below'} {self.target_db:g} dB), "
                         f"{(step.engine_bytes or 0) / 2**20:.2f} MiB, {step.seconds:.0f} s")
        return step
