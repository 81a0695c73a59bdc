"""Latency estimates for engines nobody could time: the calibrated model, summed, and labelled as an estimate.

A TensorRT-RTX engine built on the CPU cannot be deserialized without an RTX
GPU, so it has no profile. Its per-layer FLOPs and bytes are still real (they
come from the builder's layer list), so the calibrated latency model
(:mod:`engine_core.analysis.latency_model`: the roofline plus what real profiles
add to it) on a GPU the user picks is an honest *estimate* of where time would
go. Every value this module returns says so, with the model's name and measured
error band; nothing here is ever merged into the measured columns (``avg_ms``).

For views that read ``avg_ms`` (waterfalls, comparisons), :func:`engine_with_estimated_times`
makes a *copy* of an unmeasured engine whose ``avg_ms`` is the estimate and whose
``time_basis`` says so; the stored engine is never changed, and every caption and
chart of such a copy carries its basis. For an engine that was measured,
:func:`measured_vs_estimated` holds each layer against the model: a layer far
slower than the model expects (a slow tactic, a reformat storm) is a finding.

Default GPU: the engine's own, else the newest catalog GPU it targets (``SM86`` ->
RTX 3090; TensorRT-RTX's default set SM86+SM89+SM120 -> RTX 4090, as consumer
Blackwell is not in the catalog), else the RTX 4090.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine_core.analysis.gpus import CATALOG, GpuSpec, find_gpu, gpu_by_name, gpu_for_engine
from engine_core.analysis.latency_model import LatencyModel, default_latency_model
from engine_core.engine import Engine
from engine_core.errors import LayerLensError

#: The catalog GPU standing in for each TensorRT-RTX target.
TARGET_GPUS = {"SM75": "TITAN RTX", "SM80": "A100 40GB", "SM86": "RTX 3090", "SM89": "RTX 4090"}
DEFAULT_ESTIMATE_GPU = "RTX 4090"


def estimate_basis(gpu: str, model: LatencyModel | None = None) -> str:
    """``"estimate on RTX 4090 (LayerLens latency model v1, ±24% on 7 real engines)"``: an engine's ``time_basis``."""
    return f"estimate on {gpu} ({(model or default_latency_model()).basis})"


@dataclass
class LatencyEstimate:
    """The model's estimate of one engine on one GPU.

    ``per_layer``: order, name, layer_type, compute_precision, layer_class, estimated_ms and bound (what
    limits the layer: ``kernel`` fixed cost, ``compute``, ``memory``, or ``none`` when no kernel runs).
    """

    gpu: str
    total_ms: float
    per_layer: pd.DataFrame
    model: LatencyModel
    parameters_from: str    # the GPU generation whose parameters applied (the GPU's own, or the nearest trained)

    @property
    def label(self) -> str:
        return estimate_basis(self.gpu, self.model)

    def to_json(self) -> dict:
        return {"gpu": self.gpu, "total_ms": round(self.total_ms, 6), "basis": self.label, "estimate": True,
                "model": self.model.label, "error_band_pct": self.model.error.total_pct,
                "calibration_engines": self.model.error.engines, "parameters_from": self.parameters_from}


def resolve_gpu(name: str) -> GpuSpec:
    """A catalog GPU from what a user typed: its exact name, or a device string it matches (``"RTX 3090"``,
    ``"NVIDIA H100 PCIe"``).

    Raises:
        LayerLensError: no catalog GPU matches, with the list of names.
    """
    try:
        return gpu_by_name(name)
    except KeyError:
        found = find_gpu(name)
        if found is not None:
            return found
    raise LayerLensError(f"Unknown GPU '{name}'.", "Choose one of: " + ", ".join(g.name for g in CATALOG))


def estimate_gpu(engine: Engine, override: str | None = None) -> GpuSpec | None:
    """The GPU an estimate is for: ``override``, else the engine's own GPU, else its newest target's stand-in."""
    if override:
        return resolve_gpu(override)
    own = gpu_for_engine(engine.device, engine.metadata.device_information)
    if own is not None:
        return own
    targets = (engine.target or "").upper().split(" ")[0].split("+")
    for target in sorted((t for t in targets if t in TARGET_GPUS), key=lambda t: int(t[2:]), reverse=True):
        return gpu_by_name(TARGET_GPUS[target])
    return gpu_by_name(DEFAULT_ESTIMATE_GPU)


def estimate_latency(engine: Engine, gpu: GpuSpec | None = None, model: LatencyModel | None = None) -> LatencyEstimate | None:
    """The model's per-layer latency of ``engine`` on ``gpu`` (measured times ignored); None without layers."""
    if engine.layers.empty:
        return None
    gpu = gpu or engine.analysis.estimate_gpu
    # The shipped model's prediction is the engine's own, made once per GPU (engine.analysis).
    predicted = engine.analysis.predicted(gpu) if model is None else model.predict(engine.layers, gpu)
    model = model or default_latency_model()
    layers = engine.layers
    per_layer = pd.DataFrame({"order": layers["order"].to_numpy(), "name": layers["name"].to_numpy(),
                              "layer_type": layers["layer_type"].to_numpy(),
                              "compute_precision": layers["compute_precision"].to_numpy(),
                              "layer_class": predicted["layer_class"].to_numpy(),
                              "estimated_ms": predicted["estimated_ms"].to_numpy(), "bound": predicted["bound"].to_numpy()})
    return LatencyEstimate(gpu.name, float(per_layer["estimated_ms"].sum()), per_layer, model,
                           model.generation_for(gpu)[1])


def layers_for_export(engine: Engine) -> pd.DataFrame:
    """The layer table for CSV and text tables: as is when measured, else plus a labelled estimate.

    An unmeasured engine gets ``estimated_ms_<gpu>`` (e.g. ``estimated_ms_RTX_4090``), beside the empty
    measured ``avg_ms``, and ``estimate_basis`` naming the model and its error band: the columns say it is
    an estimate, for which GPU and how good.
    """
    estimate = None if engine.measured else engine.analysis.estimate()
    if estimate is None:
        return engine.layers
    column = f"estimated_ms_{estimate.gpu.replace(' ', '_')}"
    return engine.layers.assign(**{column: estimate.per_layer["estimated_ms"].to_numpy(), "estimate_basis": estimate.label})


def engine_with_estimated_times(engine: Engine, gpu: GpuSpec | None = None, force: bool = False,
                                model: LatencyModel | None = None) -> Engine:
    """A copy of an unmeasured engine whose ``avg_ms`` holds the model's estimate (``time_basis`` says so).

    A measured engine is returned unchanged (an estimate never replaces a measurement), unless ``force``:
    comparing it with an unmeasured engine must put both on the same, estimated, footing.
    """
    if (engine.measured and not force) or engine.layers.empty:
        return engine
    estimate = engine.analysis.estimate(gpu) if model is None else estimate_latency(engine, gpu, model)
    layers = engine.layers.copy()
    layers["avg_ms"] = estimate.per_layer["estimated_ms"].to_numpy()
    total = layers["avg_ms"].sum()
    layers["latency_share_pct"] = 100.0 * layers["avg_ms"] / total if total else float("nan")
    return dataclasses.replace(engine, layers=layers, time_basis=estimate.label, gpu_compute=None, latency=None)


def on_one_footing(engines: list[Engine]) -> list[Engine]:
    """Engines to compare with each other: as measured when all were timed, else all on the model's estimates
    for one GPU (the first unmeasured engine's), so a measured number never meets an estimated one."""
    if all(e.measured for e in engines):
        return list(engines)
    gpu = next(e for e in engines if not e.measured).analysis.estimate_gpu
    return [e.analysis.timed(gpu, force=True) for e in engines]


_MEASURED_VS_ESTIMATED = {"order": "int64", "name": "object", "layer_type": "object", "compute_precision": "object",
                          "layer_class": "object", "measured_ms": "float64", "estimated_ms": "float64",
                          "ratio": "float64", "excess_ms": "float64", "slower_than_model": "bool"}


def measured_vs_estimated(engine: Engine, gpu: GpuSpec | None = None, model: LatencyModel | None = None) -> pd.DataFrame:
    """Each measured layer of ``engine`` beside the model's estimate for it on ``gpu`` (default: its own GPU).

    Columns: order, name, layer_type, compute_precision, layer_class, measured_ms, estimated_ms, ratio
    (measured / estimated; NaN where either is 0), excess_ms (measured - estimated) and ``slower_than_model``:
    a ratio above what 90% of real layers show (:attr:`ErrorBand.outlier_ratio`), for layers whose work the
    model knows. Empty when nothing was measured per layer or the GPU is unknown.
    """
    layers = engine.layers
    gpu = gpu or engine.analysis.own_gpu
    if gpu is None or engine.is_estimate or layers.empty or not layers["avg_ms"].notna().any():
        return pd.DataFrame({column: pd.Series([], dtype=dtype) for column, dtype in _MEASURED_VS_ESTIMATED.items()})
    predicted = engine.analysis.predicted(gpu) if model is None else model.predict(layers, gpu)
    model = model or default_latency_model()
    measured = layers["avg_ms"].to_numpy(float)
    estimated = predicted["estimated_ms"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((measured > 0) & (estimated > 0), measured / estimated, np.nan)
    return pd.DataFrame({"order": layers["order"].to_numpy(), "name": layers["name"].to_numpy(),
                         "layer_type": layers["layer_type"].to_numpy(),
                         "compute_precision": layers["compute_precision"].to_numpy(),
                         "layer_class": predicted["layer_class"].to_numpy(), "measured_ms": measured,
                         "estimated_ms": estimated, "ratio": ratio, "excess_ms": measured - estimated,
                         # The model cannot judge a layer whose work it does not know.
                         "slower_than_model": (ratio > model.error.outlier_ratio) & (predicted["layer_class"] != "unknown").to_numpy()})


def summarize_estimate(engine: Engine, gpu_name: str | None = None) -> dict:
    """``layerlens estimate --json``: the model's per-layer and total estimate of ``engine``, and, when the engine
    was measured per layer, the measurement beside it with the error. Strict JSON values (None for unknown).

    Raises:
        LayerLensError: ``gpu_name`` is not in the catalog.
    """
    gpu = estimate_gpu(engine, gpu_name)
    estimate = engine.analysis.estimate(gpu)
    model = estimate.model
    measured = engine.layers["avg_ms"].to_numpy(float)
    timed = engine.layers["avg_ms"].notna().to_numpy() & (not engine.is_estimate)
    estimated = estimate.per_layer["estimated_ms"].to_numpy()
    own = gpu_for_engine(engine.device, engine.metadata.device_information)
    # A profile from one GPU says nothing about the model's error on another.
    comparable = timed & (own is None or own.name == gpu.name)
    with np.errstate(divide="ignore", invalid="ignore"):
        error_pct = np.where(comparable & (measured > 0), 100.0 * (estimated - measured) / measured, np.nan)
    has_profile = bool(timed.any())
    measured_total = float(np.nansum(measured[timed])) if has_profile else None
    held_out = next((r for r in model.evaluation.get("leave_one_engine_out", ())
                     if r["engine"] == engine.name and r["gpu"] == gpu.name
                     and abs(r["measured_ms"] - (measured_total or 0.0)) < 1e-6), None)
    layers = [{"name": name, "order": int(order), "layer_type": layer_type, "layer_class": cls, "bound": bound,
               "estimate_ms": round(float(est), 6),
               "measured_ms": round(float(m), 6) if ok else None,
               "error_pct": None if np.isnan(err) else round(float(err), 2)}
              for name, order, layer_type, cls, bound, est, m, ok, err in zip(
                  estimate.per_layer["name"], estimate.per_layer["order"], estimate.per_layer["layer_type"],
                  estimate.per_layer["layer_class"], estimate.per_layer["bound"], estimated, measured, timed, error_pct)]
    errors = error_pct[~np.isnan(error_pct)]
    return {
        "engine": engine.name, "gpu": gpu.name, "model": model.label, "basis": estimate.label,
        "error_band_pct": model.error.total_pct, "calibration_engines": model.error.engines,
        "gpu_generation": model.generation_for(gpu)[0], "parameters_from": estimate.parameters_from,
        "total_ms": round(estimate.total_ms, 6),
        "measured_total_ms": None if measured_total is None else round(measured_total, 6),
        "measured_on": engine.device if has_profile else None,
        "total_error_pct": (round(100.0 * (estimate.total_ms - measured_total) / measured_total, 2)
                            if measured_total and comparable.any() else None),
        "median_layer_error_pct": round(float(np.median(np.abs(errors))), 2) if errors.size else None,
        "in_training_set": held_out is not None,
        "held_out_total_error_pct": held_out["model"]["total_error_pct"] if held_out else None,
        "layer_information": engine.layer_source not in (None, "profile"),
        "layers": layers,
    }
