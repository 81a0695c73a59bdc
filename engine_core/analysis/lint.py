"""Lints: layer-level performance smells and "is this comparison fair?" checks.

Layer lints: reformat hot spots, Q/DQ placement (INT8 in with float out,
standalone Q/DQ reformats), tensor-core channel alignment, CUDA-core tactics
in a reduced-precision layer.

Fair-comparison lints, each grounded in a tracker thread (TENSORRT-NOTES §8.10):
"FP32" that is TF32 (#1824), ``--int8`` without ``--fp16`` (#550, #3894), INT8
without a calibration cache (#687), batch 1 on a large GPU (Model-Optimizer#3),
no CUDA graph / spin-wait, engines that differ in GPU, TensorRT or shapes, and
TensorRT 11 builds using flags 11.0 removed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from engine_core.analysis.findings import Finding, share_of_time
from engine_core.analysis.latency import reformat_boundaries
from engine_core.analysis.requested import is_explicitly_quantized
from engine_core.engine import Engine
from engine_core.layer_table import record_param
from engine_core.recipes.spec import recipe_precision

REFORMAT_HOTSPOT_PCT = 5.0
# Tensor cores need channel multiples of 8 (FP16/BF16) and 32 (INT8) to avoid padding;
# TensorRT best practices, "Optimizing for Tensor Cores".
_ALIGNMENT = {"FP16": 8, "BF16": 8, "INT8": 32, "FP8": 16}
# Searched in lower-cased tactic names: a re.I search was 5x slower, over every layer of a 100k-layer engine.
_CUDA_CORE_TACTIC = re.compile(r"ffma|sgemm|scudnn|gemv|dp4a")
_REMOVED_IN_11 = ("--fp16", "--int8", "--best", "--bf16", "--fp8", "--calib", "--layerPrecisions",
                  "--layerOutputTypes", "--precisionConstraints")


def lint_layers(engine: Engine) -> list[Finding]:
    """Reformat, Q/DQ placement, alignment and tactic lints for one engine."""
    layers = engine.layers
    out: list[Finding] = []
    boundaries = reformat_boundaries(layers)
    if not boundaries.empty:
        count, ms = int(boundaries["layers"].sum()), float(boundaries["time_ms"].sum())
        share = share_of_time(engine, ms)
        worst = boundaries.iloc[0]
        if share is not None and share >= REFORMAT_HOTSPOT_PCT:
            out.append(Finding(
                "reformat_hotspot", f"{count} reformat layers cost {ms:.3f} ms ({share:.0f}%); the largest boundary is "
                f"{worst.boundary} ({int(worst.layers)} layers, {worst.time_ms:.3f} ms).",
                "Keep neighbouring layers in one precision and format: add Q/DQ so both sides of an INT8 boundary "
                "stay INT8, and set --inputIOFormats/--outputIOFormats to the formats the first/last layers use.",
                ms, share, [n for names in boundaries["names"] for n in names], "medium",
                "; ".join(f"{b.boundary}: {b.layers} layers {b.time_ms:.3f} ms" for b in boundaries.itertuples())))
    wide = layers[layers["wide_output"]]
    if not wide.empty:
        ms = float(wide["avg_ms"].sum())
        outs = ", ".join(sorted(set(wide["output_precision"])))
        out.append(Finding(
            "qdq_wide_output", f"{len(wide)} INT8 layers write {outs} (tactics {', '.join(sorted({_io_token(t) for t in wide['tactic_name']}))}): "
            "their consumers are not quantized, so the next ops run in float.",
            "Add Q/DQ on the consumer's input (for a residual Add, on the residual branch too) so the INT8 "
            "kernel can write INT8.", ms, share_of_time(engine, ms), list(wide["name"]), "medium"))
    standalone = layers[(layers["origin"] == "QDQ") & layers["avg_ms"].notna()]
    if len(standalone) > 1:
        ms = float(standalone["avg_ms"].sum())
        out.append(Finding(
            "unfused_qdq", f"{len(standalone)} Q/DQ nodes run as standalone reformat layers ({ms:.3f} ms).",
            "Place Q/DQ where TensorRT can fuse them into the neighbouring conv/GEMM (inputs of quantizable ops, "
            "not between pointwise ops); see the Q/DQ placement recommendations.", ms, share_of_time(engine, ms),
            list(standalone["name"]), "info"))
    misaligned = _misaligned(layers)
    if misaligned:
        names = [m[0] for m in misaligned]
        ms = float(layers.loc[layers["name"].isin(names), "avg_ms"].sum())
        detail = "; ".join(f"{n[:50]}: {c}->{k} channels at {p} (needs multiples of {_ALIGNMENT[p]})" for n, c, k, p in misaligned[:4])
        out.append(Finding(
            "channel_alignment", f"{len(misaligned)} convolutions have channel counts that are not tensor-core aligned.",
            "Pad channels to multiples of 8 (FP16/BF16) or 32 (INT8), or accept the padding cost on the input layer.",
            ms, share_of_time(engine, ms), names, "info", detail))
    reduced = layers[layers["compute_precision"].isin(["FP16", "BF16", "INT8"]) & ~layers["is_data_movement"]]
    cuda_core = reduced[np.array([_CUDA_CORE_TACTIC.search(str(t).lower()) is not None  # regex on candidates only
                                  for t in reduced["tactic_name"].fillna("").tolist()], dtype=bool)]
    if not cuda_core.empty:
        ms = float(cuda_core["avg_ms"].sum())
        out.append(Finding(
            "non_tensor_core_tactic", f"{len(cuda_core)} reduced-precision layers run CUDA-core tactics "
            f"({', '.join(sorted({_cuda_token(t) for t in cuda_core['tactic_name']}))}), not tensor cores.",
            "Usually small GEMV/FC layers at batch 1: batch more requests, or check alignment of their dims.",
            ms, share_of_time(engine, ms), list(cuda_core["name"]), "info"))
    return out


def _io_token(tactic: str) -> str:
    m = re.search(r"i8f16|i8f32|i8bf16", tactic or "")
    return m.group(0) if m else "?"


def _cuda_token(tactic: str) -> str:
    m = _CUDA_CORE_TACTIC.search((tactic or "").lower())
    return m.group(0) if m else "?"


def _misaligned(layers: pd.DataFrame) -> list[tuple[str, int, int, str]]:
    out = []
    convs = layers[(layers["parameter_type"] == "Convolution") & layers["compute_precision"].isin(list(_ALIGNMENT))]
    for name, record, inputs, precision in zip(convs["name"], convs["record"], convs["inputs"], convs["compute_precision"]):
        dims = (inputs[0].get("Dimensions") if inputs else None) or []
        groups = record_param(record or {}, "Groups") or 1
        if groups > 1 or len(dims) < 2:
            continue  # depthwise/grouped convs do not map onto tensor-core GEMMs the same way
        c, k = dims[1], record_param(record or {}, "OutMaps") or 0
        need = _ALIGNMENT[precision]
        if c <= 4:
            continue  # an image input (RGB): TensorRT pads it to a vector of 4, and nothing upstream can change it
        if c > 0 and k and (c % need or k % need):
            out.append((name, c, k, precision))
    return out


def lint_fairness(engine: Engine) -> list[Finding]:
    """Is this engine's build and measurement a fair basis for comparison?"""
    layers = engine.layers
    out: list[Finding] = []
    precision = (engine.build_precision or "").upper()
    flags = set(re.split(r"[^A-Z0-9]+", precision)) - {""}
    tf32 = layers[layers["compute_precision"] == "TF32"]
    if not tf32.empty and (flags == {"FP32"} or not flags):
        ms = float(tf32["avg_ms"].sum())
        label = f"'{engine.build_precision}'" if engine.build_precision else "with no precision flags"
        out.append(Finding(
            "fp32_is_tf32", f"Engine {label} is TF32 on {engine.device or 'this GPU'}: {len(tf32)} layers "
            f"({ms:.3f} ms, {(share_of_time(engine, ms) or 0):.0f}% of time) run TF32 tensor-core tactics, so it is not an FP32 baseline.",
            "Build the baseline with --noTF32 for true FP32, or call it TF32 when comparing against INT8/FP16.",
            ms, share_of_time(engine, ms), list(tf32["name"]), "high", "tactic names contain 'tf32' (TensorRT enables TF32 by default, #1824)"))
    int8_only = "INT8" in flags and "FP16" not in flags and "BEST" not in flags
    if int8_only or any(e.kind == "int8_without_fp16" for e in engine.events):
        fp32 = layers[layers["compute_precision"].isin(["FP32", "TF32"]) & ~layers["is_noop"]]
        ms = float(fp32["avg_ms"].sum()) if not fp32.empty else None
        out.append(Finding(
            "int8_without_fp16", f"INT8 was enabled without FP16: {len(fp32)} layers that cannot run INT8 fall back to "
            f"FP32/TF32 instead of FP16.", "Add --fp16 (or --best) next to --int8 on TensorRT <= 10.",
            ms, share_of_time(engine, ms) if ms else None, list(fp32["name"]), "high", "trtexec: 'FP32 and INT8 precisions have been specified'"))
    calibration = engine.metadata.build_options.get("Calibration")
    if "INT8" in flags and calibration is not None and not calibration.strip() and not is_explicitly_quantized(layers):
        out.append(Finding(
            "int8_no_calibration", "INT8 was built without a calibration cache or Q/DQ: trtexec used synthetic scales, "
            "so accuracy is meaningless and layer choices may differ from a calibrated build.",
            "Pass --calib=<cache> from a real calibration, or quantize the ONNX with ModelOpt (Q/DQ).",
            severity="high", evidence="Build Options 'Calibration:' is empty (#687)"))
    if engine.recipe and "uncalibrated" in engine.recipe:
        out.append(Finding(
            "recipe_uncalibrated", f"The {recipe_precision(engine.recipe)} recipe was calibrated on synthetic inputs "
            f"({engine.build_facts.get('calibration', 'no calibration data')}): the engine's structure, sizes and kernels "
            "are real, but its scales say nothing about accuracy.",
            "Build again with --calib DIR (a folder of .npz batches of real inputs) before judging accuracy.",
            severity="high", evidence=f"recipe {engine.recipe}"))
    batch = _batch(engine)
    sms = _float(engine.metadata.device_information.get("SMs"))
    if batch == 1 and sms and sms >= 40:
        out.append(Finding(
            "batch_1_large_gpu", f"Batch 1 on {engine.device} ({sms:.0f} SMs): small kernels leave most of the GPU idle, "
            "so INT8/FP16 gains shrink to launch and memory limits.",
            "Measure at the batch size you deploy with, or the largest that fits latency; INT8 pays off with work to do.",
            severity="medium", evidence=f"input shapes {engine.input_shapes or 'batch 1'}"))
    inference = engine.metadata.inference_options
    measured = engine.gpu_compute is not None or engine.per_layer_sum_ms is not None
    missing = [k for k in ("CUDA Graph", "Spin-wait") if inference.get(k) == "Disabled"]
    if missing and measured:
        out.append(Finding(
            "measurement_setup", f"Measured without {' and '.join(missing)}: launch overhead and timer jitter are in the numbers.",
            "Re-measure with --useCudaGraph --useSpinWait (and --noDataTransfers for GPU-only time).",
            severity="info", evidence=", ".join(f"{k}: Disabled" for k in missing)))
    if _major(engine.tensorrt_version) >= 11:
        used = [f for f in _REMOVED_IN_11 if re.search(re.escape(f) + r"(?:=|\s|$)", engine.command or "")]
        if used:
            out.append(Finding(
                "trt11_removed_flags", f"TensorRT {engine.tensorrt_version} removed weak typing and calibration, but the build "
                f"uses {', '.join(used)}.", "Quantize the ONNX with ModelOpt (Q/DQ) or AutoCast and build strongly typed.",
                severity="high", evidence=engine.command or ""))
    return out


def lint_pair(a: Engine, b: Engine) -> list[Finding]:
    """Do two engines differ in ways that make their comparison unfair?"""
    diffs = []
    for label, x, y in (("GPU", a.device, b.device), ("TensorRT", a.tensorrt_version, b.tensorrt_version),
                        ("input shapes", a.input_shapes, b.input_shapes)):
        if x and y and x != y:
            diffs.append(f"{label}: {x} vs {y}")
    if not diffs:
        return []
    return [Finding("unfair_pair", f"'{a.name}' and '{b.name}' differ in more than precision: " + "; ".join(diffs) + ".",
                    "Compare engines built and measured on the same GPU, TensorRT version and input shapes.",
                    severity="high", evidence="; ".join(diffs))]


def _batch(engine: Engine) -> int | None:
    shapes = engine.input_shapes
    if shapes:
        m = re.search(r"[=:](\d+)x", shapes)
        if m:
            return int(m.group(1))
    layers = engine.layers
    if layers.empty or not layers.iloc[0]["inputs"]:
        return None
    dims = layers.iloc[0]["inputs"][0].get("Dimensions") or []
    return dims[0] if dims and isinstance(dims[0], int) and dims[0] > 0 else None


def _float(value) -> float | None:
    try:
        return float(str(value).split()[0])
    except (TypeError, ValueError, IndexError):
        return None


def _major(version: str | None) -> int:
    try:
        return int((version or "0").split(".")[0])
    except ValueError:
        return 0
