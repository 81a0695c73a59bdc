"""Precision: which layers are not in the requested precision, and why; time and bytes by precision; what the
precision costs in output error, per layer."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from dashboard.components.accuracy import render_layer_accuracy
from dashboard.components.calibration import render_calibration
from dashboard.components.common import (TABLE_ROWS, current_engine, head_rows, plot, provenance_text, record,
                                         render_provenance)
from layerlens.views.figures import make_fallback_reasons_figure, make_precision_sunburst_figure

st.title("Precision")
engine = current_engine()
if engine is not None:
    render_provenance(engine)
    prov = provenance_text(engine)
    run_id = st.session_state[state.RUN]
    requested, source = data.load_requested_precision(run_id)
    fallbacks = data.load_fallback_tables(run_id, TABLE_ROWS)  # what is shown of them: not every fallback
    if requested is None:
        st.info("The requested precision is unknown (no build flags, no typed layers), so fallbacks cannot be judged.")
    else:
        n, own = fallbacks["layers"], fallbacks["own_cause"]
        st.markdown(f"Requested precision: **{requested}** ({source}). "
                    f"**{n}** of {len(engine.layers)} layers compute or write something wider "
                    f"({own} with their own cause, {n - own} reformats inheriting a neighbour's).")
    if fallbacks["layers"]:
        summary = data.load_fallback_summary(run_id)
        plot(make_fallback_reasons_figure(summary, prov), "Fallback reasons")
        for row in summary.itertuples():
            count, subset = fallbacks["reasons"][row.reason]
            ms = f", {row.time_ms:.4f} ms" if row.time_ms == row.time_ms else ""
            with st.expander(f"**{row.reason}** · {row.layers} layers{ms} — {row.reason_text}", expanded=row.Index == 0):
                st.dataframe(head_rows(subset, "layers", "slowest first", total=count), hide_index=True, width="stretch",
                             column_config={"avg_ms": st.column_config.NumberColumn("avg ms", format="%.4f")})
        record("Fallback layers", table=lambda: data.load_fallbacks(run_id)[
            ["order", "name", "compute_precision", "output_precision", "reason", "evidence", "avg_ms"]])
    elif requested:
        st.success(f"Every layer computes and writes {requested} or narrower.")
    left, right = st.columns(2)
    with left:
        if engine.layers["avg_ms"].notna().any():
            plot(make_precision_sunburst_figure(engine.layers, "avg_ms", prov), "Time by precision and type")
        else:
            st.caption("No per-layer profile: time by precision needs --exportProfile or --dumpProfile.")
    with right:
        if engine.layers["weights_bytes"].any():
            plot(make_precision_sunburst_figure(engine.layers, "weights_bytes", prov), "Bytes by precision and type")

    whole = data.load_engine(st.session_state[state.RUN]) if engine.accuracy or engine.calibration else engine
    render_layer_accuracy(whole, prov)  # the ONNX nodes of each layer
    render_calibration(whole, prov)  # the tensors each layer reads
