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
#: Float types a node can be kept in (``--keep fp16:PATTERN``): no Q/DQ, and this type instead.
KEEP_TYPES = ("fp16", "fp32")


def recipe_precision(recipe: str) -> str:
    """The precision a recipe id asks for: ``int8-ort-uncalibrated+keep3`` -> ``INT8``, ``fp16+keep1`` -> ``FP16``."""
    return recipe.split("+", 1)[0].split("-", 1)[0].upper()


@dataclass(frozen=True)
class RecipeSpec:
    """One precision recipe. ``placement``/``calibrator`` matter only for int8/fp8.

    ``keep`` holds resolved ``(ONNX node name, "fp16"|"fp32")`` pairs, sorted: nodes the recipe leaves
    out of its precision (:mod:`engine_core.recipes.keep` resolves ``--keep`` patterns into it).
    """

    precision: str = "fp32"
    placement: str = "ort"
    calibrator: str = "minmax"
    keep: tuple[tuple[str, str], ...] = ()

    @property
    def quantized(self) -> bool:
        return self.precision in QUANTIZED

    def recipe_id(self, calibrated: bool) -> str:
        """``fp32``, ``fp16``, ``int8-ort-uncalibrated``, ``int8-tensorrt-entropy``, ``fp8-ort-distribution``;
        ``+keep3`` when three nodes are kept out of the recipe's precision."""
        kept = f"+keep{len(self.keep)}" if self.keep else ""
        if not self.quantized:
            return self.precision + kept
        # onnxruntime has only its Distribution calibrator for float8.
        how = ("distribution" if self.precision == "fp8" else self.calibrator) if calibrated else "uncalibrated"
        return f"{self.precision}-{self.placement}-{how}{kept}"

    def kept_in(self, float_type: str) -> list[str]:
        """The kept node names of one float type (``"fp16"`` or ``"fp32"``)."""
        return [node for node, kind in self.keep if kind == float_type]


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
    #: Nodes kept out of the recipe's precision on request (``--keep``): {"fp16": [...], "fp32": [...]}.
    kept: dict[str, list[str]] = field(default_factory=dict)
    quantized_nodes: int = 0
    notes: list[str] = field(default_factory=list)
    cached: bool = False

    def to_json(self) -> dict:
        return asdict(self)
