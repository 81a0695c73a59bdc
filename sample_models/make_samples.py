"""Regenerate the tiny ONNX models in sample_models/ (deterministic, a few KB each).

``tiny_cnn.onnx`` is a float CNN; ``tiny_cnn_qdq.onnx`` is the same network with
explicit Q/DQ on the convolution inputs and weights, the form TensorRT 11 needs
for INT8 (ModelOpt writes the same pattern). They give the Models page and the
model lens something real to open on an empty machine.

Usage: python sample_models/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array.astype(np.float32), name)


def build(qdq: bool) -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    inits = [_init("conv1.weight", rng.normal(0, 0.1, (8, 1, 3, 3))), _init("conv1.bias", np.zeros(8)),
             _init("conv2.weight", rng.normal(0, 0.1, (16, 8, 3, 3))), _init("conv2.bias", np.zeros(16)),
             _init("fc.weight", rng.normal(0, 0.1, (10, 16))), _init("fc.bias", np.zeros(10))]
    nodes = []

    def quant(tensor: str, scale: float) -> str:
        if not qdq:
            return tensor
        s, z = f"{tensor}_scale", f"{tensor}_zero"
        inits.extend([numpy_helper.from_array(np.array(scale, np.float32), s),
                      numpy_helper.from_array(np.array(0, np.int8), z)])
        nodes.append(helper.make_node("QuantizeLinear", [tensor, s, z], [f"{tensor}_q"], name=f"{tensor}_QuantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tensor}_q", s, z], [f"{tensor}_dq"], name=f"{tensor}_DequantizeLinear"))
        return f"{tensor}_dq"

    nodes.append(helper.make_node("Conv", [quant("input", 0.02), quant("conv1.weight", 0.002), "conv1.bias"], ["c1"],
                                  name="/conv1/Conv", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"], name="/relu1/Relu"))
    nodes.append(helper.make_node("MaxPool", ["r1"], ["p1"], name="/pool1/MaxPool", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Conv", [quant("p1", 0.05), quant("conv2.weight", 0.002), "conv2.bias"], ["c2"],
                                  name="/conv2/Conv", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["c2"], ["r2"], name="/relu2/Relu"))
    nodes.append(helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="/gap/GlobalAveragePool"))
    nodes.append(helper.make_node("Flatten", ["g"], ["f"], name="/flatten/Flatten"))
    nodes.append(helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1))
    graph = helper.make_graph(nodes, "tiny_cnn_qdq" if qdq else "tiny_cnn",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="layerlens-samples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    for qdq, name in ((False, "tiny_cnn.onnx"), (True, "tiny_cnn_qdq.onnx")):
        onnx.save(build(qdq), HERE / name)
        print("wrote", HERE / name)
