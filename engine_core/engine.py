"""One engine: its canonical layer table plus everything known about its build and run.

:func:`engine_from_artifacts` reads a group of artifact files (whoever wrote
them: trtexec, TREx, Polygraphy, or LayerLens's own build path) and merges them.
Which source wins for each fact is decided here and nowhere else:

* layers: layer-info JSON > ``--dumpLayerInfo`` text > verbose builder lines >
  Polygraphy text > profile names only;
* per-layer times: profile JSON > ``--dumpProfile`` table;
* GPU compute time: times JSON > TREx profile metadata > log performance summary.

Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from engine_core.accuracy.report import AccuracyReport
from engine_core.errors import ArtifactFormatError
from engine_core.importers.accuracy_json import read_accuracy_json
from engine_core.importers.calib_cache import CalibrationCache, read_calibration_cache
from engine_core.collector import paused_gc
from engine_core.importers.layer_info import IOTensor, LayerInfo, read_layer_info
from engine_core.importers.polygraphy_text import read_polygraphy_inspect
from engine_core.importers.profile import LayerProfile, read_profile_json
from engine_core.importers.sniff import ArtifactKind
from engine_core.importers.times import InferenceTimes, TimingStats, read_times_json
from engine_core.importers.trex_metadata import EngineMetadata, read_trex_metadata
from engine_core.importers.trtexec_log import LogEvent, TrtexecLog, read_trtexec_log
from engine_core.constants import empty_constants_table
from engine_core.layer_table import (join_profile, layer_table_and_constants, layer_table_from_profile,
                                     unmatched_profile_names)
from engine_core.schema import empty_layer_table

if TYPE_CHECKING:
    from engine_core.analysis.engine_analysis import EngineAnalysis

#: Below this share of profile rows matching layer names, the profile is from another engine.
MIN_PROFILE_MATCH = 0.5


@dataclass(frozen=True)
class Artifact:
    path: Path
    kind: ArtifactKind
    part: int | None = None   # which run of a file holding several (a multi-run log, concatenated JSON)


@dataclass
class Engine:
    """An engine as LayerLens knows it. ``layers`` follows :mod:`engine_core.schema`."""

    name: str
    files: list[str]
    layers: pd.DataFrame = field(default_factory=empty_layer_table)
    bindings: list[str] = field(default_factory=list)
    #: The engine's inputs and outputs with types and per-profile shapes (TensorRT 11's ``I/O Tensors``).
    io_tensors: list[IOTensor] = field(default_factory=list)
    #: The named constants the layers hold, one row per use (:func:`engine_core.constants.constants_table`).
    constants: pd.DataFrame = field(default_factory=empty_constants_table)
    tensorrt_version: str | None = None
    metadata: EngineMetadata = field(default_factory=EngineMetadata)
    gpu_compute: TimingStats | None = None
    gpu_compute_source: str | None = None
    latency: TimingStats | None = None
    throughput_qps: float | None = None
    profile_iterations: int | None = None
    timed_iterations: int | None = None
    sizes: dict[str, float] = field(default_factory=dict)
    build_passes: int = 0
    command: str | None = None
    events: list[LogEvent] = field(default_factory=list)
    layer_source: str | None = None
    status: str = "ok"
    warnings: list[str] = field(default_factory=list)
    #: What a LayerLens build recorded about itself ("builder", "recipe", "target", "calibration", ...).
    build_facts: dict[str, str] = field(default_factory=dict)
    #: Where ``layers.avg_ms`` comes from: "measured" (a profiler), or "estimate on <GPU> (<model>, <error band>)"
    #: for a copy made by :func:`engine_core.analysis.estimate.engine_with_estimated_times`.
    time_basis: str = "measured"
    #: The INT8 calibration cache the engine was built with, when it came along (beside it, or --calib-cache).
    calibration: CalibrationCache | None = None
    #: For files holding several runs: file path -> the run (from 0) this engine is.
    file_parts: dict[str, int] = field(default_factory=dict)
    #: What a LayerLens build measured of its recipe's output error (``<stem>.accuracy.json``), when it did.
    accuracy: AccuracyReport | None = None

    @cached_property
    def analysis(self) -> EngineAnalysis:
        """This engine's derived tables (fallbacks, byte account, estimates, ...), each computed once, on first use.

        Kept on the engine object: an engine is not changed once read, and a changed copy
        (``dataclasses.replace``) is a new object with its own analysis. See
        :mod:`engine_core.analysis.engine_analysis`.
        """
        from engine_core.analysis.engine_analysis import EngineAnalysis

        return EngineAnalysis(self)

    @property
    def is_estimate(self) -> bool:
        return self.time_basis != "measured"

    @property
    def builder(self) -> str | None:
        """``"TensorRT-RTX 1.7.1.116 (AOT, CPU)"``, ``"TensorRT 10.16.1"``, or None when nothing says."""
        if "builder" in self.build_facts:
            return self.build_facts["builder"]
        if self.is_rtx:
            return "TensorRT-RTX (version not in the log)"
        return f"TensorRT {self.tensorrt_version}" if self.tensorrt_version else None

    @property
    def is_rtx(self) -> bool:
        """Built by TensorRT-RTX: its own facts say so, or its layers are TensorRT-RTX's (``correlation``)."""
        if "builder" in self.build_facts:
            return self.build_facts["builder"].startswith("TensorRT-RTX")
        return bool(len(self.layers)) and bool((self.layers["layer_type"] == "correlation").any())

    @property
    def recipe(self) -> str | None:
        """The precision recipe of a LayerLens build (``"int8-ort-uncalibrated"``); None for imports."""
        return self.build_facts.get("recipe")

    @property
    def target(self) -> str | None:
        return self.build_facts.get("target")

    @property
    def measured(self) -> bool:
        """True when some time was measured on a GPU (per-layer profile or end-to-end times)."""
        return not self.is_estimate and (self.gpu_compute is not None or self.per_layer_sum_ms is not None)

    @property
    def precision_label(self) -> str | None:
        """Build flags (``FP32+FP16+INT8``), else the recipe of a strongly typed build, else TensorRT 11's strong typing."""
        if self.build_precision or self.recipe:
            return self.build_precision or f"recipe {self.recipe}"
        return "strongly typed (the ONNX's types)" if _major(self.tensorrt_version) >= 11 else None

    @property
    def device(self) -> str | None:
        return self.metadata.device_information.get("Selected Device") or None

    @property
    def build_precision(self) -> str | None:
        """trtexec's ``Precision: FP32+FP16+INT8`` build flags; None for TensorRT 11, which removed them
        (a strongly typed network's precision is its ONNX's types and Q/DQ)."""
        if _major(self.tensorrt_version) >= 11:
            return None
        return self.metadata.build_options.get("Precision") or None

    @property
    def engine_size_bytes(self) -> int | None:
        value = self.sizes.get("engine_size_bytes")
        return int(value) if value is not None else None

    @property
    def input_shapes(self) -> str | None:
        """The shapes the engine ran with (trtexec's inference options), else the engine's own input shapes
        (TensorRT 11's I/O tensors: ``input:1x3x224x224``, with each profile's min/opt/max when they differ),
        else the build options or command line."""
        for section, key in ((self.metadata.inference_options, "Input inference shapes"),
                             (self.metadata.inference_options, "Input inference shape")):
            value = section.get(key)
            if value and value != "model":
                return value
        from_engine = _io_shapes(self.io_tensors)
        if from_engine:
            return from_engine
        value = self.metadata.build_options.get("Input build shapes")
        if value and value != "model":
            return value
        match = re.search(r"--(?:shapes|optShapes)=(\S+)", self.command or "")
        return match[1] if match else None

    @property
    def per_layer_sum_ms(self) -> float | None:
        if self.layers.empty or self.layers["avg_ms"].isna().all():
            return None
        return round(float(self.layers["avg_ms"].sum()), 9)  # drop float-summation noise (0.0833000...03)


def _major(version: str | None) -> int:
    match = re.match(r"(\d+)", version or "")
    return int(match[1]) if match else 0


def _io_shapes(tensors: list[IOTensor]) -> str | None:
    """``input:1x3x224x224`` per engine input; a dynamic one adds each profile's range."""
    def dims(shape) -> str:
        return "x".join(str(d) for d in shape) or "scalar"

    parts = []
    for t in tensors:
        if not t.is_input:
            continue
        ranges = [p for p in t.profiles if not (p[0] == p[1] == p[2] == t.dims)]
        text = f"{t.name}:{dims(t.dims)}"
        if ranges:
            text += " (" + "; ".join(f"profile {i} min {dims(lo)}, opt {dims(opt)}, max {dims(hi)}"
                                     for i, (lo, opt, hi) in enumerate(t.profiles)) + ")"
        parts.append(text)
    return ", ".join(parts) or None


#: What a reader raises when an untrusted file has the right shape but a value of the wrong type or size
#: (a dict where a number belongs, an infinite count): found by the `make fuzz` campaign.
_DAMAGE = (TypeError, ValueError, OverflowError, KeyError, AttributeError, IndexError, RecursionError)


def engine_from_artifacts(name: str, artifacts: list[Artifact]) -> Engine:
    """Read and merge one engine's artifact files.

    Raises:
        ArtifactFormatError: a file is malformed, has values of impossible types, or the profile belongs
            to another engine.
    """
    with paused_gc():
        try:
            return _engine_from_artifacts(name, artifacts)
        except _DAMAGE as exc:
            # One file of the group is damaged in a way no format check foresaw; name the one it was reading.
            path = _culprit(exc, artifacts)
            raise ArtifactFormatError(str(path), f"has a value of an unexpected type or size "
                                      f"({type(exc).__name__}: {str(exc)[:80]}).",
                                      "Re-export it from TensorRT; a hand-edited or damaged copy cannot be read.") from None


def _culprit(exc: BaseException, artifacts: list[Artifact]) -> Path:
    """The artifact a failing reader was reading: the innermost frame holding a ``path`` argument."""
    frame_paths = [tb.tb_frame.f_locals.get("path") for tb in _frames(exc.__traceback__)]
    known = {str(a.path): a.path for a in artifacts}
    for candidate in reversed(frame_paths):
        if candidate is not None and str(candidate) in known:
            return known[str(candidate)]
    return artifacts[0].path if len(artifacts) == 1 else Path(", ".join(a.path.name for a in artifacts))


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _engine_from_artifacts(name: str, artifacts: list[Artifact]) -> Engine:
    engine = Engine(name=name, files=[str(a.path) for a in artifacts],
                    file_parts={str(a.path): a.part for a in artifacts if a.part is not None})
    by_kind: dict[ArtifactKind, list[Artifact]] = {}
    for a in artifacts:
        by_kind.setdefault(a.kind, []).append(a)

    layer_info = _first(by_kind, ArtifactKind.LAYER_INFO, read_layer_info, engine)
    profile = _first(by_kind, ArtifactKind.PROFILE, read_profile_json, engine)
    times = _first(by_kind, ArtifactKind.TIMES, read_times_json, engine)
    for a in by_kind.get(ArtifactKind.BUILD_METADATA, []) + by_kind.get(ArtifactKind.PROFILE_METADATA, []):
        _merge_metadata(engine.metadata, read_trex_metadata(a.path))
    logs = [read_trtexec_log(a.path, a.part) for a in by_kind.get(ArtifactKind.TRTEXEC_LOG, [])]
    polygraphy = [read_polygraphy_inspect(a.path) for a in by_kind.get(ArtifactKind.POLYGRAPHY_INSPECT, [])]
    engine.calibration = _first(by_kind, ArtifactKind.CALIBRATION_CACHE, read_calibration_cache, engine)
    if engine.calibration is not None:
        engine.warnings.extend(engine.calibration.warnings)
    engine.accuracy = _first(by_kind, ArtifactKind.ACCURACY, read_accuracy_json, engine)

    records, bindings, source = _choose_layers(layer_info, logs, polygraphy, engine)
    engine.io_tensors = layer_info.io_tensors if layer_info is not None else []
    if profile is None:
        profile = next((log.profile for log in logs if log.profile is not None), None)
    engine.layers, engine.constants = _layers_with_profile(records, profile, by_kind, engine, logs)
    engine.bindings, engine.layer_source = bindings, source
    if profile is not None:
        engine.profile_iterations = profile.iterations
    for log in logs:
        _merge_log(engine, log)
    for poly in polygraphy:
        engine.warnings.extend(poly.warnings)
        for key, value in poly.sizes.items():
            engine.sizes.setdefault(key, value)
    _choose_latency(engine, times)
    return engine


def _first(by_kind, kind, reader, engine: Engine):
    found = by_kind.get(kind, [])
    if len(found) > 1:
        engine.warnings.append(f"{len(found)} {kind.value} files; using {found[0].path.name}")
    if not found:
        return None
    return reader(found[0].path) if found[0].part is None else reader(found[0].path, part=found[0].part)


def _merge_metadata(into: EngineMetadata, new: EngineMetadata) -> None:
    for attr in ("model_options", "build_options", "inference_options", "device_information"):
        target = getattr(into, attr)
        # An empty value never blanks a known one, but is kept when it is all we know
        # ("Calibration:" left empty is how trtexec says no calibration cache was given).
        target.update({k: v for k, v in getattr(new, attr).items() if v != "" or not target.get(k)})
    into.summary.update(new.summary)
    into.throughput_qps = new.throughput_qps if new.throughput_qps is not None else into.throughput_qps


def _choose_layers(layer_info: LayerInfo | None, logs: list[TrtexecLog], polygraphy, engine: Engine):
    if layer_info is not None:
        engine.warnings.extend(layer_info.warnings)
        source = "layer_info_json" if layer_info.detailed else "layer_names_only"
        return layer_info.records, layer_info.bindings, source
    for wanted in ("dumpLayerInfo", "verbose"):
        for log in logs:
            if log.layer_source == wanted and log.layer_records:
                return log.layer_records, log.bindings, wanted
    for poly in polygraphy:
        if poly.layer_records:
            return poly.layer_records, [], "polygraphy"
    return [], [], None


def _layers_with_profile(records, profile: LayerProfile | None, by_kind, engine: Engine,
                         logs: list[TrtexecLog]) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not records:
        if profile is None:
            return empty_layer_table(), empty_constants_table()
        engine.warnings.append("no layer information: types and precisions are unknown. Export it with "
                               "`trtexec --loadEngine=<engine> --exportLayerInfo=layers.json --profilingVerbosity=detailed`.")
        engine.layer_source = "profile"
        return layer_table_from_profile(profile), empty_constants_table()
    graph = next((log.onnx_graph for log in logs if log.onnx_graph), None)
    table, constants = layer_table_and_constants(records, graph=graph)
    if profile is None or profile.frame.empty:
        return table, constants
    unmatched = unmatched_profile_names(table, profile)
    matched_share = 1 - len(unmatched) / len(profile.frame)
    if matched_share < MIN_PROFILE_MATCH:
        profile_file = next((a.path for a in by_kind.get(ArtifactKind.PROFILE) or by_kind.get(ArtifactKind.TRTEXEC_LOG) or []),
                            "profile")
        raise ArtifactFormatError(
            str(profile_file),
            f"matches only {len(profile.frame) - len(unmatched)} of {len(profile.frame)} layer names of engine "
            f"'{engine.name}' (first unmatched: {unmatched[0]!r}); it was recorded on a different engine.",
            "Export the profile and the layer info from the same engine file "
            "(trtexec --loadEngine=<engine> --exportProfile=... --exportLayerInfo=...).")
    if unmatched:
        engine.warnings.append(f"{len(unmatched)} profile rows match no layer (e.g. {unmatched[0]!r})")
    join_profile(table, profile)
    return table, constants


def _merge_log(engine: Engine, log: TrtexecLog) -> None:
    _merge_metadata(engine.metadata, log.metadata)
    engine.tensorrt_version = engine.tensorrt_version or log.tensorrt_version
    engine.command = engine.command or log.command
    for key, value in log.sizes.items():
        engine.sizes.setdefault(key, value)
    engine.build_passes = max(engine.build_passes, log.build_passes)
    engine.build_facts.update(log.layerlens)
    engine.events.extend(log.events)
    engine.warnings.extend(log.warnings)
    rank = {"ok": 0, "incomplete": 1, "failed": 2}
    if rank[log.status] > rank[engine.status]:
        engine.status = log.status


def _choose_latency(engine: Engine, times: InferenceTimes | None) -> None:
    summary = engine.metadata.summary
    if times is not None:
        engine.gpu_compute, engine.gpu_compute_source = times.gpu_compute, "times_json"
        engine.latency, engine.timed_iterations = times.latency, times.iterations
    elif "GPU Compute Time" in summary:
        engine.gpu_compute, engine.gpu_compute_source = summary["GPU Compute Time"], "performance_summary"
    engine.latency = engine.latency or summary.get("Latency")
    engine.throughput_qps = engine.metadata.throughput_qps
