"""Compare: engines aligned by ONNX origin, per-group speedup and precision change, speedup attribution."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import data, state
from dashboard.components.common import plot, record
from dashboard.components.compare_panels import comparison_provenance, render_bytes_and_precision
from dashboard.figures import PRECISION_COLORS, make_speedup_waterfall_figure
from engine_core.analysis.lint import lint_pair

st.title("Compare")
run_ids = st.session_state.get(state.COMPARE) or []
if len(run_ids) < 2:
    st.info("Pick two or more engines under **Compare engines** in the sidebar, the baseline (A) first. "
            "Layers are aligned by the ONNX nodes they came from, so fused layers and QAT renames still line up.",
            icon=":material/compare_arrows:")
    st.stop()
engines = [data.load_timed_engine(r) for r in run_ids]
cmp = data.load_comparison(run_ids)
a, b = engines[0], engines[1]
prov = comparison_provenance(engines)
st.caption(":material/badge: " + prov)
estimated = [e.name for e in engines if e.is_estimate]
if estimated:
    st.warning(f"**Not measured:** {', '.join(estimated)} {'was' if len(estimated) == 1 else 'were'} never timed (TensorRT-RTX "
               "engines need an RTX GPU to run), so their times below are **roofline estimates**: the bound from "
               "each layer's FLOPs and bytes. Sizes, layers and precisions are the builder's own.", icon=":material/calculate:")
for f in lint_pair(a, b):
    st.error(f"{f.message}  \n*Fix:* {f.fix}", icon=":material/balance:")

cols = st.columns(len(engines) + 1)
for col, summary, engine in zip(cols, cmp.summaries, engines):
    value = summary["gpu_compute_median"] or summary["per_layer_sum"]
    label = f"~{value:.4f} ms" if engine.is_estimate and value else f"{value:.4f} ms" if value else "—"
    col.metric(summary["name"] + (" (est.)" if engine.is_estimate else ""), label, help=engine.time_basis if engine.is_estimate else
               "GPU compute median" if summary["gpu_compute_median"] else "per-layer sum (no end-to-end time)")
if cmp.speedup:
    basis = "GPU compute median" if cmp.speedup_basis == "gpu_compute_median" else "per-layer sum"
    basis += " of roofline estimates" if estimated else ""
    cols[-1].metric(f"Speedup {b.name} vs {a.name}" + (" (estimate)" if estimated else ""), f"{cmp.speedup:.2f}x",
                    help=f"A / B, {basis}; > 1 means B is faster")
record("Engines", text=prov + (f"; speedup {cmp.speedup:.2f}x" if cmp.speedup else ""))

render_bytes_and_precision(run_ids[0], run_ids[1], a, b, prov)

groups = cmp.groups
if groups.empty:
    st.warning("No layers share an ONNX origin: these engines come from different models, or their layer info "
               "lacks Metadata and fused names (re-export with --profilingVerbosity=detailed).")
    st.stop()
changes = groups["precision_change"].value_counts()
st.markdown(f"**{len(groups)}** aligned ONNX groups · precision changes: "
            + (", ".join(f"`{c}` ×{n}" for c, n in changes.items()) or "none")
            + " · unmatched: " + ", ".join(f"{k} {len(v)}" for k, v in cmp.unmatched.items()))
a_total = float(groups["a_ms"].sum())
if groups["a_ms"].notna().any() and groups["b_ms"].notna().any():
    plot(make_speedup_waterfall_figure(groups, a.name, b.name, a_total, provenance=prov), "Speedup attribution")

table = groups.assign(onnx_nodes=groups["onnx_nodes"].map(" + ".join))[
    ["onnx_nodes", "a_precision", "b_precision", "precision_change", "a_ms", "b_ms", "delta_ms", "speedup",
     "a_weights_bytes", "b_weights_bytes"]]
for i, e in enumerate(engines[2:], start=2):
    table[f"{e.name} ms"] = [t[i] for t in groups["times_ms"]]
    table[f"{e.name} precision"] = [p[i] for p in groups["precisions"]]


def _colour(value):
    return f"background-color: {PRECISION_COLORS.get(value, '')}55" if value in PRECISION_COLORS else ""


def _delta(value):
    if value != value:
        return ""
    return "color: #1a7f37" if value < 0 else "color: #cf222e" if value > 0 else ""


styled = table.style.map(_colour, subset=["a_precision", "b_precision"]).map(_delta, subset=["delta_ms"])
st.dataframe(styled, hide_index=True, width="stretch", height=420,
             column_config={"a_ms": st.column_config.NumberColumn(f"{a.name} ms", format="%.4f"),
                            "b_ms": st.column_config.NumberColumn(f"{b.name} ms", format="%.4f"),
                            "delta_ms": st.column_config.NumberColumn("Δ ms (B − A)", format="%+.4f"),
                            "speedup": st.column_config.NumberColumn("speedup", format="%.2fx")})
record("Aligned groups", table=table)
with st.expander("Unmatched layers"):
    for name, layer_names in cmp.unmatched.items():
        st.markdown(f"**{name}**: " + (", ".join(layer_names[:40]) or "none"))
st.download_button(":material/download: Comparison JSON", data=lambda: json.dumps(cmp.to_json(), indent=2),
                   file_name="layerlens-compare.json", mime="application/json", key="compare.json",
                   on_click="ignore")
