"""One engine build through a Python builder API: a recipe plus a backend, checked before anything runs.

Backends (:data:`BUILDERS`): ``rtx`` is TensorRT-RTX ahead of time on the CPU (no
GPU needed; https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/cpu-engines.html);
``tensorrt`` is the TensorRT Python API on a GPU machine. Both are strongly typed
here, so the precision is the recipe's. ``trtexec`` builds stay in
:mod:`engine_core.build.request`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine_core.errors import LayerLensError
from engine_core.recipes.spec import RecipeSpec
from engine_core.strict_json import dumps_strict

BUILDERS = ("rtx", "tensorrt")
#: TensorRT-RTX 1.7's ComputeCapability enum (no SM90: Hopper is not an RTX target).
RTX_TARGETS = ("sm75", "sm80", "sm86", "sm89", "sm120", "sm121")
#: Without targets, an engine is "portable across devices with compute capabilities 8.6, 8.9, and 12.0, if
#: the model precisions are supported on the target architecture" (TensorRT-RTX support matrix,
#: https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/support-matrix.html).
DEFAULT_TARGETS = ("sm86", "sm89", "sm120")
#: First compute capability that has a precision (same support matrix); an explicit older target fails in
#: Myelin with "Cannot compile for target(s) sm86, because the model contains HW-specific datatypes".
_MIN_TARGET = {"fp8": "sm89", "bf16": "sm80"}


def _cc(target: str) -> int:
    return int(target[2:])


@dataclass
class EngineBuildRequest:
    """What the build worker needs; JSON-serializable so it crosses the process boundary."""

    model: str
    stem: str
    precision: str = "fp32"
    placement: str = "ort"
    calibrator: str = "minmax"
    calibration_dir: str | None = None
    builder: str = "rtx"
    targets: tuple[str, ...] = ()
    keep_plan: bool = False
    model_label: str | None = None          # e.g. "resnet18 (zoo, pytorch naming)"
    extra: dict = field(default_factory=dict)
    keep: tuple[tuple[str, str], ...] = ()   # resolved (ONNX node, "fp16"|"fp32") pairs (--keep)
    accuracy: bool = True                    # measure the recipe's output error vs the source model
    accuracy_data: str | None = None         # inputs for that measurement (.npz/.npy); None: labelled synthetic

    @property
    def spec(self) -> RecipeSpec:
        return RecipeSpec(self.precision, self.placement, self.calibrator, tuple(sorted(self.keep)))

    def to_json(self) -> str:
        return dumps_strict(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "EngineBuildRequest":
        data = json.loads(text)
        data["targets"] = tuple(data.get("targets") or ())
        data["keep"] = tuple(tuple(pair) for pair in data.get("keep") or ())
        return cls(**data)

    def recipe_request(self) -> dict:
        """What rebuilding this recipe needs (the ``request`` build fact): model, recipe options, targets, keep."""
        return {"model": self.model, "precision": self.precision, "placement": self.placement,
                "calibrator": self.calibrator, "calibration_dir": self.calibration_dir, "targets": list(self.targets),
                "keep": [list(pair) for pair in self.keep], "accuracy_data": self.accuracy_data}

    def target_label(self) -> str:
        if self.builder != "rtx":
            return "this GPU"
        if self.targets:
            return "+".join(t.upper() for t in self.targets)
        return "+".join(t.upper() for t in DEFAULT_TARGETS) + " (TensorRT-RTX default)"


def check_engine_request(request: EngineBuildRequest) -> None:
    """Raise a one-line LayerLensError for a build that cannot work as asked.

    Raises:
        LayerLensError: unknown builder or target, a precision the targets cannot run (FP8 before SM89), or an
            accuracy data folder that is not there.
    """
    from engine_core.recipes.apply import check_spec

    check_spec(request.spec)
    if request.accuracy and request.accuracy_data and not Path(request.accuracy_data).is_dir():
        raise LayerLensError(f"--data {request.accuracy_data} is not a folder of input batches.",
                             "Pass a folder of .npz batches keyed by input name (.npy for one input), or leave --data "
                             "out to measure on synthetic inputs (labelled so).")
    if request.builder not in BUILDERS:
        raise LayerLensError(f"Unknown builder '{request.builder}'.", f"Choose one of: {', '.join(BUILDERS)}, or trtexec.")
    if request.builder == "rtx":
        unknown = [t for t in request.targets if t.lower() not in RTX_TARGETS]
        if unknown:
            raise LayerLensError(f"TensorRT-RTX cannot target {', '.join(unknown)}.",
                                 f"Choose from {', '.join(RTX_TARGETS)} (Hopper/SM90 is not an RTX target).")
        need = _MIN_TARGET.get(request.precision)
        low = [t for t in request.targets if need and _cc(t.lower()) < _cc(need)]
        if low:
            raise LayerLensError(f"{request.precision.upper()} needs {need.upper()} or newer, but the build targets "
                                 f"{', '.join(t.upper() for t in low)}.",
                                 f"Pass --target {need} (or a newer one: {', '.join(t for t in RTX_TARGETS if _cc(t) >= _cc(need))}).")
