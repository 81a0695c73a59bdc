"""Fit the calibrated latency model on measured TensorRT profiles, and measure its error on engines it never saw.

``python -m engine_core.analysis.fit_latency_model [--fixtures ../shared/fixtures] [--out FILE]`` refits
:mod:`engine_core.analysis.latency_model` on every engine under the fixtures that has a per-layer
profile and a known GPU, evaluates it leave-one-engine-out and leave-one-GPU-out against the bare
roofline, and writes the parameters, the error band and the evaluation to
``engine_core/data/latency_model_v1.json``.

The fit is a damped Gauss-Newton (Levenberg-Marquardt) least squares in log space, numpy only:

* per layer, ``log(estimate / measured)``, each engine weighted equally whatever its layer count;
* per engine, ``log(estimated total / measured total)``, so many small layers cannot buy a wrong total;
* a ridge pulling each efficiency towards 50% of peak, each kernel cost towards 5 us, and each
  generation's offsets towards the pooled value, so a parameter no profile informs stays sensible.

Efficiencies are logistic (always a fraction of the datasheet peak, never above it); a generation's
efficiency is the pooled logit plus that generation's offset (one for compute, one for memory), so
the class x precision x generation table has few free numbers.

Reads fixtures and writes one JSON file; imports nothing above ``engine_core``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine_core.analysis.gpus import GpuSpec, gpu_for_engine
from engine_core.analysis.latency_model import (DEFAULT_MODEL_FILE, EFFICIENCY_PRECISIONS, ErrorBand,
                                                GenerationParams, LatencyModel, LayerFeatures, gpu_generation,
                                                nearest_generation)
from engine_core.analysis.roofline import layer_work, roofline_table
from engine_core.engine import Engine

MODEL_NAME = "LayerLens latency model"
MODEL_VERSION = 1
#: The measured fixture folders: the whole training set (see /work/shared/fixtures/README.md).
TRAINING_FOLDERS = ("trex-rtx3090", "trex-mobilenet", "rtx3060-trt10", "h100-trt10-logs")
MEMORY_CLASSES = ("reformat", "movement", "matmul", "shallow", "pool", "pointwise", "unknown")

#: Ridge strengths (per squared unit of logit or log) and priors; see the module docstring.
_RIDGE_EFFICIENCY = 0.01
_RIDGE_KERNEL = 0.01
_RIDGE_GENERATION = 0.3
_RIDGE_PRECISION = 0.3
_PRIOR_KERNEL_US = 5.0
_RIDGE_OCCUPANCY = 0.01
_PRIOR_HALF_OUTPUTS_PER_SM = 8192   # one 128x64 output tile per SM
_PRIOR_HALF_BYTES_PER_SM = 32e3     # bytes in flight per SM to cover DRAM latency
#: Weight of an engine's total against the sum of its per-layer terms (which weigh 1 per engine).
_TOTAL_WEIGHT = 1.0


@dataclass
class MeasuredEngine:
    """One engine of the training set: its layers' features on its own GPU and their measured times."""

    name: str
    source: str                 # fixture path, relative to the fixtures folder
    gpu: GpuSpec
    generation: str
    features: LayerFeatures
    measured_ms: np.ndarray     # per layer, 0 where the profiler reported nothing
    roofline_ms: np.ndarray     # the bare roofline on the same GPU, 0 where unknown
    layer_information: bool     # False for a profile table alone: no types, shapes or precisions

    @property
    def fitted(self) -> np.ndarray:
        """Layers the per-layer term fits: a kernel launched and a time was measured."""
        return (self.measured_ms > 0) & (self.features.classes != "none")


def measured_engines(fixtures: Path) -> list[MeasuredEngine]:
    """Every engine under ``fixtures``' training folders with a per-layer profile and a GPU LayerLens knows.

    Raises:
        FileNotFoundError: none of the training folders exists.
    """
    from engine_core.discover import load_engines

    folders = [fixtures / f for f in TRAINING_FOLDERS if (fixtures / f).is_dir()]
    if not folders:
        raise FileNotFoundError(f"no measured fixtures under {fixtures} (expected {', '.join(TRAINING_FOLDERS)})")
    engines, _ = load_engines(folders)
    out = []
    for engine in engines:
        gpu = gpu_for_engine(engine.device, engine.metadata.device_information)
        times = engine.layers["avg_ms"].to_numpy(float)
        if gpu is None or not np.nansum(times) > 0:
            continue
        out.append(measured_engine(engine, gpu, fixtures))
    return sorted(out, key=lambda e: (e.gpu.name, e.name))


def measured_engine(engine: Engine, gpu: GpuSpec, fixtures: Path | None = None) -> MeasuredEngine:
    work = layer_work(engine.layers)
    roof = roofline_table(engine.layers, gpu, work)["roofline_ms"].to_numpy(float)
    source = Path(engine.files[0])
    if fixtures is not None and source.is_relative_to(fixtures):
        source = source.relative_to(fixtures)
    return MeasuredEngine(engine.name, str(source), gpu, gpu_generation(gpu), LayerFeatures.of(engine.layers, gpu, work),
                          np.nan_to_num(engine.layers["avg_ms"].to_numpy(float)), np.nan_to_num(roof),
                          engine.layer_source not in (None, "profile"))


class _Parameters:
    """The fit's free numbers (logs and logits) and how they become each generation's parameters."""

    def __init__(self, generations: list[str]) -> None:
        self.generations = generations
        names, priors, ridge = [], [], []
        for g in generations:
            names.append(f"kernel_us:{g}"), priors.append(math.log(_PRIOR_KERNEL_US)), ridge.append(_RIDGE_KERNEL)
        for c in MEMORY_CLASSES:
            names.append(f"memory:{c}"), priors.append(0.0), ridge.append(_RIDGE_EFFICIENCY)
        names.append("compute:matmul"), priors.append(0.0), ridge.append(_RIDGE_EFFICIENCY)
        for p in EFFICIENCY_PRECISIONS:
            names.append(f"compute_offset:{p}"), priors.append(0.0), ridge.append(_RIDGE_PRECISION)
        names.append("compute:shallow"), priors.append(0.0), ridge.append(_RIDGE_EFFICIENCY)
        for kind, prior in (("outputs", _PRIOR_HALF_OUTPUTS_PER_SM), ("bytes", _PRIOR_HALF_BYTES_PER_SM)):
            names.append(f"half_occupancy:{kind}"), priors.append(math.log(prior)), ridge.append(_RIDGE_OCCUPANCY)
        for g in generations:
            for kind in ("memory", "compute"):
                names.append(f"{kind}_offset:{g}"), priors.append(0.0), ridge.append(_RIDGE_GENERATION)
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.priors = np.array(priors)
        self.ridge = np.sqrt(np.array(ridge))

    def resolve(self, theta: np.ndarray, generation: str, trained_on: tuple[str, ...] = ()) -> GenerationParams:
        t = lambda name: theta[self.index[name]]  # noqa: E731
        memory_offset, compute_offset = t(f"memory_offset:{generation}"), t(f"compute_offset:{generation}")
        return GenerationParams(
            kernel_us=math.exp(t(f"kernel_us:{generation}")),
            memory_efficiency={c: _sigmoid(t(f"memory:{c}") + memory_offset) for c in MEMORY_CLASSES},
            compute_efficiency={"matmul": {p: _sigmoid(t("compute:matmul") + t(f"compute_offset:{p}") + compute_offset)
                                           for p in EFFICIENCY_PRECISIONS},
                                "shallow": {"all": _sigmoid(t("compute:shallow") + compute_offset)}},
            half_occupancy_outputs_per_sm=math.exp(t("half_occupancy:outputs")),
            half_occupancy_bytes_per_sm=math.exp(t("half_occupancy:bytes")),
            trained_on=trained_on)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def fit_model(engines: list[MeasuredEngine], error: ErrorBand | None = None) -> LatencyModel:
    """Fit one model on ``engines`` (see the module docstring).

    Raises:
        ValueError: ``engines`` is empty.
    """
    if not engines:
        raise ValueError("the latency model needs at least one measured engine")
    generations = sorted({e.generation for e in engines})
    params = _Parameters(generations)
    # The fit evaluates the formula ~50,000 times: once per generation on its engines' layers end to end (the
    # formula is per layer, so each engine's slice is what it alone would give), and what depends only on the
    # engines is computed here, once.
    stacked = {g: _stacked_features([e.features for e in engines if e.generation == g]) for g in generations}
    terms, offsets = [], dict.fromkeys(generations, 0)
    for e in engines:
        keep, start = e.fitted, offsets[e.generation]
        offsets[e.generation] += len(keep)
        terms.append((e.generation, slice(start, start + len(keep)), keep, e.measured_ms[keep],
                      1.0 / math.sqrt(max(int(keep.sum()), 1)), e.measured_ms.sum()))

    def residuals(theta: np.ndarray) -> np.ndarray:
        estimates = {g: stacked[g].estimated_ms(params.resolve(theta, g)) for g in generations}
        parts = []
        for generation, layers, keep, measured_kept, layer_weight, measured_total in terms:
            estimate = estimates[generation][layers]
            parts.append(np.log(estimate[keep] / measured_kept) * layer_weight)
            parts.append([math.log(estimate.sum() / measured_total) * math.sqrt(_TOTAL_WEIGHT)])
        parts.append((theta - params.priors) * params.ridge)
        return np.concatenate(parts)

    theta = _levenberg_marquardt(residuals, params.priors.copy())
    trained = {g: tuple(sorted({e.gpu.name for e in engines if e.generation == g})) for g in generations}
    fitted = {g: params.resolve(theta, g, trained[g]) for g in generations}
    training = tuple({"engine": e.name, "source": e.source, "gpu": e.gpu.name, "generation": e.generation,
                      "layers": int(len(e.measured_ms)), "measured_ms": round(float(e.measured_ms.sum()), 6)}
                     for e in engines)
    return LatencyModel(MODEL_NAME, MODEL_VERSION, fitted, error or ErrorBand(float("nan"), float("nan"), float("nan"), 0),
                        training)


def _stacked_features(features: list[LayerFeatures]) -> LayerFeatures:
    """The layers of several engines' features end to end, each layer with its own GPU's bandwidth and SM count
    (the formula takes them per layer as well as per engine)."""
    column = lambda name: np.concatenate([getattr(f, name) for f in features])  # noqa: E731
    per_layer = lambda name: np.concatenate([np.full(len(f.classes), getattr(f, name)) for f in features])  # noqa: E731
    return LayerFeatures(column("classes"), column("class_codes"), column("family_codes"), column("peaks"),
                         column("flops"), column("bytes_moved"), column("output_elements"), per_layer("bandwidth"),
                         per_layer("sms"))


def _levenberg_marquardt(residuals, theta: np.ndarray, iterations: int = 300) -> np.ndarray:
    """Minimise ``sum(residuals(theta)**2)``: damped Gauss-Newton with a forward-difference Jacobian."""
    r = residuals(theta)
    cost, damping = float(r @ r), 1e-3
    for _ in range(iterations):
        step_size = 1e-6 * (1.0 + np.abs(theta))
        jacobian = np.empty((len(r), len(theta)))
        for j in range(len(theta)):
            shifted = theta.copy()
            shifted[j] += step_size[j]
            jacobian[:, j] = (residuals(shifted) - r) / step_size[j]
        normal, gradient = jacobian.T @ jacobian, jacobian.T @ r
        while True:
            step = np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-9), -gradient)
            candidate = theta + step
            r_new = residuals(candidate)
            new_cost = float(r_new @ r_new)
            if new_cost < cost:
                improved = cost - new_cost
                theta, r, cost, damping = candidate, r_new, new_cost, max(damping / 3.0, 1e-9)
                break
            damping *= 4.0
            if damping > 1e8:
                return theta
        if improved < 1e-12 * max(cost, 1e-12):
            return theta
    return theta


# --- evaluation -----------------------------------------------------------------------------------------


def engine_errors(measured_ms: np.ndarray, estimate_ms: np.ndarray) -> dict:
    """How far ``estimate_ms`` is from ``measured_ms`` (per layer, same order).

    Returns:
        ``total_ms``, ``total_error_pct`` (signed, of the per-layer sum), ``median_layer_error_pct`` (median
        |error| over layers with a measured time) and ``rank_correlation`` (Spearman, None when undefined).
    """
    timed = measured_ms > 0
    per_layer = np.abs(estimate_ms[timed] - measured_ms[timed]) / measured_ms[timed]
    total, measured_total = float(estimate_ms.sum()), float(measured_ms.sum())
    return {"total_ms": round(total, 6), "total_error_pct": round(100.0 * (total - measured_total) / measured_total, 2),
            "median_layer_error_pct": round(100.0 * float(np.median(per_layer)), 2) if per_layer.size else None,
            "rank_correlation": _spearman(measured_ms[timed], estimate_ms[timed])}


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3:
        return None
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 3)


def held_out_rows(engines: list[MeasuredEngine], key) -> tuple[list[dict], list[np.ndarray]]:
    """Each engine estimated by a model fitted on the engines whose ``key`` differs from its own.

    Returns:
        One row per engine (model and roofline errors), and per row its timed layers' measured/estimated ratios.
    """
    rows, ratios = [], []
    fits: dict = {}
    for e in engines:
        k = key(e)
        if k not in fits:
            rest = [o for o in engines if key(o) != k]
            fits[k] = fit_model(rest) if rest else None
        model = fits[k]
        if model is None:
            continue
        generation = nearest_generation(e.generation, model.generations)
        estimate = e.features.estimated_ms(model.generations[generation])
        timed = e.measured_ms > 0
        ratios.append(e.measured_ms[timed] / estimate[timed])
        rows.append({"engine": e.name, "source": e.source, "gpu": e.gpu.name, "generation": e.generation,
                     "parameters_from": generation, "layer_information": e.layer_information,
                     "layers": int(len(e.measured_ms)), "timed_layers": int(timed.sum()),
                     "measured_ms": round(float(e.measured_ms.sum()), 6),
                     "model": engine_errors(e.measured_ms, estimate),
                     "roofline": engine_errors(e.measured_ms, e.roofline_ms)})
    return rows, ratios


def evaluate(engines: list[MeasuredEngine]) -> tuple[dict, ErrorBand]:
    """Leave-one-engine-out and leave-one-GPU-out evaluation, and the error band it measures.

    The band is the leave-one-GPU-out error (the stricter one: most estimates are for a GPU nobody profiled
    here) over the engines with layer information. An engine known only from a profile table has no FLOPs
    or bytes, so the model can only count its kernels; it is evaluated and printed, but outside the band.
    """
    by_engine, _ = held_out_rows(engines, key=lambda e: (e.gpu.name, e.name))
    by_gpu, ratios = held_out_rows(engines, key=lambda e: e.gpu.name)
    banded = [(row, r) for row, r in zip(by_gpu, ratios) if row["layer_information"]]
    if not banded:
        raise ValueError("no measured engine with layer information to measure the model's error on")
    pooled = np.concatenate([r for _, r in banded])
    band = ErrorBand(total_pct=float(math.ceil(max(abs(row["model"]["total_error_pct"]) for row, _ in banded))),
                     per_layer_median_pct=round(100.0 * float(np.median(np.abs(1.0 / pooled - 1.0))), 1),
                     outlier_ratio=round(float(np.quantile(pooled, 0.9)), 3), engines=len(banded))
    return {"leave_one_engine_out": by_engine, "leave_one_gpu_out": by_gpu}, band


def build_model(fixtures: Path) -> LatencyModel:
    """The shipped model: fitted on every measured fixture, with its held-out evaluation and error band."""
    engines = measured_engines(fixtures)
    evaluation, band = evaluate(engines)
    model = fit_model(engines, band)
    return LatencyModel(model.name, model.version, model.generations, band, model.training, evaluation)


def format_evaluation(evaluation: dict) -> str:
    """The leave-one-out tables as text (``make bench`` prints them; the README quotes them)."""
    lines = []
    for key, title in (("leave_one_engine_out", "leave one engine out"), ("leave_one_gpu_out", "leave one GPU out")):
        lines.append(f"{title}: each engine estimated by the model fitted without it"
                     + (" (and without every engine of its GPU)" if key == "leave_one_gpu_out" else ""))
        lines.append(f"  {'engine':<28} {'GPU':<34} {'measured':>9}  {'model total':>11} {'err':>7} {'med|err|':>8} "
                     f"{'rank':>5}  |  {'roofline':>9} {'err':>7} {'med|err|':>8} {'rank':>5}")
        for r in evaluation[key]:
            m, f = r["model"], r["roofline"]
            lines.append(f"  {r['engine'][:28]:<28} {(r['gpu'] + ('' if r['parameters_from'] == r['generation'] else ' *'))[:34]:<34} "
                         f"{r['measured_ms']:9.4f}  {m['total_ms']:11.4f} {m['total_error_pct']:+6.1f}% "
                         f"{_pct(m['median_layer_error_pct']):>8} {_corr(m['rank_correlation']):>5}  |  "
                         f"{f['total_ms']:9.4f} {f['total_error_pct']:+6.1f}% {_pct(f['median_layer_error_pct']):>8} "
                         f"{_corr(f['rank_correlation']):>5}")
    lines.append("  * its generation was not in the training set: parameters of the nearest trained generation")
    return "\n".join(lines)


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _corr(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine_core.analysis.fit_latency_model",
                                     description="Refit the calibrated latency model on the measured fixtures and write "
                                                 "its parameters, error band and leave-one-out evaluation.")
    repo = Path(__file__).resolve().parents[2]
    parser.add_argument("--fixtures", type=Path, default=repo.parent / "shared" / "fixtures",
                        help="the measured fixtures folder (default: ../shared/fixtures beside the checkout)")
    parser.add_argument("--out", type=Path, default=repo / "engine_core" / "data" / DEFAULT_MODEL_FILE,
                        help=f"where to write the model (default: engine_core/data/{DEFAULT_MODEL_FILE})")
    args = parser.parse_args(argv)
    model = build_model(args.fixtures)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    print(format_evaluation(model.evaluation))
    print(f"\n{model.basis}: per-layer median error {model.error.per_layer_median_pct:.0f}%, "
          f"90% of layers within {model.error.outlier_ratio:.2f}x of the estimate")
    for generation, p in model.generations.items():
        print(f"{generation}: {p.to_dict()}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
