"""``layerlens compare`` and ``layerlens diagnose``: argument wiring and text output."""

from __future__ import annotations

import argparse
import json

from engine_core.errors import LayerLensError


def add_commands(sub, add_paths) -> None:
    p = sub.add_parser("compare", help="align two or more engines by ONNX origin and diff them",
                       description="Align engines layer by layer through the ONNX nodes they came from and report, per "
                                   "group, the precision, time and byte change. The first engine is the baseline (A).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example:\n  layerlens compare runs/fp16 runs/qat --json")
    p.add_argument("engines", nargs="+", metavar="PATH", help="one engine per path (folder, files or zip), A first")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.add_argument("--top", type=int, default=15, help="groups to print in text mode (default 15)")
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("diagnose", help="ranked findings: fallbacks, reformats, fairness, size, speedup",
                       description="Turn one engine (and optionally a baseline) into a short ranked list of findings, "
                                   "each with its measured impact, the evidence layers and a suggested fix.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example:\n  layerlens diagnose runs/qat --baseline runs/fp16")
    add_paths(p)
    p.add_argument("--baseline", metavar="PATH", help="a baseline engine to compare against (e.g. the FP16 build)")
    p.add_argument("--gpu", help="GPU catalog entry for roofline estimates (default: the engine's own GPU)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.set_defaults(handler=_cmd_diagnose)


def _one_engine(paths):
    from engine_core.discover import load_engines

    engines, _ = load_engines(paths)
    label = " ".join(map(str, paths))
    if not engines:
        raise LayerLensError(f"No TensorRT artifacts found in {label}.", "Point at an engine's artifact folder or files.")
    if len(engines) > 1:
        names = ", ".join(e.name for e in engines)
        raise LayerLensError(f"{label} holds {len(engines)} engines ({names}).", "Pass one engine's folder or files per argument.")
    return engines[0]


def _cmd_compare(args) -> int:
    from engine_core.analysis.compare import compare_engines

    if len(args.engines) < 2:
        raise LayerLensError("compare needs at least two engines.", "Example: layerlens compare runs/fp16 runs/int8")
    engines = [_one_engine([p]) for p in args.engines]
    result = compare_engines(engines)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    a, b = result.summaries[0], result.summaries[1]
    if result.speedup:
        basis = "GPU compute median" if result.speedup_basis == "gpu_compute_median" else "per-layer sum"
        print(f"{b['name']} vs {a['name']}: {result.speedup:.2f}x ({basis} {a[result.speedup_basis]:.4f} -> "
              f"{b[result.speedup_basis]:.4f} ms)")
    groups = result.groups
    print(f"{len(groups)} aligned ONNX groups; unmatched: " + ", ".join(f"{k} {len(v)}" for k, v in result.unmatched.items()))
    if not groups.empty:
        changes = groups["precision_change"].value_counts()
        if not changes.empty:
            print("precision changes: " + ", ".join(f"{c} x{n}" for c, n in changes.items()))
        print(f"\n{'delta ms':>9} {'A ms':>8} {'B ms':>8}  change        ONNX nodes")
        for g in groups.reindex(groups["delta_ms"].abs().sort_values(ascending=False).index).head(args.top).itertuples():
            print(f"{g.delta_ms:+9.4f} {g.a_ms:8.4f} {g.b_ms:8.4f}  {(g.precision_change or '-'):<13} {' + '.join(g.onnx_nodes)[:90]}")
    return 0


def _cmd_diagnose(args) -> int:
    from engine_core.analysis.diagnose import diagnose
    from engine_core.analysis.gpus import CATALOG, gpu_by_name

    engine = _one_engine(args.paths)
    baseline = _one_engine([args.baseline]) if args.baseline else None
    gpu = None
    if args.gpu:
        try:
            gpu = gpu_by_name(args.gpu)
        except KeyError:
            raise LayerLensError(f"Unknown GPU '{args.gpu}'.", "Choose one of: " + ", ".join(g.name for g in CATALOG)) from None
    findings = diagnose(engine, baseline, gpu)
    if args.json:
        print(json.dumps({"engine": engine.name, "baseline": baseline.name if baseline else None,
                          "findings": [f.to_dict() for f in findings]}, indent=2))
        return 0
    title = f"{engine.name}" + (f" vs baseline {baseline.name}" if baseline else "")
    print(f"Diagnosis: {title}  ({engine.device or 'GPU unknown'}, {engine.build_precision or 'precision flags unknown'})\n")
    for i, f in enumerate(findings, 1):
        impact = f"{f.impact_ms:.3f} ms" + (f" ({f.impact_pct:.0f}%)" if f.impact_pct is not None else "") if f.impact_ms is not None else f.severity
        print(f"{i:>2}. [{impact}] {f.message}")
        print(f"    fix: {f.fix}")
        if f.evidence:
            print(f"    evidence: {f.evidence[:300]}")
    return 0
