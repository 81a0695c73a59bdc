"""The first-run demo: real ResNet-18 engines in four recipes, built here, so an empty dashboard is never empty.

The four variants answer the question users bring ("INT8 is enabled; why is the
engine not a quarter of FP32, and why is it not faster?") from real builder output:
FP32, FP16, INT8 with onnxruntime's Q/DQ placement and INT8 with TensorRT's.
Both INT8 variants are uncalibrated (synthetic inputs) and say so. It runs in the
``layerlens dashboard`` process, so it never imports the TensorRT-RTX binding: the
builds run in worker processes like every other build.
"""

from __future__ import annotations

from typing import Callable

from engine_core.build.matrix import MatrixResult, Variant, build_matrix

DEMO_MODEL = "resnet18"
DEMO_VARIANTS = (Variant("fp32"), Variant("fp16"), Variant("int8", "ort"), Variant("int8", "tensorrt"))


def build_demo(store, on_progress: Callable[[str, str, str], None] = lambda s, st, d: None) -> MatrixResult:
    """Build the demo matrix into ``store`` with TensorRT-RTX.

    Raises:
        MissingDependencyError: TensorRT-RTX is not installed (checked before a model is generated).
    """
    from engine_core.build.rtx import require_rtx
    from engine_core.models.zoo import ZOO, sample_model_path

    require_rtx()
    model = sample_model_path(DEMO_MODEL)
    return build_matrix(model, list(DEMO_VARIANTS), builder="rtx", store=store,
                        model_label=f"{DEMO_MODEL} ({ZOO[DEMO_MODEL].description}, LayerLens sample)",
                        on_progress=on_progress)


def demo_selection(result: MatrixResult) -> tuple[str | None, str | None, list[str]]:
    """``(engine, baseline, more)``: the INT8 (TensorRT placement) build against FP32, with FP16 and INT8 (ort)."""
    ids = {r.stem.split("-", 1)[1]: r.run_id for r in result.results if r.run_id}
    fp32, fp16 = ids.get("fp32"), ids.get("fp16")
    int8_trt, int8_ort = ids.get("int8-tensorrt-uncalibrated"), ids.get("int8-ort-uncalibrated")
    return int8_trt, fp32, [r for r in (fp16, int8_ort) if r]
