"""Latency: waterfall (aggregated for big engines), top layers, groupings, reconciliation, streams, measured vs
estimated per layer, roofline."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from dashboard.components.common import (current_engine, head_rows, plot, provenance_text, record, render_estimate_notice,
                                         render_provenance)
from layerlens.views.figures import (MAX_BARS, make_bucket_waterfall_figure, make_measured_vs_estimated_figure,
                                     make_reconcile_figure, make_roofline_figure, make_stream_lanes_figure,
                                     make_time_by_figure, make_top_layers_figure, make_waterfall_figure)
from engine_core.analysis.latency import aggregate_waterfall, reconcile, reformat_boundaries, time_by, top_layers
from engine_core.analysis.latency_model import default_latency_model

st.title("Latency")
MODEL = default_latency_model()


def _gpu_picker(engine) -> str:
    return st.selectbox("GPU for the estimate", [""] + data.gpu_names(), key=state.GPU,
                        format_func=lambda n: n or f"this engine's GPU ({engine.device or 'default for its build target'})",
                        help=f"Estimates come from {MODEL.basis}: datasheet peaks (dense) plus what real TensorRT "
                             "profiles add to them. Another GPU shows the estimate there.")


def _render_measured_vs_estimated(run_id: str, engine, prov: str) -> None:
    """Each profiled layer against the model's estimate on the engine's own GPU, and the layers far above it."""
    st.subheader("Measured vs estimated")
    table = data.load_measured_vs_estimated(run_id)
    gpu = data.engine_gpu(engine)
    if table.empty or gpu is None:
        st.caption(f"'{engine.device or 'unknown GPU'}' is not in the GPU catalog and its device information is missing, "
                   "so the model has no GPU to estimate these layers on.")
        return
    timed = table[table["measured_ms"] > 0]
    measured, estimated = timed["measured_ms"].sum(), table["estimated_ms"].sum()
    st.caption(f"Each profiled layer against what **{MODEL.basis}** expects from its FLOPs and bytes on {gpu.name}. "
               f"On the grey diagonal a layer runs as expected; above the red dashed line ({MODEL.error.outlier_ratio:.2f}x, "
               "where 90% of real layers stay) it is slower than the model can explain: a slow tactic, padded "
               "channels, a reformat storm. That is a finding, not a model error to shrug off.")
    cols = st.columns(3)
    cols[0].metric("Measured per-layer sum", f"{measured:.4f} ms")
    cols[1].metric(f"Estimated ({MODEL.label})", f"~{estimated:.4f} ms", f"{100 * (estimated - measured) / measured:+.1f}%"
                   if measured else None, delta_color="off", help=MODEL.basis)
    slow = table[table["slower_than_model"]].sort_values("excess_ms", ascending=False)
    cols[2].metric("Slower than the model expects", f"{len(slow)} layers",
                   f"+{slow['excess_ms'].sum():.4f} ms" if len(slow) else None, delta_color="inverse")
    plot(make_measured_vs_estimated_figure(table, MODEL.label, MODEL.error.outlier_ratio, gpu.name, prov),
         "Measured vs estimated")
    if not slow.empty:
        shown = slow[["order", "name", "layer_type", "compute_precision", "layer_class", "measured_ms", "estimated_ms",
                      "ratio", "excess_ms"]]
        st.dataframe(head_rows(shown, "layers", "largest excess first"), hide_index=True, width="stretch")
        record("Layers slower than the model expects", table=shown)



stored = current_engine()
if stored is not None:
    run_id = st.session_state[state.RUN]
    if not stored.measured:
        _gpu_picker(stored)  # it decides every number on the page of an unmeasured engine
    engine = data.load_timed_engine(run_id, st.session_state.get(state.GPU) or "")
    render_provenance(engine)
    render_estimate_notice(engine)
    prov = provenance_text(engine)
    layers = engine.layers
    wf = engine.analysis.waterfall
    if wf.empty:
        st.info("No per-layer times in these artifacts. Add the profile: `trtexec --loadEngine=<engine> "
                "--exportProfile=model.profile.json --separateProfileRun`, or paste a --dumpProfile table on the Import page.")
        st.stop()
    n = len(wf)
    if n > MAX_BARS:
        lo, hi = int(wf["order"].min()), int(wf["order"].max())
        st.caption(f"{n:,} timed layers: the overview groups consecutive layers; narrow the range to zoom in.")
        start, end = st.slider("Layer range (execution order)", lo, hi, (lo, hi), key=state.WATERFALL_RANGE)
        window = wf[(wf["order"] >= start) & (wf["order"] <= end)]
        if len(window) <= MAX_BARS:
            plot(make_waterfall_figure(window, prov), "Latency waterfall (zoomed)")
        else:
            plot(make_bucket_waterfall_figure(aggregate_waterfall(layers[layers["order"].between(start, end)]), prov),
                 "Latency waterfall")
    else:
        plot(make_waterfall_figure(wf, prov), "Latency waterfall")

    left, right = st.columns(2)
    with left:
        plot(make_top_layers_figure(top_layers(layers, 15), prov), "Top layers")
    with right:
        plot(make_time_by_figure(time_by(layers, "compute_precision"), "compute_precision", prov), "Time by precision")
        plot(make_time_by_figure(time_by(layers, "layer_type").head(15), "layer_type", prov), "Time by layer type")

    st.subheader("Reformat layers")
    boundaries = reformat_boundaries(layers)
    if boundaries.empty:
        st.caption("No timed reformat layers.")
    else:
        total = boundaries["time_ms"].sum()
        st.markdown(f"**{int(boundaries['layers'].sum())}** reformat layers take **{total:.4f} ms** "
                    f"({boundaries['share_pct'].sum():.1f}% of per-layer time).")
        st.dataframe(boundaries.drop(columns="names"), hide_index=True, width="stretch")
        record("Reformats by boundary", table=boundaries.drop(columns="names"))

    if engine.is_estimate:
        st.stop()  # nothing measured to reconcile or to hold against the model
    st.subheader("Reconciliation with end-to-end time")
    rec = reconcile(engine)
    st.write(rec.explanation)
    record("Reconciliation", text=rec.explanation)
    if rec.gap_ms is not None:
        plot(make_reconcile_figure(rec.per_layer_sum_ms, rec.gpu_compute_median_ms, prov), "Reconciliation")
    if layers["stream_id"].notna().any():
        plot(make_stream_lanes_figure(layers, prov), "Stream lanes")

    _render_measured_vs_estimated(run_id, engine, prov)

    st.subheader("Roofline (estimate)")
    gpu_name = _gpu_picker(stored)
    gpu = data.engine_gpu(engine, gpu_name or None)
    roof = data.load_roofline(run_id, gpu_name)
    if gpu is None or roof is None:
        st.info(f"'{engine.device or 'unknown GPU'}' is not in the GPU catalog and its device information is missing: "
                "pick a GPU above to see estimates.")
    else:
        st.caption(f"Peaks: {gpu.source}. Measured times are real; the roofline (the physical floor) and the "
                   f"estimates below ({MODEL.basis}) are **estimates**.")
        plot(make_roofline_figure(roof, gpu, prov), "Roofline")
        at = data.load_estimates_at(run_id, gpu_name, ("FP32", "FP16", "INT8"))
        cols = st.columns(3)
        for col, (p, ms) in zip(cols, at.items()):
            col.metric(f"Estimated at {p} on {gpu.name}", f"~{ms:.4f} ms" if ms == ms else "—",
                       help=f"Every float layer in {p}: {MODEL.basis}. Not a measurement.")
        bound = roof.groupby("bound")["avg_ms"].sum()
        if bound.sum():
            st.caption(f"{100 * bound.get('memory', 0) / bound.sum():.0f}% of measured time is in memory-bound layers, "
                       "where narrower math only helps through fewer bytes.")
