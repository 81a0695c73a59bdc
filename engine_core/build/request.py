"""What a user asks a build for, and whether that TensorRT version can do it.

TensorRT 11 removed weak typing and calibration-based INT8: its trtexec has no
``--fp16/--bf16/--int8/--fp8/--int4/--best/--calib/--layerPrecisions``, and
``--stronglyTyped`` is a no-op because every network is strongly typed; precision
comes from the ONNX model (ModelOpt Q/DQ or AutoCast). Compare
https://github.com/NVIDIA/TensorRT/blob/release/10.16/samples/common/sampleOptions.cpp
with the one on ``main``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

WEAK_PRECISIONS = ("fp16", "bf16", "int8", "fp8", "int4")
# First TensorRT major.minor whose trtexec accepts each precision flag (sampleOptions.cpp history).
_SINCE = {"fp16": (7, 0), "int8": (7, 0), "fp8": (8, 6), "bf16": (9, 0), "int4": (10, 0)}
CONSTRAINTS = ("none", "prefer", "obey")


def version_tuple(version: str) -> tuple[int, int]:
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


@dataclass
class BuildRequest:
    """One engine build. Precision flags apply to TensorRT <= 10 (weakly typed networks)."""

    onnx: str
    tensorrt_version: str = "10.16"
    precisions: tuple[str, ...] = ()            # subset of WEAK_PRECISIONS; FP32 is always allowed
    tf32: bool = True                           # TensorRT enables TF32 by default on Ampere+ (#1824)
    calibration_cache: str | None = None        # --calib; INT8 without it (and without Q/DQ) uses synthetic scales
    strongly_typed: bool = False
    precision_constraints: str = "none"
    layer_precisions: dict[str, str] = field(default_factory=dict)   # layer name -> fp32/fp16/bf16/int8/fp8
    shapes: str | None = None                   # e.g. "input:8x3x224x224" (--shapes; static or opt shape)
    use_cuda_graph: bool = True
    use_spin_wait: bool = True
    no_data_transfers: bool = True
    extra_args: tuple[str, ...] = ()

    @property
    def is_trt11(self) -> bool:
        return version_tuple(self.tensorrt_version)[0] >= 11


def default_stem(request: BuildRequest) -> str:
    """Artifact and engine name: model stem plus the switches that change the engine (``model-fp16-int8-notf32``)."""
    return "-".join([Path(request.onnx).stem, *request.precisions]) + ("" if request.tf32 else "-notf32")


def check_request(request: BuildRequest) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for this request on its TensorRT version.

    Errors make the build impossible as asked; warnings flag an unfair or
    surprising result (the same checks the fair-comparison lint makes afterwards).
    """
    errors, warnings = [], []
    version = version_tuple(request.tensorrt_version)
    unknown = set(request.precisions) - set(WEAK_PRECISIONS)
    if unknown:
        errors.append(f"Unknown precision flag(s): {', '.join(sorted(unknown))}. Choose from {', '.join(WEAK_PRECISIONS)}.")
    if request.is_trt11:
        if request.precisions or request.calibration_cache or request.layer_precisions:
            errors.append(f"TensorRT {request.tensorrt_version} removed precision flags, calibration and per-layer "
                          "precisions: quantize the ONNX with ModelOpt (Q/DQ) or AutoCast instead.")
    else:
        for p in request.precisions:
            since = _SINCE.get(p)
            if since and version < since:
                errors.append(f"--{p} needs TensorRT {since[0]}.{since[1]} or newer (requested {request.tensorrt_version}).")
        if request.strongly_typed and version < (9, 0):
            errors.append("--stronglyTyped needs TensorRT 9 or newer.")
        if request.strongly_typed and request.precisions:
            errors.append("A strongly typed network takes its types from the ONNX model; drop the precision flags.")
        if "int8" in request.precisions and "fp16" not in request.precisions:
            warnings.append("--int8 without --fp16: layers that cannot run INT8 fall back to FP32, not FP16 (#3894).")
        if "int8" in request.precisions and not request.calibration_cache:
            warnings.append("INT8 without --calib: unless the ONNX carries Q/DQ, trtexec uses synthetic scales (#687).")
        if request.layer_precisions and request.precision_constraints == "none":
            errors.append("Per-layer precisions are ignored unless precision constraints are 'prefer' or 'obey'.")
    if request.precision_constraints not in CONSTRAINTS:
        errors.append(f"Precision constraints must be one of {', '.join(CONSTRAINTS)}.")
    if request.tf32 and not request.precisions and not request.is_trt11:
        warnings.append("An 'FP32' build runs TF32 tensor cores on Ampere and newer; turn TF32 off for a true FP32 baseline.")
    return errors, warnings
