"""The ONNX graph as TensorRT's ONNX parser logs it in a VERBOSE build log.

The parser (onnx-tensorrt, in TensorRT and TensorRT-RTX alike) logs every initializer it imports and
every node it parses with its tensors, shapes and types::

    Importing initializer: encoder.layer.0.attention.query.weight
    /encoder/.../query/MatMul [MatMul] inputs: [x -> (1, 128, 256)[FLOAT]], [encoder...query.weight -> (256, 256)[FLOAT]],
    /encoder/.../query/MatMul [MatMul] outputs: [/encoder/.../MatMul_output_0 -> (1, 128, 256)[FLOAT]],

So a build log says which ONNX initializer each layer's constants come from, even when the builder
gives every use its own constant name (ALBERT's shared layer, fused Q/K/V GEMMs): that is how
:mod:`engine_core.constants` counts a tensor once. Lines are recognised by a cheap substring test
first; nothing here imports TensorRT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_INITIALIZER = "Importing initializer: "
_NODE_IO = re.compile(r"^(?P<node>.+?) \[(?P<op>[A-Za-z0-9_]+)\] (?P<side>inputs|outputs): (?P<tensors>\[.*)$")
_TENSOR = re.compile(r"\[(?P<name>[^\[\]]+?) -> \((?P<dims>[^)]*)\)\[(?P<type>\w+)\]\]")
#: Ops that hand an initializer on unchanged in content (a quantized weight through its DequantizeLinear).
_PASS_THROUGH = {"DequantizeLinear", "QuantizeLinear", "Cast", "Transpose", "Reshape", "Identity", "Unsqueeze",
                 "Squeeze", "Flatten"}


@dataclass
class OnnxGraphLog:
    """Nodes, their tensors and the initializers, from the parser's VERBOSE lines (empty when there were none)."""

    initializers: set[str] = field(default_factory=set)
    node_inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    node_ops: dict[str, str] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)      # tensor -> the node writing it
    element_counts: dict[str, int] = field(default_factory=dict)  # tensor -> elements

    def __bool__(self) -> bool:
        return bool(self.node_inputs)

    def add_line(self, line: str) -> bool:
        """Record a prefix-stripped log line if it is a parser line; True when it was one."""
        if line.startswith(_INITIALIZER):
            self.initializers.add(line[len(_INITIALIZER):].strip())
            return True
        if "puts: [" not in line:
            return False
        m = _NODE_IO.match(line)
        if not m:
            return False
        names = []
        for t in _TENSOR.finditer(m["tensors"]):
            names.append(t["name"])
            dims = [int(d) for d in t["dims"].split(",") if d.strip().lstrip("-").isdigit()]
            self.element_counts[t["name"]] = int(np.prod(dims, dtype=np.int64)) if dims else 1
        self.node_ops[m["node"]] = m["op"]
        if m["side"] == "inputs":
            self.node_inputs[m["node"]] = tuple(names)
        else:
            self.producers.update((name, m["node"]) for name in names)
        return True

    def weight_sources(self, node: str, depth: int = 2) -> list[str]:
        """The initializers ``node`` reads, directly or through a DequantizeLinear/Cast/Transpose/... chain."""
        out = []
        for tensor in self.node_inputs.get(node, ()):
            if tensor in self.initializers:
                out.append(tensor)
            elif depth and self.node_ops.get(self.producers.get(tensor, "")) in _PASS_THROUGH:
                out += self.weight_sources(self.producers[tensor], depth - 1)
        return out
