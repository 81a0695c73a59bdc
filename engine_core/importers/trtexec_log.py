"""trtexec console logs, whole or pasted in part from a GitHub issue.

One pass over the lines collects: the option sections (``=== Build Options ===``
and the others), device information, the performance summary, the TensorRT
version, engine/weights/activation sizes and build time, the ``--dumpLayerInfo``
and verbose layer lines and the ``--dumpProfile`` table (via
:mod:`engine_core.importers.log_tables`), the ONNX parser's node and initializer
lines (:mod:`engine_core.importers.onnx_graph_log`), precision-related builder
messages, and whether the run finished (``&&&& PASSED``/``FAILED``). TensorRT 11
logs have no precision flags: their ``Precision`` build option is never read.

Lines may carry ``[MM/DD/YYYY-HH:MM:SS] [I] [TRT]`` prefixes (trtexec), the
Python logger's ``[TRT] [V]`` order, TensorRT 7's ``[TensorRT] VERBOSE:``, or
nothing at all (pasted text). Format source:
https://github.com/NVIDIA/TensorRT/blob/release/10.16/samples/common/sampleOptions.cpp
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers import log_tables
from engine_core.importers.jsonio import read_text
from engine_core.importers.onnx_graph_log import OnnxGraphLog
from engine_core.importers.profile import LayerProfile
from engine_core.importers.times import TimingStats
from engine_core.importers.trex_metadata import EngineMetadata

_PREFIX_TOKEN = re.compile(r"^\s*\[(?:\d{1,2}/\d{1,2}/\d{4}-\d{1,2}:\d{2}:\d{2}|[IWEVF]|TRT|TensorRT)\]\s*")
_PY_LEVEL = re.compile(r"^(VERBOSE|INFO|WARNING|ERROR|INTERNAL_ERROR): ")
_LEVEL_WORDS = {"VERBOSE": "V", "INFO": "I", "WARNING": "W", "ERROR": "E", "INTERNAL_ERROR": "F"}
_SECTION = re.compile(r"^=== (.+?) ===\s*$")
# TensorRT 7 printed no version: "&&&& RUNNING TensorRT.trtexec # ./trtexec --onnx=...".
BANNER = re.compile(r"&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec(?: \[TensorRT v(\d+)\])?[^#\n]*#[ \t]*(.*)$",
                    re.MULTILINE)
_RUN_START = re.compile(r"^&&&& RUNNING TensorRT", re.MULTILINE)
# TensorRT 7's performance report: a title line, then "min: 2.03 ms", ..., "percentile: 2.2 ms at 99%"
# (NVIDIA/TensorRT#1221). TensorRT 8 put each quantity on one "=== Performance summary ===" line.
_TRT7_BLOCKS = {"Host Latency": "Latency", "GPU Compute": "GPU Compute Time", "Enqueue Time": "Enqueue Time",
                "H2D Latency": "H2D Latency", "D2H Latency": "D2H Latency"}
_TRT7_STAT = re.compile(r"^(min|max|mean|median): (-?[\d.eE+-]+) ms")
_TRT7_PERCENTILE = re.compile(r"^percentile: (-?[\d.eE+-]+) ms at (\d+)%")
_TRT7_OTHER = re.compile(r"^(throughput: ([\d.eE+-]+) qps|walltime: .*|total compute time: .*)$")
_LAYERLENS_FACT = re.compile(r"^\[LayerLens\] ([^:]+): (.*)$")
_PLAN_FACT = re.compile(r"^(\d+) bytes, sha256 ([0-9a-f]{64})$")
_STAT = re.compile(r"(min|max|mean|median|percentile\((\d+)%\))\s*=\s*(-?[\d.eE+-]+)\s*ms")

_SIZE_PATTERNS = {
    "engine_size_bytes": re.compile(r"Created engine with size: ([\d.]+) MiB"),
    "loaded_engine_mib": re.compile(r"Loaded engine size: ([\d.]+) MiB"),
    "weights_memory_bytes": re.compile(r"Total Weights Memory: (\d+) bytes"),
    "activation_memory_bytes": re.compile(r"Total Activation Memory: (\d+)"),
    "host_persistent_bytes": re.compile(r"Total Host Persistent Memory: (\d+)"),
    "device_persistent_bytes": re.compile(r"Total Device Persistent Memory: (\d+)"),
    "build_time_s": re.compile(r"Engine built in ([\d.]+) sec"),
    "engine_generation_s": re.compile(r"Engine generation completed in ([\d.]+) seconds"),
    # The runtime's lines when it deserializes an engine (trtexec --loadEngine, Polygraphy, any application).
    "runner_device_persistent_bytes": re.compile(r"Total per-runner device persistent memory is (\d+)"),
    "runner_host_persistent_bytes": re.compile(r"Total per-runner host persistent memory is (\d+)"),
    "allocated_activation_bytes": re.compile(r"Allocated activation device memory of size (\d+)"),
}


def collect_sizes(line: str, sizes: dict[str, list[float]]) -> bool:
    """Record any size fact on ``line`` (a prefix-stripped log line); True when one was found."""
    found = False
    for key, pattern in _SIZE_PATTERNS.items():
        m = pattern.search(line)
        if m:
            sizes.setdefault(key, []).append(float(m[1]))
            found = True
    return found

# Builder messages that explain a layer's precision. Wording from the trackers in
# TENSORRT-NOTES.md §8.1: #2407 (non-conforming implementation), #2031/#2114
# (missing dynamic range), #3754 (default quantization params), #3894 (--int8
# without --fp16), #1824 (TF32 by default).
_PRECISION_EVENTS = (
    ("precision_ignored", re.compile(r"For layer (?P<subject>.+?) a non-conforming implementation was chosen")),
    ("missing_dynamic_range", re.compile(r"[Mm]issing (?:dynamic range|scale and zero-point) for tensor (?P<subject>[^,]+)")),
    ("default_quantization", re.compile(r"Setting a default quantization params because quantization data is missing for (?P<subject>.+)")),
    ("no_native_int8", re.compile(r"Int8 support requested on hardware without native Int8 support")),
    ("int8_without_fp16", re.compile(r"FP32 and INT8 precisions have been specified")),
    ("tf32_default", re.compile(r"TF32 is enabled by default")),
)


@dataclass
class LogEvent:
    line_no: int
    level: str
    kind: str
    subject: str
    message: str


@dataclass
class TrtexecLog:
    """Everything read from one trtexec log."""

    command: str | None = None
    tensorrt_version: str | None = None
    metadata: EngineMetadata = field(default_factory=EngineMetadata)
    layer_records: list[dict] = field(default_factory=list)
    layer_source: str | None = None          # "dumpLayerInfo" or "verbose"
    bindings: list[str] = field(default_factory=list)
    profile: LayerProfile | None = None
    sizes: dict[str, float] = field(default_factory=dict)
    build_passes: int = 0
    status: str = "ok"
    events: list[LogEvent] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: ``[LayerLens] key: value`` lines a LayerLens build wrote (builder, recipe, target, plan, ...).
    layerlens: dict[str, str] = field(default_factory=dict)
    #: The ONNX graph as a VERBOSE build's parser lines describe it (empty without them).
    onnx_graph: OnnxGraphLog = field(default_factory=OnnxGraphLog)

    def export_paths(self) -> dict[str, str]:
        """``--exportLayerInfo/--exportProfile/--exportTimes`` file names from the command line."""
        out = {}
        for flag in ("exportLayerInfo", "exportProfile", "exportTimes"):
            m = re.search(rf"--{flag}=(\S+)", self.command or "")
            if m:
                out[flag] = Path(m[1]).name
        return out


def split_prefix(raw: str) -> tuple[str, str]:
    """Strip log prefixes; return ``(level letter or "", message)``."""
    level = ""
    line = raw
    while True:
        m = _PREFIX_TOKEN.match(line)
        if not m:
            break
        token = m.group(0).strip()[1:-1]
        if token in _LEVEL_WORDS.values():
            level = token
        line = line[m.end():]
    m = _PY_LEVEL.match(line)
    if m:
        level = _LEVEL_WORDS[m[1]]
        line = line[m.end():]
    return level, line.rstrip("\r\n")


def split_runs(text: str) -> list[str]:
    """One text per trtexec run: a log holding several runs appended to one file (``cat >>``) splits at
    each ``&&&& RUNNING`` banner; text before the first banner belongs to the first run."""
    starts = [m.start() for m in _RUN_START.finditer(text)]
    if len(starts) <= 1:
        return [text]
    bounds = [0] + starts[1:] + [len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def run_labels(path: str | Path) -> list[str]:
    """A short label per run of a multi-run log: ``run 3 (--batch=4)``, from each run's own command."""
    labels = []
    for i, text in enumerate(split_runs(read_text(path)), start=1):
        banner = BANNER.search(text)
        knob = re.search(r"--(?:batch|shapes|optShapes)=\S+", banner[3]) if banner else None
        labels.append(f"run {i}" + (f" ({knob[0]})" if knob else ""))
    return labels


def read_trtexec_log(path: str | Path, part: int | None = None) -> TrtexecLog:
    """Read a trtexec log file, or run ``part`` (from 0) of a file holding several runs.

    Raises:
        ArtifactFormatError: the text holds nothing trtexec writes, or has no run ``part``.
    """
    text = read_text(path)
    if part is not None:
        runs = split_runs(text)
        if part >= len(runs):
            raise ArtifactFormatError(str(path), f"has {len(runs)} trtexec runs, not a run {part + 1}.",
                                      "Import the log again: it changed since it was stored.")
        text = runs[part]
    return trtexec_log_from_text(text, path)


def trtexec_log_from_text(text: str, path: str | Path = "<pasted text>") -> TrtexecLog:
    """Parse trtexec output (a whole log or a pasted fragment)."""
    log = TrtexecLog()
    reader = _LogReader(log)
    # Not str.splitlines(): it also breaks on \x1e/\x1f, the separators TensorRT
    # puts inside Metadata (issue #2779), and would cut one-line layer records.
    for line_no, raw in enumerate(text.split("\n"), start=1):
        reader.feed(line_no, raw)
    reader.finish()
    if not reader.recognised:
        raise ArtifactFormatError(str(path), "does not look like trtexec output (no options, summary, layer or profile lines).",
                                  "Pass the console output of trtexec, e.g. `trtexec ... --verbose 2>&1 | tee build.log`.")
    _finish_sizes(log, reader.sizes)
    _finish_status(log, reader)
    return log


class _LogReader:
    """Line-by-line state machine; kept small by delegating tables to log_tables."""

    def __init__(self, log: TrtexecLog) -> None:
        self.log = log
        self.section: str | None = None
        self.sections: dict[str, dict[str, str]] = {}
        self.sizes: dict[str, list[float]] = {}
        self.banner_states: list[str] = []
        self.error_lines: list[str] = []
        self.oneline_records: list[dict] = []
        self.verbose_records: list[dict] = []
        self.in_bindings = False
        self.profile_layout: str | None = None
        self.profile_iterations: int | None = None
        self.profile_rows: list[tuple] = []
        self.recognised = False
        self.block: str | None = None            # a TensorRT 7 statistics block being read
        self.block_stats: dict[str, float] = {}

    def feed(self, line_no: int, raw: str) -> None:
        level, line = split_prefix(raw)
        stripped = line.strip()
        banner = BANNER.search(raw)
        if banner:
            self._banner(banner)
            return
        if self._trt7_block_line(stripped):
            return
        if level == "E":
            self.error_lines.append(stripped)
        if self._table_line(line, stripped, prefixed=raw.strip() != stripped):
            return
        section = _SECTION.match(stripped)
        if section:
            self._enter_section(section.group(1), stripped)
            return
        if self.section is None or not self._section_line(stripped):
            self.section = None
        self._fact_line(line_no, level, stripped)

    # -- pieces ------------------------------------------------------------------
    def _banner(self, m: re.Match) -> None:
        self.recognised = True
        self.banner_states.append(m[1])
        self.log.command = self.log.command or m[3].strip()
        if m[2]:
            self.log.tensorrt_version = self.log.tensorrt_version or version_from_banner(m[2])

    def _trt7_block_line(self, stripped: str) -> bool:
        """TensorRT 7's multi-line statistics blocks; True when the line belonged to one."""
        if stripped in _TRT7_BLOCKS:
            self._close_block()
            self.recognised = True
            self.block, self.block_stats = stripped, {}
            return True
        if self.block is None:
            return False
        if m := _TRT7_STAT.match(stripped):
            self.block_stats[m[1]] = float(m[2])
            return True
        if m := _TRT7_PERCENTILE.match(stripped):
            self.block_stats[f"p{m[2]}"] = float(m[1])
            return True
        if m := _TRT7_OTHER.match(stripped):
            if m[2]:
                self.log.metadata.throughput_qps = float(m[2])
            return True
        self._close_block()
        return False

    def _close_block(self) -> None:
        found = self.block_stats
        if self.block and all(k in found for k in ("min", "max", "mean", "median")):
            self.log.metadata.summary[_TRT7_BLOCKS[self.block]] = TimingStats(
                found["min"], found["max"], found["mean"], found["median"], found.get("p90"), found.get("p95"),
                found.get("p99"))
        self.block, self.block_stats = None, {}

    def _enter_section(self, title: str, stripped: str) -> None:
        self.recognised = True
        iterations = log_tables.profile_iterations(stripped)
        if iterations is not None:
            self.profile_iterations = iterations
            self.section = None
            return
        self.section = title
        self.sections.setdefault(title, {})

    def _section_line(self, stripped: str) -> bool:
        if not stripped:
            return self.section == "Device Information"  # blank lines inside the device block
        key, sep, value = stripped.partition(":")
        if not sep or key.startswith("Note") or key.startswith("["):
            return False
        self.sections[self.section][key.strip()] = value.strip()
        return True

    def _table_line(self, line: str, stripped: str, prefixed: bool) -> bool:
        """Layer-info, bindings and profile rows; True when the line was consumed."""
        if stripped.startswith("Name: ") and ", LayerType: " in stripped:
            self.recognised = True
            self.oneline_records.append(log_tables.record_from_oneline(stripped))
            self.in_bindings = False
            return True
        if stripped == "Bindings:" and self.oneline_records:
            self.in_bindings = True
            return True
        if self.in_bindings:
            if stripped and not prefixed:  # unprefixed binding names follow "Bindings:"
                self.log.bindings.append(stripped)
                return True
            self.in_bindings = False
        if stripped.startswith("Layer(") and ", Tactic: " in stripped:
            record = log_tables.record_from_verbose_layer(stripped)
            if record is not None:
                self.recognised = True
                self.verbose_records.append(record)
                return True
        if stripped == "Engine Layer Information:":
            self.verbose_records = []  # keep the last block: the engine that was kept
            return True
        layout = log_tables.profile_layout(stripped)
        if layout:
            self.recognised = True
            self.profile_layout = layout
            self.profile_rows = []
            return True
        if self.profile_layout:
            row = log_tables.profile_rows(self.profile_layout, line)
            if row is not None:
                self.profile_rows.append(row)
                if row[0] == "Total":
                    self._close_profile()
                return True
            self._close_profile()
        return False

    def _close_profile(self) -> None:
        if self.profile_rows:
            frame = log_tables.profile_frame(self.profile_rows)
            if self.profile_iterations and frame["avg_ms"].isna().any():
                frame["avg_ms"] = frame["avg_ms"].fillna(frame["total_ms"] / self.profile_iterations)
            self.log.profile = LayerProfile(frame=frame, iterations=self.profile_iterations)
        self.profile_layout = None
        self.profile_rows = []

    def _fact_line(self, line_no: int, level: str, stripped: str) -> None:
        if self.log.onnx_graph.add_line(stripped):
            self.recognised = True
            return
        fact = _LAYERLENS_FACT.match(stripped)
        if fact:
            self.recognised = True
            self.log.layerlens[fact[1]] = fact[2]
            return
        m = re.match(r"TensorRT version: (\d+(?:\.\d+)+)", stripped)
        if m:
            self.recognised = True
            self.log.tensorrt_version = m[1]
        if collect_sizes(stripped, self.sizes):
            self.recognised = True
        for kind, pattern in _PRECISION_EVENTS:
            m = pattern.search(stripped)
            if m:
                subject = (m.groupdict().get("subject") or "").strip()
                self.log.events.append(LogEvent(line_no, level or "I", kind, subject, stripped))

    def finish(self) -> None:
        self._close_profile()
        self._close_block()
        log = self.log
        if self.oneline_records:
            log.layer_records, log.layer_source = self.oneline_records, "dumpLayerInfo"
        elif self.verbose_records:
            log.layer_records, log.layer_source = self.verbose_records, "verbose"
        meta = log.metadata
        meta.model_options = self.sections.get("Model Options", {})
        meta.build_options = self.sections.get("Build Options", {})
        meta.inference_options = self.sections.get("Inference Options", {})
        meta.device_information = self.sections.get("Device Information", {})
        meta.summary = {**meta.summary}
        for key, value in self.sections.get("Performance summary", {}).items():
            stats = _stats_from_line(value)
            if stats is not None:
                meta.summary[key] = stats
            elif key == "Throughput":
                m = re.match(r"([\d.eE+-]+)", value)
                meta.throughput_qps = float(m[1]) if m else None


def _stats_from_line(value: str) -> TimingStats | None:
    """``min = 0.04 ms, max = ..., mean = ..., median = ..., percentile(90%) = ...``."""
    found = {}
    for m in _STAT.finditer(value):
        key = f"p{m[2]}" if m[2] else m[1]
        found[key] = float(m[3])
    if not all(k in found for k in ("min", "max", "mean", "median")):
        return None
    return TimingStats(found["min"], found["max"], found["mean"], found["median"],
                       found.get("p90"), found.get("p95"), found.get("p99"))


def _finish_sizes(log: TrtexecLog, sizes: dict[str, list[float]]) -> None:
    log.sizes, log.build_passes, warnings = finish_sizes(sizes)
    log.warnings.extend(warnings)


def finish_sizes(sizes: dict[str, list[float]]) -> tuple[dict[str, float], int, list[str]]:
    """The size facts of one log from every value :func:`collect_sizes` saw: ``(sizes, build passes, warnings)``."""
    # A builder may run several passes (builderOptimizationLevel>=4 tries backend
    # strategies and logs "Engine generation completed" for each); the memory
    # figures of the last pass belong to the engine that was serialized.
    passes = len(sizes.get("engine_generation_s", []))
    warnings: list[str] = []
    out: dict[str, float] = {}
    if "engine_size_bytes" in sizes:
        out["engine_size_bytes"] = round(sizes["engine_size_bytes"][-1] * 2**20)
    elif "loaded_engine_mib" in sizes:
        # "Loaded engine size: 6 MiB" is truncated to whole MiB: approximate.
        out["engine_size_bytes"] = round(sizes["loaded_engine_mib"][-1] * 2**20)
        warnings.append("engine size taken from 'Loaded engine size' (whole MiB, approximate)")
    for key in ("weights_memory_bytes", "activation_memory_bytes", "host_persistent_bytes", "device_persistent_bytes",
                "runner_device_persistent_bytes", "runner_host_persistent_bytes", "allocated_activation_bytes"):
        if key in sizes:
            out[key] = int(sizes[key][-1])
    if "build_time_s" in sizes:
        out["build_time_s"] = sizes["build_time_s"][-1]
    elif "engine_generation_s" in sizes:
        out["build_time_s"] = sum(sizes["engine_generation_s"])
    if passes > 1:
        warnings.append(f"the builder logged {passes} engine generation passes; memory figures are from the last one")
    return out, passes, warnings


def _finish_status(log: TrtexecLog, reader: _LogReader) -> None:
    states = reader.banner_states
    plan = _PLAN_FACT.match(log.layerlens.get("plan", ""))
    if plan:
        # A LayerLens build log: the plan's byte count is the real engine size.
        log.sizes["engine_size_bytes"] = int(plan[1])
        if "build seconds" in log.layerlens:
            log.sizes["build_time_s"] = float(log.layerlens["build seconds"])
    if "FAILED" in states:
        log.status = "failed"
        tail = reader.error_lines[-1] if reader.error_lines else "trtexec reported FAILED"
        log.warnings.append(f"trtexec failed: {tail}")
    elif "PASSED" in states:
        log.status = "ok"
    elif plan:
        log.status = "ok"
    elif "RUNNING" in states:
        log.status = "failed" if reader.error_lines else "incomplete"
        why = reader.error_lines[-1] if reader.error_lines else "the log ends before '&&&& PASSED'"
        log.warnings.append(f"trtexec did not finish: {why}")
    else:
        log.warnings.append("no trtexec banner (pasted fragment?): completeness unknown")


def version_from_banner(code: str) -> str | None:
    """``[TensorRT v101601]`` -> ``10.16.1``; ``v8502`` -> ``8.5.2``; ``v8601`` -> ``8.6.1``.

    TensorRT 10 widened the minor field: ``NV_TENSORRT_VERSION`` is
    ``major*10000 + minor*100 + patch`` from 10.0 on and
    ``major*1000 + minor*100 + patch`` before.
    """
    n = int(code)
    if n >= 100000:
        return f"{n // 10000}.{(n // 100) % 100}.{n % 100}"
    if n >= 1000:
        return f"{n // 1000}.{(n // 100) % 10}.{n % 100}"
    return None
