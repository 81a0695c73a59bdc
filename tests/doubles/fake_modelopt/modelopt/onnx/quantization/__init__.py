"""A double of ``modelopt.onnx.quantization.quantize``: checks the call LayerLens makes, then does the
quantization with onnxruntime (TensorRT placement) so the result is a real Q/DQ model, and records
the arguments in ``$FAKE_MODELOPT_CALLS`` for the test to read. It does not test ModelOpt itself."""

import json
import os


def quantize(onnx_path, quantize_mode="int8", calibration_data=None, calibration_method=None, calibration_eps=None,
             output_path=None, **kwargs):
    import onnx

    from engine_core.recipes.qdq import quantize_model

    assert quantize_mode in ("int8", "fp8", "int4") and output_path and calibration_eps == ["cpu"]
    batches = [{k: v[i:i + 1] for k, v in calibration_data.items()} for i in range(len(next(iter(calibration_data.values()))))]
    model, _ = quantize_model(onnx.load(onnx_path), quantize_mode, "tensorrt", {"max": "minmax"}.get(calibration_method, calibration_method), batches)
    onnx.save(model, output_path)
    with open(os.environ["FAKE_MODELOPT_CALLS"], "a") as log:
        log.write(json.dumps({"quantize_mode": quantize_mode, "calibration_method": calibration_method,
                              "inputs": {k: list(v.shape) for k, v in calibration_data.items()}}) + "\n")
