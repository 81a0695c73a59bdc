"""``summarize_engine``: the facts of one engine as a JSON-ready dict.

The shape is the public contract of ``layerlens summary --json`` (see README);
extra keys may be added, existing ones never change meaning.
"""

from __future__ import annotations

import math

from engine_core.engine import Engine


def summarize_engine(engine: Engine) -> dict:
    """Summarize one engine (layers, weights, latency, size, status)."""
    layers = engine.layers
    has_weights = layers["weights_count"] > 0
    has_bias = layers["bias_count"] > 0
    has_constants = layers["kernel_constants_count"] > 0
    gpu = engine.gpu_compute
    requested, requested_source = engine.analysis.requested_precision
    return {
        "name": engine.name,
        "files": engine.files,
        "tensorrt_version": engine.tensorrt_version,
        "device": engine.device,
        "build_precision": engine.build_precision,
        "input_shapes": engine.input_shapes,
        "layer_source": engine.layer_source,
        "builder": engine.builder,
        "recipe": engine.recipe,
        "target": engine.target,
        "layers": {
            "count": int(len(layers)),
            "by_type": _counts(layers["layer_type"].dropna()),
            "by_precision": _counts(layers["compute_precision"]),
        },
        "weights": {
            "count_by_dtype": _sums(layers.loc[has_weights], "weights_precision", "weights_count"),
            "bytes": int(layers["weights_bytes"].sum()),
            "bias_count_by_dtype": _sums(layers.loc[has_bias], "bias_precision", "bias_count"),
            "bias_bytes": int(layers["bias_bytes"].sum()),
            "kernel_constants_count_by_dtype": _sums(layers.loc[has_constants], "kernel_constants_precision",
                                                     "kernel_constants_count"),
            "kernel_constants_bytes": int(layers["kernel_constants_bytes"].sum()),
            "layers_sharing_weights": int(layers["weights_shared_from"].notna().sum()),
        },
        "requested_precision": {"precision": requested, "source": requested_source},
        "io_tensors": [t.to_json() for t in engine.io_tensors],
        "latency_ms": {
            "gpu_compute_median": _num(gpu.median_ms) if gpu else None,
            "gpu_compute_mean": _num(gpu.mean_ms) if gpu else None,
            "gpu_compute_p99": _num(gpu.p99_ms) if gpu else None,
            "gpu_compute_source": engine.gpu_compute_source,
            "per_layer_sum": engine.per_layer_sum_ms,
            "profile_iterations": engine.profile_iterations,
        },
        "throughput_qps": engine.throughput_qps,
        "engine_size_bytes": engine.engine_size_bytes,
        "memory_bytes": {k: int(v) for k, v in engine.sizes.items() if k.endswith("_bytes") and k != "engine_size_bytes"},
        "build_time_s": engine.sizes.get("build_time_s"),
        # Only for engines nobody timed (e.g. TensorRT-RTX CPU builds): the calibrated model's labelled estimate.
        "latency_estimate": None if engine.measured else _estimate(engine),
        # A LayerLens build's output error against the float model it came from (see `layerlens accuracy`).
        "accuracy": _accuracy(engine),
        "status": engine.status,
        "warnings": list(engine.warnings),
    }


def _accuracy(engine: Engine) -> dict | None:
    if engine.accuracy is None:
        return None
    output = engine.accuracy.output.to_json()
    return {"output_sqnr_db": output["sqnr_db"], "identical": output["identical"],
            "top1_agreement": output["top1_agreement"], "inputs": engine.accuracy.inputs.get("source"),
            "statement": engine.accuracy.statement()}


def _estimate(engine: Engine) -> dict | None:
    estimate = engine.analysis.estimate()
    return estimate.to_json() if estimate else None


def _counts(series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts().items()}


def _sums(frame, key: str, value: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.groupby(key)[value].sum().items()}


def _num(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def format_summary(summary: dict) -> str:
    """A readable multi-line text version of :func:`summarize_engine`'s dict."""
    s = summary
    lat = s["latency_ms"]
    lines = [f"{s['name']}  [{s['status']}]",
             f"  files:       {', '.join(_short(f) for f in s['files'])}",
             f"  builder:     {s['builder'] or 'unknown'}    GPU: {s['device'] or 'unknown'}"
             + (f"    target: {s['target']}" if s.get("target") else ""),
             (f"  precision:   recipe {s['recipe']} (strongly typed: precision comes from the model)" if s.get("recipe")
              else f"  precision:   {s['build_precision']} (build flags)" if s["build_precision"]
              else f"  precision:   {s['requested_precision']['precision'] or 'unknown'} "
                   f"({s['requested_precision']['source']})")
             + (f"    shapes: {s['input_shapes']}" if s.get("input_shapes") else "")]
    layers = s["layers"]
    by_prec = ", ".join(f"{k} {v}" for k, v in layers["by_precision"].items())
    lines.append(f"  layers:      {layers['count']}  ({by_prec})")
    if layers["by_type"]:
        lines.append("  types:       " + ", ".join(f"{k} {v}" for k, v in layers["by_type"].items()))
    w = s["weights"]
    if w["count_by_dtype"]:
        lines.append(f"  weights:     {_mib(w['bytes'])}  ("
                     + ", ".join(f"{k} {v:,}" for k, v in w["count_by_dtype"].items()) + f" elements); bias {_mib(w['bias_bytes'])}"
                     + (f"; {w['layers_sharing_weights']} layers reuse weights counted once" if w["layers_sharing_weights"] else ""))
    if w["kernel_constants_bytes"]:
        lines.append(f"  constants:   {_mib(w['kernel_constants_bytes'])} in generated kernels ("
                     + ", ".join(f"{k} {v:,}" for k, v in w["kernel_constants_count_by_dtype"].items()) + " elements)")
    parts = []
    if lat["gpu_compute_median"] is not None:
        parts.append(f"GPU compute median {lat['gpu_compute_median']:.4f} ms (mean {lat['gpu_compute_mean']:.4f})")
    if lat["per_layer_sum"] is not None:
        parts.append(f"per-layer sum {lat['per_layer_sum']:.4f} ms over {lat['profile_iterations'] or '?'} iterations")
    estimate = s.get("latency_estimate")
    if estimate:
        parts.append(f"not measured; {estimate['total_ms']:.4f} ms on {estimate['gpu']} ({estimate['basis']})")
    if parts:
        lines.append("  latency:     " + "; ".join(parts))
    if s["engine_size_bytes"] is not None:
        lines.append(f"  engine size: {_mib(s['engine_size_bytes'])}")
    if s.get("accuracy"):
        lines.append(f"  accuracy:    {s['accuracy']['statement']}")
    for warning in s["warnings"]:
        lines.append(f"  ! {warning}")
    return "\n".join(lines)


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]
