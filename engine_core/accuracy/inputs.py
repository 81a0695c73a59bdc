"""The inputs an accuracy measurement runs both models on: a user's batches, or seeded synthetic ones, labelled.

``--data DIR`` is the calibration format (:mod:`engine_core.recipes.calibration`: ``.npz``
batches keyed by input name, ``.npy`` for a single-input model), read and checked by the
same reader. Without it the inputs are synthetic standard-normal batches with seed 1,
deliberately not the recipes' calibration seed 0, so a recipe is not scored on the very
inputs its scales were fitted to. Synthetic inputs measure how far the candidate's
outputs move from the baseline's (relative error), never task accuracy: every view
that shows such a number says "synthetic".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine_core.recipes.calibration import model_inputs, read_calibration_folder, synthetic_batches

EVAL_BATCHES = 8
EVAL_SEED = 1
SYNTHETIC_NOTE = "synthetic inputs: relative error between the two models, not task accuracy"


@dataclass
class EvaluationInputs:
    batches: list[dict]
    source: str            # "data" | "synthetic" | "none" (a model against itself: nothing run)
    description: str       # "8 synthetic standard-normal batches (seed 1)", "12 batches from data/ (sha256 …)"

    @property
    def samples(self) -> int:
        """Samples over all batches: the first input's leading dimension (1 per batch for a scalar input)."""
        first = next(iter(self.batches[0])) if self.batches else None
        return sum(int(b[first].shape[0]) if b[first].ndim else 1 for b in self.batches) if first else 0

    def to_json(self) -> dict:
        return {"source": self.source, "batches": len(self.batches), "samples": self.samples,
                "description": self.description}


def evaluation_inputs(model, data_dir: str | Path | None = None, count: int = EVAL_BATCHES,
                      seed: int = EVAL_SEED) -> EvaluationInputs:
    """Batches for ``model`` (an ``onnx.ModelProto``): from ``data_dir``, else synthetic.

    Raises:
        LayerLensError: the folder is missing, empty, or its batches do not match the model's inputs.
    """
    inputs = model_inputs(model)
    if data_dir:
        batches, digest = read_calibration_folder(data_dir, inputs)
        return EvaluationInputs(batches, "data", f"{len(batches)} batches from {data_dir} (sha256 {digest[:12]})")
    return EvaluationInputs(synthetic_batches(inputs, count=count, seed=seed), "synthetic",
                            f"{count} synthetic standard-normal batches (seed {seed})")
