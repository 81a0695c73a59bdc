"""The eight key numbers of an engine, as the Overview's cards and the report's KPI block show them. Pure."""

from __future__ import annotations

from engine_core.analysis.latency_model import default_latency_model
from engine_core.analysis.size import ByteAccount
from engine_core.engine import Engine


def key_numbers(engine: Engine, timed: Engine, account: ByteAccount) -> list[tuple[str, str, str | None]]:
    """``(label, value, help)`` in two rows of four: time (measured, or the labelled estimate) and size, then
    weights, layers, per-layer sum and the requested precision. ``timed`` is ``engine`` with estimated times."""
    gpu = engine.gpu_compute
    if timed.is_estimate:
        model = default_latency_model()
        first = [(f"Latency (estimate ±{model.error.total_pct:.0f}%)", f"~{timed.per_layer_sum_ms:.4f} ms",
                  f"Per-layer sum, {timed.time_basis}. Not a measurement."),
                 ("Built for", engine.target or "—", "TensorRT-RTX target compute capabilities."),
                 ("Builder", (engine.builder or "—").split(" (")[0], engine.builder)]
    else:
        first = [("GPU compute median", f"{gpu.median_ms:.4f} ms" if gpu else "—",
                  "From --exportTimes, TREx profile metadata or the log's performance summary."),
                 ("GPU compute p99", f"{gpu.p99_ms:.4f} ms" if gpu and gpu.p99_ms else "—", None),
                 ("Throughput", f"{engine.throughput_qps:,.0f} qps" if engine.throughput_qps else "—", None)]
    requested, source = engine.analysis.requested_precision
    return first + [
        ("Engine size", f"{engine.engine_size_bytes / 2**20:.2f} MiB" if engine.engine_size_bytes else "unknown",
         "From trtexec's 'Created engine with size'. Import the build log to see it."),
        ("Weights", f"{account.weights_bytes / 2**20:.2f} MiB", "Itemised layer weights (bias apart)."),
        ("Layers", f"{len(engine.layers):,}", None),
        ("Per-layer sum", f"{engine.per_layer_sum_ms:.4f} ms" if engine.per_layer_sum_ms else "not measured",
         "Σ averageMs over the profile; larger than end-to-end in TensorRT 8.x (profiler overhead)."),
        ("Requested precision", requested or "unknown",
         f"Lowest precision enabled ({source}); build flags: {engine.precision_label or 'unknown'}."),
    ]
