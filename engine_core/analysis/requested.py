"""What precision did the user ask for, and did the engine run in it?

TensorRT <= 10 builds say it with their flags (``Precision: FP32+FP16+INT8``). TensorRT 11 and
TensorRT-RTX have no precision flags: a network is strongly typed, so what was asked for is the
ONNX's own types and Q/DQ nodes, or the LayerLens recipe that wrote them
(https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/tensorrt-10x-to-11x-python-api-patterns.html).
:func:`io_precision_shares` measures what the layers' I/O tensors actually are, the check rf-detr #1453
needed when an "FP16" TensorRT 11 build was FP32 in fact. Pure pandas; reads an ONNX file only when the
engine names one that exists.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from engine_core.engine import Engine
from engine_core.precision import PRECISION_RANK, lowest_requested_precision, precisions_from_datatypes, tensor_datatype
from engine_core.recipes.spec import recipe_precision

_QDQ_NAME = re.compile(r"quantizelinear|dequantizelinear|quantlinearnode|dequantlinearnode|quantizeanddequantize", re.I)
#: Sources a requested precision comes from that were stated, not read off the engine's own layers.
STATED_SOURCES = ("build flags", "recipe", "the ONNX's types and Q/DQ")


def requested_precision(engine: Engine) -> tuple[str | None, str]:
    """``(precision, source)``; source is one of :data:`STATED_SOURCES`, ``"inferred from layers"`` or ``"unknown"``.

    In order: trtexec's ``Precision: FP32+FP16+INT8`` (TensorRT <= 10: TensorRT 11 removed the flags,
    so a TensorRT 11 engine never reads them); the recipe of a LayerLens build; the ONNX the engine was
    built from, when its path (LayerLens's ``onnx`` fact, trtexec's ``--onnx``) is a file here. Without
    any (an engine loaded with --loadEngine, a bare layer JSON), the lowest float/quantized precision any
    layer computes in stands in.
    """
    flagged = lowest_requested_precision(engine.build_precision)  # None for TensorRT 11: no flags
    if flagged:
        return flagged, "build flags"
    if engine.recipe and engine.recipe != "qat":
        # A strongly typed LayerLens build: the recipe's precision ("int8-ort-uncalibrated" -> INT8).
        return recipe_precision(engine.recipe), "recipe"
    onnx = onnx_path(engine)
    if onnx is not None:
        stat = onnx.stat()
        from_onnx = _onnx_requested_precision(str(onnx), stat.st_mtime_ns, stat.st_size)
        if from_onnx:
            return from_onnx, "the ONNX's types and Q/DQ"
    present = [p for p in engine.layers["compute_precision"].unique() if p in PRECISION_RANK and p != "TF32"]
    if not present:
        return None, "unknown"
    return min(present, key=lambda p: PRECISION_RANK[p]), "inferred from layers"


def onnx_path(engine: Engine) -> Path | None:
    """The ONNX file the engine was built from, when it exists on this machine.

    A LayerLens build records the exact network it parsed (``[LayerLens] onnx: <path>``); a trtexec log
    names ``--onnx=<file>``, relative to where trtexec ran (taken as the log's folder).
    """
    candidates = []
    if engine.build_facts.get("onnx"):
        candidates.append(Path(engine.build_facts["onnx"]))
    match = re.search(r"--onnx=(\S+)", engine.command or "")
    if match:
        named = Path(match[1])
        candidates += [named] if named.is_absolute() else [Path(f).parent / named for f in engine.files]
    return next((p for p in candidates if p.suffix == ".onnx" and p.is_file()), None)


@functools.lru_cache(maxsize=32)
def _onnx_requested_precision(path: str, mtime_ns: int, size: int) -> str | None:
    """Cached by path, modification time and size: every analysis asks, the model is read once."""
    from engine_core.errors import ArtifactFormatError
    from engine_core.models.onnx_info import read_onnx_info

    try:
        return read_onnx_info(path).requested_precision
    except ArtifactFormatError:
        return None


def io_precision_shares(layers: pd.DataFrame) -> pd.Series:
    """Share (0-1) of the engine's layer I/O tensors per precision class, each tensor counted once by name.

    Every tensor a layer reads or writes is one a kernel moves, so this is the precision the engine runs in,
    whatever anyone asked for. Largest share first; empty without tensor information (names-only exports).
    """
    rows = [(t.get("Name"), tensor_datatype(t)) for tensors in layers["inputs"].tolist() + layers["outputs"].tolist()
            for t in tensors if isinstance(t, dict)]
    if not rows:
        return pd.Series([], dtype=float)
    tensors = pd.DataFrame(rows, columns=["name", "datatype"]).drop_duplicates("name")
    precision = precisions_from_datatypes(tensors["datatype"])
    return precision[precision != "NONE"].value_counts(normalize=True)


def is_explicitly_quantized(layers: pd.DataFrame) -> bool:
    """True for Q/DQ networks (QAT, ModelOpt): TensorRT reports Q/DQ reformats or fused Q/DQ names."""
    if layers.empty:
        return False
    if (layers["origin"] == "QDQ").any():
        return True
    # Every Q/DQ spelling holds "quant": the regex runs on those names only (100k-layer engines).
    return any(_QDQ_NAME.search(name) for name in layers["name"].tolist() if "quant" in name.lower())

