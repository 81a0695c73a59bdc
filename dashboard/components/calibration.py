"""The Precision page's Calibration section: the cache the engine was built with, and what it leaves out."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, state
from dashboard.components.common import plot, record
from layerlens.views.figures import make_dynamic_range_figure
from engine_core.analysis.calibration import compare_caches, dynamic_ranges, missing_ranges, scale_problems, summarize_cache
from engine_core.engine import Engine


def render_calibration(engine: Engine, provenance: str) -> None:
    st.subheader("Calibration")
    cache = engine.calibration
    if cache is None:
        st.caption("No INT8 calibration cache came with this engine. Put it beside the engine's files (or pass "
                   "`--calib-cache` to `layerlens import`) to see which tensors have no scale, and scales that are "
                   "zero, infinite or orders of magnitude off. `layerlens calib CACHE` reads a cache on its own.")
        return
    s = summarize_cache(cache)
    cols = st.columns(4)
    cols[0].metric("Tensors with a scale", f"{s['tensors']:,}", help=f"{Path(cache.file).name}")
    cols[1].metric("Calibrator", cache.calibrator or "unknown", help=f"TensorRT {cache.tensorrt_version or 'unknown'}")
    cols[2].metric("Zero / inf / NaN scales", f"{s['zero']} / {s['inf']} / {s['nan']}")
    problems = scale_problems(cache)
    cols[3].metric("Suspicious scales", len(problems), help="Zero, inf, NaN, or more than 3 decades from the median.")
    plot(make_dynamic_range_figure(dynamic_ranges(cache), provenance), "Calibration dynamic range")
    missing = missing_ranges(engine.layers, cache)
    if missing.empty:
        st.success("Every tensor an INT8-capable layer reads has a scale in the cache.")
    else:
        ms = missing["avg_ms"].sum(min_count=1)
        n = len(missing)
        st.warning(f"**{n}** INT8-capable layer{'s' if n != 1 else ''} read{'' if n != 1 else 's'} a tensor the cache has "
                   f"no scale for, so {'they' if n != 1 else 'it'} cannot run INT8 (#2031): "
                   f"{missing['weights_bytes'].sum() / 2**20:.2f} MiB of weights"
                   + (f", {ms:.4f} ms" if ms == ms else "") + ".", icon=":material/warning:")
        st.dataframe(missing, hide_index=True, width="stretch")
        record("Layers without a calibration scale", table=missing)
    if not problems.empty:
        st.dataframe(problems, hide_index=True, width="stretch")
        record("Suspicious calibration scales", table=problems)
    baseline = st.session_state.get(state.BASELINE)
    other = data.load_engine(baseline).calibration if baseline else None
    if other is not None:
        c = compare_caches(other, cache)
        st.markdown(f"**Against the baseline's cache** ({Path(other.file).name}): {c['shared']} tensors in both, "
                    f"{len(c['only_in_a'])} only in the baseline's, {len(c['only_in_b'])} only in this one; "
                    f"{c['identical']} identical, {c['within_10pct']} within 10%, {c['more_than_2x']} differ more than 2x.")
