"""Accuracy panels: a build's output error, its per-layer SQNR, and accuracy beside size and speed across builds.

Every number here is onnxruntime's on the inputs the build names; synthetic inputs are
said so on each panel (relative error between two models, not task accuracy).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components.common import plot, record
from engine_core.accuracy.join import engine_layers_by_node
from engine_core.accuracy.report import SELF_LABEL, format_sqnr
from engine_core.accuracy.tradeoff import pareto_front
from engine_core.engine import Engine
from layerlens.views.accuracy_figures import make_accuracy_tradeoff_figure, make_layer_sqnr_figure

SYNTHETIC_CAPTION = ("**Synthetic inputs**: seeded random batches show how far the outputs move from the float "
                     "model's (relative error), not task accuracy. Build with a data folder to measure on your data.")


def render_accuracy_statement(engine: Engine) -> None:
    """The one-sentence output error of a build, or how to get one."""
    report = engine.accuracy
    if report is None:
        why = engine.build_facts.get("accuracy")
        st.caption(f":material/target: Accuracy {why}." if why else
                   ":material/target: No accuracy measurement: builds on the **Build** page (or `layerlens build`) "
                   "measure it; `layerlens accuracy` measures any two ONNX models.")
        return
    st.info(report.statement(), icon=":material/target:")
    record("Accuracy", text=report.statement())


def render_layer_accuracy(engine: Engine, provenance: str) -> None:
    """Per-layer SQNR along the network and the noisiest nodes with their engine layers (Precision page)."""
    report = engine.accuracy
    st.subheader("Quantization error per layer")
    render_accuracy_statement(engine)
    if report is None or report.nodes.empty:
        return
    plot(make_layer_sqnr_figure(report.nodes, report.output.sqnr_db, report.inputs_label, provenance), "Per-layer SQNR")
    mapping = engine_layers_by_node(engine.layers)
    noisy = report.nodes.sort_values("local_sqnr_db", na_position="last").head(15)
    table = pd.DataFrame({"onnx_node": noisy["onnx_node"], "op": noisy["op_type"], "precision": noisy["precision"],
                          "local SQNR dB": noisy["local_sqnr_db"], "output SQNR dB": noisy["sqnr_db"].where(
                              noisy["sqnr_db"] != math.inf),
                          "engine layers": noisy["onnx_node"].map(lambda n: ", ".join(mapping.get(n, [])))})
    st.caption("Noisiest nodes: **local SQNR** is signal over the noise a node adds itself (lower is noisier), "
               "empty when its output is no noisier than its inputs; a node's own SQNR also carries everything "
               "before it. Keep them in FP16 from the **Layers** page.")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"local SQNR dB": st.column_config.NumberColumn(format="%.1f"),
                                "output SQNR dB": st.column_config.NumberColumn(format="%.1f")})
    record("Noisiest nodes", table=table)
    if report.synthetic:
        st.caption(SYNTHETIC_CAPTION)


def render_accuracy_comparison(run_ids: list[str], engines: list[Engine], provenance: str) -> None:
    """Compare page: output SQNR, size and latency of the compared builds side by side, then every build of
    the model against output SQNR (the Pareto view)."""
    st.subheader("Accuracy beside size and speed")
    points = data.load_tradeoff(run_ids)
    if points.empty:
        st.caption(":material/target: None of these builds measured its accuracy (LayerLens builds do; imported "
                   "artifacts do not): `layerlens accuracy` compares two ONNX models.")
        return
    by_run = points.set_index("run_id")
    cols = st.columns(len(run_ids))
    for col, run_id, engine in zip(cols, run_ids, engines):
        if run_id not in by_run.index:
            col.metric(engine.name, "not measured", help="This run carries no accuracy measurement.")
            continue
        row = by_run.loc[run_id]
        size = f"{row['engine_bytes'] / 2**20:.2f} MiB" if row["engine_bytes"] == row["engine_bytes"] else "size ?"
        col.metric(f"{engine.name}: output SQNR", format_sqnr(row["sqnr_db"]), help=engine.accuracy.statement(),
                   delta=f"{size} · {row['inputs']}", delta_color="off")
    record("Accuracy", text="; ".join(f"{r.name}: {format_sqnr(r.sqnr_db)} ({r.inputs})" for r in points.itertuples()))
    all_builds = data.model_build_ids(run_ids[1])
    every = data.load_tradeoff(all_builds) if all_builds else points
    if len(every) >= 2:
        labels = set(every["inputs"]) - {SELF_LABEL}
        inputs = labels.pop() if len(labels) == 1 else "mixed inputs: " + ", ".join(sorted(labels))
        highlight = {e.name for e in engines}
        plot(make_accuracy_tradeoff_figure(every, pareto_front(every, "engine_bytes"), pareto_front(every, "latency_ms"),
                                           inputs, provenance, highlight), "Accuracy trade-off")
        st.caption(f"Every stored build of this model ({len(every)}); the compared ones in red. Lower is "
                   "smaller or faster, further right is closer to FP32; the dotted line joins the builds no other beats on both.")
    if any(e.accuracy is not None and e.accuracy.synthetic for e in engines):
        st.caption(SYNTHETIC_CAPTION)

