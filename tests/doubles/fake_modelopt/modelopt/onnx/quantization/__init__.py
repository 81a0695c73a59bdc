"""A double of ``modelopt.onnx.quantization.quantize``: it refuses any call the documented API would not accept.

The signature and the allowed values below are ModelOpt's documented ones (the API reference,
https://nvidia.github.io/TensorRT-Model-Optimizer/reference/generated/modelopt.onnx.quantization.quantize.html,
and the function's docstring in NVIDIA/Model-Optimizer ``modelopt/onnx/quantization/quantize.py``). The real
function ends in ``**kwargs`` (extra int4 options), so a misspelled keyword would pass silently there; the
double refuses every keyword the reference does not name.

It then writes what a quantizer writes, without quantizing anything for real: the input model with one
QuantizeLinear/DequantizeLinear pair on the activation input of every Conv, Gemm and MatMul (the pattern
TensorRT needs), and appends the call's arguments to ``$FAKE_MODELOPT_CALLS`` for the test to read.
It does not test ModelOpt itself: ``tests/test_recipes.py`` has an opt-in test against the real package.
"""

import inspect
import json
import os
import re

import numpy as np


def _documented(onnx_path, quantize_mode="int8", calibration_data=None, calibration_method=None,
                calibration_cache_path=None, calibration_shapes=None, calibration_eps=["cpu", "cuda:0", "trt"],  # noqa: B006 (as documented)
                override_shapes=None, op_types_to_quantize=None, op_types_to_exclude=None,
                op_types_to_exclude_fp16=None, nodes_to_quantize=None, nodes_to_exclude=None,
                use_external_data_format=False, keep_intermediate_files=False, output_path=None, log_level="INFO",
                log_file=None, trt_plugins=None, trt_plugins_precision=None, high_precision_dtype="fp16",
                mha_accumulation_dtype="fp16", disable_mha_qdq=False, dq_only=True, block_size=None,
                use_zero_point=False, passes=["concat_elimination"],  # noqa: B006 simplify=False, calibrate_per_node=False,
                input_shapes_profile=None, direct_io_types=False):
    """The documented signature (int4's extra keyword arguments left out: LayerLens never asks for int4)."""


MODES = ("int8", "int4", "fp8")
METHODS = {"int8": ("entropy", "max"), "fp8": ("entropy", "max"), "int4": ("awq_clip", "awq_lite", "awq_full", "rtn_dq")}
EPS = re.compile(r"^(cpu|trt|cuda:\d+|dml:\d+)$")  # "any subset of ['trt', 'cuda:x', 'dml:x', 'cpu']"


def quantize(*args, **kwargs):
    import onnx

    call = inspect.signature(_documented).bind(*args, **kwargs)  # TypeError for what the reference does not name
    call.apply_defaults()
    a = call.arguments
    assert a["quantize_mode"] in MODES, a["quantize_mode"]
    assert a["calibration_method"] is None or a["calibration_method"] in METHODS[a["quantize_mode"]], a["calibration_method"]
    assert isinstance(a["calibration_eps"], list) and all(EPS.match(ep) for ep in a["calibration_eps"]), a["calibration_eps"]
    model = onnx.load(a["onnx_path"])
    data = a["calibration_data"]
    inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if isinstance(data, dict):  # "a dict whose keys match the model input names", numpy arrays as values
        assert sorted(data) == sorted(inputs) and all(isinstance(v, np.ndarray) for v in data.values()), data
    else:
        assert data is None or (isinstance(data, np.ndarray) and len(inputs) == 1), type(data)
    assert a["output_path"] and a["output_path"].endswith(".onnx"), a["output_path"]
    onnx.save(_with_qdq(model), a["output_path"])
    with open(os.environ["FAKE_MODELOPT_CALLS"], "a") as log:
        shapes = {k: list(v.shape) for k, v in data.items()} if isinstance(data, dict) else None
        log.write(json.dumps({"given": sorted(kwargs), "quantize_mode": a["quantize_mode"],
                              "calibration_method": a["calibration_method"], "calibration_eps": a["calibration_eps"],
                              "inputs": shapes}) + "\n")


def _with_qdq(model):
    """``model`` with a Q/DQ pair (scale 1/127, zero point 0) before the first input of each Conv, Gemm, MatMul."""
    from onnx import TensorProto, helper

    nodes = []
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm", "MatMul"):
            x = node.input[0]
            scale, zero = f"{x}_scale", f"{x}_zero_point"
            model.graph.initializer.extend([helper.make_tensor(scale, TensorProto.FLOAT, [], [1 / 127]),
                                            helper.make_tensor(zero, TensorProto.INT8, [], [0])])
            nodes += [helper.make_node("QuantizeLinear", [x, scale, zero], [f"{x}_q"], name=f"{node.name}_q"),
                      helper.make_node("DequantizeLinear", [f"{x}_q", scale, zero], [f"{x}_dq"], name=f"{node.name}_dq")]
            node.input[0] = f"{x}_dq"
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model
