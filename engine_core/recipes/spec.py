"""What a recipe is (a precision, a Q/DQ placement, a calibration) and what it produced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PRECISIONS = ("fp32", "fp16", "bf16", "int8", "fp8")
#: ``ort``: onnxruntime's default Q/DQ placement (inputs and outputs of every op it can quantize).
#: ``tensorrt``: TensorRT's recommendation: quantize the inputs of weighted ops and of residual
#: Adds, never their outputs ("Q/DQ Layer-Placement Recommendations", TensorRT developer guide,
#: https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-quantized-types.html).
#: ``modelopt``: NVIDIA ModelOpt's placement (TensorRT's rules), optional: ``pip install 'nvidia-modelopt[onnx]'``.
PLACEMENTS = ("ort", "tensorrt", "modelopt")
CALIBRATORS = ("minmax", "entropy", "percentile")
QUANTIZED = ("int8", "fp8")


@dataclass(frozen=True)
class RecipeSpec:
    """One precision recipe. ``placement``/``calibrator`` matter only for int8/fp8."""

    precision: str = "fp32"
    placement: str = "ort"
    calibrator: str = "minmax"

    @property
    def quantized(self) -> bool:
        return self.precision in QUANTIZED

    def recipe_id(self, calibrated: bool) -> str:
        """``fp32``, ``fp16``, ``int8-ort-uncalibrated``, ``int8-tensorrt-entropy``, ``fp8-ort-distribution``."""
        if not self.quantized:
            return self.precision
        # onnxruntime has only its Distribution calibrator for float8.
        how = ("distribution" if self.precision == "fp8" else self.calibrator) if calibrated else "uncalibrated"
        return f"{self.precision}-{self.placement}-{how}"


@dataclass
class RecipeResult:
    """The model a recipe wrote, and the facts every later view needs about it."""

    path: str
    recipe: str                      # RecipeSpec.recipe_id(), or "qat" for a model that came with Q/DQ
    source_model: str
    source_sha256: str
    calibrated: bool
    calibration: str | None = None   # "8 synthetic batches (seed 0)" or the data folder and its sha256
    kept_float: list[str] = field(default_factory=list)   # ONNX nodes the recipe left in FP32 on purpose
    quantized_nodes: int = 0
    notes: list[str] = field(default_factory=list)
    cached: bool = False

    def to_json(self) -> dict:
        return asdict(self)
