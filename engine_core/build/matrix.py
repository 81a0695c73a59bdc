"""A build matrix: one model, several precision recipes, one run per variant.

Every variant is checked before the first build starts (FP8 on SM86 fails in a
second, not after three builds), then built out of process one after another, in
one worker (:func:`engine_core.build.runner.run_engine_builds`).
A finished variant becomes a run in the store (or a folder under ``out``); a
failed one is reported and the others go on. Nothing half-built reaches the
store: the worker writes into a staging folder that is imported only whole.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine_core.build.engine_request import EngineBuildRequest, check_engine_request
from engine_core.build.runner import run_engine_builds
from engine_core.errors import LayerLensError
from engine_core.recipes.spec import QUANTIZED, RecipeSpec

ProgressFn = Callable[[str, str, str], None]   # (variant stem, stage, detail)


@dataclass
class Variant:
    precision: str
    placement: str = "ort"
    keep: tuple[tuple[str, str], ...] = ()   # resolved (ONNX node, "fp16"|"fp32") pairs


@dataclass
class VariantResult:
    variant: Variant
    stem: str
    run_id: str | None = None          # when stored
    folder: Path | None = None         # when written under --out
    engine: object | None = None       # engine_core.engine.Engine
    error: str | None = None


@dataclass
class MatrixResult:
    results: list[VariantResult] = field(default_factory=list)

    @property
    def engines(self) -> list:
        return [r.engine for r in self.results if r.engine is not None]

    @property
    def failures(self) -> list[VariantResult]:
        return [r for r in self.results if r.error]


def matrix_variants(precisions: list[str], placements: list[str]) -> list[Variant]:
    """Every precision, and for int8/fp8 every placement (``--placement`` is ignored for float recipes)."""
    out: list[Variant] = []
    for precision in precisions:
        for placement in (placements if precision in QUANTIZED else ["ort"]):
            out.append(Variant(precision, placement))
    return out


def variant_stem(model_stem: str, variant: Variant, calibrator: str, calibrated: bool) -> str:
    """``resnet18-fp16``, ``resnet18-int8-ort-uncalibrated+keep3``: the run's name says what it is."""
    spec = RecipeSpec(variant.precision, variant.placement, calibrator, tuple(variant.keep))
    return f"{model_stem}-{spec.recipe_id(calibrated)}"


def apply_keep(model: str | Path, variants: list[Variant], requests: list[tuple[str, str]]) -> list[Variant]:
    """Resolve ``--keep TYPE:PATTERN`` requests against the model's node names and give each variant the part it
    can honour: INT8/FP8 keep FP16 and FP32 nodes, FP16/BF16 keep FP32 nodes, FP32 keeps nothing.

    Raises:
        LayerLensError: a pattern matches no node, or no variant of the matrix can honour a request.
    """
    if not requests:
        return variants
    from engine_core.recipes.keep import read_node_names, resolve_keep

    resolved = resolve_keep(read_node_names(model), requests, Path(model).name)
    honoured = {"fp16": QUANTIZED, "fp32": QUANTIZED + ("fp16", "bf16")}
    for kind, pattern in requests:
        if not any(v.precision in honoured[kind] for v in variants):
            raise LayerLensError(f"--keep {kind}:{pattern} applies to no variant of this build.",
                                 "Keep FP16 nodes in int8/fp8 builds, FP32 nodes in int8/fp8/fp16/bf16 builds.")
    return [Variant(v.precision, v.placement, tuple(sorted(set(v.keep) | {(n, k) for n, k in resolved
                                                                           if v.precision in honoured[k]})))
            for v in variants]


def plan_matrix(model: str | Path, variants: list[Variant], *, builder: str = "rtx", targets: tuple[str, ...] = (),
                calibration_dir: str | None = None, calibrator: str = "minmax", keep_plan: bool = False,
                model_label: str | None = None, accuracy: bool = True,
                accuracy_data: str | None = None) -> list[tuple[Variant, EngineBuildRequest]]:
    """One checked build request per variant.

    Raises:
        LayerLensError: a variant cannot be built as asked.
    """
    model = Path(model)
    requests = []
    for variant in variants:
        stem = variant_stem(model.stem, variant, calibrator, bool(calibration_dir))
        request = EngineBuildRequest(str(model), stem, variant.precision, variant.placement, calibrator,
                                     calibration_dir, builder, targets, keep_plan, model_label, keep=tuple(sorted(variant.keep)),
                                     accuracy=accuracy, accuracy_data=accuracy_data)
        check_engine_request(request)
        requests.append((variant, request))
    return requests


def build_matrix(model: str | Path, variants: list[Variant], *, builder: str = "rtx", targets: tuple[str, ...] = (),
                 calibration_dir: str | None = None, calibrator: str = "minmax", keep_plan: bool = False,
                 store=None, out_dir: Path | None = None, model_label: str | None = None,
                 accuracy: bool = True, accuracy_data: str | None = None,
                 on_progress: ProgressFn = lambda stem, stage, detail: None,
                 cancel: threading.Event | None = None) -> MatrixResult:
    """Build every variant of ``model``; each becomes a run in ``store`` or a folder under ``out_dir``.

    ``accuracy`` measures each recipe's output error against ``model`` (``<stem>.accuracy.json``, on the
    ``accuracy_data`` batches or labelled synthetic inputs). ``cancel`` (set from another thread) stops the
    running build and skips the rest.

    Raises:
        LayerLensError: a variant cannot be built as asked (checked for all before any build starts).
    """
    from engine_core.discover import load_engines

    requests = plan_matrix(model, variants, builder=builder, targets=targets, calibration_dir=calibration_dir,
                           calibrator=calibrator, keep_plan=keep_plan, model_label=model_label, accuracy=accuracy,
                           accuracy_data=accuracy_data)
    result = MatrixResult()
    builds = run_engine_builds([request for _, request in requests], on_progress, cancel)
    with contextlib.closing(builds):  # leaving early (an error, a Streamlit rerun) takes the worker down
        for (variant, request), (_, built) in zip(requests, builds):
            item = VariantResult(variant, request.stem)
            result.results.append(item)
            if isinstance(built, LayerLensError):
                item.error = str(built)
                on_progress(request.stem, "failed", str(built))
                continue
            try:
                on_progress(request.stem, "import", "reading the build log")
                engines, _ = load_engines([f for f in built.files if f.suffix != ".plan"])
                item.engine = engines[0]
                if out_dir is not None:
                    item.folder = Path(out_dir) / request.stem
                    if item.folder.exists():
                        shutil.rmtree(item.folder)
                    item.folder.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(built.files[0].parent), item.folder)
                    item.engine.files = [str(item.folder / Path(f).name) for f in item.engine.files]
                if store is not None:
                    manifest, _ = store.add(item.engine, source="build",
                                            labels={"builder": item.engine.builder, "recipe": item.engine.recipe,
                                                    "model": Path(model).stem})
                    item.run_id = manifest.run_id
                    item.engine.files = [str(f) for f in store.artifact_paths(manifest.run_id)]  # staging goes below
            except LayerLensError as exc:
                item.error = str(exc)
                on_progress(request.stem, "failed", str(exc))
            finally:
                shutil.rmtree(built.folder, ignore_errors=True)
    return result
