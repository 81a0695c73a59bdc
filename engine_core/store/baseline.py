"""The most likely baseline for a run: same model, same GPU, the next wider precision.

Decided from run manifests alone (no engine is loaded), so the dashboard can default its Baseline
picker instantly. "Same model" compares names with precision and recipe words removed
(``resnet-qat`` and ``fp16/resnet`` are both ``resnet``; ``resnet18-int8-ort-uncalibrated`` is
``resnet18``). The *next* wider precision wins over a wider one: an INT8 build's question is usually
"why not faster than FP16", an FP16 build's "than FP32". A run the user tagged ``baseline`` wins
over all of that for its model.
"""

from __future__ import annotations

import re

from engine_core.precision import PRECISION_RANK, lowest_requested_precision
from engine_core.recipes.spec import recipe_precision
from engine_core.store.runs import RunManifest

_PRECISION_WORDS = {"fp32", "fp16", "bf16", "int8", "fp8", "int4", "fp4", "tf32", "qat", "ptq", "best", "notf32",
                    "ort", "tensorrt", "uncalibrated", "calibrated", "minmax", "entropy", "percentile", "distribution",
                    "engine", "onnx", "plan", "trt", "half", "float", "int", "quant", "quantized"}
BASELINE_TAG = "baseline"  # `layerlens runs tag RUN baseline`: this run is its model's baseline, whatever its precision


def model_key(run: RunManifest) -> str:
    """The model a run was built from: its label when LayerLens built it, else its (first) name without precision words."""
    if run.labels.get("model"):
        return str(run.labels["model"])
    name = str(run.labels.get("imported_name") or run.name).rsplit("/", 1)[-1].lower()
    words = [w for w in re.split(r"[^a-z0-9]+", name) if w and w not in _PRECISION_WORDS]
    return " ".join(words) or name


def run_precision(run: RunManifest) -> str | None:
    """The narrowest precision the run asked for: build flags, else its recipe."""
    flagged = lowest_requested_precision(run.build_precision)
    if flagged:
        return flagged
    recipe = run.labels.get("recipe")
    if recipe and recipe != "qat":
        return recipe_precision(recipe)
    return "INT8" if recipe == "qat" or re.search(r"(^|[^a-z])qat([^a-z]|$)", run.name.lower()) else None


def default_baseline(run_id: str, runs: list[RunManifest]) -> str | None:
    """The run to compare ``run_id`` against, or None when no other run is a plausible baseline."""
    by_id = {r.run_id: r for r in runs}
    target = by_id.get(run_id)
    if target is None:
        return None
    key, rank = model_key(target), PRECISION_RANK.get(run_precision(target) or "", None)

    def score(candidate: RunManifest):
        c_rank = PRECISION_RANK.get(run_precision(candidate) or "", None)
        wider = rank is not None and c_rank is not None and c_rank > rank
        closeness = -(c_rank - rank) if wider else -99
        tagged = BASELINE_TAG in candidate.tags
        return (model_key(candidate) == key, tagged, candidate.device == target.device, wider, closeness, candidate.created_utc)

    candidates = [r for r in runs if r.run_id != run_id]
    if not candidates:
        return None
    best = max(candidates, key=score)
    if BASELINE_TAG in best.tags and model_key(best) == key:
        return best.run_id  # the user said so
    if model_key(best) != key or (rank is not None and not score(best)[3]):
        return None  # another model, or nothing wider to compare against (an FP32 build has no baseline)
    return best.run_id
