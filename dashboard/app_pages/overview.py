"""Overview: KPI cards, share of time per precision, top findings, fair-comparison warnings."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from dashboard.components.accuracy import render_accuracy_statement
from dashboard.components.common import (current_engine, plot, provenance_text, record, render_estimate_notice,
                                         render_findings, render_provenance)
from layerlens.views.figures import make_precision_share_figure
from layerlens.views.key_numbers import key_numbers
from engine_core.analysis.latency import time_by

st.title("Overview")
engine = current_engine()
if engine is not None:
    run_id = st.session_state[state.RUN]
    timed = data.load_timed_engine(run_id, st.session_state.get(state.GPU) or "")
    render_provenance(timed)
    if st.session_state.get(state.BASELINE):
        verdict = data.load_verdict([st.session_state[state.BASELINE], run_id])
        st.markdown(f"#### {verdict}")
        record("Verdict", text=verdict)
    render_estimate_notice(timed)
    layers = engine.layers
    gpu = engine.gpu_compute
    account = data.load_byte_account(run_id)
    for row in (0, 4):  # two rows of four cards
        for col, (label, value, help_text) in zip(st.columns(4), key_numbers(engine, timed, account)[row:row + 4]):
            col.metric(label, value, help=help_text)
    record("Key numbers", text=(f"GPU compute median {gpu.median_ms:.4f} ms; " if gpu else "")
           + f"{len(layers)} layers; weights {account.weights_bytes / 2**20:.2f} MiB; precision {engine.precision_label}")
    if engine.accuracy is not None:
        render_accuracy_statement(engine)

    if engine.status != "ok":
        st.warning(f"The artifacts describe a **{engine.status}** run: " + "; ".join(engine.warnings[:2]), icon=":material/warning:")
    by_precision = time_by(timed.layers, "compute_precision")
    if by_precision["time_ms"].sum() > 0:
        plot(make_precision_share_figure(by_precision, provenance_text(timed)),
             "Share of time per precision" + (" (estimate)" if timed.is_estimate else ""))
    else:
        counts = layers["compute_precision"].value_counts()
        st.caption("No per-layer profile: layers per precision: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Top findings")
        baseline = st.session_state.get(state.BASELINE) or None
        if baseline:
            st.caption(f"Against the baseline **{data.run_name(baseline)}** (change it in the sidebar).")
        render_findings(data.load_diagnosis(run_id, baseline), limit=6)
    with right:
        st.subheader("Is the comparison fair?")
        fairness = data.load_fairness(run_id)
        if not fairness:
            st.success("No fair-comparison warnings for this engine.")
        for f in fairness:
            (st.error if f.severity == "high" else st.warning if f.severity == "medium" else st.info)(
                f"{f.message}\n\n*Fix:* {f.fix}")
        if engine.warnings:
            with st.expander(f"Import notes ({len(engine.warnings)})"):
                for w in engine.warnings:
                    st.write(f"- {w}")
