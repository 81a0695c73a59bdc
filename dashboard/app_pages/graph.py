"""Graph: the engine's layers as a DAG, coloured by precision, with fallbacks, reformats and quantize steps marked.

Big engines fold by ONNX scope (or in execution-order chunks) so the browser
draws at most a few hundred nodes; search lights up the layers (or the groups
holding them) and scrolls to the first; clicking a node opens its record.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, plot, render_estimate_notice, render_provenance, provenance_text
from dashboard.components.keep_panel import render_keep_panel
from dashboard.components.layer_record import render_layer_record
from layerlens import access
from layerlens.views.graph_figure import make_engine_graph_figure
from engine_core.analysis.latency_model import default_latency_model
from engine_core.graph.collapse import MAX_DRAWN_NODES


def readable_model(path: str | None) -> Path | None:
    """The ONNX file a build log names, when inside the folders this dashboard may read (an imported log may name any)."""
    try:
        return data.fence(path, "ONNX model") if path else None
    except access.PathNotAllowedError:
        return None


def layer_with_order(run_id: str, engine, order) -> pd.Series:
    """The engine's layer whose execution order is ``order``, every column (a node's record)."""
    return data.load_layer_rows(run_id, engine.layers.index[engine.layers["order"] == int(order)][:1]).iloc[0]


st.title("Graph")
engine = current_engine()
if engine is not None:
    run_id = st.session_state[state.RUN]
    baseline_id = st.session_state.get(state.BASELINE) or None
    timed = data.load_timed_engine(run_id)  # node sizes: measured times, or labelled estimates
    render_provenance(timed)
    render_estimate_notice(timed)
    depths, wired_by = data.load_graph_facts(run_id)  # the full graph's nodes are read only to search or open a group
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    colour_options = (["Compute precision"] + (["Change vs baseline"] if baseline_id and baseline_id != run_id else [])
                      + (["Quantization error"] if engine.accuracy is not None else []))
    colour = c1.radio("Colour by", colour_options, horizontal=True, key="graph.colour")
    size_by = c2.radio("Size by", ["Time", "Weight bytes"], horizontal=True, key="graph.size")
    detail_options = ["Auto", "Every layer", *[f"Scope depth {d}" for d in range(1, depths + 1)]]
    detail = c3.selectbox("Detail", detail_options, key="graph.detail",
                          help=f"Auto folds layers by ONNX scope (then by execution order) to at most {MAX_DRAWN_NODES} "
                               "nodes. Every layer draws them all (slow above a few thousand).")
    search = c4.text_input("Find layers", key="graph.search", placeholder="name, ONNX node or type, e.g. layer3 or Reformat")
    depth = {"Auto": "auto", "Every layer": None}.get(detail, int(detail.rsplit(" ", 1)[-1]) if detail.startswith("Scope") else "auto")
    with_change = colour == "Change vs baseline"
    drawn, layout = data.load_drawn_graph(run_id, baseline_id if with_change else None, depth)

    highlight, focus = set(), None
    if search:
        nodes = data.load_graph_outline(run_id)[1]
        layers = nodes[nodes["kind"] != "group"]
        hit = (layers["name"].str.contains(search, case=False, regex=False)
               | layers["layer_type"].str.contains(search, case=False, regex=False))
        matched = layers.index[hit.to_numpy()]
        mapped = matched if drawn.group_of is None else drawn.group_of[matched]
        highlight = {int(i) for i in mapped}
        if highlight:
            focus = float(layout.y[min(highlight, key=lambda i: -layout.y[i])])
        st.caption(f"**{len(matched)}** layers match '{search}'" + (f", in {len(highlight)} drawn nodes (outlined black)"
                                                                  if len(highlight) != len(matched) else " (outlined black)"))
    folded = ""
    if drawn.depth is not None or drawn.group_of is not None:
        how = f"folded by ONNX scope at depth {drawn.depth}" if drawn.depth else "folded in execution order"
        folded = f" as {len(drawn.nodes):,} nodes ({how}; squares are groups: hover for their mix, click for their layers)"
    wiring = " Layers are chained in execution order: these artifacts name no tensors." if wired_by == "order" else ""
    st.caption(f"{len(engine.layers):,} layers{folded}. Drag to pan, scroll to zoom, double-click to reset. "
               "Red outline: not in the requested precision · ◆ reformat · ▲ quantize · ★ network input/output." + wiring)
    size_word = "time" if size_by == "Time" else "weight bytes"
    if size_by == "Time" and timed.is_estimate:
        size_word = f"estimated time ({default_latency_model().label})"
    colour_by = "change" if with_change else "error" if colour == "Quantization error" else "precision"
    title = f"Engine graph · size = {size_word}" + {
        "change": " · colour = precision change vs baseline",
        "error": f" · colour = SQNR vs the float model ({engine.accuracy.inputs_label if engine.accuracy else ''})",
    }.get(colour_by, "")
    figure = make_engine_graph_figure(drawn, layout, colour_by=colour_by,
                                      size_by="ms" if size_by == "Time" else "bytes", highlight=highlight,
                                      provenance=provenance_text(timed), title=title, focus_rank=focus)
    event = plot(figure, "Engine graph", key="graph.chart", select=True)
    points = event.selection.points if event is not None and event.selection else []
    if points:
        node = int(points[0]["customdata"][0])
        row = drawn.nodes.iloc[node]
        fallbacks = data.load_fallbacks(run_id)
        if row["kind"] == "layer":
            layer = layer_with_order(run_id, engine, row["order"])
            render_keep_panel(engine, run_id, layer.to_frame().T)
            render_layer_record(layer, fallbacks)
        elif row["kind"] in ("input", "output"):
            st.subheader(f"Network {row['kind']} {row['name']} ({row['precision']})")
        else:
            nodes = data.load_graph_outline(run_id)[1]
            members = nodes.index[drawn.group_of == node] if drawn.group_of is not None else []
            orders = set(nodes.loc[members].query("kind == 'layer'")["order"].astype(int))
            table = engine.layers[engine.layers["order"].isin(orders)][[
                "order", "name", "layer_type", "compute_precision", "output_precision", "avg_ms", "weights_bytes"]]
            st.subheader(f"{row['name']}: {len(table)} layers")
            picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                                  selection_mode="multi-row", key="graph.members")
            rows = picked.selection.rows if picked is not None else []
            render_keep_panel(engine, run_id, data.load_layer_rows(run_id, table.index[rows] if rows else
                                                                   table.index))  # the whole group unless rows are picked
            if len(rows) == 1:
                render_layer_record(layer_with_order(run_id, engine, table.iloc[rows[0]]["order"]), fallbacks)

    onnx = readable_model(engine.build_facts.get("onnx"))
    if onnx and onnx.is_file():
        from dashboard.components.onnx_viewer import render_netron_button

        render_netron_button(onnx)
