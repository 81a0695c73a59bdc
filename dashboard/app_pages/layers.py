"""Layers: every layer in a filterable, sortable table with its SQNR when the build measured it; click one for its
full record; select several to keep them in FP16/FP32 and rebuild; CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, record, render_provenance
from dashboard.components.keep_panel import render_keep_panel
from dashboard.components.layer_record import render_layer_record
from engine_core.accuracy.join import with_layer_accuracy
from layerlens.views.figures import PRECISION_COLORS
from engine_core.analysis.estimate import layers_for_export
from engine_core.export import layer_table_csv

STYLE_LIMIT = 3000  # colour-coding every cell of a bigger table makes the page slow
SHOWN = ["order", "name", "layer_type", "compute_precision", "output_precision", "avg_ms", "latency_share_pct",
         "weights_precision", "weights_bytes", "tactic_name", "stream_id"]

st.title("Layers")
engine = current_engine()
if engine is not None:
    render_provenance(engine)
    layers = engine.layers
    reasons = data.load_fallbacks(st.session_state[state.RUN]).set_index("name")["reason"] if not layers.empty else pd.Series(dtype=object)
    c1, c2, c3 = st.columns([2, 2, 2])
    search = c1.text_input("Search names, ONNX nodes, tactics", key=state.LAYER_SEARCH, placeholder="e.g. conv2_block1 or i8f16")
    types = c2.multiselect("Layer types", sorted(layers["layer_type"].dropna().unique()), key=state.LAYER_TYPES)
    precisions = c3.multiselect("Compute precision", sorted(layers["compute_precision"].unique()), key=state.LAYER_PRECISIONS)
    shown = layers
    if search:
        haystack = shown["name"] + " " + shown["tactic_name"].fillna("") + " " + shown["onnx_nodes"].map(" ".join)
        shown = shown[haystack.str.contains(search, case=False, regex=False)]
    if types:
        shown = shown[shown["layer_type"].isin(types)]
    if precisions:
        shown = shown[shown["compute_precision"].isin(precisions)]
    table = shown[SHOWN].assign(fallback_reason=shown["name"].map(reasons))
    if engine.accuracy is not None:  # SQNR vs the float model: the worst measured ONNX node of each layer
        sqnr = data.load_layer_accuracy(st.session_state[state.RUN])["sqnr_db"].loc[shown.index]
        table.insert(5, "sqnr_db", sqnr.where(sqnr != float("inf")))
    keep_hint = " · select rows to keep them in FP16/FP32" if engine.build_facts.get("request") else ""
    st.caption(f"{len(table):,} of {len(layers):,} layers · click a row for its full record{keep_hint} · sort by "
               "clicking a column" + (f" · SQNR on {engine.accuracy.inputs_label} (empty: identical or not measured)"
                                      if engine.accuracy is not None else ""))
    view = table
    if len(table) <= STYLE_LIMIT:
        view = table.style.map(lambda p: f"background-color: {PRECISION_COLORS.get(p, '')}33",
                               subset=["compute_precision", "output_precision", "weights_precision"])
    event = st.dataframe(view, hide_index=True, width="stretch", height=460, on_select="rerun",
                         selection_mode="multi-row", key="layers.table",
                         column_config={"avg_ms": st.column_config.NumberColumn("avg ms", format="%.4f"),
                                        "sqnr_db": st.column_config.NumberColumn(
                                            "SQNR dB", format="%.1f", help="Output SQNR of the layer's ONNX nodes vs "
                                            f"the float model ({engine.accuracy.inputs_label if engine.accuracy else ''})"),
                                        "latency_share_pct": st.column_config.NumberColumn("% time", format="%.1f"),
                                        "weights_bytes": st.column_config.NumberColumn("weights B", format="%d")})
    record("Layer table", table=table.head(500))
    st.download_button(":material/download: Download CSV (all columns)",
                       data=lambda: layer_table_csv(with_layer_accuracy(layers_for_export(engine).loc[shown.index],
                                                                        layers, engine.accuracy)),
                       file_name=f"{engine.name}-layers.csv", mime="text/csv", key="layers.csv", on_click="ignore")
    rows = event.selection.rows if event is not None else []
    if rows:
        render_keep_panel(engine, st.session_state[state.RUN], shown.iloc[rows])
    if len(rows) == 1:
        render_layer_record(shown.iloc[rows[0]], data.load_fallbacks(st.session_state[state.RUN]))
