"""The nvinfer1 build steps TensorRT and TensorRT-RTX share: log, parse, configure, build a plan.

Both Python bindings expose the same API (``Builder``, ``OnnxParser``,
``ProfilingVerbosity.DETAILED``, ``build_serialized_network``), so one function
takes the binding module as an argument. Nothing here imports a binding: the
caller passes ``tensorrt`` or ``tensorrt_rtx_bindings`` (or a test double).

The log is written the way trtexec prints it (``[MM/DD/YYYY-HH:MM:SS] [V] [TRT] msg``),
multi-line messages continuing unprefixed, so the trtexec-log importer reads a
LayerLens build log and a log a user saved from their own builder alike. With a
VERBOSE logger and DETAILED verbosity the builder logs the engine's layer list in
the one-line inspector format (the ``Layers:`` message), which is the layer table
of a TensorRT-RTX build: its engine cannot be deserialized without a GPU.
LayerLens's own facts (builder, recipe, target, plan size and sha256) are lines
tagged ``[LayerLens]``, never dressed up as builder output.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine_core.errors import BuildError

_LEVEL = {"INTERNAL_ERROR": "F", "ERROR": "E", "WARNING": "W", "INFO": "I", "VERBOSE": "V"}


def log_prefix(level: str) -> str:
    return time.strftime("[%m/%d/%Y-%H:%M:%S]", time.localtime()) + f" [{level}]"


class BuildLog:
    """An append-only build log file in trtexec's line format."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handle = open(self.path, "w", encoding="utf-8")
        self.errors: list[str] = []

    def trt(self, level: str, message: str) -> None:
        if level in ("E", "F"):
            self.errors.append(message.strip())
        self._handle.write(f"{log_prefix(level)} [TRT] {message}\n")

    def fact(self, key: str, value) -> None:
        """A LayerLens fact: ``[LayerLens] key: value`` (read back by the log importer)."""
        self._handle.write(f"{log_prefix('I')} [LayerLens] {key}: {value}\n")

    def tail(self, lines: int = 15) -> str:
        self._handle.flush()
        return "\n".join(self.path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        self._handle.close()


def make_logger(trt, log: BuildLog):
    """An ``ILogger`` subclass of the given binding that writes every message to ``log``."""

    class _Logger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity, msg) -> None:
            name = getattr(severity, "name", str(severity)).split(".")[-1]
            log.trt(_LEVEL.get(name, "I"), msg)

    return _Logger()


@dataclass
class Plan:
    data: bytes
    sha256: str
    build_seconds: float


def build_plan(trt, onnx_path: str | Path, log: BuildLog, *, strongly_typed_flag: bool,
               targets: tuple[str, ...] = (), on_stage: Callable[[str], None] = lambda s: None,
               builder_optimization_level: int | None = None) -> Plan:
    """Parse an ONNX file and build a serialized plan with DETAILED profiling verbosity.

    Args:
        trt: the binding module (``tensorrt`` or ``tensorrt_rtx_bindings``).
        strongly_typed_flag: pass ``NetworkDefinitionCreationFlag.STRONGLY_TYPED`` (TensorRT 10); TensorRT 11
            and TensorRT-RTX networks are always strongly typed and take flags 0. Either way no builder precision
            flag and no calibrator is set: the ONNX's types and Q/DQ are the precision.
        targets: TensorRT-RTX compute capabilities (``"sm86"``); empty keeps the builder's default set.

    Raises:
        BuildError: the parser rejected the model or the builder produced no plan (carries the log tail).
    """
    logger = make_logger(trt, log)
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed_flag else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    on_stage("parse")
    if not parser.parse_from_file(str(onnx_path)):
        errors = [parser.get_error(i).desc() for i in range(parser.num_errors)]
        for e in errors:
            log.trt("E", f"ONNX parser: {e}")
        raise BuildError(f"The ONNX parser rejected {Path(onnx_path).name}: {errors[0] if errors else 'no detail'}",
                         log.tail(), "An op or data type this TensorRT does not support: check the support matrix, "
                         "or export with another opset.")
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    if builder_optimization_level is not None:
        config.builder_optimization_level = builder_optimization_level
    if targets:
        config.num_compute_capabilities = len(targets)
        for index, target in enumerate(targets):
            config.set_compute_capability(getattr(trt.ComputeCapability, target.upper()), index)
    on_stage("build")
    start = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - start
    if serialized is None:
        why = log.errors[-1] if log.errors else "the builder returned no plan"
        raise BuildError(f"The builder failed: {why}", log.tail(), "Read the log tail above; unsupported layer "
                         "combinations and data types are the usual causes.")
    data = bytes(memoryview(serialized))
    return Plan(data, hashlib.sha256(data).hexdigest(), seconds)
