"""Apply a recipe to an ONNX model, with a content-addressed cache.

The cache key is (model sha256, recipe id, calibration sha256): the same model
and data always give the same file, so a build matrix re-run, or the dashboard's
second click, costs nothing. Files are written atomically. The cache lives in
``$LAYERLENS_RECIPES`` or ``~/.layerlens/recipes``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from engine_core.errors import ArtifactFormatError, LayerLensError, MissingDependencyError
from engine_core.recipes.spec import CALIBRATORS, PLACEMENTS, PRECISIONS, RecipeResult, RecipeSpec
from engine_core.strict_json import dumps_strict

_QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
#: Part of every cache key: bump it when a recipe's output changes, so no stale model is reused.
RECIPES_VERSION = 3


def recipes_cache_dir() -> Path:
    return Path(os.environ.get("LAYERLENS_RECIPES") or Path.home() / ".layerlens" / "recipes")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_spec(spec: RecipeSpec) -> None:
    """Raises LayerLensError for a precision, placement or calibrator LayerLens does not know, or a keep
    list the recipe cannot honour."""
    from engine_core.recipes.keep import check_keep

    for value, allowed, what in ((spec.precision, PRECISIONS, "precision"), (spec.placement, PLACEMENTS, "placement"),
                                 (spec.calibrator, CALIBRATORS, "calibrator")):
        if value not in allowed:
            raise LayerLensError(f"Unknown {what} '{value}'.", f"Choose one of: {', '.join(allowed)}.")
    check_keep(spec.precision, spec.keep)


def carries_qdq(model) -> bool:
    """True when an ONNX ``ModelProto`` already holds Q/DQ nodes (a QAT or ModelOpt export): its placement is
    the user's, so recipes build it as it is."""
    return any(n.op_type in _QDQ_OPS for n in model.graph.node)


def _load_model(path: Path):
    import onnx

    try:
        return onnx.load(str(path))
    except Exception as exc:  # DecodeError, OSError, ValueError
        raise ArtifactFormatError(str(path), f"is not a readable ONNX model ({type(exc).__name__}).",
                                  "Export it again (torch.onnx.export, tf2onnx) and check it with onnx.checker.") from None


def apply_recipe(model_path: str | Path, spec: RecipeSpec, calibration_dir: str | Path | None = None,
                 out_path: str | Path | None = None, cache_dir: Path | None = None) -> RecipeResult:
    """Write the recipe's model and describe it.

    Args:
        model_path: the source ONNX model.
        spec: precision, placement and calibrator.
        calibration_dir: folder of .npy/.npz batches; None means uncalibrated (synthetic inputs).
        out_path: where to copy the result (the cached file is used when None).
        cache_dir: recipe cache (default :func:`recipes_cache_dir`).

    Raises:
        ArtifactFormatError: the model is not readable ONNX.
        LayerLensError: unknown spec, bad calibration data, or a quantizer failure.
    """
    check_spec(spec)
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ArtifactFormatError(str(model_path), "does not exist.", "Check the model path.")
    source_sha = file_sha256(model_path)
    model = _load_model(model_path)
    if carries_qdq(model):
        if spec.keep:
            raise LayerLensError(f"{model_path.name} already carries Q/DQ nodes, so --keep cannot place them.",
                                 "Keep nodes out of quantization where the Q/DQ were made (ModelOpt, QAT), "
                                 "or start from the float model.")
        # QAT / ModelOpt output: the Q/DQ placement is the user's, build it as quantized.
        notes = [] if spec.precision in ("int8", "fp8") else [
            f"the model already carries Q/DQ nodes, so it is built as quantized, not as {spec.precision}"]
        return RecipeResult(str(model_path), "qat", str(model_path), source_sha, calibrated=True,
                            calibration="calibrated before export (Q/DQ in the model)",
                            quantized_nodes=sum(n.op_type == "QuantizeLinear" for n in model.graph.node), notes=notes)
    if spec.precision == "fp32":
        return RecipeResult(str(model_path), "fp32", str(model_path), source_sha, calibrated=False)

    batches, calib_sha, calibration = None, "none", None
    if spec.quantized:
        from engine_core.recipes.calibration import model_inputs, read_calibration_folder, synthetic_batches

        inputs = model_inputs(model)
        if calibration_dir:
            batches, calib_sha = read_calibration_folder(calibration_dir, inputs)
            calibration = f"{len(batches)} batches from {calibration_dir} (sha256 {calib_sha[:12]})"
        else:
            batches = synthetic_batches(inputs)
            calib_sha = "synthetic-seed0"
            calibration = f"{len(batches)} synthetic standard-normal batches (seed 0): uncalibrated"
    recipe = spec.recipe_id(calibrated=bool(calibration_dir))
    cache = Path(cache_dir) if cache_dir else recipes_cache_dir()
    kept = ";".join(f"{node}={kind}" for node, kind in spec.keep)  # the id counts kept nodes; the key names them
    key = hashlib.sha256(f"{RECIPES_VERSION}|{source_sha}|{recipe}|{calib_sha}|{kept}".encode()).hexdigest()[:20]
    cached_model, cached_meta = cache / f"{key}.onnx", cache / f"{key}.json"
    if cached_model.is_file() and cached_meta.is_file():
        result = RecipeResult(**json.loads(cached_meta.read_text()))
        result.path, result.cached = str(cached_model), True
    else:
        result = _run(model, spec, recipe, batches, model_path, source_sha, calibration)
        _write_atomic(cache, cached_model, cached_meta, result)
    if out_path:
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(cached_model.read_bytes())
        result.path = str(out)
    return result


def _require(module: str, purpose: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(module, purpose, "pip install 'layerlens[recipes]'")


def _run(model, spec: RecipeSpec, recipe: str, batches, model_path: Path, source_sha: str, calibration) -> RecipeResult:
    _require("onnxconverter_common" if spec.precision in ("fp16", "bf16") or spec.kept_in("fp16") else "onnxruntime",
             f"apply the {spec.precision} recipe" + (" keeping nodes in FP16" if spec.kept_in("fp16") else ""))
    if spec.precision in ("fp16", "bf16"):
        from engine_core.recipes.float_cast import cast_model

        converted, kept = cast_model(model, spec.precision, tuple(spec.kept_in("fp32")))
        result = RecipeResult("", recipe, str(model_path), source_sha, calibrated=False, kept_float=kept,
                              kept={"fp32": spec.kept_in("fp32")} if spec.keep else {})
    else:
        from engine_core.recipes.qdq import quantize_model

        converted, count = quantize_model(model, spec.precision, spec.placement, spec.calibrator, batches,
                                          exclude=tuple(node for node, _ in spec.keep))
        result = RecipeResult("", recipe, str(model_path), source_sha, calibrated="uncalibrated" not in recipe,
                              calibration=calibration, quantized_nodes=count)
        if spec.keep:
            from engine_core.recipes.keep import keep_out_of_quantization

            result.kept, notes = keep_out_of_quantization(converted, spec)
            result.notes.extend(notes)
            result.quantized_nodes = sum(n.op_type == "QuantizeLinear" for n in converted.graph.node)
    result.model = converted  # handed to _write_atomic, not serialized
    return result


def _write_atomic(cache: Path, model_file: Path, meta_file: Path, result: RecipeResult) -> None:
    import onnx

    cache.mkdir(parents=True, exist_ok=True)
    tmp = model_file.with_suffix(f".tmp{os.getpid()}")
    onnx.save(result.__dict__.pop("model"), str(tmp))
    os.replace(tmp, model_file)
    result.path = str(model_file)
    tmp_meta = meta_file.with_suffix(f".tmp{os.getpid()}")
    tmp_meta.write_text(dumps_strict(result.to_json(), indent=2))
    os.replace(tmp_meta, meta_file)
