"""Precision recipes: ONNX in, ONNX out, on the CPU.

TensorRT-RTX and TensorRT 11 are strongly typed: a layer's precision is the
type the ONNX graph gives it, so "build it in INT8" means "rewrite the model with
Q/DQ first". A recipe is that rewrite: ``fp32`` (as is), ``fp16``/``bf16``
(float casts from onnxconverter-common), ``int8``/``fp8`` (Q/DQ from
onnxruntime's static quantizer) and ``qat`` (a model that already carries Q/DQ,
built as quantized). Results are cached by (model sha256, recipe, calibration
sha256). Must not import TensorRT or Streamlit; onnxruntime and
onnxconverter-common are imported only when a recipe needs them.
"""

from engine_core.recipes.spec import CALIBRATORS, PLACEMENTS, PRECISIONS, RecipeResult, RecipeSpec
from engine_core.recipes.apply import apply_recipe

__all__ = ["CALIBRATORS", "PLACEMENTS", "PRECISIONS", "RecipeResult", "RecipeSpec", "apply_recipe"]
