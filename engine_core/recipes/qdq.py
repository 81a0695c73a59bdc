"""INT8 and FP8 recipes: explicit Q/DQ from onnxruntime's static quantizer, shaped for TensorRT.

TensorRT executes Q/DQ networks exactly as quantized ("Explicit Quantization",
https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-quantized-types.html),
with constraints onnxruntime's defaults break:

* symmetric quantization only (zero point 0): ``ActivationSymmetric``, INT8 (not UINT8);
* per-channel weights along the output-channel axis;
* bias stays float: onnxruntime quantizes it to INT32 by default and the TensorRT-RTX
  parser rejects that ("DequantizeLinear: input has type Int32"), so ``QuantizeBias=False``.

Two placements produce different Q/DQ graphs (:data:`~engine_core.recipes.spec.PLACEMENTS`):
``ort`` quantizes every op onnxruntime can (pooling, pointwise, reshapes too);
``tensorrt`` follows TensorRT's placement recommendations: Q/DQ on the inputs of
weighted ops (Conv, ConvTranspose, Gemm, MatMul) and of residual Adds (both inputs are
activations), and never on their outputs, so the builder can fuse epilogues.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from engine_core.recipes.calibration import BatchReader

WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def tensorrt_placement_nodes(model) -> list[str]:
    """Nodes TensorRT's recommendations quantize: weighted ops, and Adds of two activations (residuals)."""
    constants = {i.name for i in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    out = []
    for node in model.graph.node:
        if node.op_type in WEIGHTED_OPS:
            out.append(node.name)
        elif node.op_type == "Add" and len(node.input) == 2 and not any(i in constants for i in node.input):
            out.append(node.name)
    return out


def quantize_model(model, precision: str, placement: str, calibrator: str, batches: list[dict],
                   exclude: tuple[str, ...] = ()):
    """Return the Q/DQ model (``onnx.ModelProto``) and the number of QuantizeLinear nodes it holds.

    ``exclude`` names nodes that get no Q/DQ (``--keep``): onnxruntime's ``nodes_to_exclude``.

    Raises:
        LayerLensError: onnxruntime cannot quantize this model (message carries its reason).
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from engine_core.errors import LayerLensError

    if placement == "modelopt":
        from engine_core.recipes.modelopt_provider import quantize_with_modelopt

        if exclude:
            raise LayerLensError("--keep is not available with the modelopt placement.",
                                 "Use --placement ort or tensorrt, or exclude nodes in ModelOpt itself.")
        return quantize_with_modelopt(model, precision, calibrator, batches)
    quant_type = QuantType.QInt8 if precision == "int8" else QuantType.QFLOAT8E4M3FN
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "percentile": CalibrationMethod.Percentile}[calibrator]
    if precision == "fp8":
        method = CalibrationMethod.Distribution  # the only calibrator onnxruntime accepts for float8
    extra = {"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False}
    nodes = None
    if placement == "tensorrt":
        excluded = set(exclude)
        nodes = [n for n in tensorrt_placement_nodes(model) if n not in excluded]
        if not nodes:
            # onnxruntime reads an empty nodes_to_quantize as "no restriction" and would put Q/DQ on every other
            # op (the tiny CNN with its 3 weighted ops kept: Q/DQ on the ReLU and pool outputs, 8.6 dB).
            return model, 0
        extra["OpTypesToExcludeOutputQuantization"] = list(WEIGHTED_OPS) + ["Add"]
    with tempfile.TemporaryDirectory(prefix="layerlens-quant-") as tmp:
        src, dst = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
        onnx.save(model, str(src))
        try:
            quantize_static(str(src), str(dst), BatchReader(batches), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=quant_type, weight_type=quant_type,
                            nodes_to_quantize=nodes, nodes_to_exclude=list(exclude), calibrate_method=method,
                            extra_options=extra,
                            calibration_providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises bare Exceptions/RuntimeErrors with useful text
            raise LayerLensError(f"onnxruntime could not quantize the model: {type(exc).__name__}: {str(exc)[:300]}",
                                 "Check that the model runs in onnxruntime and that calibration batches match its inputs.") from None
        quantized = onnx.load(str(dst))
    count = sum(1 for n in quantized.graph.node if n.op_type == "QuantizeLinear")
    return quantized, count
