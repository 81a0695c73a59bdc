"""Build a stored LayerLens build again with more nodes kept out of its precision (the dashboard's keep flow).

A LayerLens build records its request in the build log (``[LayerLens] request: {...}``):
the source model, the recipe options, the targets and the nodes already kept. Picking
engine layers maps them to the ONNX nodes of the source model through the layer table's
``onnx_nodes`` (Q/DQ and weight reads are not nodes of the float model, so they drop out),
and the new keep list is the old one plus those nodes. Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine_core.build.matrix import MatrixResult, Variant, build_matrix
from engine_core.errors import LayerLensError
from engine_core.recipes.spec import QUANTIZED


@dataclass
class Rebuild:
    """What it takes to build a stored run again: its request, and whether this machine can."""

    model: Path
    precision: str
    placement: str = "ort"
    calibrator: str = "minmax"
    calibration_dir: str | None = None
    targets: tuple[str, ...] = ()
    keep: tuple[tuple[str, str], ...] = ()
    accuracy_data: str | None = None
    model_label: str | None = None
    problems: list[str] = field(default_factory=list)   # why it cannot be rebuilt here (empty: it can)

    @property
    def keep_types(self) -> tuple[str, ...]:
        """The float types this recipe can keep nodes in (FP32 only in FP16/BF16 recipes)."""
        if self.precision in QUANTIZED:
            return ("fp16", "fp32")
        return ("fp32",) if self.precision in ("fp16", "bf16") else ()


def rebuild_of(engine) -> Rebuild | None:
    """The recorded request of a LayerLens build, or None for runs LayerLens did not build (or built before it
    recorded requests). ``problems`` says what stands in the way on this machine."""
    text = engine.build_facts.get("request")
    if not text:
        return None
    try:
        data = json.loads(text)
        rebuild = Rebuild(Path(data["model"]), data["precision"], data.get("placement", "ort"),
                          data.get("calibrator", "minmax"), data.get("calibration_dir"), tuple(data.get("targets") or ()),
                          tuple(tuple(pair) for pair in data.get("keep") or ()), data.get("accuracy_data"))
    except (ValueError, KeyError, TypeError):
        return None
    label = engine.build_facts.get("model", "")
    rebuild.model_label = label.rsplit(" (sha256", 1)[0] or None
    for what, path in (("source model", rebuild.model), ("calibration folder", rebuild.calibration_dir),
                       ("accuracy data folder", rebuild.accuracy_data)):
        if path and not Path(path).exists():
            rebuild.problems.append(f"the {what} {path} is not on this machine")
    if not rebuild.keep_types:
        rebuild.problems.append(f"a {rebuild.precision} build has no lower precision to keep nodes out of")
    if engine.recipe == "qat":  # the recipe refuses --keep on such a model: say so before a build is offered
        rebuild.problems.append("the model came with its Q/DQ placed (a QAT or ModelOpt export), so no node can be "
                                "kept out of them; keep nodes where the Q/DQ are made, or build the float model")
    return rebuild


def nodes_of_layers(layers: pd.DataFrame, model_nodes: set[str]) -> list[str]:
    """The source-model ONNX nodes the given engine layers came from, in first-seen order."""
    picked = layers["onnx_nodes"].explode().dropna()
    return list(dict.fromkeys(n for n in picked if n in model_nodes))


def with_kept(rebuild: Rebuild, nodes: list[str], kind: str) -> tuple[tuple[str, str], ...]:
    """The rebuild's keep list plus ``nodes`` in ``kind`` (a node asked for again takes the new type).

    Raises:
        LayerLensError: the recipe cannot keep nodes in ``kind``, or no node was given.
    """
    if kind not in rebuild.keep_types:
        raise LayerLensError(f"A {rebuild.precision} build cannot keep nodes in {kind.upper()}.",
                             f"Choose {' or '.join(t.upper() for t in rebuild.keep_types) or 'another build'}.")
    if not nodes:
        raise LayerLensError("The selected layers come from no node of the source model (Q/DQ or reformats only).",
                             "Select convolutions, GEMMs or other compute layers.")
    kept = dict(rebuild.keep)
    kept.update({n: kind for n in nodes})
    return tuple(sorted(kept.items()))


def build_with_kept(rebuild: Rebuild, keep: tuple[tuple[str, str], ...], store, on_progress=lambda *a: None,
                    cancel=None) -> MatrixResult:
    """Build the recorded request again with ``keep`` (a real build, stored like any other).

    Raises:
        LayerLensError: the rebuild is not possible on this machine, or the request is invalid.
    """
    if rebuild.problems:
        raise LayerLensError(f"This run cannot be rebuilt here: {'; '.join(rebuild.problems)}.",
                             "Rebuild it on the machine that built it, or build the model again on the Build page.")
    return build_matrix(rebuild.model, [Variant(rebuild.precision, rebuild.placement, keep)], targets=rebuild.targets,
                        calibration_dir=rebuild.calibration_dir, calibrator=rebuild.calibrator, store=store,
                        model_label=rebuild.model_label, accuracy_data=rebuild.accuracy_data, on_progress=on_progress,
                        cancel=cancel)
