"""``polygraphy inspect model <engine> --show layers attrs`` text output.

Polygraphy prints the engine's I/O, device memory, profiles and, with
``--show layers``, one block per layer built from the engine inspector::

    Layer 0    | node_conv2d + node_relu [Op: CaskConvolution]
        {x [dtype=float32, shape=(1, 1, 28, 28), Format: Float]}
         -> {relu [dtype=float32, shape=(1, 32, 28, 28), Format: Float]}
        ---- Attributes ----
        Origin = Unknown
        Tactic = 0x5b8bf1b8028629d9

Format source: ``str_from_engine`` in
https://github.com/NVIDIA/TensorRT/blob/release/10.16/tools/Polygraphy/polygraphy/backend/trt/util.py
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_text
from engine_core.importers.trtexec_log import collect_sizes, finish_sizes, split_prefix

_LAYER = re.compile(r"^\s*Layer (\d+)\s*\| (?P<name>.*) \[Op: (?P<op>[^\]]*)\]\s*$")
_TENSOR = re.compile(r"(?P<name>[^{},\s][^{}]*?) \[dtype=(?P<dtype>\w+), shape=\((?P<dims>[^)]*)\)"
                     r"(?:, Format: (?P<fmt>[^\]]*))?\]")
_LONGEST_TENSOR_LINE = 4096
_ATTR = re.compile(r"^\s*(Origin|Tactic) = (.*)$")
_DEVICE_MEMORY = re.compile(r"Device Memory: (\d+) bytes")
_LAYER_COUNT = re.compile(r"---- (\d+) Layer\(s\)")
# Polygraphy prints numpy-style dtypes; map them back to TensorRT's short names.
_DTYPE_NAMES = {"float32": "Float", "float16": "Half", "bfloat16": "BFloat16", "int8": "Int8", "uint8": "UInt8",
                "int32": "Int32", "int64": "Int64", "bool": "Bool", "float8e4m3fn": "FP8", "int4": "Int4"}


@dataclass
class PolygraphyEngine:
    layer_records: list[dict] = field(default_factory=list)
    declared_layers: int | None = None
    device_memory_bytes: int | None = None
    sizes: dict[str, float] = field(default_factory=dict)      # the runtime's size lines (Loaded engine size, ...)
    warnings: list[str] = field(default_factory=list)


def read_polygraphy_inspect(path: str | Path) -> PolygraphyEngine:
    """Read saved ``polygraphy inspect model`` output for an engine.

    Raises:
        ArtifactFormatError: no ``==== TensorRT Engine ====`` block.
    """
    text = read_text(path)
    if "==== TensorRT Engine ====" not in text:
        raise ArtifactFormatError(str(path), "is not `polygraphy inspect model` output for an engine.",
                                  "Run `polygraphy inspect model <engine> --show layers attrs > out.txt`.")
    out = PolygraphyEngine()
    current: dict | None = None
    side = "Inputs"
    sizes: dict[str, list[float]] = {}
    for raw in text.split("\n"):  # not splitlines(): it breaks on \x1e (see trtexec_log)
        _, line = split_prefix(raw)
        collect_sizes(line, sizes)
        if m := _LAYER.match(line):
            current = {"Name": m["name"], "LayerType": m["op"], "Inputs": [], "Outputs": []}
            out.layer_records.append(current)
            side = "Inputs"
            continue
        if m := _DEVICE_MEMORY.search(line):
            out.device_memory_bytes = int(m[1])
        if m := _LAYER_COUNT.search(line):
            out.declared_layers = int(m[1])
            current = None
        if current is None:
            continue
        if m := _ATTR.match(line):
            key = "Origin" if m[1] == "Origin" else "TacticValue"
            if m[2] != "Unknown":
                current[key] = m[2]
            continue
        if "->" in line:
            side = "Outputs"
        if len(line) > _LONGEST_TENSOR_LINE:  # no Polygraphy line is this long; the lazy regex would backtrack
            continue
        for t in _TENSOR.finditer(line):
            fmt = t["fmt"] or _DTYPE_NAMES.get(t["dtype"], t["dtype"])
            dims = [int(d) for d in re.findall(r"-?\d+", t["dims"])]
            current[side].append({"Name": t["name"].strip(), "Dimensions": dims, "Format/Datatype": fmt})
    out.sizes, _, size_warnings = finish_sizes(sizes)
    out.warnings.extend(size_warnings)
    if out.device_memory_bytes is not None:
        out.sizes.setdefault("activation_memory_bytes", out.device_memory_bytes)
    if not out.layer_records:
        out.warnings.append(f"{Path(path).name}: no per-layer blocks; rerun "
                            "`polygraphy inspect model <engine> --show layers attrs` on an engine built "
                            "with detailed profiling verbosity.")
    return out
