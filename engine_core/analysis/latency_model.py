"""The calibrated per-layer latency model: the roofline as the physical floor, plus what real profiles add to it.

A roofline (:mod:`engine_core.analysis.roofline`) says how fast a layer could run at the GPU's datasheet
peaks. Real TensorRT profiles of small layers at batch 1 are 3-15x slower than that, and not by the same
factor for every precision, so an estimate built on the bare roofline can name the wrong winner. This
model keeps the roofline's FLOPs and bytes and learns, from measured TensorRT engines, the three things
it leaves out::

    ms = kernel_us / 1000 + max(flops' / (compute_efficiency x peak), bytes' / (memory_efficiency x bandwidth)) x 1000
    flops' = flops x (1 + half_occupancy_outputs_per_sm x SMs / outputs),  bytes' = bytes + half_occupancy_bytes_per_sm x SMs

* ``kernel_us``: the fixed cost of one kernel as the per-layer profiler sees it (launch, ramp-up and
  tail, the profiler's own synchronisation); it is what dominates small layers;
* ``compute_efficiency``: the fraction of the datasheet peak a layer class reaches, by precision (the
  share of peak an INT8 convolution reaches is not the FP16 one's);
* ``memory_efficiency``: the fraction of DRAM bandwidth by layer class; for reformats and quantize
  kernels it is their cost per byte;
* occupancy at small sizes: a layer needs work on every SM to reach those efficiencies; one with
  ``half_occupancy_outputs_per_sm`` outputs (``half_occupancy_bytes_per_sm`` bytes) per SM reaches half of them,
  so a batch-1 layer on a big GPU costs about one wave of tiles, not its share of the peak.

Every parameter is per GPU generation (Turing, Ampere, ...); a GPU of a generation nobody measured
gets the nearest older measured generation's parameters (Ada runs on Ampere's), and says so. Layers
that launch no kernel (NoOp, TensorRT-RTX stream signal/wait) cost nothing. The fitted parameters
live in ``engine_core/data/latency_model_v1.json``, written by
:mod:`engine_core.analysis.fit_latency_model` from the measured fixtures, with the model's error
measured leave-one-engine-out: that error band travels with every estimate.

Numpy over the whole layer table; must not import TensorRT, Streamlit, Plotly or anything above
``engine_core``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from engine_core.analysis.gpus import GpuSpec
from engine_core.analysis.roofline import at_precision, gpu_peaks, layer_work

#: Layer classes the model tells apart, with what puts a layer in each.
LAYER_CLASSES = {
    "none": "launches no kernel (NoOp, TensorRT-RTX stream signal/wait): costs nothing",
    "reformat": "reformat, copy and quantize kernels: a cost per byte",
    "movement": "shuffle, padding, slice, concatenation, gather: data movement",
    "matmul": "convolution, deconvolution, GEMM with a deep reduction: tensor-core math",
    "shallow": "convolution with a shallow reduction (depthwise, or few input channels): CUDA-core math",
    "pool": "pooling",
    "pointwise": "pointwise, activation, normalisation, reduction, softmax, Myelin kgen kernels",
    "unknown": "work unknown (a profile row without layer information, a convolution whose weights the artifact "
               "does not list): its fixed cost and bytes only",
}
CLASS_NAMES = tuple(LAYER_CLASSES)
#: Classes with a tensor-core rate per precision; the others run on CUDA cores (the FP32 peak).
TENSOR_CORE_CLASSES = ("matmul",)

#: A convolution whose every output sums fewer products than this runs on CUDA cores (depthwise, first layers).
SHALLOW_REDUCTION = 32

#: Efficiency is learned for these precision families; narrower formats share their family's efficiency
#: (their peak still differs).
EFFICIENCY_PRECISION = {"FP32": "FP32", "TF32": "TF32", "FP16": "FP16", "BF16": "FP16",
                        "INT8": "INT8", "FP8": "INT8", "INT4": "INT8", "FP4": "INT8"}
EFFICIENCY_PRECISIONS = ("FP32", "TF32", "FP16", "INT8")

#: GPU generations by the lowest compute capability of each, oldest first.
GENERATIONS = (("Volta", (7, 0)), ("Turing", (7, 5)), ("Ampere", (8, 0)), ("Ada", (8, 9)), ("Hopper", (9, 0)),
               ("Blackwell", (10, 0)))
#: For a GPU whose compute capability nothing says (never the case for catalog GPUs).
DEFAULT_GENERATION = "Ampere"

DEFAULT_MODEL_FILE = "latency_model_v1.json"

_MATMUL_PARAMETER_TYPES = ("Convolution", "Deconvolution", "MatrixMultiply", "FullyConnected", "Gemm")
_MATMUL_LAYER_TYPES = r"Convolution|correlation|deconvolution|^gemm$|Gemm|MatrixMultiply"
_POOL_LAYER_TYPES = r"Pooling|^maxpool$|^avgpool$"
#: TensorRT-RTX's cross-stream events: a marker in the layer list, not a kernel.
_NO_KERNEL_LAYER_TYPES = ("signal", "wait")


@dataclass(frozen=True)
class GenerationParams:
    """The fitted parameters of one GPU generation.

    Attributes:
        kernel_us: fixed cost of one kernel, microseconds.
        memory_efficiency: layer class -> fraction of DRAM bandwidth reached.
        compute_efficiency: layer class -> efficiency precision -> fraction of the datasheet peak reached
            (CUDA-core classes have one value under ``"all"``).
        half_occupancy_outputs_per_sm, half_occupancy_bytes_per_sm: occupancy at small sizes. A layer with this
            many outputs (bytes) per SM runs at half its class's efficiency: ``F`` FLOPs over ``E`` outputs take
            ``F x (1 + half x SMs / E) / (efficiency x peak)``, the roofline for big layers and about one wave of
            tiles for small ones; its bytes get ``half x SMs`` added the same way.
        trained_on: the GPUs whose profiles fitted these values (empty for a generation nobody measured).
    """

    kernel_us: float
    memory_efficiency: dict[str, float]
    compute_efficiency: dict[str, dict[str, float]]
    half_occupancy_outputs_per_sm: float = 0.0
    half_occupancy_bytes_per_sm: float = 0.0
    trained_on: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kernel_us": round(self.kernel_us, 4),
                "memory_efficiency": {c: round(v, 4) for c, v in self.memory_efficiency.items()},
                "compute_efficiency": {c: {p: round(v, 4) for p, v in d.items()} for c, d in self.compute_efficiency.items()},
                "half_occupancy_outputs_per_sm": float(f"{self.half_occupancy_outputs_per_sm:.4g}"),
                "half_occupancy_bytes_per_sm": float(f"{self.half_occupancy_bytes_per_sm:.4g}"),
                "trained_on": list(self.trained_on)}

    @classmethod
    def from_dict(cls, data: dict) -> "GenerationParams":
        return cls(float(data["kernel_us"]), {c: float(v) for c, v in data["memory_efficiency"].items()},
                   {c: {p: float(v) for p, v in d.items()} for c, d in data["compute_efficiency"].items()},
                   float(data["half_occupancy_outputs_per_sm"]), float(data["half_occupancy_bytes_per_sm"]),
                   tuple(data.get("trained_on", ())))


@dataclass(frozen=True)
class ErrorBand:
    """How far the model's estimates are from real profiles, measured on engines it was not fitted on.

    Attributes:
        total_pct: the largest error of an engine's total when the model was fitted without that engine's GPU,
            percent, over the measured engines with layer information.
        per_layer_median_pct: the median per-layer error on the same held-out engines, percent.
        outlier_ratio: measured/estimated ratio that 90% of those layers stay under; a layer above it is slower
            than the model can explain (a slow tactic, a reformat storm).
        engines: how many measured engines the band comes from.
    """

    total_pct: float
    per_layer_median_pct: float
    outlier_ratio: float
    engines: int

    def to_dict(self) -> dict:
        return {"total_pct": round(self.total_pct, 1), "per_layer_median_pct": round(self.per_layer_median_pct, 1),
                "outlier_ratio": round(self.outlier_ratio, 3), "engines": self.engines,
                "basis": "leave-one-GPU-out: each engine estimated by the model fitted without every engine of its GPU"}


@dataclass(frozen=True)
class LatencyModel:
    """A fitted model (see the module docstring): parameters per GPU generation, and its measured error."""

    name: str
    version: int
    generations: dict[str, GenerationParams]
    error: ErrorBand
    training: tuple[dict, ...] = ()
    evaluation: dict = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """``"LayerLens latency model v1"``."""
        return f"{self.name} v{self.version}"

    @property
    def band(self) -> str:
        """``"±24% on 7 real engines"``: the largest error of a total on a GPU left out of the fit."""
        return f"±{self.error.total_pct:.0f}% on {self.error.engines} real engines"

    @property
    def basis(self) -> str:
        """The model and its error band, as every estimate is labelled."""
        return f"{self.label}, {self.band}"

    def within_error(self, a_ms: float, b_ms: float) -> bool:
        """True when two estimated totals differ by less than the model's error band."""
        return abs(a_ms - b_ms) < self.error.total_pct / 100.0 * max(a_ms, b_ms)

    def generation_for(self, gpu: GpuSpec) -> tuple[str, str]:
        """``(generation of the GPU, generation whose parameters apply)``: the same unless nobody measured it."""
        own = gpu_generation(gpu)
        return own, nearest_generation(own, self.generations)

    def predict(self, layers: pd.DataFrame, gpu: GpuSpec, work: pd.DataFrame | None = None,
                precision: str | None = None) -> pd.DataFrame:
        """Estimated milliseconds of every layer of ``layers`` on ``gpu`` (measured times are ignored).

        Args:
            layers: a layer table (:mod:`engine_core.schema`).
            gpu: the GPU to estimate for.
            work: :func:`engine_core.analysis.roofline.layer_work` of ``layers``, when the caller has it.
            precision: estimate as if every float layer computed and stored its data in this precision.

        Returns:
            A frame aligned with ``layers``: ``layer_class``, ``kernel_ms``, ``compute_ms``, ``memory_ms``,
            ``estimated_ms`` and ``bound`` (``"kernel"``, ``"compute"``, ``"memory"`` or ``"none"``).
        """
        features = LayerFeatures.of(layers, gpu, work, precision)
        _, generation = self.generation_for(gpu)
        params = self.generations[generation]
        kernel_ms, compute_ms, memory_ms = features.predict(params)
        bound = np.select([kernel_ms == 0, kernel_ms >= np.fmax(compute_ms, memory_ms), compute_ms >= memory_ms],
                          ["none", "kernel", "compute"], default="memory")
        return pd.DataFrame({"layer_class": features.classes, "kernel_ms": kernel_ms, "compute_ms": compute_ms,
                             "memory_ms": memory_ms, "estimated_ms": features.estimated_ms(params), "bound": bound},
                            index=layers.index)

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version,
                "predicts": "the per-layer time TensorRT's profiler reports (trtexec --exportProfile averageMs)",
                "formula": "ms = kernel_us/1000 + max(flops / (compute_efficiency x peak), "
                           "bytes / (memory_efficiency x bandwidth)) x 1000",
                "layer_classes": LAYER_CLASSES,
                "generations": {g: p.to_dict() for g, p in self.generations.items()},
                "untrained_generations": "use the nearest older trained generation (else the nearest newer)",
                "error": self.error.to_dict(), "training": list(self.training), "evaluation": self.evaluation}

    @classmethod
    def from_dict(cls, data: dict) -> "LatencyModel":
        error = data["error"]
        return cls(data["name"], int(data["version"]),
                   {g: GenerationParams.from_dict(p) for g, p in data["generations"].items()},
                   ErrorBand(float(error["total_pct"]), float(error["per_layer_median_pct"]),
                             float(error["outlier_ratio"]), int(error["engines"])),
                   tuple(data.get("training", ())), data.get("evaluation", {}))


def gpu_generation(gpu: GpuSpec) -> str:
    """The generation of ``gpu`` by compute capability (``(8, 6)`` -> ``"Ampere"``)."""
    if gpu.compute_capability is None:
        return DEFAULT_GENERATION
    name = GENERATIONS[0][0]
    for generation, lowest in GENERATIONS:
        if gpu.compute_capability >= lowest:
            name = generation
    return name


def nearest_generation(generation: str, trained) -> str:
    """``generation`` if it was trained, else the nearest older trained one, else the nearest newer one.

    Raises:
        ValueError: ``trained`` is empty.
    """
    order = [g for g, _ in GENERATIONS]
    if generation in trained:
        return generation
    index = order.index(generation) if generation in order else order.index(DEFAULT_GENERATION)
    for candidate in order[index::-1] + order[index + 1:]:
        if candidate in trained:
            return candidate
    raise ValueError("a latency model needs at least one trained generation")


def layer_classes(layers: pd.DataFrame, work: pd.DataFrame) -> np.ndarray:
    """The model's class (a key of :data:`LAYER_CLASSES`) of every layer, vectorised over the table."""
    layer_type = layers["layer_type"].fillna("").astype(str)
    parameter_type = layers["parameter_type"].fillna("").astype(str)
    no_kernel = layers["is_noop"].to_numpy(bool) | layer_type.isin(_NO_KERNEL_LAYER_TYPES).to_numpy()
    unknown = (layer_type == "").to_numpy() & (parameter_type == "").to_numpy()
    reformat = layers["is_reformat"].to_numpy(bool) | layers["is_quantize"].to_numpy(bool)
    matmul = (parameter_type.isin(_MATMUL_PARAMETER_TYPES) | layer_type.str.contains(_MATMUL_LAYER_TYPES)).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = work["flops"].to_numpy(float) / (2.0 * work["output_elements"].to_numpy(float))
    pool = (parameter_type == "Pooling").to_numpy() | layer_type.str.contains(_POOL_LAYER_TYPES).to_numpy()
    movement = layers["is_data_movement"].to_numpy(bool)
    # A convolution or GEMM sums at least one product per output; less means its weights (hence its FLOPs)
    # are not in the artifact (a verbose build log lists no weights): its work is unknown.
    work_known = reduction >= 1.0
    return np.select(
        [no_kernel, reformat, unknown | (matmul & ~work_known), matmul & (reduction < SHALLOW_REDUCTION), matmul, pool,
         movement],
        ["none", "reformat", "unknown", "shallow", "matmul", "pool", "movement"], default="pointwise")


@dataclass(frozen=True)
class LayerFeatures:
    """What the formula needs of every layer on one GPU, computed once: the fit evaluates it thousands of times.

    Unknown FLOPs or bytes (dynamic dims) count as zero work: such a layer costs its kernel.
    """

    classes: np.ndarray          # class name per layer
    class_codes: np.ndarray      # index into CLASS_NAMES
    family_codes: np.ndarray     # index into EFFICIENCY_PRECISIONS
    peaks: np.ndarray            # FLOP/s the layer's math can reach: its precision's tensor-core peak, or CUDA cores
    flops: np.ndarray
    bytes_moved: np.ndarray
    output_elements: np.ndarray
    bandwidth: float | np.ndarray  # bytes/s (per layer when several engines are stacked for the fit)
    sms: float | np.ndarray        # streaming multiprocessors (0 when unknown: no occupancy term); per layer, stacked

    @classmethod
    def of(cls, layers: pd.DataFrame, gpu: GpuSpec, work: pd.DataFrame | None = None,
           precision: str | None = None) -> "LayerFeatures":
        """The features of ``layers`` on ``gpu``; with ``precision``, as if their float math and data were in it."""
        work = layer_work(layers) if work is None else work
        classes = layer_classes(layers, work)
        precisions, scale = (layers["compute_precision"], 1.0) if precision is None else at_precision(layers, precision)
        family = precisions.map(EFFICIENCY_PRECISION).fillna("FP32")
        tensor_core = np.isin(classes, TENSOR_CORE_CLASSES)
        peaks = np.where(tensor_core, gpu_peaks(gpu, precisions), gpu.peak("FP32") or np.nan)
        return cls(classes, pd.Categorical(classes, categories=CLASS_NAMES).codes.astype(np.intp),
                   pd.Categorical(family, categories=EFFICIENCY_PRECISIONS).codes.astype(np.intp), peaks,
                   np.nan_to_num(work["flops"].to_numpy(float)), np.nan_to_num(work["bytes_moved"].to_numpy(float)) * scale,
                   np.nan_to_num(work["output_elements"].to_numpy(float)), gpu.bandwidth, float(gpu.sms or 0))

    def predict(self, params: GenerationParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(kernel_ms, compute_ms, memory_ms)`` of every layer under ``params``; the estimate is
        ``kernel_ms + max(compute_ms, memory_ms)``."""
        compute_table, memory_table = _efficiency_tables(params)
        launches = self.class_codes != CLASS_NAMES.index("none")
        with np.errstate(divide="ignore", invalid="ignore"):
            occupancy = np.where(self.output_elements > 0,
                                 1.0 + params.half_occupancy_outputs_per_sm * self.sms / self.output_elements, 1.0)
        flops = self.flops * occupancy
        moved = self.bytes_moved + params.half_occupancy_bytes_per_sm * self.sms
        with np.errstate(divide="ignore", invalid="ignore"):
            compute_ms = np.nan_to_num(flops / (compute_table[self.class_codes, self.family_codes] * self.peaks)) * 1e3
        memory_ms = moved / (memory_table[self.class_codes] * self.bandwidth) * 1e3
        return (np.where(launches, params.kernel_us * 1e-3, 0.0), np.where(launches, compute_ms, 0.0),
                np.where(launches, memory_ms, 0.0))

    def estimated_ms(self, params: GenerationParams) -> np.ndarray:
        """Every layer's estimate under ``params``: its kernel's fixed cost plus the slower of compute and memory."""
        kernel_ms, compute_ms, memory_ms = self.predict(params)
        return kernel_ms + np.fmax(compute_ms, memory_ms)


def _efficiency_tables(params: GenerationParams) -> tuple[np.ndarray, np.ndarray]:
    """``params`` as lookup tables: compute [class, precision family] and memory [class]; 1.0 where unset."""
    compute = np.ones((len(CLASS_NAMES), len(EFFICIENCY_PRECISIONS)))
    memory = np.ones(len(CLASS_NAMES))
    for c, name in enumerate(CLASS_NAMES):
        memory[c] = params.memory_efficiency.get(name, 1.0)
        by_precision = params.compute_efficiency.get(name, {})
        for p, precision in enumerate(EFFICIENCY_PRECISIONS):
            compute[c, p] = by_precision.get(precision, by_precision.get("all", 1.0))
    return compute, memory


def read_latency_model(path: str | Path) -> LatencyModel:
    """A model from its JSON file (as :mod:`engine_core.analysis.fit_latency_model` writes it)."""
    return LatencyModel.from_dict(json.loads(Path(path).read_text()))


@functools.lru_cache(maxsize=1)
def default_latency_model() -> LatencyModel:
    """The model shipped in the package (``engine_core/data/latency_model_v1.json``), read once."""
    text = resources.files("engine_core").joinpath("data", DEFAULT_MODEL_FILE).read_text()
    return LatencyModel.from_dict(json.loads(text))
