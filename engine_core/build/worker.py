"""The build worker: engine builds in their own process
(``python -m engine_core.build.worker REQUEST.json OUT_DIR [REQUEST.json OUT_DIR ...]``).

Builders load native libraries that can abort the process (a CUDA driver fault,
an out-of-memory kill), so the CLI and the dashboard never build in their own
process. One worker makes the builds of a matrix one after another: loading the
binding, onnx and onnxruntime costs more than building a small model, so they
load once. The worker speaks one line-oriented protocol on stdout, read by
:mod:`engine_core.build.runner`; each request, in the order given, reports its
stages and ends with exactly one result or error line::

    LAYERLENS-PROGRESS {"stage": "recipe", "detail": "..."}
    LAYERLENS-RESULT   {"files": [...], "recipe": {...}}
    LAYERLENS-ERROR    {"what": "...", "fix": "...", "log_tail": "...", "kind": "BuildError"}

Exit status 0 when every build succeeded, 1 when one ended in a LayerLens error
(the others still ran), anything else on a crash.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from pathlib import Path

from engine_core.build.engine_request import EngineBuildRequest, check_engine_request
from engine_core.build.nvinfer import BuildLog
from engine_core.errors import LayerLensError
from engine_core.strict_json import dumps_strict

PROGRESS, RESULT, ERROR = "LAYERLENS-PROGRESS", "LAYERLENS-RESULT", "LAYERLENS-ERROR"


def _say(tag: str, payload: dict) -> None:
    print(f"{tag} {dumps_strict(payload)}", flush=True)


def progress(stage: str, detail: str = "") -> None:
    _say(PROGRESS, {"stage": stage, "detail": detail})


@contextlib.contextmanager
def _quiet_libraries():
    """onnxruntime and onnxconverter-common print advice and warnings to stdout/stderr; keep the protocol clean."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def run_request(request: EngineBuildRequest, out_dir: Path) -> dict:
    """Recipe, then build; returns the result payload. Raises LayerLensError subclasses."""
    from engine_core.recipes.apply import apply_recipe
    from engine_core.recipes.keep import keep_fact

    check_engine_request(request)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress("recipe", f"{request.spec.recipe_id(bool(request.calibration_dir))} from {Path(request.model).name}")
    with _quiet_libraries():
        recipe = apply_recipe(request.model, request.spec, request.calibration_dir)
    log = BuildLog(out_dir / f"{request.stem}.build.log")
    try:
        log.fact("model", f"{request.model_label or Path(request.model).name} (sha256 {recipe.source_sha256})")
        log.fact("recipe", recipe.recipe)
        log.fact("onnx", recipe.path)  # the exact network the builder parsed: the graph page opens it in Netron
        log.fact("request", dumps_strict(request.recipe_request()))  # rebuild it with more nodes kept (dashboard)
        if recipe.calibration:
            log.fact("calibration", recipe.calibration)
        if recipe.kept_float:
            log.fact("kept in FP32 by the recipe", ", ".join(recipe.kept_float))
        for kind, nodes in recipe.kept.items():
            log.fact(keep_fact(kind), ", ".join(nodes))
        for note in recipe.notes:
            log.fact("note", note)
        if request.builder == "rtx":
            from engine_core.build.rtx import build_rtx as build
        else:
            from engine_core.build.tensorrt_api import build_tensorrt as build
        files = build(request, Path(recipe.path), out_dir, log, lambda stage: progress(stage))
        if request.accuracy:
            files += _measure_accuracy(request, recipe, out_dir, log)
    finally:
        log.close()
    return {"files": [str(f) for f in files], "recipe": recipe.to_json()}


def _measure_accuracy(request: EngineBuildRequest, recipe, out_dir: Path, log: BuildLog) -> list[Path]:
    """Write ``<stem>.accuracy.json`` (the recipe's ONNX vs the source model); a failure is a fact, not a failed build."""
    from engine_core.accuracy.measure import identical_report, measure_accuracy
    from engine_core.accuracy.report import ARTIFACT_SUFFIX, format_sqnr, write_accuracy

    if recipe.recipe == "qat":
        log.fact("accuracy", "not measured: the model came with Q/DQ, so there is no float model to compare it with")
        return []
    progress("accuracy", f"output error of {recipe.recipe} vs {Path(request.model).name}")
    try:
        with _quiet_libraries():
            if Path(recipe.path) == Path(request.model):
                report = identical_report(request.model, recipe.recipe)
            else:
                report = measure_accuracy(request.model, recipe.path, request.accuracy_data, recipe=recipe.recipe,
                                          kept=recipe.kept)
    except LayerLensError as exc:
        log.fact("accuracy", f"not measured: {exc}")
        return []
    path = write_accuracy(report, out_dir / f"{request.stem}{ARTIFACT_SUFFIX}")
    log.fact("accuracy", f"output SQNR {format_sqnr(report.output.sqnr_db)} vs {Path(request.model).name} "
                         f"on {report.inputs['description']}")
    return [path]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or len(argv) % 2:
        print("usage: python -m engine_core.build.worker REQUEST.json OUT_DIR [REQUEST.json OUT_DIR ...]",
              file=sys.stderr)
        return 2
    status = 0
    for request_file, out_dir in zip(argv[::2], argv[1::2]):
        try:
            request = EngineBuildRequest.from_json(Path(request_file).read_text())
            _say(RESULT, run_request(request, Path(out_dir)))
        except LayerLensError as exc:
            _say(ERROR, {"what": exc.what, "fix": exc.fix, "log_tail": getattr(exc, "log_tail", ""),
                         "kind": type(exc).__name__})
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
