"""ModelOpt as an optional recipe provider: NVIDIA's own Q/DQ placement, the path TensorRT 11 documents.

``nvidia-modelopt[onnx]`` quantizes following TensorRT's rules, but its ONNX path imports torch and
CuPy (a 6.7 GB virtualenv, measured), so it is never a default dependency: the ``modelopt`` placement
imports it here, inside the function, and says how to install it when it is missing.
API: https://nvidia.github.io/TensorRT-Model-Optimizer/reference/generated/modelopt.onnx.quantization.quantize.html
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from engine_core.errors import LayerLensError, MissingDependencyError

INSTALL = "pip install 'nvidia-modelopt[onnx]'  (pulls torch and CuPy, about 6.7 GB)"
# ModelOpt's calibration methods for int8/fp8 are 'entropy' and 'max'.
_METHODS = {"entropy": "entropy", "minmax": "max"}


def quantize_with_modelopt(model, precision: str, calibrator: str, batches: list[dict]):
    """Quantize an ``onnx.ModelProto`` with ModelOpt; returns ``(quantized model, QuantizeLinear count)``.

    Raises:
        MissingDependencyError: ModelOpt is not installed.
        LayerLensError: a calibrator ModelOpt does not offer, or ModelOpt failed (its message is kept).
    """
    try:
        from modelopt.onnx.quantization import quantize
    except ImportError:
        raise MissingDependencyError("ModelOpt", "use the modelopt Q/DQ placement", INSTALL) from None
    import onnx

    if calibrator not in _METHODS:
        raise LayerLensError(f"ModelOpt has no '{calibrator}' calibrator.", "Use --calibrator entropy or minmax.")
    # ModelOpt takes the calibration set as one array per input, batches stacked on axis 0.
    data = {name: np.concatenate([b[name] for b in batches], axis=0) for name in batches[0]}
    with tempfile.TemporaryDirectory(prefix="layerlens-modelopt-") as tmp:
        src, dst = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
        onnx.save(model, str(src))
        try:
            quantize(str(src), quantize_mode=precision, calibration_data=data, calibration_method=_METHODS[calibrator],
                     calibration_eps=["cpu"], output_path=str(dst))
        except Exception as exc:  # ModelOpt raises plain exceptions with useful text
            raise LayerLensError(f"ModelOpt could not quantize the model: {type(exc).__name__}: {str(exc)[:300]}",
                                 "Check that the model runs in onnxruntime on the CPU.") from None
        quantized = onnx.load(str(dst))
    return quantized, sum(1 for n in quantized.graph.node if n.op_type == "QuantizeLinear")
