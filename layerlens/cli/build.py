"""``layerlens build`` and ``layerlens quantize``: argument wiring, progress lines and the closing comparison.

Three builders sit behind ``build``. ``rtx`` (TensorRT-RTX on the CPU) and
``tensorrt`` (the Python API on a GPU) take ``--precision`` recipes and build
for real; ``trtexec`` turns weak-typing flags (``--fp16 --int8``) into the exact
command for a TensorRT version and, with ``--run``, runs it. Nothing here imports
a TensorRT binding: builds run in a worker process.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine_core.errors import LayerLensError

BUILD_EPILOG = """\
Real engines on this machine (TensorRT-RTX, no GPU needed):
  layerlens build resnet50 --precision fp32,fp16,int8          # a sample model, three runs in the store
  layerlens build model.onnx --precision int8 --placement ort,tensorrt --calib data/ --calibrator entropy
  layerlens build model.onnx --precision fp8 --target sm89       # FP8 needs SM89 or newer
  layerlens build model.onnx --precision fp16 --out builds/      # a folder per variant instead of the store
  layerlens build resnet18 --precision int8 --keep fp16:/layer4/* --keep fp32:/fc/Gemm   # these nodes stay float

Each build measures its recipe's output error against the model it came from (onnxruntime, CPU): the closing
table's SQNR column. --data DIR gives the inputs (.npz/.npy batches); without it they are synthetic, which
measures relative error between the two models, not task accuracy.

A trtexec command for a GPU machine (TensorRT <= 10 weak typing):
  layerlens build model.onnx --fp16 --int8 --calib model.cache   # print the command
  layerlens build model.onnx --fp16 --run --out runs/fp16        # run it (needs trtexec) and import the result

Sample models (generated on first use): tiny_cnn, resnet18, resnet50, mobilenetv2, efficientnet_b0, transformer,
albert.
Latency of TensorRT-RTX builds is an estimate (LayerLens's calibrated latency model, with its measured error band):
the engine cannot be timed without an RTX GPU. `layerlens estimate RUN --gpu NAME` shows it per layer.
"""


def add_commands(sub) -> None:
    from engine_core.build.request import WEAK_PRECISIONS
    from engine_core.recipes.spec import CALIBRATORS, PLACEMENTS, PRECISIONS

    p = sub.add_parser("build", help="build engines from ONNX in precision recipes (TensorRT-RTX here), or compose trtexec",
                       description="Build one engine per precision recipe and store each as a run, then print a "
                                   "comparison. --builder rtx (TensorRT-RTX, ahead of time on the CPU) works on any "
                                   "x86-64 Linux or Windows machine; --builder tensorrt needs a GPU; --builder trtexec "
                                   "composes (and with --run executes) a trtexec command.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=BUILD_EPILOG)
    p.add_argument("onnx", metavar="MODEL", help="an ONNX file, or a sample model name (resnet18, resnet50, ...)")
    p.add_argument("--precision", metavar="LIST",
                   help=f"recipes to build, comma-separated from {','.join(PRECISIONS)} (default: fp32)")
    p.add_argument("--placement", default="ort", metavar="LIST",
                   help=f"Q/DQ placement for int8/fp8, comma-separated from {','.join(PLACEMENTS)} (default: ort; modelopt needs nvidia-modelopt[onnx])")
    p.add_argument("--calib", metavar="PATH", help="recipes: a folder of .npy/.npz calibration batches; "
                   "trtexec: an INT8 calibration cache file. Without it INT8 recipes are uncalibrated")
    p.add_argument("--calibrator", default="minmax", choices=CALIBRATORS, help="calibration method (default minmax)")
    p.add_argument("--builder", choices=("auto", "rtx", "tensorrt", "trtexec"), default="auto",
                   help="auto: trtexec when trtexec flags are given, else TensorRT on a GPU box, else TensorRT-RTX")
    p.add_argument("--target", action="append", default=[], metavar="SMxx",
                   help="TensorRT-RTX target compute capability, repeatable (sm75, sm80, sm86, sm89, sm120, sm121; "
                        "default: TensorRT-RTX's default set)")
    p.add_argument("--keep", action="append", default=[], metavar="TYPE:PATTERN",
                   help="keep ONNX nodes out of the recipe's precision, repeatable: fp16:/layer4/* (no Q/DQ, FP16; "
                        "int8/fp8 builds) or fp32:/fc/Gemm (int8/fp8/fp16/bf16). fnmatch patterns over node names")
    p.add_argument("--data", metavar="DIR", help="inputs for the accuracy measurement (.npz batches keyed by input "
                   "name, .npy for one input); default: synthetic inputs, labelled so")
    p.add_argument("--no-accuracy", action="store_true", help="skip measuring each recipe's output error")
    p.add_argument("--keep-plan", action="store_true", help="keep the serialized engine (.plan) in --out")
    p.add_argument("--out", help="write a folder per variant here instead of the store (trtexec: its output folder)")
    p.add_argument("--store", help="run store folder")
    g = p.add_argument_group("trtexec (TensorRT <= 10 weak typing; --builder trtexec)")
    g.add_argument("--trt-version", default="10.16", help="TensorRT version the command targets (default 10.16)")
    for flag in WEAK_PRECISIONS:
        g.add_argument(f"--{flag}", action="store_true", help=f"enable {flag.upper()} (TensorRT <= 10)")
    g.add_argument("--no-tf32", action="store_true", help="disable TF32 for a true FP32 baseline")
    g.add_argument("--strongly-typed", action="store_true", help="types from the ONNX model (TensorRT 9-10; always on in 11)")
    g.add_argument("--precision-constraints", choices=("none", "prefer", "obey"), default="none")
    g.add_argument("--layer-precision", action="append", default=[], metavar="LAYER:PREC",
                   help="per-layer override, e.g. /head/Softmax:fp32 (repeatable; needs constraints)")
    g.add_argument("--shapes", help="input shapes, e.g. input:8x3x224x224")
    g.add_argument("--name", help="engine name (default: the model's file stem plus its precisions)")
    g.add_argument("--run", action="store_true", help="run trtexec now and import the result into the store")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("quantize", help="apply a precision recipe to an ONNX model (Q/DQ, FP16/BF16 casts)",
                       description="ONNX in, ONNX out, on the CPU: the recipes `build` uses, on their own. INT8/FP8 "
                                   "insert Q/DQ with onnxruntime (symmetric, per-channel weights, float bias); "
                                   "FP16/BF16 cast with onnxconverter-common, keeping I/O types and sensitive ops FP32.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n  layerlens quantize model.onnx --precision int8 -o model_int8.onnx\n"
                              "  layerlens quantize model.onnx --precision int8 --calib data/ --calibrator entropy "
                              "--placement tensorrt -o model_qdq.onnx")
    p.add_argument("onnx", metavar="MODEL", help="an ONNX file, or a sample model name")
    p.add_argument("--precision", required=True, choices=PRECISIONS)
    p.add_argument("--placement", default="ort", choices=PLACEMENTS, help="Q/DQ placement (default ort)")
    p.add_argument("--calib", metavar="DIR", help="folder of .npy/.npz calibration batches (default: uncalibrated)")
    p.add_argument("--calibrator", default="minmax", choices=CALIBRATORS)
    p.add_argument("--keep", action="append", default=[], metavar="TYPE:PATTERN",
                   help="keep ONNX nodes out of the recipe's precision: fp16:PATTERN or fp32:PATTERN (repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.onnx")
    p.set_defaults(handler=cmd_quantize)


def resolve_model(name_or_path: str) -> tuple[Path, str | None]:
    """:func:`engine_core.models.zoo.resolve_model`, saying on stderr when a sample model stands in."""
    from engine_core.models.zoo import ZOO
    from engine_core.models.zoo import resolve_model as resolve

    path, label = resolve(name_or_path)
    if label is not None:
        key = name_or_path.removeprefix("zoo:")
        print(f"layerlens: using sample model {key} ({ZOO[key].description})", file=sys.stderr)
    return path, label


def _split(text: str | None, default: str) -> list[str]:
    return [t.strip().lower() for t in (text or default).split(",") if t.strip()]


def _choose_builder(args) -> str:
    from engine_core.build.request import WEAK_PRECISIONS
    from engine_core.build.rtx import rtx_available

    if args.builder != "auto":
        return args.builder
    trtexec_flags = any(getattr(args, f) for f in WEAK_PRECISIONS) or args.run or args.strongly_typed or args.no_tf32
    if trtexec_flags and not args.precision:
        return "trtexec"
    import importlib.util

    if importlib.util.find_spec("tensorrt") is not None:
        return "tensorrt"
    if rtx_available():
        return "rtx"
    from engine_core.build.rtx import INSTALL
    raise LayerLensError("No builder on this machine: neither TensorRT nor TensorRT-RTX is installed.",
                         f"Install TensorRT-RTX: {INSTALL}; or compose a trtexec command with --builder trtexec.")


def cmd_build(args) -> int:
    builder = _choose_builder(args)
    if builder == "trtexec":
        return _cmd_build_trtexec(args)
    from engine_core.build.matrix import apply_keep, build_matrix, matrix_variants, plan_matrix
    from engine_core.recipes.keep import parse_keep
    from engine_core.store import RunStore

    model, label = resolve_model(args.onnx)
    if args.calib and not Path(args.calib).is_dir():
        raise LayerLensError(f"--calib {args.calib} is not a folder of calibration batches.",
                             "Recipes calibrate from .npy/.npz batches; a calibration cache is for --builder trtexec.")
    variants = matrix_variants(_split(args.precision, "fp32"), _split(args.placement, "ort"))
    variants = apply_keep(model, variants, parse_keep(args.keep))
    targets = tuple(t.lower() for t in args.target)
    plan_matrix(model, variants, builder=builder, targets=targets, calibration_dir=args.calib, calibrator=args.calibrator,
                accuracy=not args.no_accuracy, accuracy_data=args.data)
    store = None if args.out else RunStore(args.store)
    print(f"Building {len(variants)} engine(s) of {model.name} with {builder}"
          + (f" for {'+'.join(t.upper() for t in args.target)}" if args.target else "") + ":", file=sys.stderr)

    def progress(stem: str, stage: str, detail: str) -> None:
        print(f"  [{stem}] {stage}{': ' + detail if detail and stage != 'done' else ''}", file=sys.stderr, flush=True)

    result = build_matrix(model, variants, builder=builder, targets=targets,
                          calibration_dir=args.calib, calibrator=args.calibrator, keep_plan=args.keep_plan,
                          store=store, out_dir=Path(args.out) if args.out else None, model_label=label,
                          accuracy=not args.no_accuracy, accuracy_data=args.data, on_progress=progress)
    print(format_matrix(result))
    if store is not None and result.engines:
        print(f"\nstore: {store.root}  (open with `layerlens dashboard`)")
    for failure in result.failures:
        print(f"layerlens: error: {failure.stem}: {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0


def format_matrix(result) -> str:
    """The closing comparison: size, layers, INT8 share, weights, latency and output SQNR per variant."""
    from engine_core.accuracy.report import format_sqnr
    from engine_core.analysis.kept import kept_precision
    from engine_core.summary import summarize_engine

    rows, estimates = [], []
    for item in result.results:
        if item.engine is None:
            rows.append((item.stem, "failed", "", "", "", "", "", ""))
            continue
        s = summarize_engine(item.engine)
        size = s["engine_size_bytes"]
        measured = s["latency_ms"]["gpu_compute_median"]
        estimate = None if measured is not None else item.engine.analysis.estimate()  # summarize_engine made it
        if estimate is not None:
            estimates.append(estimate)
        latency = f"{measured:.4f}" if measured is not None else (f"~{estimate.total_ms:.4f}*" if estimate else "-")
        quantized = sum(v for k, v in s["layers"]["by_precision"].items() if k in ("INT8", "FP8", "INT4", "FP4"))
        accuracy = item.engine.accuracy
        sqnr = "-" if accuracy is None else format_sqnr(accuracy.output.sqnr_db).removesuffix(" dB")
        rows.append((item.stem, item.run_id or (str(item.folder) if item.folder else ""),
                     f"{size / 2**20:.2f}" if size else "-", str(s["layers"]["count"]), str(quantized),
                     f"{s['weights']['bytes'] / 2**20:.2f}", latency, sqnr))
    header = ("variant", "run", "engine MiB", "layers", "INT8/FP8", "weights MiB", "latency ms", "SQNR dB")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    for label in dict.fromkeys(e.label for e in estimates):  # one line per GPU the estimates are for
        lines.append(f"* {label}: not a measurement, these engines cannot be timed without an RTX GPU.")
    for item in result.results:
        if item.engine is None:
            continue
        missed = kept_precision(item.engine)
        for row in missed[~missed["honoured"]].itertuples():
            lines.append(f"note: {item.stem}: {row.onnx_node} was kept in {row.asked}, but the builder runs its layers in "
                         f"{'/'.join(row.built)} (it folded the casts around it).")
    lines += _unmeasured_notes(result)
    measured = [i.engine.accuracy for i in result.results if i.engine is not None and i.engine.accuracy is not None
                and i.engine.accuracy.inputs.get("batches")]
    if measured:
        inputs = measured[0]
        what = (f"synthetic inputs ({inputs.inputs['description']}): relative error between the two models, "
                "not task accuracy" if inputs.synthetic else inputs.inputs["description"])
        lines.append(f"SQNR: output {inputs.output.name!r} of each recipe's ONNX vs the FP32 model on the CPU "
                     f"(onnxruntime), higher is closer; on {what}.")
    return "\n".join(lines)


def _unmeasured_notes(result) -> list[str]:
    """Why a variant's SQNR reads ``-`` (and why its recipe is not the one asked for), from its build log's facts;
    one line per reason, naming every variant it applies to (a QAT model gives all of them the same one)."""
    reasons: dict[str, list[str]] = {}
    for item in result.results:
        if item.engine is None or item.engine.accuracy is not None:
            continue
        facts = item.engine.build_facts
        for reason in (facts.get("note"), facts.get("accuracy") and f"SQNR {facts['accuracy']}"):
            if reason:
                reasons.setdefault(reason, []).append(item.stem)
    return [f"note: {', '.join(stems)}: {reason.rstrip('.')}." for reason, stems in reasons.items()]


def cmd_quantize(args) -> int:
    from engine_core.build.worker import _quiet_libraries
    from engine_core.recipes import RecipeSpec, apply_recipe

    from engine_core.recipes.keep import parse_keep, read_node_names, resolve_keep

    model, _ = resolve_model(args.onnx)
    requests = parse_keep(args.keep)
    keep = resolve_keep(read_node_names(model), requests, model.name) if requests else ()
    with _quiet_libraries():
        result = apply_recipe(model, RecipeSpec(args.precision, args.placement, args.calibrator, keep), args.calib,
                              args.output)
    detail = [f"recipe {result.recipe}"]
    if result.quantized_nodes:
        detail.append(f"{result.quantized_nodes} QuantizeLinear nodes")
    if result.kept_float:
        detail.append(f"{len(result.kept_float)} ops kept FP32 ({', '.join(result.kept_float[:4])}{' …' if len(result.kept_float) > 4 else ''})")
    for kind, nodes in result.kept.items():
        detail.append(f"{len(nodes)} node(s) kept in {kind.upper()}")
    if result.calibration:
        detail.append(result.calibration)
    if result.cached:
        detail.append("from the recipe cache")
    print(f"wrote {result.path}: " + "; ".join(detail))
    for note in result.notes:
        print(f"layerlens: note: {note}", file=sys.stderr)
    return 0


def _cmd_build_trtexec(args) -> int:
    import shlex

    from engine_core.build.request import WEAK_PRECISIONS, BuildRequest, check_request, default_stem
    from engine_core.build.trtexec import build_with_trtexec, trtexec_argv

    overrides = {}
    for item in args.layer_precision:
        layer, sep, precision = item.rpartition(":")
        if not sep or not layer:
            raise LayerLensError(f"--layer-precision {item!r} is not LAYER:PRECISION.", "Example: --layer-precision /head/Softmax:fp32")
        overrides[layer] = precision
    precisions = tuple(f for f in WEAK_PRECISIONS if getattr(args, f))
    request = BuildRequest(onnx=args.onnx, tensorrt_version=args.trt_version, precisions=precisions, tf32=not args.no_tf32,
                           calibration_cache=args.calib, strongly_typed=args.strongly_typed,
                           precision_constraints=args.precision_constraints, layer_precisions=overrides, shapes=args.shapes)
    errors, warnings = check_request(request)
    if errors:
        raise LayerLensError(errors[0], "Change the build options (see `layerlens build --help`).")
    stem = args.name or default_stem(request)
    out = args.out or "."
    for w in warnings:
        print(f"layerlens: warning: {w}", file=sys.stderr)
    if not args.run:
        print(shlex.join(trtexec_argv(request, out, stem)) + f" 2>&1 | tee {Path(out) / (stem + '.log')}")
        return 0
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    files = build_with_trtexec(request, out, stem)
    engines, _ = load_engines(files)
    store = RunStore(args.store)
    for engine in engines:
        manifest, _ = store.add(engine, source="build", labels={"tensorrt_version_requested": args.trt_version})
        print(f"built and stored: {manifest.run_id} ({manifest.layer_count} layers)")
    return 0
