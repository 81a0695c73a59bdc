"""The one-line provenance stamped on every chart, export and image: engine, GPU, builder, precision, shapes,
and, for engines nothing timed, the basis of their times. Pure (no Streamlit)."""

from __future__ import annotations

from engine_core.engine import Engine


def provenance_text(engine: Engine) -> str:
    where = engine.device or (f"built for {engine.target}, not run on a GPU" if engine.target else "GPU unknown")
    builder = engine.builder or (f"TensorRT {engine.tensorrt_version}" if engine.tensorrt_version else "TensorRT unknown")
    parts = [engine.name, where, builder, engine.precision_label or "precision flags unknown"]
    if engine.input_shapes:
        parts.append(engine.input_shapes)
    if engine.is_estimate:
        parts.append(f"times: {engine.time_basis.replace('estimate', 'ESTIMATE', 1)}")
    return " · ".join(parts)
