"""Latency estimates for engines nobody could time: the roofline, summed, and labelled as an estimate.

A TensorRT-RTX engine built on the CPU cannot be deserialized without an RTX
GPU, so it has no profile. Its per-layer FLOPs and bytes are still real (they
come from the builder's layer list), so the roofline bound on a GPU the user
picks is an honest *estimate* of where time would go. Every value this module
returns says so in its name or label; nothing here is ever merged into the
measured columns (``avg_ms``).

For views that read ``avg_ms`` (waterfalls, comparisons), :func:`engine_with_estimated_times`
makes a *copy* of an unmeasured engine whose ``avg_ms`` is the estimate and whose
``time_basis`` says so; the stored engine is never changed, and every caption and
chart of such a copy carries its basis.

Default GPU: the newest catalog GPU the engine targets (``SM86`` -> RTX 3090;
TensorRT-RTX's default set SM86+SM89+SM120 -> RTX 4090, as consumer Blackwell is
not in the catalog), else the RTX 4090.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from engine_core.analysis.gpus import GpuSpec, gpu_by_name, gpu_for_engine
from engine_core.analysis.roofline import roofline_table
from engine_core.engine import Engine

#: The catalog GPU standing in for each TensorRT-RTX target.
TARGET_GPUS = {"SM75": "TITAN RTX", "SM80": "A100 40GB", "SM86": "RTX 3090", "SM89": "RTX 4090"}
DEFAULT_ESTIMATE_GPU = "RTX 4090"
ESTIMATE_LABEL = "roofline estimate"


@dataclass
class LatencyEstimate:
    gpu: str
    total_ms: float
    per_layer: pd.DataFrame        # order, name, estimated_ms, bound (the roofline, renamed so it cannot pass as measured)
    label: str = ESTIMATE_LABEL

    def to_json(self) -> dict:
        return {"gpu": self.gpu, "total_ms": round(self.total_ms, 6), "basis": self.label, "estimate": True}


def estimate_gpu(engine: Engine, override: str | None = None) -> GpuSpec | None:
    """The GPU an estimate is for: ``override``, else the engine's own GPU, else its newest target's stand-in."""
    if override:
        return gpu_by_name(override)
    own = gpu_for_engine(engine.device, engine.metadata.device_information)
    if own is not None:
        return own
    targets = (engine.target or "").upper().split(" ")[0].split("+")
    for target in sorted((t for t in targets if t in TARGET_GPUS), key=lambda t: int(t[2:]), reverse=True):
        return gpu_by_name(TARGET_GPUS[target])
    return gpu_by_name(DEFAULT_ESTIMATE_GPU)


def estimate_latency(engine: Engine, gpu: GpuSpec | None = None) -> LatencyEstimate | None:
    """Roofline latency of every layer on ``gpu`` (estimate); None for an engine without layers."""
    if engine.layers.empty:
        return None
    gpu = gpu or estimate_gpu(engine)
    roof = roofline_table(engine.layers, gpu)
    per_layer = pd.DataFrame({"order": roof["order"], "name": roof["name"], "layer_type": roof["layer_type"],
                              "compute_precision": roof["compute_precision"], "estimated_ms": roof["roofline_ms"],
                              "bound": roof["bound"]})
    return LatencyEstimate(gpu.name, float(per_layer["estimated_ms"].sum()), per_layer)


def layers_for_export(engine: Engine) -> pd.DataFrame:
    """The layer table for CSV and text tables: as is when measured, else plus a labelled estimate column.

    An unmeasured engine gets ``estimated_ms_<gpu>`` (e.g. ``estimated_ms_RTX_4090``), beside the empty
    measured ``avg_ms``: the column name itself says it is an estimate and for which GPU.
    """
    estimate = None if engine.measured else estimate_latency(engine)
    if estimate is None:
        return engine.layers
    column = f"estimated_ms_{estimate.gpu.replace(' ', '_')}"
    return engine.layers.assign(**{column: estimate.per_layer["estimated_ms"].to_numpy()})


def engine_with_estimated_times(engine: Engine, gpu: GpuSpec | None = None, force: bool = False) -> Engine:
    """A copy of an unmeasured engine whose ``avg_ms`` holds the roofline estimate (``time_basis`` says so).

    A measured engine is returned unchanged (an estimate never replaces a measurement), unless ``force``:
    comparing it with an unmeasured engine must put both on the same, estimated, footing.
    """
    if (engine.measured and not force) or engine.layers.empty:
        return engine
    estimate = estimate_latency(engine, gpu)
    layers = engine.layers.copy()
    layers["avg_ms"] = estimate.per_layer["estimated_ms"].to_numpy()
    total = layers["avg_ms"].sum()
    layers["latency_share_pct"] = 100.0 * layers["avg_ms"] / total if total else float("nan")
    return dataclasses.replace(engine, layers=layers, time_basis=f"{ESTIMATE_LABEL} on {estimate.gpu}",
                               gpu_compute=None, latency=None)


def on_one_footing(engines: list[Engine]) -> list[Engine]:
    """Engines to compare with each other: as measured when all were timed, else all on roofline estimates
    for one GPU (the first unmeasured engine's), so a measured number never meets an estimated one."""
    if all(e.measured for e in engines):
        return list(engines)
    gpu = estimate_gpu(next(e for e in engines if not e.measured))
    return [engine_with_estimated_times(e, gpu, force=True) for e in engines]
