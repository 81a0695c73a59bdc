"""FP16 and BF16 recipes: onnxconverter-common's float16 conversion, kept honest about what stays FP32.

Why onnxconverter-common: it is maintained by the ONNX project, has no torch or
CUDA dependency (ModelOpt AutoCast pulls both, a 6.7 GB venv), keeps the model's
I/O types (``keep_io_types``) and takes a block list of ops to leave in FP32,
inserting the Casts itself. The block list adds the numerically sensitive
reductions and normalizations to its defaults: their FP16 overflow is the classic
accuracy loss TensorRT itself warns about for LayerNorm.

BF16 uses the same placement, then retypes every FLOAT16 tensor to BFLOAT16:
onnxconverter-common has no bfloat16 mode, and the placement question (which ops
may narrow) is the same for both 16-bit formats. BF16 keeps FP32's exponent range,
so the clamping float16 conversion applies is harmless there.
"""

from __future__ import annotations

import numpy as np

# Ops left in FP32: onnxconverter-common's defaults plus reductions/normalizations whose
# sums overflow FP16 (TensorRT warns "Running layernorm after self-attention in FP16 may
# cause overflow"; https://docs.nvidia.com/deeplearning/tensorrt/latest/performance/best-practices.html).
SENSITIVE_OPS = ("LayerNormalization", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL2", "Pow", "Sqrt",
                 "Exp", "Log", "Reciprocal", "Softmax")


def cast_model(model, precision: str, keep_fp32: tuple[str, ...] = ()):
    """Return ``(model, kept_float node names)`` converted to ``fp16`` or ``bf16``.

    ``keep_fp32`` names nodes the user keeps in FP32 (``--keep fp32:PATTERN``): the converter's node block list.
    """
    from onnxconverter_common import float16

    block = list(float16.DEFAULT_OP_BLOCK_LIST) + list(SENSITIVE_OPS)
    kept = [n.name or n.op_type for n in model.graph.node if n.op_type in SENSITIVE_OPS]
    float_outputs = {o.name for o in model.graph.output if o.type.tensor_type.elem_type == 1}
    converted = float16.convert_float_to_float16(model, keep_io_types=True, op_block_list=block,
                                                 node_block_list=list(keep_fp32))
    _restore_float_outputs(converted, float_outputs)
    if precision == "bf16":
        _retype_float16_to_bfloat16(converted)
    return converted, kept


def _retype_float16_to_bfloat16(model) -> None:
    from onnx import TensorProto, helper, numpy_helper

    def bf16_tensor(t):
        values = numpy_helper.to_array(t).astype(np.float32)
        bits = (values.view(np.uint32) + 0x7FFF + ((values.view(np.uint32) >> 16) & 1)) >> 16  # round to nearest even
        return helper.make_tensor(t.name, TensorProto.BFLOAT16, list(t.dims), bits.astype(np.uint16).tobytes(), raw=True)

    graph = model.graph
    for i, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT16:
            graph.initializer[i].CopyFrom(bf16_tensor(init))
    for value in list(graph.value_info) + list(graph.input) + list(graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.BFLOAT16
    for node in graph.node:
        for attr in node.attribute:
            if attr.name == "to" and attr.i == TensorProto.FLOAT16:
                attr.i = TensorProto.BFLOAT16
            elif attr.name == "value" and attr.t.data_type == TensorProto.FLOAT16:
                attr.t.CopyFrom(bf16_tensor(attr.t))


def _restore_float_outputs(model, float_outputs: set[str]) -> None:
    """Keep FP32 graph outputs FP32.

    onnxconverter-common 1.16 ignores ``keep_io_types`` when a blocked op produces a graph
    output: it casts the op's FP32 result back to FP16 under the output's name (seen on a
    transformer ending in LayerNormalization). Point that Cast back to FLOAT, or add one.
    """
    from onnx import TensorProto, helper

    producers = {o: n for n in model.graph.node for o in n.output}
    for value in model.graph.output:
        if value.name not in float_outputs or value.type.tensor_type.elem_type != TensorProto.FLOAT16:
            continue
        node = producers.get(value.name)
        to = next((a for a in node.attribute if a.name == "to"), None) if node is not None and node.op_type == "Cast" else None
        if to is not None:
            to.i = TensorProto.FLOAT
        else:
            inner = f"{value.name}_float16"
            node.output[list(node.output).index(value.name)] = inner
            model.graph.node.append(helper.make_node("Cast", [inner], [value.name], to=TensorProto.FLOAT,
                                                     name=f"{value.name}_restore_float"))
        value.type.tensor_type.elem_type = TensorProto.FLOAT
