"""``layerlens accuracy`` and ``layerlens advise``: argument wiring, progress lines and text output.

``accuracy`` compares two models (ONNX files, runs built by LayerLens, or sample models)
on the same inputs; ``advise`` builds candidates until the output SQNR meets a target.
Both run onnxruntime and, for ``advise``, the build worker, never in this process's
TensorRT: nothing here imports a binding.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from engine_core.errors import LayerLensError
from engine_core.strict_json import dumps_strict

SYNTHETIC_CLOSING = ("Synthetic inputs (seeded standard-normal batches) measure how far the candidate's outputs move "
                     "from the baseline's: relative error, not task accuracy. Pass --data DIR (.npz batches keyed by "
                     "input name, .npy for one input) to measure on your data.")


def add_commands(sub) -> None:
    from engine_core.recipes.spec import CALIBRATORS, PLACEMENTS

    p = sub.add_parser("accuracy", help="output and per-layer error of a model (or build) against a baseline",
                       description="Run CANDIDATE and BASELINE with onnxruntime on the CPU on the same inputs and "
                                   "report, per model output, SQNR (dB, higher is closer), the worst per-sample cosine, "
                                   "the largest absolute error and, for (batch, classes) outputs, top-1 agreement; and "
                                   "the SQNR of every tensor the two models share, mapped to the candidate's engine "
                                   "layers when it is a build. Each side is an ONNX file, a sample model name, a "
                                   "stored run (id or name) or a run folder built by LayerLens (its recipe ONNX is "
                                   "named in the build log).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n"
                              "  layerlens accuracy resnet18-int8-ort-uncalibrated              # a build: its stored result\n"
                              "  layerlens accuracy model_int8.onnx --baseline model.onnx --data batches/\n"
                              "  layerlens accuracy RUN --baseline resnet18 --json\n\n" + SYNTHETIC_CLOSING)
    p.add_argument("candidate", metavar="CANDIDATE", help="ONNX file, sample model, stored run (id or name) or run folder")
    p.add_argument("--baseline", metavar="BASELINE",
                   help="the reference (same kinds); default for a LayerLens build: the model its recipe started from")
    p.add_argument("--data", metavar="DIR", help="input batches (.npz keyed by input name, .npy for one input); "
                                                 "default: 8 synthetic batches, labelled so")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.add_argument("--top", type=int, default=10, help="noisiest layers to print in text mode (default 10)")
    p.add_argument("--store", help="run store folder, for sides that name stored runs")
    p.set_defaults(handler=cmd_accuracy)

    p = sub.add_parser("advise", help="find the fewest layers to keep in FP16 for a target output SQNR",
                       description="Quantize MODEL, rank its quantized nodes by the error each adds, and keep the "
                                   "noisiest in FP16 (bisecting over that ranking) until the output SQNR against the "
                                   "float model meets --min-sqnr. Every candidate is built for real with TensorRT-RTX "
                                   "and stored as a run; the path prints kept nodes, output SQNR, engine MiB and the "
                                   "estimated latency of each step. Says so when even keeping every quantized node in "
                                   "FP16 cannot reach the target.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n"
                              "  layerlens advise resnet18 --precision int8 --min-sqnr 35\n"
                              "  layerlens advise model.onnx --min-sqnr 30 --calib calib/ --data eval/ --json\n\n"
                              + SYNTHETIC_CLOSING)
    p.add_argument("onnx", metavar="MODEL", help="an ONNX file, or a sample model name")
    p.add_argument("--precision", default="int8", choices=("int8", "fp8"), help="the quantized recipe (default int8)")
    p.add_argument("--min-sqnr", type=float, required=True, metavar="DB", help="target output SQNR in dB")
    p.add_argument("--placement", default="ort", choices=[p for p in PLACEMENTS if p != "modelopt"],
                   help="Q/DQ placement (default ort)")
    p.add_argument("--calib", metavar="DIR", help="calibration batches for the recipe (default: uncalibrated)")
    p.add_argument("--calibrator", default="minmax", choices=CALIBRATORS)
    p.add_argument("--data", metavar="DIR", help="inputs for measuring accuracy (default: synthetic, labelled so)")
    p.add_argument("--target", action="append", default=[], metavar="SMxx", help="TensorRT-RTX target, repeatable")
    p.add_argument("--budget", type=float, default=600, metavar="SECONDS",
                   help="stop searching after this long; the best build so far is the answer (default 600)")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.add_argument("--out", help="write a folder per build here instead of the store")
    p.add_argument("--store", help="run store folder")
    p.set_defaults(handler=cmd_advise)


@dataclass
class Side:
    """One side of a comparison: the ONNX to run, the engine (for a build), and what the build measured."""

    label: str
    onnx: Path | None
    engine: object | None = None


def resolve_side(ref: str, store: str | None) -> Side:
    """An ONNX file, a run folder, a stored run (id or name), or a sample model name, in that order.

    Raises:
        LayerLensError: nothing by that name, or a folder that holds no single LayerLens build.
    """
    path = Path(ref)
    if path.is_file() and path.suffix.lower() == ".onnx":
        return Side(path.name, path)
    if path.exists():
        from layerlens.cli.analysis import _one_engine

        engine = _one_engine([ref])
        return Side(engine.name, _recipe_onnx(engine), engine)
    from engine_core.models.zoo import ZOO
    from engine_core.store import RunStore

    runs = RunStore(store)
    try:
        manifest = runs.resolve([ref])[0]
    except LayerLensError:
        if ref.removeprefix("zoo:") in ZOO:
            from layerlens.cli.build import resolve_model

            model, _ = resolve_model(ref)
            return Side(ref.removeprefix("zoo:"), model)
        if any(r.name.lower() == ref.lower() for r in runs.list_runs()):
            raise  # several runs share the name (a variant built again): the store's error lists their ids
        raise LayerLensError(f"{ref} is neither an ONNX file, a folder, a stored run nor a sample model.",
                             "See `layerlens runs` for stored runs; sample models: " + ", ".join(ZOO) + ".") from None
    engine = runs.load(manifest.run_id)
    return Side(manifest.name, _recipe_onnx(engine), engine)


def _recipe_onnx(engine) -> Path | None:
    onnx = engine.build_facts.get("onnx")
    return Path(onnx) if onnx else None


def _require_onnx(side: Side, role: str) -> Path:
    if side.onnx is None:
        raise LayerLensError(f"The {role} {side.label} names no ONNX model (it was not built by LayerLens).",
                             f"Pass the ONNX file the engine was built from as the {role}.")
    if not side.onnx.is_file():
        raise LayerLensError(f"The {role} {side.label} was built from {side.onnx}, which is not on this machine.",
                             f"Pass that ONNX file as the {role}, or rebuild the run here.")
    return side.onnx


def cmd_accuracy(args) -> int:
    from engine_core.accuracy.join import engine_layers_by_node

    candidate = resolve_side(args.candidate, args.store)
    stored = getattr(candidate.engine, "accuracy", None)
    if stored is not None and args.baseline is None and args.data is None:
        report, source = stored, f"measured when {candidate.label} was built"
    else:
        report, source = _measure(candidate, args), "measured now"
    layers = candidate.engine.layers if candidate.engine is not None else None
    mapping = engine_layers_by_node(layers) if layers is not None else {}
    if args.json:
        print(dumps_strict({**report.to_json(mapping), "source": source}, indent=2))
        return 0
    print(format_report(report, candidate.label, source, mapping, args.top))
    return 0


def _measure(candidate: Side, args):
    from engine_core.accuracy.measure import measure_accuracy
    from engine_core.build.worker import _quiet_libraries

    stored = getattr(candidate.engine, "accuracy", None)
    if args.baseline:
        baseline = _require_onnx(resolve_side(args.baseline, args.store), "baseline")
    elif stored is not None and stored.baseline.get("path"):
        baseline = _require_onnx(Side("its source model", Path(stored.baseline["path"])), "baseline")
    else:
        raise LayerLensError(f"{candidate.label} has no baseline to compare with.", "Pass --baseline MODEL.")
    onnx = _require_onnx(candidate, "candidate")
    print(f"layerlens: running {onnx.name} and {baseline.name} with onnxruntime (CPU) …", file=sys.stderr, flush=True)
    with _quiet_libraries():
        return measure_accuracy(baseline, onnx, args.data, recipe=getattr(candidate.engine, "recipe", None),
                                kept=stored.kept if stored is not None else None)


def format_report(report, label: str, source: str, mapping: dict, top: int) -> str:
    """Text output of ``layerlens accuracy``: outputs, the noisiest layers, and what the inputs were."""
    from engine_core.accuracy.report import format_local_sqnr, format_sqnr

    lines = [f"{label} vs {Path(report.baseline.get('path', '?')).name} ({source}; inputs: {report.inputs['description']})"]
    for o in report.outputs:
        top1 = f", top-1 agreement {o.top1_agreement:.1%}" if o.top1_agreement is not None else ""
        cosine = f"{o.cosine_min:.6f}" if o.cosine_min is not None else "n/a"
        bad = f", {o.nonfinite_values} non-finite values" if o.nonfinite_values else ""
        lines.append(f"  output {o.name}: SQNR {format_sqnr(o.sqnr_db, 2)}, min cosine {cosine}, "
                     f"max |error| {o.max_abs_error:.4g}{top1}{bad}")
    nodes = report.nodes
    if not nodes.empty:
        noisy = nodes.sort_values("local_sqnr_db", na_position="last").head(top)
        lines.append(f"\nNoisiest of {len(nodes)} compared nodes (local SQNR: signal over the noise the node adds "
                     "itself, lower is noisier, 'adds none' when its output is no noisier than its inputs; then the SQNR of "
                     "its output):")
        for row in noisy.itertuples():
            layers = mapping.get(row.onnx_node, [])
            where = f"  -> {', '.join(layers[:2])}{' …' if len(layers) > 2 else ''}" if layers else ""
            lines.append(f"  local {format_local_sqnr(row.local_sqnr_db):>9}  output {format_sqnr(row.sqnr_db):>9}  "
                         f"{row.precision:<5} {row.onnx_node}{where}")
    from engine_core.accuracy.inputs import SYNTHETIC_NOTE

    for note in report.notes:
        if note != SYNTHETIC_NOTE:  # said in full below
            lines.append(f"note: {note}")
    if report.synthetic:
        lines.append(SYNTHETIC_CLOSING)
    return "\n".join(lines)


def cmd_advise(args) -> int:
    from engine_core.accuracy.advise import advise
    from engine_core.build.rtx import INSTALL, rtx_available
    from engine_core.store import RunStore
    from layerlens.cli.build import resolve_model

    if not rtx_available():
        raise LayerLensError("advise builds every candidate with TensorRT-RTX, which is not installed.", f"Install it: {INSTALL}")
    model, label = resolve_model(args.onnx)
    store = None if args.out else RunStore(args.store)
    print(f"Advising {model.name}: fewest nodes to keep in FP16 for output SQNR >= {args.min_sqnr:g} dB "
          f"({args.precision.upper()}, {args.placement} placement, budget {args.budget:g} s)", file=sys.stderr, flush=True)
    advice = advise(model, args.min_sqnr, precision=args.precision, placement=args.placement, calibrator=args.calibrator,
                    calibration_dir=args.calib, data_dir=args.data, targets=tuple(t.lower() for t in args.target),
                    store=store, out_dir=Path(args.out) if args.out else None, model_label=label, budget_s=args.budget,
                    on_progress=lambda message: print(f"  {message}", file=sys.stderr, flush=True))
    if args.json:
        print(dumps_strict(advice.to_json(), indent=2))
        return 0 if advice.met else 1
    rebuild = None
    if advice.chosen is not None and advice.chosen.kept:
        import shlex

        rebuild = shlex.join(["layerlens", "build", args.onnx, "--precision", args.precision, "--placement",
                              args.placement] + [a for n in advice.chosen.kept for a in ("--keep", f"fp16:{n}")])
    print(format_advice(advice, rebuild))
    return 0 if advice.met else 1


def format_advice(advice, rebuild: str | None = None) -> str:
    """The path: one line per build (kept nodes, output SQNR, engine MiB, estimated latency), then the answer."""
    from engine_core.accuracy.report import format_sqnr

    lines = [f"{'kept':>5}  {'output SQNR':>12}  {'engine MiB':>10}  {'latency ms*':>11}  run"]
    chosen = advice.chosen
    for step in advice.steps:
        mark = " <- advice" if step is chosen else ""
        latency = f"~{step.latency_estimate_ms:.4f}" if step.latency_estimate_ms is not None else "-"
        size = f"{step.engine_bytes / 2**20:.2f}" if step.engine_bytes else "-"
        lines.append(f"{len(step.kept):>5}  {format_sqnr(step.sqnr_db, 2):>12}  {size:>10}  {latency:>11}  "
                     f"{step.run_id or step.folder or step.stem}{mark}")
    if advice.met and chosen is not None:
        kept = ", ".join(chosen.kept[:8]) + (" …" if len(chosen.kept) > 8 else "") or "nothing"
        lines.append(f"\nMet {advice.target_db:g} dB keeping {len(chosen.kept)} node(s) in FP16: {kept}")
        if rebuild:
            lines.append(f"The same build from the command line: {rebuild}")
    else:
        lines.append(f"\nNot met: {advice.target_db:g} dB.")
    for note in advice.notes:
        lines.append(f"note: {note}")
    basis = next((step.latency_basis for step in advice.steps if step.latency_basis), "estimate")
    lines.append(f"* latency: {basis}, not a measurement. SQNR: output vs the float model on "
                 + (f"synthetic inputs ({advice.inputs.get('description')}): relative error, not task accuracy."
                    if advice.inputs.get("source") != "data" else f"{advice.inputs.get('description')}."))
    return "\n".join(lines)
