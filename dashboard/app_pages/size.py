"""Size: the engine byte account (by precision, type, top layers, ideal vs real) and a two-engine diff."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, plot, provenance_text, record, render_provenance
from layerlens.views.figures import make_bytes_by_figure, make_bytes_diff_figure, make_size_components_figure
from engine_core.analysis.size import diff_bytes

st.title("Size")
engine = current_engine()
if engine is not None:
    render_provenance(engine)
    prov = provenance_text(engine)
    account = data.load_byte_account(st.session_state[state.RUN])
    st.info(account.statement, icon=":material/calculate:")
    record("Byte account", text=account.statement)
    plot(make_size_components_figure(account.components(), account.ideal_weights_bytes, account.requested_precision, prov),
         "Where the bytes go")
    left, right = st.columns(2)
    with left:
        if not account.by_precision.empty:
            plot(make_bytes_by_figure(account.by_precision, "precision", prov), "Bytes by precision")
    with right:
        if not account.by_type.empty:
            plot(make_bytes_by_figure(account.by_type, "layer_type", prov), "Bytes by layer type")
    st.subheader("Largest layers")
    st.dataframe(account.top_layers, hide_index=True, width="stretch")
    record("Largest layers", table=account.top_layers)

    compare = state.comparison_ids()
    st.subheader("Diff against the baseline")
    if len(compare) < 2:
        st.caption("Pick a **Baseline** in the sidebar to see which layers changed weight precision and how many "
                   "bytes that moved: the \"calibrated engine is bigger\" question.")
    else:
        cmp = data.load_comparison(compare[:2])
        a_name, b_name = cmp.names[0], cmp.names[1]
        diff = diff_bytes(cmp.groups) if not cmp.groups.empty else cmp.groups
        if diff.empty:
            st.success(f"No aligned layer changed its weight storage between {a_name} and {b_name}.")
        else:
            moved = diff["delta_bytes"].sum() / 2**20
            st.markdown(f"**{len(diff)}** aligned ONNX groups changed weight storage; net **{moved:+.2f} MiB** "
                        f"({a_name} → {b_name}).")
            plot(make_bytes_diff_figure(diff, a_name, b_name, prov), "Weight bytes moved")
            shown = diff.assign(onnx_nodes=diff["onnx_nodes"].map(" + ".join))
            st.dataframe(shown, hide_index=True, width="stretch")
            record("Byte diff", table=shown)
