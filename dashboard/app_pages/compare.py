"""Compare: the engine against its baseline (plus more engines): verdict, accuracy beside size and speed,
attribution, bytes, aligned groups with each group's SQNR."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from dashboard.components.accuracy import render_accuracy_comparison
from dashboard.components.common import TABLE_ROWS, head_rows, plot, precision_tags, record
from dashboard.components.compare_panels import comparison_provenance, render_bytes_and_precision
from layerlens.views.figures import make_attribution_figure, make_speedup_waterfall_figure
from engine_core.accuracy.join import group_sqnr
from engine_core.analysis.lint import lint_pair
from engine_core.strict_json import dumps_strict

st.title("Compare")
run_ids = state.comparison_ids()
if len(run_ids) < 2:
    st.info("Pick a **Baseline** in the sidebar: the engine is compared against it, group by group. Layers are aligned "
            "by the ONNX nodes they came from, then by name, then by structure, so separate exports still line up.",
            icon=":material/compare_arrows:")
    st.stop()
engines = data.load_compared_engines(run_ids)
a, b = engines[0], engines[1]
# Two engines without accuracy: the comparison's outline (no layer lists), which is all this page draws of it.
whole = len(run_ids) > 2 or a.accuracy is not None or b.accuracy is not None
cmp = data.load_comparison(run_ids) if whole else data.load_comparison_outline(run_ids)
att = data.load_attribution(run_ids)
prov = comparison_provenance(engines)
st.caption(":material/badge: " + prov)
st.markdown(f"#### {att.verdict}")
record("Verdict", text=att.verdict)
estimated = [e.name for e in engines if e.is_estimate]
if estimated:
    st.warning(f"**Not measured:** {', '.join(estimated)} {'was' if len(estimated) == 1 else 'were'} compared on "
               f"**{att.time_basis}** times, because at least one of them was never timed (TensorRT-RTX engines need an RTX "
               "GPU to run): the bound from each layer's FLOPs and bytes, never mixed with measured times. Sizes, layers "
               "and precisions are the builder's own.", icon=":material/calculate:")
for f in lint_pair(a, b):
    st.error(f"{f.message}  \n*Fix:* {f.fix}", icon=":material/balance:")
if cmp.different_networks:
    st.error(f"{cmp.aligned_share:.0%} of compute layers align ({', '.join(f'{n} by {m}' for m, n in cmp.match_counts().items()) or 'none'}): "
             "a group-by-group diff of two different networks would mean nothing. Pick a baseline built from the same "
             "model.", icon=":material/block:")
    st.stop()

cols = st.columns(len(engines) + 1)
for col, summary, engine in zip(cols, cmp.summaries, engines):
    value = summary["gpu_compute_median"] or summary["per_layer_sum"]
    label = f"~{value:.4f} ms" if engine.is_estimate and value else f"{value:.4f} ms" if value else "—"
    col.metric(summary["name"] + (" (est.)" if engine.is_estimate else ""), label, help=engine.time_basis if engine.is_estimate else
               "GPU compute median" if summary["gpu_compute_median"] else "per-layer sum (no end-to-end time)")
if cmp.speedup:
    basis = "GPU compute median" if cmp.speedup_basis == "gpu_compute_median" else "per-layer sum"
    basis += " of estimates" if estimated else ""
    cols[-1].metric(f"Speedup {cmp.names[1]} vs {cmp.names[0]}" + (" (estimate)" if estimated else ""), f"{cmp.speedup:.2f}x",
                    help=f"A / B, {basis}; > 1 means B is faster")
record("Engines", text=prov + (f"; speedup {cmp.speedup:.2f}x" if cmp.speedup else ""))
render_accuracy_comparison(run_ids, engines, prov)

if att.a_sum_ms or att.b_sum_ms:
    plot(make_attribution_figure([(p.label, p.ms) for p in att.parts], f"{att.baseline} (sum)", att.a_sum_ms,
                                 f"{att.engine} (sum)", att.b_sum_ms, prov, att.estimate), "Attribution")
    st.caption(att.reconciliation)
    record("Reconciliation", text=att.reconciliation)

render_bytes_and_precision(run_ids[0], run_ids[1], a, b, prov)

groups = cmp.groups
st.subheader("Aligned groups")
changes = groups["precision_change"].value_counts()
st.markdown(f"**{len(groups)}** aligned groups ({', '.join(f'{n} by {m}' for m, n in cmp.match_counts().items())}; "
            f"{cmp.aligned_share:.0%} of compute layers) · precision changes: "
            + (", ".join(f"`{c}` ×{n}" for c, n in changes.items()) or "none")
            + " · unmatched: " + ", ".join(f"{k} {len(v)}" for k, v in cmp.unmatched.items()))
for note in cmp.notes:
    st.caption(f":material/info: {note}")
a_total = float(groups["a_ms"].sum())
if groups["a_ms"].notna().any() and groups["b_ms"].notna().any():
    plot(make_speedup_waterfall_figure(groups, a.name, b.name, a_total, provenance=prov), "Speedup attribution")

table = groups.assign(onnx_nodes=groups["onnx_nodes"].map(" + ".join))[
    ["onnx_nodes", "match", "confidence", "a_precision", "b_precision", "precision_change", "a_ms", "b_ms", "delta_ms",
     "speedup", "a_weights_bytes", "b_weights_bytes"]]
if a.accuracy is not None or b.accuracy is not None:  # worst SQNR of each group's layers, vs the float model
    table.insert(8, "a_sqnr_db", group_sqnr(groups["a_layers"], a.layers, a.accuracy).replace(float("inf"), float("nan")))
    table.insert(9, "b_sqnr_db", group_sqnr(groups["b_layers"], b.layers, b.accuracy).replace(float("inf"), float("nan")))
for i, e in enumerate(engines[2:], start=2):
    table[f"{e.name} ms"] = [t[i] for t in groups["times_ms"]]
    table[f"{e.name} precision"] = [p[i] for p in groups["precisions"]]

if len(table) > TABLE_ROWS:  # the groups that moved most first; the JSON download has them all
    table = table.loc[groups["delta_ms"].astype(float).abs().sort_values(ascending=False, na_position="last").index]
table = head_rows(table, "aligned groups", "largest change first")
tagged, tags = precision_tags(table, ["a_precision", "b_precision"] + [f"{e.name} precision" for e in engines[2:]],
                              {"a_precision": f"{a.name} precision", "b_precision": f"{b.name} precision"})
st.dataframe(tagged, hide_index=True, width="stretch", height=420,
             column_config={**tags, "a_ms": st.column_config.NumberColumn(f"{a.name} ms", format="%.4f"),
                            "b_ms": st.column_config.NumberColumn(f"{b.name} ms", format="%.4f"),
                            "delta_ms": st.column_config.NumberColumn("Δ ms (B − A)", format="%+.4f"),
                            "speedup": st.column_config.NumberColumn("speedup", format="%.2fx"),
                            "a_sqnr_db": st.column_config.NumberColumn(f"{a.name} SQNR dB", format="%.1f"),
                            "b_sqnr_db": st.column_config.NumberColumn(f"{b.name} SQNR dB", format="%.1f")})
record("Aligned groups", table=table)
with st.expander("Unmatched layers"):
    for name, layer_names in cmp.unmatched.items():
        st.markdown(f"**{name}**: " + (", ".join(layer_names[:40]) or "none"))
st.download_button(":material/download: Comparison JSON",
                   data=lambda: dumps_strict({**data.load_comparison(run_ids).to_json(), "attribution": att.to_json()},
                                             indent=2),
                   file_name="layerlens-compare.json", mime="application/json", key="compare.json",
                   on_click="ignore")
