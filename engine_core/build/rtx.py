"""The ``rtx`` backend: TensorRT-RTX builds an engine ahead of time on the CPU, no GPU needed.

What it yields is a real plan (its byte count is the real engine size) and the
builder's verbose log with the engine's layer list. What it cannot yield here:
deserializing the plan needs a supported RTX GPU (``cudaError 35`` without one),
so there is no ``IEngineInspector`` and no ``IProfiler``: no measured time, and
latency for these runs is an estimate (the calibrated latency model), labelled so wherever it shows.
https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/cpu-engines.html

The binding (``tensorrt_rtx_bindings``, from the ``tensorrt-rtx-cu12-*`` wheels,
NVIDIA's licence) is imported only inside :func:`build_rtx`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine_core.build.engine_request import EngineBuildRequest
from engine_core.build.nvinfer import BuildLog, build_plan
from engine_core.errors import MissingDependencyError

INSTALL = "pip install 'layerlens[rtx]'  (or: pip install tensorrt-rtx-cu12-libs tensorrt-rtx-cu12-bindings)"


def import_rtx():
    """The TensorRT-RTX binding module (in the build worker only).

    Raises:
        MissingDependencyError: the wheels are not installed.
    """
    try:
        import tensorrt_rtx_bindings as trt
    except ImportError:
        raise _missing() from None
    return trt


def rtx_available() -> bool:
    """True when the TensorRT-RTX binding can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("tensorrt_rtx_bindings") is not None
    except ValueError:  # sys.modules["tensorrt_rtx_bindings"] = None: blocked on purpose
        return False


def require_rtx() -> None:
    """Fail fast, in the CLI or dashboard process, when TensorRT-RTX is missing, without importing the binding.

    Raises:
        MissingDependencyError: the wheels are not installed.
    """
    if not rtx_available():
        raise _missing()


def _missing() -> MissingDependencyError:
    return MissingDependencyError("TensorRT-RTX", "build engines on this machine", INSTALL)


def builder_label(trt) -> str:
    return f"TensorRT-RTX {trt.__version__} (AOT, CPU)"


def build_rtx(request: EngineBuildRequest, onnx_path: Path, out_dir: Path, log: BuildLog,
              on_stage: Callable[[str], None]) -> list[Path]:
    """Build ``onnx_path``; returns the artifacts written (the build log, and the plan when kept).

    Raises:
        MissingDependencyError: TensorRT-RTX is not installed.
        BuildError: parse or build failed.
    """
    trt = import_rtx()
    log.fact("builder", builder_label(trt))
    log.fact("target", request.target_label())
    plan = build_plan(trt, onnx_path, log, strongly_typed_flag=False, targets=tuple(t.lower() for t in request.targets),
                      on_stage=on_stage)
    log.fact("plan", f"{len(plan.data)} bytes, sha256 {plan.sha256}")
    log.fact("build seconds", f"{plan.build_seconds:.3f}")
    written = [log.path]
    if request.keep_plan:
        plan_path = out_dir / f"{request.stem}.plan"
        plan_path.write_bytes(plan.data)
        written.append(plan_path)
    return written
