"""``layerlens compare``, ``diagnose``, ``estimate``, ``report`` and ``calib``: argument wiring and text output."""

from __future__ import annotations

import argparse

from engine_core.errors import LayerLensError
from engine_core.strict_json import dumps_strict


def add_commands(sub, add_paths) -> None:
    p = sub.add_parser("compare", help="align two or more engines by ONNX origin and diff them",
                       description="Align engines layer by layer through the ONNX nodes they came from and report, per "
                                   "group, the precision, time and byte change. The first engine is the baseline (A).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example:\n  layerlens compare runs/fp16 runs/qat --json")
    p.add_argument("engines", nargs="+", metavar="PATH",
                   help="one engine per path (folder, files or zip) or stored run (id or name), A first")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.add_argument("--top", type=int, default=15, help="groups to print in text mode (default 15)")
    p.add_argument("--store", help="run store folder, for PATHs that name stored runs")
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("diagnose", help="ranked findings: fallbacks, reformats, fairness, size, speedup",
                       description="Turn one engine (and optionally a baseline) into a short ranked list of findings, "
                                   "each with its measured impact, the evidence layers and a suggested fix.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example:\n  layerlens diagnose runs/qat --baseline runs/fp16")
    add_paths(p)
    p.add_argument("--baseline", metavar="PATH", help="a baseline engine to compare against (e.g. the FP16 build; "
                                                      "path or stored run)")
    p.add_argument("--gpu", help="GPU catalog entry for estimated savings (default: the engine's own GPU)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--store", help="run store folder, for PATHs that name stored runs")
    p.set_defaults(handler=_cmd_diagnose)

    p = sub.add_parser("estimate", help="per-layer latency estimate of any engine on a GPU (calibrated model)",
                       description="Estimate every layer's time on a GPU with LayerLens's calibrated latency model: the "
                                   "roofline (FLOPs and bytes against datasheet peaks) plus per-kernel fixed cost, "
                                   "efficiency by layer class, precision and GPU generation, reformat cost per byte and "
                                   "occupancy at small sizes, fitted on real TensorRT profiles. Measured times are "
                                   "ignored for the estimate; when the engine has them, they are printed beside it with "
                                   "the error. PATH may also be a stored run id or name.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n  layerlens estimate resnet18-int8-ort-uncalibrated --gpu 'RTX 4090'\n"
                              "  layerlens estimate ../shared/fixtures/trex-rtx3090/qat --json\n"
                              "  layerlens estimate runs/qat --gpu 'A100 40GB' --top 10   # the 10 slowest layers\n\n"
                              "Refit the model: python -m engine_core.analysis.fit_latency_model (see README).")
    add_paths(p)
    p.add_argument("--gpu", metavar="NAME", help="catalog GPU, e.g. 'RTX 4090', 'A100 40GB', 'H100 PCIe' (default: the "
                                                 "engine's own GPU, else the stand-in for its TensorRT-RTX target)")
    p.add_argument("--top", type=int, metavar="N", help="text: print only the N layers with the largest estimate")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.add_argument("--store", help="run store folder, for PATHs that name stored runs")
    p.set_defaults(handler=_cmd_estimate)

    p = sub.add_parser("report", help="write one self-contained HTML report (opens offline) to share",
                       description="Everything LayerLens knows about one engine (and its baseline) in one HTML file: "
                                   "verdict and findings, KPIs, precision, size and latency charts, the comparison, the "
                                   "engine graph, a searchable and sortable layer table, and the provenance (GPU, "
                                   "TensorRT version, builder, recipe, flags, shapes, source files with sha256). "
                                   "plotly.js is inlined: the file makes no network request. PATH may also be a stored "
                                   "run id or name.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n  layerlens report runs/qat --baseline runs/fp16 -o qat-vs-fp16.html\n"
                              "  layerlens report resnet-qat-c74e56471d -o qat.html --png charts/   # also each chart as PNG")
    add_paths(p)
    p.add_argument("--baseline", metavar="PATH", help="the engine to compare against (path or stored run)")
    p.add_argument("-o", "--output", default="layerlens-report.html", metavar="FILE",
                   help="where to write the HTML (default layerlens-report.html)")
    p.add_argument("--png", metavar="DIR", help="also write every chart as a PNG into DIR (kaleido + Chromium)")
    p.add_argument("--store", help="run store folder, for PATHs that name stored runs")
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser("calib", help="read INT8 calibration caches: scales, problems, and an A/B comparison",
                       description="Read one or two INT8 calibration caches (TRT-<version>-<Calibrator> followed by "
                                   "'tensor: hex' lines): TensorRT version, calibrator, tensor count, scales that are "
                                   "zero, inf, NaN or orders of magnitude off, and, for two caches of one model "
                                   "(calibrator A/B, two runs), the tensors only in one and the ratio of scales.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n  layerlens calib model.calib.cache\n"
                              "  layerlens calib entropy.cache minmax.cache --json\n"
                              "  layerlens diagnose build/ --calib-cache model.calib.cache   # tensors the engine "
                              "reads without a scale")
    p.add_argument("caches", nargs="+", metavar="CACHE", help="one or two calibration cache files")
    p.add_argument("--json", action="store_true", help="machine-readable output (shape in README)")
    p.set_defaults(handler=_cmd_calib)


def _one_engine(paths, calib_cache=None, store=None):
    """The one engine in ``paths``; a lone argument that is not a path may name a stored run (id or name)."""
    from pathlib import Path

    from engine_core.discover import load_engines
    from layerlens.cli.main import settle

    if len(paths) == 1 and not Path(paths[0]).exists():
        from engine_core.store import RunStore

        runs = RunStore(store)
        try:
            engine = runs.load(runs.resolve([str(paths[0])])[0].run_id)
        except LayerLensError as exc:
            raise LayerLensError(f"{paths[0]} is neither a file, a folder, nor a stored run.", exc.fix) from None
        settle()
        return engine
    engines, _ = load_engines(paths, calibration_cache=calib_cache)
    settle()
    label = " ".join(map(str, paths))
    if not engines:
        raise LayerLensError(f"No TensorRT artifacts found in {label}.", "Point at an engine's artifact folder or files.")
    if len(engines) > 1:
        names = ", ".join(e.name for e in engines)
        raise LayerLensError(f"{label} holds {len(engines)} engines ({names}).", "Pass one engine's folder or files per argument.")
    return engines[0]


def _cmd_report(args) -> int:
    import sys
    import time

    start = time.perf_counter()
    engine = _one_engine(args.paths, args.calib_cache, args.store)
    baseline = _one_engine([args.baseline], store=args.store) if args.baseline else None
    if args.png:
        from layerlens.views.images import image_support

        missing = image_support()
        if missing:  # say so before the work, not after
            raise LayerLensError(f"--png cannot write images here. {missing}", "Or drop --png: the HTML report needs neither.")
    from layerlens.views.report import write_report

    print(f"Writing the report of {engine.name}" + (f" against {baseline.name}" if baseline else "") + " …",
          file=sys.stderr, flush=True)
    report = write_report(engine, baseline, args.output)
    from pathlib import Path

    size = Path(args.output).stat().st_size
    print(f"wrote {args.output} ({size / 2**20:.1f} MiB, {len(report.figures())} charts, {len(report.layer_table):,} layers) "
          f"in {time.perf_counter() - start:.1f} s")
    print(report.verdict)
    if args.png:
        from layerlens.views.images import write_pngs

        paths = write_pngs(report.figures(), args.png)
        print(f"wrote {len(paths)} PNGs to {args.png}")
    return 0


#: Without --top, text output lists every layer up to this many, else the slowest ones.
_ESTIMATE_ALL_LAYERS = 200


def _cmd_estimate(args) -> int:
    from engine_core.analysis.estimate import summarize_estimate

    engine = _one_engine(args.paths, args.calib_cache, args.store)
    if engine.layers.empty:
        raise LayerLensError(f"{engine.name} has no layers to estimate.",
                             "Give the engine's layer information (--exportLayerInfo JSON, a verbose build log).")
    summary = summarize_estimate(engine, args.gpu)
    if args.json:
        print(dumps_strict(summary, indent=2))
        return 0
    top = args.top if args.top is not None else (None if len(engine.layers) <= _ESTIMATE_ALL_LAYERS else 40)
    print(format_estimate(summary, top))
    return 0


def format_estimate(s: dict, top: int | None = None) -> str:
    """``layerlens estimate`` as text: the basis, the totals (and the error against a profile), then the layers."""
    generation = (f"{s['gpu_generation']} parameters" if s["parameters_from"] == s["gpu_generation"] else
                  f"no {s['gpu_generation']} GPU was profiled: {s['parameters_from']} parameters")
    lines = [f"{s['engine']} on {s['gpu']}: {s['model']} ({generation}; ±{s['error_band_pct']:.0f}% on "
             f"{s['calibration_engines']} real engines, each estimated with its GPU left out of the fit)",
             f"estimate: {s['total_ms']:.4f} ms per-layer sum (what TensorRT's per-layer profiler would report; "
             "not a measurement)"]
    compared = s["total_error_pct"] is not None
    if s["measured_total_ms"] is not None:
        if compared:
            lines.append(f"measured: {s['measured_total_ms']:.4f} ms per-layer sum on {s['measured_on']}: estimate "
                         f"{s['total_error_pct']:+.1f}%, median per-layer |error| {s['median_layer_error_pct']:.1f}%")
        else:
            lines.append(f"measured: {s['measured_total_ms']:.4f} ms per-layer sum on {s['measured_on']}, another GPU: "
                         "no error to report")
    if s["in_training_set"]:
        lines.append(f"note: the model was fitted on this very profile; fitted without it, its total was off by "
                     f"{s['held_out_total_error_pct']:+.1f}%.")
    if not s["layer_information"]:
        lines.append("note: no layer information (a profile table alone): every layer is estimated at one kernel's "
                     "fixed cost, outside the model's error band.")
    layers = s["layers"]
    if top is not None:
        layers = sorted(layers, key=lambda r: r["estimate_ms"], reverse=True)[:top]
        lines.append(f"\nthe {len(layers)} layers with the largest estimate (of {len(s['layers'])}; --top N, or --json "
                     "for all):")
    lines.append(f"\n{'order':>6}  {'estimate ms':>11}" + (f"  {'measured ms':>11}  {'error':>7}" if compared else "")
                 + f"  {'class':<9} {'bound':<7} layer")
    for r in layers:
        row = f"{r['order']:>6}  {r['estimate_ms']:11.4f}"
        if compared:
            row += (f"  {r['measured_ms']:11.4f}" if r["measured_ms"] is not None else f"  {'-':>11}")
            row += f"  {r['error_pct']:+6.0f}%" if r["error_pct"] is not None else f"  {'-':>7}"
        lines.append(row + f"  {r['layer_class']:<9} {r['bound']:<7} {r['name'][:80]}")
    return "\n".join(lines)


def compare_with_attribution(engines: list):
    """``(Comparison, Attribution)`` of engines A, B, ... as ``layerlens compare`` computes them."""
    from engine_core.analysis.attribution import attribute, compare_pair
    from engine_core.analysis.compare import compare_engines
    from engine_core.analysis.estimate import on_one_footing

    if len(engines) == 2:
        return compare_pair(engines[0], engines[1])
    engines = on_one_footing(engines)
    result = compare_engines(engines)
    return result, attribute(result, engines[0], engines[1])


def compare_document(result, att) -> dict:
    """``layerlens compare --json``: the comparison plus its attribution."""
    return {**result.to_json(), "attribution": att.to_json()}


def _cmd_compare(args) -> int:
    if len(args.engines) < 2:
        raise LayerLensError("compare needs at least two engines.", "Example: layerlens compare runs/fp16 runs/int8")
    result, att = compare_with_attribution([_one_engine([p], store=args.store) for p in args.engines])
    if args.json:
        print(dumps_strict(compare_document(result, att), indent=2))
        return 0
    print(att.verdict)
    _print_attribution(att)
    groups = result.groups
    counts = ", ".join(f"{n} by {m}" for m, n in result.match_counts().items()) or "none"
    print(f"\n{len(groups)} aligned groups ({counts}); {result.aligned_share:.0%} of compute layers align; "
          "unmatched: " + ", ".join(f"{k} {len(v)}" for k, v in result.unmatched.items()))
    for note in result.notes:
        print(f"note: {note}")
    if not groups.empty:
        changes = groups["precision_change"].value_counts()
        if not changes.empty:
            print("precision changes: " + ", ".join(f"{c} x{n}" for c, n in changes.items()))
        unit = "ms (estimate)" if att.estimate else "ms"
        print(f"\n{'delta ' + unit:>18} {'A':>8} {'B':>8}  {'change':<13} {'match':<10} group")
        ordered = groups.assign(_abs=groups["delta_ms"].astype(float).abs()).sort_values("_abs", ascending=False, na_position="last")
        for g in ordered.head(args.top).itertuples():
            match = g.match if g.match != "structure" else f"struct {g.confidence:.0%}"
            print(f"{g.delta_ms:+18.4f} {g.a_ms:8.4f} {g.b_ms:8.4f}  {(g.precision_change or '-'):<13} {match:<10} "
                  f"{' + '.join(g.onnx_nodes)[:80] or ' + '.join(g.b_layers)[:80]}")
    return 0


def _print_attribution(att) -> None:
    print(f"\nPer-layer {'estimate' if att.estimate else 'time'}: {att.a_sum_ms:.4f} -> {att.b_sum_ms:.4f} ms "
          f"({att.delta_ms:+.4f} ms) =")
    for part in att.parts:
        count = f"{part.groups} groups" if part.groups else f"{len(part.layers)} layers"
        print(f"  {part.ms:+.4f} ms  {part.label} ({count})")
    print(att.reconciliation)


def diagnose_with_attribution(engine, baseline=None, gpu=None):
    """``(findings, Attribution or None)`` as ``layerlens diagnose`` computes them."""
    from engine_core.analysis.diagnose import diagnose

    findings = diagnose(engine, baseline, gpu)
    if baseline is None:
        return findings, None
    return findings, engine.analysis.compared_with(baseline)[1]  # diagnose compared them already


def diagnose_document(engine, baseline, findings, att) -> dict:
    """``layerlens diagnose --json``."""
    return {"engine": engine.name, "baseline": baseline.name if baseline else None,
            "verdict": att.verdict if att else None, "attribution": att.to_json() if att else None,
            "findings": [f.to_dict() for f in findings]}


def _cmd_diagnose(args) -> int:
    from engine_core.analysis.estimate import resolve_gpu

    engine = _one_engine(args.paths, args.calib_cache, args.store)
    baseline = _one_engine([args.baseline], store=args.store) if args.baseline else None
    findings, att = diagnose_with_attribution(engine, baseline, resolve_gpu(args.gpu) if args.gpu else None)
    if args.json:
        print(dumps_strict(diagnose_document(engine, baseline, findings, att), indent=2))
        return 0
    if att is not None:
        print(att.verdict)
        _print_attribution(att)
        print()
    title = f"{engine.name}" + (f" vs baseline {baseline.name}" if baseline else "")
    print(f"Diagnosis: {title}  ({engine.device or engine.target or 'GPU unknown'}, "
          f"{engine.precision_label or 'precision flags unknown'})\n")
    for i, f in enumerate(findings, 1):
        impact = f"{f.impact_ms:.3f} ms" + (f" ({f.impact_pct:.0f}%)" if f.impact_pct is not None else "") if f.impact_ms is not None else f.severity
        print(f"{i:>2}. [{impact}] {f.message}")
        print(f"    fix: {f.fix}")
        if f.evidence:
            print(f"    evidence: {f.evidence[:300]}")
    return 0


def calib_document(caches: list) -> dict:
    """``layerlens calib --json`` of one or two read caches."""
    from engine_core.analysis.calibration import compare_caches, summarize_cache

    return {"caches": [summarize_cache(c) for c in caches], "comparison": compare_caches(*caches) if len(caches) == 2 else None}


def _cmd_calib(args) -> int:
    from engine_core.analysis.calibration import compare_caches, scale_rows, summarize_cache
    from engine_core.importers.calib_cache import read_calibration_cache

    if len(args.caches) > 2:
        raise LayerLensError(f"calib takes one or two caches, not {len(args.caches)}.",
                             "Compare two at a time: layerlens calib A.cache B.cache")
    caches = [read_calibration_cache(path) for path in args.caches]
    if args.json:
        print(dumps_strict(calib_document(caches), indent=2))
        return 0
    comparison = compare_caches(*caches) if len(caches) == 2 else None
    for cache in caches:
        s = summarize_cache(cache)
        print(f"{cache.file}: TensorRT {s['tensorrt_version'] or 'unknown'}, {s['calibrator'] or 'calibrator unknown'}, "
              f"{s['tensors']} tensors; scales {s['min_scale']:.4g} .. {s['max_scale']:.4g} "
              f"(dynamic range x127: {s['min_scale'] * 127:.4g} .. {s['max_scale'] * 127:.4g})"
              if s["min_scale"] is not None else f"{cache.file}: {s['tensors']} tensors, no finite scale")
        problems = [row for row in scale_rows(cache) if row[2]]
        for tensor, scale, problem in problems[:20]:
            print(f"  ! {tensor}: scale {scale:.4g} ({problem})")
        for warning in cache.warnings:
            print(f"  note: {warning}")
    if comparison:
        print(f"\nA/B: {comparison['shared']} tensors in both, {len(comparison['only_in_a'])} only in A, "
              f"{len(comparison['only_in_b'])} only in B; {comparison['identical']} identical scales, "
              f"{comparison['within_10pct']} within 10%, {comparison['more_than_2x']} differ more than 2x "
              f"(median B/A {comparison['ratio_median']:.4g})" if comparison["ratio_median"] else
              f"\nA/B: {comparison['shared']} tensors in both; no comparable scales")
    return 0
