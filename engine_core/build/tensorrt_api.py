"""The ``tensorrt`` backend: the TensorRT Python API on a GPU machine, writing trtexec-shaped artifacts.

It shares :func:`~engine_core.build.nvinfer.build_plan` with the ``rtx`` backend
(same nvinfer1 API), then does what only a GPU can: deserializes the plan, asks
``IEngineInspector`` for the layer JSON (``<stem>.graph.json``, the same document as
``trtexec --exportLayerInfo``), times every layer with an ``IProfiler``
(``<stem>.profile.json`` in ``--exportProfile``'s shape) and times whole inferences
(``<stem>.timing.json`` in ``--exportTimes``'s shape). The importers read these
like any trtexec export.

It is written to the TensorRT 11 Python API, which is strongly typed only: no builder
precision flags (``BuilderFlag.FP16``/``INT8``), no calibrator, the network's types are the
ONNX's (a LayerLens recipe wrote them). TensorRT 11 ignores the ``STRONGLY_TYPED`` creation
flag it deprecated, so it gets none; TensorRT 10 still needs it to be strongly typed
(https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/tensorrt-10x-to-11x-python-api-patterns.html,
https://docs.nvidia.com/deeplearning/tensorrt/11.0.0/_static/python-api/infer/Core/Builder.html).

``tensorrt`` and ``polygraphy`` (for device buffers) are imported only inside
:func:`build_tensorrt`; on this project's GPU-less machines it runs against test
doubles of TensorRT 10 and 11 (``tests/doubles``). API: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/python-api/
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

import numpy as np

from engine_core.build.engine_request import EngineBuildRequest
from engine_core.build.nvinfer import BuildLog, build_plan, make_logger
from engine_core.errors import BuildError, MissingDependencyError
from engine_core.strict_json import write_strict_json

INSTALL = "pip install 'layerlens[trt]'  (TensorRT 10 or 11 and Polygraphy, on a machine with an NVIDIA GPU)"
WARMUP, PROFILE_RUNS, TIMED_RUNS = 10, 50, 200


def import_tensorrt():
    try:
        import tensorrt as trt
        from polygraphy import cuda
    except ImportError:
        raise MissingDependencyError("TensorRT", "build and profile engines on a GPU", INSTALL) from None
    return trt, cuda


def build_tensorrt(request: EngineBuildRequest, onnx_path: Path, out_dir: Path, log: BuildLog,
                   on_stage: Callable[[str], None]) -> list[Path]:
    """Build, inspect and profile ``onnx_path`` on this machine's GPU; returns the artifacts written.

    Raises:
        MissingDependencyError: TensorRT or Polygraphy is not installed.
        BuildError: parse, build or deserialization failed.
    """
    trt, cuda = import_tensorrt()
    log.fact("builder", f"TensorRT {trt.__version__} (Python API)")
    log.fact("target", request.target_label())
    plan = build_plan(trt, onnx_path, log, strongly_typed_flag=needs_strongly_typed_flag(trt.__version__),
                      on_stage=on_stage)
    log.fact("plan", f"{len(plan.data)} bytes, sha256 {plan.sha256}")
    log.fact("build seconds", f"{plan.build_seconds:.3f}")
    engine = trt.Runtime(make_logger(trt, log)).deserialize_cuda_engine(plan.data)
    if engine is None:
        raise BuildError("TensorRT could not deserialize the plan it just built.", log.tail(),
                         "Check the GPU driver and that no other process holds the GPU.")
    stem = out_dir / request.stem
    written = [log.path]
    on_stage("inspect")
    inspector = engine.create_engine_inspector()
    graph = stem.with_name(request.stem + ".graph.json")
    graph.write_text(inspector.get_engine_information(trt.LayerInformationFormat.JSON))
    written.append(graph)
    on_stage("profile")
    context = engine.create_execution_context()
    buffers, stream = _bind_buffers(trt, cuda, engine, context)
    try:
        # Whole-inference times first: once an IProfiler is attached, every layer synchronizes.
        written.append(_write_times(context, stream, stem))
        written.append(_write_profile(trt, context, stream, stem))
    finally:
        for buffer in buffers:
            buffer.free()
    if request.keep_plan:
        plan_path = stem.with_name(request.stem + ".plan")
        plan_path.write_bytes(plan.data)
        written.append(plan_path)
    return written


def needs_strongly_typed_flag(version: str) -> bool:
    """TensorRT 10 builds strongly typed only when asked (``STRONGLY_TYPED``); 11 always does and ignores the flag."""
    match = re.match(r"(\d+)", version)
    return not match or int(match[1]) < 11


def _bind_buffers(trt, cuda, engine, context):
    stream = cuda.Stream()
    buffers = []
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        shape = tuple(max(1, d) for d in engine.get_tensor_shape(name))
        buffer = cuda.DeviceArray(shape=shape, dtype=np.dtype(trt.nptype(engine.get_tensor_dtype(name))))
        if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
            context.set_input_shape(name, shape)
        context.set_tensor_address(name, buffer.ptr)
        buffers.append(buffer)
    return buffers, stream


def _run(context, stream) -> None:
    if not context.execute_async_v3(stream.ptr):
        raise BuildError("execute_async_v3 failed while profiling.", "", "Check the GPU and the engine's input shapes.")
    stream.synchronize()


def _write_profile(trt, context, stream, stem: Path) -> Path:
    """Per-layer times from an ``IProfiler``, in ``Profiler::exportJSONProfile``'s shape."""
    times: dict[str, list[float]] = {}

    class _Profiler(trt.IProfiler):
        def __init__(self) -> None:
            trt.IProfiler.__init__(self)

        def report_layer_time(self, layer_name, ms) -> None:
            times.setdefault(layer_name, []).append(ms)

    context.profiler = _Profiler()
    for _ in range(PROFILE_RUNS):
        _run(context, stream)
    total = sum(sum(v) for v in times.values()) or 1.0
    records = [{"count": PROFILE_RUNS}] + [
        {"name": name, "timeMs": float(sum(v)), "averageMs": float(sum(v) / len(v)), "medianMs": float(np.median(v)),
         "percentage": 100.0 * sum(v) / total} for name, v in times.items()]
    return write_strict_json(stem.with_name(stem.name + ".profile.json"), records, indent=1)


def _write_times(context, stream, stem: Path) -> Path:
    """Whole-inference times in ``exportJSONTrace``'s shape (host-timed enqueue + synchronize, no transfers)."""
    for _ in range(WARMUP):
        _run(context, stream)
    trace, origin = [], time.perf_counter()
    for _ in range(TIMED_RUNS):
        start = (time.perf_counter() - origin) * 1e3
        _run(context, stream)
        end = (time.perf_counter() - origin) * 1e3
        trace.append({"startEnqMs": start, "endEnqMs": end, "startComputeMs": start, "endComputeMs": end,
                      "computeMs": end - start, "latencyMs": end - start, "h2dMs": 0.0, "d2hMs": 0.0})
    return write_strict_json(stem.with_name(stem.name + ".timing.json"), trace)
