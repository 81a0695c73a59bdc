"""What precision did the user ask for? From the build flags, else inferred from the engine."""

from __future__ import annotations

import re

import pandas as pd

from engine_core.engine import Engine
from engine_core.precision import PRECISION_RANK, lowest_requested_precision
from engine_core.recipes.spec import recipe_precision

_QDQ_NAME = re.compile(r"quantizelinear|dequantizelinear|quantlinearnode|dequantlinearnode|quantizeanddequantize", re.I)


def requested_precision(engine: Engine) -> tuple[str | None, str]:
    """``(precision, source)``; source is ``"build flags"``, ``"recipe"`` or ``"inferred from layers"``.

    trtexec's ``Precision: FP32+FP16+INT8`` (TensorRT <= 10) names what was
    enabled. Without it (an engine loaded with --loadEngine, a bare layer JSON),
    the lowest float/quantized precision any layer computes in stands in.
    """
    flagged = lowest_requested_precision(engine.build_precision)
    if flagged:
        return flagged, "build flags"
    if engine.recipe and engine.recipe != "qat":
        # A strongly typed LayerLens build: the recipe's precision ("int8-ort-uncalibrated" -> INT8).
        return recipe_precision(engine.recipe), "recipe"
    present = [p for p in engine.layers["compute_precision"].unique() if p in PRECISION_RANK and p != "TF32"]
    if not present:
        return None, "unknown"
    return min(present, key=lambda p: PRECISION_RANK[p]), "inferred from layers"


def is_explicitly_quantized(layers: pd.DataFrame) -> bool:
    """True for Q/DQ networks (QAT, ModelOpt): TensorRT reports Q/DQ reformats or fused Q/DQ names."""
    if layers.empty:
        return False
    if (layers["origin"] == "QDQ").any():
        return True
    return bool(layers["name"].str.contains(_QDQ_NAME).any())
