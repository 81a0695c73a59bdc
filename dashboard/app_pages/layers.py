"""Layers: every layer in a filterable, sortable table; click one for its full record; CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, record, render_provenance
from dashboard.components.layer_record import render_layer_record
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
    st.caption(f"{len(table):,} of {len(layers):,} layers · click a row for its full record · sort by clicking a column")
    view = table
    if len(table) <= STYLE_LIMIT:
        view = table.style.map(lambda p: f"background-color: {PRECISION_COLORS.get(p, '')}33",
                               subset=["compute_precision", "output_precision", "weights_precision"])
    event = st.dataframe(view, hide_index=True, width="stretch", height=460, on_select="rerun",
                         selection_mode="single-row", key="layers.table",
                         column_config={"avg_ms": st.column_config.NumberColumn("avg ms", format="%.4f"),
                                        "latency_share_pct": st.column_config.NumberColumn("% time", format="%.1f"),
                                        "weights_bytes": st.column_config.NumberColumn("weights B", format="%d")})
    record("Layer table", table=table.head(500))
    st.download_button(":material/download: Download CSV (all columns)",
                       data=lambda: layer_table_csv(layers_for_export(engine).loc[shown.index]),
                       file_name=f"{engine.name}-layers.csv", mime="text/csv", key="layers.csv", on_click="ignore")
    rows = event.selection.rows if event is not None else []
    if rows:
        render_layer_record(shown.iloc[rows[0]], data.load_fallbacks(st.session_state[state.RUN]))
