"""``diagnose``: one engine (or a pair) turned into a short, ranked list of findings.

Each finding carries its measured impact, the layers that are the evidence, and
a fix. Impacts are profiled per-layer milliseconds unless a finding says it is
an estimate (roofline). Sources: :mod:`fallback`, :mod:`lint`,
:mod:`latency`, :mod:`roofline`, :mod:`size`, :mod:`requested` and :mod:`compare`, each read through
``engine.analysis`` (:mod:`engine_analysis`) so that what the report or the dashboard also shows is computed once.
Two answers come first whatever else is found, because they change what every
other number means: a reduced-precision engine that is *bigger* than its float
baseline (and why), and an engine whose layers do not run the precision that was
asked for.
"""

from __future__ import annotations

from engine_core.analysis.fallback import RESIDUAL_ADD_EVIDENCE, STRUCTURAL_REASONS
from engine_core.analysis.findings import Finding, rank_findings, share_of_time
from engine_core.analysis.gpus import GpuSpec
from engine_core.analysis.latency import reconcile
from engine_core.analysis.latency_model import default_latency_model
from engine_core.analysis.lint import lint_pair
from engine_core.analysis.requested import STATED_SOURCES, io_precision_shares
from engine_core.analysis.size import diff_bytes, explain_growth
from engine_core.engine import Engine
from engine_core.precision import DATA_PRECISIONS, PRECISION_RANK, QUANTIZED_PRECISIONS

#: Findings said first, before the ranked rest (see the module doc).
HEADLINE_KINDS = ("engine_bigger_than_baseline", "precision_not_applied")
#: Below this share of its float/quantized I/O tensors in the requested precision (or narrower), an engine
#: did not run what was asked for. A quantized request is held to less: a fully quantized TensorRT-RTX engine
#: writes every INT8 convolution's output in FP32 for a separate epilogue kernel to re-quantize, so only 41-66%
#: of its I/O is INT8 (the sample models' INT8 builds); below a quarter, quantization did not happen.
MIN_REQUESTED_IO_SHARE = {"float": 0.5, "quantized": 0.25}

#: Layers slower than the model expects are a finding when their excess is at least this share of the per-layer sum.
SLOWER_THAN_MODEL_MIN_PCT = 5.0

_FIXES = {
    "integer_data": "Nothing to quantize: these are shape/index ops. Keep them off the hot path (constant-fold shapes, static shapes).",
    "precision_ignored": "Set --precisionConstraints=obey (BuilderFlag.OBEY_PRECISION_CONSTRAINTS) to force the requested precision and measure whether it is really slower.",
    "missing_dynamic_range": "Calibrate with data that reaches these tensors, or add Q/DQ around them (ModelOpt).",
    "int8_wide_output": "Add Q/DQ on the consumer's input (for a residual Add, on both branches) so the kernel can write INT8.",
    "myelin_fusion": "Profile with --profilingVerbosity=detailed --dumpProfile --separateProfileRun and capture NVTX in Nsight Systems to see inside.",
    "no_qdq": "Quantize these ops too (ModelOpt Q/DQ placement) or accept them in float; each float island adds reformats.",
    "no_low_precision_kernel": "Enable FP16 next to INT8 so these layers fall back to FP16, not FP32.",
    "tactic_choice": "Under weak typing a precision flag is a permission, not an order: pin precision with explicit Q/DQ "
                     "(ModelOpt) or strong typing and measure, or accept the faster tactic.",
    "quantize_boundary": "Nothing to fix: this is where data enters the quantized region.",
    "io_boundary": "Nothing to fix unless the I/O cast shows in the profile: the recipe keeps the model's I/O types.",
    "split_epilogue": "This is how TensorRT-RTX runs INT8 convolutions. Keep one quantize per epilogue: the `tensorrt` Q/DQ "
                      "placement (no Q/DQ on convolution outputs) avoids the extra quantize-dequantize round trip the "
                      "`ort` placement adds; TensorRT 8-10 on a data-centre GPU fuse the epilogue into the convolution.",
    "unknown": "Re-export with --profilingVerbosity=detailed and a --verbose build log for more evidence.",
    "kept": "Nothing to fix: kept out of the recipe's precision on request (--keep); `layerlens accuracy` shows what it buys.",
}


def diagnose(engine: Engine, baseline: Engine | None = None, gpu: GpuSpec | None = None) -> list[Finding]:
    """Ranked findings for ``engine`` (optionally against ``baseline``)."""
    gpu = gpu or engine.analysis.own_gpu
    findings: list[Finding] = []
    findings += _fallback_findings(engine, gpu)
    # The wide-output lint repeats the int8_wide_output fallback finding.
    findings += [f for f in engine.analysis.lints if f.kind != "qdq_wide_output"]
    findings += engine.analysis.fairness
    findings += _myelin_finding(engine)
    findings += _slower_than_model_finding(engine, gpu)
    findings += _reconcile_finding(engine)
    findings += _size_finding(engine)
    findings += _calibration_findings(engine)
    findings += _precision_check_finding(engine)
    findings += _kept_findings(engine)
    if baseline is not None:
        findings += baseline.analysis.fairness
        findings += lint_pair(baseline, engine)
        findings += _growth_finding(baseline, engine)
        findings += _baseline_findings(baseline, engine)
    ranked = rank_findings(_dedupe(findings))
    return [f for f in ranked if f.kind in HEADLINE_KINDS] + [f for f in ranked if f.kind not in HEADLINE_KINDS]


def _kept_findings(engine: Engine) -> list[Finding]:
    """Nodes kept in FP16/FP32 on request whose engine layers compute in another precision anyway."""
    from engine_core.analysis.kept import kept_precision

    missed = kept_precision(engine)
    missed = missed[~missed["honoured"]]
    if missed.empty:
        return []
    first = missed.iloc[0]
    built = "/".join(first["built"])
    return [Finding("kept_not_honoured",
                    f"{len(missed)} node(s) kept on request run in another precision in the engine: {first['onnx_node']} "
                    f"was kept in {first['asked']} but its layers compute in {built}.",
                    "The builder folded the casts around the kept node into its neighbours' precision. Keep the "
                    "neighbourhood too (the producer and consumer), and check the result with `layerlens accuracy`.",
                    layers=[name for layers in missed["layers"] for name in layers][:20], severity="medium",
                    evidence="; ".join(f"{r.onnx_node}: asked {r.asked}, built {'/'.join(r.built)}"
                                       for r in missed.itertuples()))]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.kind, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _fallback_findings(engine: Engine, gpu: GpuSpec | None) -> list[Finding]:
    fallbacks = engine.analysis.fallbacks
    if fallbacks.empty:
        return []
    requested, source = engine.analysis.requested_precision
    gains = {}
    model = default_latency_model()
    if gpu is not None and requested and engine.layers["avg_ms"].notna().any():
        # Each layer's measured time, scaled by how much faster the model says it would run at the request.
        now = engine.analysis.predicted(gpu)["estimated_ms"]
        requested_ms = engine.analysis.predicted(gpu, requested)["estimated_ms"]
        saving = engine.layers["avg_ms"] * (1.0 - requested_ms / now)
        gains = dict(zip(engine.layers["name"], saving.clip(lower=0).fillna(0)))
    out = []
    for row in engine.analysis.fallback_summary.itertuples():
        if row.reason in STRUCTURAL_REASONS:
            continue
        subset = fallbacks[fallbacks["reason"] == row.reason]
        ms = float(subset["avg_ms"].sum()) if subset["avg_ms"].notna().any() else None
        precisions = ", ".join(f"{n} {p}" for p, n in _shown_precisions(subset, requested).value_counts().items())
        message = (f"{row.layers} layers are not {requested} ({precisions}). Why: {row.reason_text}"
                   + (f"; they take {ms:.3f} ms" if ms is not None else "") + ".")
        if row.reason == "int8_wide_output":
            message = _wide_output_message(subset, requested, ms)
        estimate = False
        if gains and ms and row.reason != "int8_wide_output":  # those already compute at the requested precision
            saving = sum(gains.get(n, 0.0) for n in subset["name"])
            if saving >= 0.0005:  # what the message can show (3 decimals)
                message += f" At {requested} on {gpu.name} they could save about {saving:.3f} ms ({model.basis})."
                estimate = True
        severity = "info" if row.reason == "integer_data" else "medium"
        out.append(Finding(f"fallback:{row.reason}", message, _FIXES[row.reason], ms, share_of_time(engine, ms) if ms else None,
                           list(subset["name"]), severity, "; ".join(subset["evidence"].head(3)) + f" (requested {requested} from {source})",
                           estimate))
    return out


def _wide_output_message(subset, requested: str, ms: float | None) -> str:
    inherited = int(subset["inherited_from"].notna().sum())
    subset = subset[subset["inherited_from"].isna()]
    outs = ", ".join(sorted(set(subset["output_precision"])))
    kind = "convs" if subset["layer_type"].str.contains("Convolution").all() else "layers"
    residual = subset["evidence"].str.startswith(RESIDUAL_ADD_EVIDENCE)
    took = (f" (+{inherited} reformats at these boundaries)" if inherited else "") + (
        f"; together {ms:.3f} ms" if ms is not None else "")
    if residual.any():
        return (f"{len(subset)} {requested} {kind} write {outs} instead of {requested}; {int(residual.sum())} of them because "
                f"the residual Add they feed has no Q/DQ on that input, so TensorRT keeps it in float and re-quantizes "
                f"with a separate reformat{took}.")
    return f"{len(subset)} {requested} {kind} write {outs} because their consumers are not quantized{took}."


def _shown_precisions(subset, requested: str):
    """The precision that is off: compute, or the output when the compute matches the request."""
    return subset["compute_precision"].where(subset["compute_precision"] != requested,
                                             subset["output_precision"] + " output")


def _myelin_finding(engine: Engine) -> list[Finding]:
    myelin = engine.layers[engine.layers["is_myelin"] & engine.layers["avg_ms"].notna()]
    if myelin.empty:
        return []
    ms = float(myelin["avg_ms"].sum())
    share = share_of_time(engine, ms)
    if share is None or share < 20:
        return []
    return [Finding("opaque_myelin", f"{len(myelin)} Myelin/ForeignNode layers take {ms:.3f} ms ({share:.0f}%): "
                    "TensorRT does not break them down per ONNX op.", _FIXES["myelin_fusion"], ms, share,
                    list(myelin["name"]), "medium")]


def _slower_than_model_finding(engine: Engine, gpu: GpuSpec | None) -> list[Finding]:
    """Measured layers far slower than the calibrated model expects for their work: a slow tactic, a reformat storm."""
    from engine_core.analysis.estimate import measured_vs_estimated

    table = engine.analysis.measured_vs_estimated if gpu == engine.analysis.own_gpu else measured_vs_estimated(engine, gpu)
    slow = table[table["slower_than_model"]].sort_values("excess_ms", ascending=False)
    ms = float(slow["excess_ms"].sum()) if not slow.empty else 0.0
    share = share_of_time(engine, ms)
    # A tenth of real layers sit above the outlier ratio by its definition; flag only what adds up.
    if share is None or share < SLOWER_THAN_MODEL_MIN_PCT:
        return []
    model = default_latency_model()
    top = ", ".join(f"{n[:60]} ({r:.1f}x)" for n, r in zip(slow["name"].head(3), slow["ratio"].head(3)))
    reformats = slow[slow["layer_class"] == "reformat"]
    storm = (f" {len(reformats)} of them are reformats ({reformats['excess_ms'].sum():.3f} ms over): a reformat storm."
             if len(reformats) >= 3 else "")
    return [Finding("slower_than_model",
                    f"{len(slow)} layers take {ms:.3f} ms more than {model.label} expects from their FLOPs and bytes on "
                    f"{gpu.name}: each over {model.error.outlier_ratio:.2f}x its estimate, where 90% of measured layers "
                    f"stay: {top}.{storm}",
                    "Look at their tactics and formats (Layers page): a CUDA-core or untuned tactic, channels padded to "
                    "a vector width, an INT8 kernel writing FP16/FP32, or a layout change paid for in its own kernel. "
                    "The Latency page shows every layer measured beside its estimate.",
                    ms, share, list(slow["name"]), "medium" if share >= 10 else "info",
                    "; ".join(f"{n[:50]}: {m:.4f} ms measured, {e:.4f} ms estimated" for n, m, e in
                              zip(slow["name"].head(5), slow["measured_ms"].head(5), slow["estimated_ms"].head(5))),
                    estimate=True)]


def _reconcile_finding(engine: Engine) -> list[Finding]:
    rec = reconcile(engine)
    if rec.gap_pct is None or abs(rec.gap_pct) < 5:
        return []
    return [Finding("reconciliation", rec.explanation,
                    "Read per-layer times as relative weights; quote end-to-end numbers from --exportTimes with --useCudaGraph.",
                    severity="info", evidence=f"{rec.streams} CUDA streams" if rec.streams else "StreamId not exported")]


def _size_finding(engine: Engine) -> list[Finding]:
    if engine.layers.empty or not engine.layers["weights_bytes"].any():
        return []
    account = engine.analysis.byte_account
    return [Finding("engine_bytes", account.statement,
                    "Compare builds with `layerlens compare` to see which layers changed weight precision.",
                    severity="info")]


def _precision_check_finding(engine: Engine) -> list[Finding]:
    """The build asked for a precision (flags, recipe, the ONNX's types) but most layer I/O is wider: rf-detr #1453."""
    requested, source = engine.analysis.requested_precision
    if source not in STATED_SOURCES or requested not in PRECISION_RANK:
        return []
    shares = io_precision_shares(engine.layers)
    numeric = shares.drop([p for p in DATA_PRECISIONS if p in shares.index])
    if numeric.empty:
        return []
    met = float(numeric[[PRECISION_RANK.get(p, 99) <= PRECISION_RANK[requested] for p in numeric.index]].sum() / numeric.sum())
    if met >= MIN_REQUESTED_IO_SHARE["quantized" if requested in QUANTIZED_PRECISIONS + ("FP8", "FP4") else "float"]:
        return []
    mix = ", ".join(f"{p} {share:.0%}" for p, share in shares.items())
    tensors = len({t.get("Name") for side in ("inputs", "outputs") for ts in engine.layers[side] for t in ts
                   if isinstance(t, dict)})
    strongly_typed = source != "build flags"
    fix = ("A strongly typed engine runs the types its ONNX gives it: check that the converted model (ModelOpt AutoCast "
           "or onnxconverter-common for FP16/BF16, Q/DQ for INT8/FP8) is the file that was built, not the original."
           if strongly_typed else "A precision flag is a permission, not an order: pin the precision with explicit Q/DQ or "
           "strong typing (--stronglyTyped on a converted ONNX), and check the layers that stay wide on the Precision page.")
    return [Finding("precision_not_applied",
                    f"{engine.name} was asked for {requested} ({source}) but only {met:.0%} of its layer I/O tensors are "
                    f"{requested} or narrower: {mix} of {tensors} tensors.", fix, severity="high",
                    evidence=f"I/O tensors by type (each counted once by name): {mix}")]


def _growth_finding(baseline: Engine, engine: Engine) -> list[Finding]:
    """"Why is INT8 bigger than FP32?": said first when a reduced-precision engine outgrows its float baseline."""
    growth = explain_growth(baseline, engine)
    if growth is None:
        return []
    grew = growth.components[growth.components["delta_bytes"] > 0]
    evidence = "; ".join(f"{r.component}: {r.baseline_bytes:,} -> {r.bytes:,} bytes" for r in grew.itertuples())
    return [Finding("engine_bigger_than_baseline", growth.statement, growth.fix, layers=growth.layers, severity="high",
                    evidence=evidence)]


def _calibration_findings(engine: Engine) -> list[Finding]:
    """Scales a calibrator wrote that cannot be right: zero, inf, NaN, or orders of magnitude off."""
    from engine_core.analysis.calibration import OUTLIER_DECADES, scale_problems

    if engine.calibration is None:
        return []
    problems = scale_problems(engine.calibration)
    if problems.empty:
        return []
    counts = ", ".join(f"{n} {p}" for p, n in problems["problem"].value_counts().items())
    return [Finding("calibration_scales", f"{len(problems)} of {len(engine.calibration.scales)} tensors in the "
                    f"calibration cache have unusable or suspicious scales ({counts}; outliers are more than "
                    f"{OUTLIER_DECADES:.0f} decades from the median).",
                    "Recalibrate with representative data; a saturating scale clips activations, a tiny one wastes "
                    "the INT8 range. `layerlens calib CACHE` lists them.", severity="medium",
                    evidence="; ".join(f"{t}: {s:.3g} ({p})" for t, s, p in
                                       zip(problems["tensor"], problems["scale"], problems["problem"]))[:300])]


def _baseline_findings(baseline: Engine, engine: Engine) -> list[Finding]:
    cmp, att = engine.analysis.compared_with(baseline)
    out = []
    if att.different_networks:
        out.append(Finding("different_networks", att.verdict, "Compare builds of the same model: a group-by-group "
                           "diff of two networks means nothing.", severity="high",
                           evidence=f"{cmp.aligned_share:.0%} of compute layers align ({cmp.match_counts()})"))
        return out
    estimate = att.estimate
    parts = "; ".join(f"{p.label} {p.ms:+.3f} ms" for p in att.parts if p.ms)
    top = cmp.groups.assign(_d=cmp.groups["delta_ms"].astype(float)).nsmallest(3, "_d") if not cmp.groups.empty else cmp.groups
    evidence = "; ".join(f"{'/'.join(g.onnx_nodes)[:60]}: {g.a_ms:.3f}->{g.b_ms:.3f} ms ({g.precision_change or 'same'})"
                         for g in top.itertuples())
    out.append(Finding("speedup", f"{att.verdict} Per-layer delta {att.delta_ms:+.3f} ms = {parts or 'no change'}.",
                       "Open the Compare page to see the attribution waterfall per aligned group.",
                       abs(att.delta_ms), 100.0 * abs(att.delta_ms) / att.a_sum_ms if att.a_sum_ms else None,
                       [n for g in top.itertuples() for n in g.b_layers], "info", evidence, estimate))
    slower = next(p for p in att.parts if p.kind == "slower")
    added = next(p for p in att.parts if p.kind == "only_new")
    for part, kind, fix in ((slower, "slower_groups", "Check these groups for reformats and wide outputs on the Compare page."),
                            (added, "added_layers", "These layers exist only in the new engine (reformats, quantize "
                                                    "kernels, split epilogues): fuse Q/DQ or keep formats aligned to remove them.")):
        if part.ms > 0.05 * (att.a_sum_ms or 1):
            out.append(Finding(kind, f"{part.label}: +{part.ms:.3f} ms"
                               + (f" over {part.groups} groups" if part.groups else f" in {len(part.layers)} layers") + ".",
                               fix, part.ms, share_of_time(engine, part.ms) if not estimate else None,
                               part.layers, "medium", "", estimate))
    moved_bytes = diff_bytes(cmp.groups)
    if not moved_bytes.empty:
        delta = int(moved_bytes["delta_bytes"].sum())
        out.append(Finding("bytes_moved", f"{len(moved_bytes)} aligned groups changed weight storage: "
                           f"{delta / 2**20:+.2f} MiB of weights ({int(cmp.groups['a_weights_bytes'].sum()) / 2**20:.2f} -> "
                           f"{int(cmp.groups['b_weights_bytes'].sum()) / 2**20:.2f} MiB in matched groups).",
                           "The Size page shows the per-layer byte diff.", severity="info"))
    return out


def findings_json(findings: list[Finding]) -> list[dict]:
    return [f.to_dict() for f in findings]

