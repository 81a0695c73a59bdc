"""Size: why the engine is bigger than its baseline (first, when it is), the byte account, and a two-engine diff."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, head_rows, plot, provenance_text, record, render_provenance
from dashboard.components.compare_panels import bytes_rows
from layerlens.views.figures import (make_bytes_by_figure, make_bytes_diff_figure, make_engine_bytes_figure,
                                     make_size_components_figure)

st.title("Size")
engine = current_engine()
if engine is not None:
    render_provenance(engine)
    prov = provenance_text(engine)
    run_id = st.session_state[state.RUN]
    account = data.load_byte_account(run_id)
    compare = state.comparison_ids()
    growth = data.load_size_growth(compare[0], run_id) if compare else None
    if growth is not None:
        # The seed question, answered before anything else: a quantized engine bigger than its float build.
        baseline_name = data.run_name(compare[0])
        st.subheader(f"Why is {engine.name} bigger than {baseline_name}?")
        st.warning(growth.statement, icon=":material/warning:")
        st.markdown(f"**What to try.** {growth.fix}")
        rows = pd.DataFrame(bytes_rows(baseline_name, data.load_byte_account(compare[0])) + bytes_rows(engine.name, account),
                            columns=["engine", "component", "bytes"])
        plot(make_engine_bytes_figure(rows, prov, title=f"What grew: {baseline_name} -> {engine.name}"), "What grew")
        grew = growth.components.assign(**{c: growth.components[c] / 2**20 for c in ("baseline_bytes", "bytes", "delta_bytes")})
        st.dataframe(grew.rename(columns={"baseline_bytes": f"{baseline_name} MiB", "bytes": f"{engine.name} MiB",
                                          "delta_bytes": "change MiB"}), hide_index=True, width="stretch")
        record("Why it is bigger", text=f"{growth.statement} {growth.fix}", table=growth.components)
    st.info(account.statement, icon=":material/calculate:")
    record("Byte account", text=account.statement)
    plot(make_size_components_figure(account.components(), account.ideal_weights_bytes, account.requested_precision, prov),
         "Where the bytes go")
    if not account.largest_kernel_constants.empty:
        st.subheader("Largest constants of generated kernels")
        st.caption("Constants TensorRT's generated (kgen) kernels carry: quantize steps, epilogues, padding. Counted once "
                   "each, where they are first held; they are not bias.")
        constants = account.largest_kernel_constants.assign(
            dims=account.largest_kernel_constants["dims"].map(lambda d: "[" + ",".join(map(str, d)) + "]"),
            MiB=account.largest_kernel_constants["bytes"] / 2**20)
        st.dataframe(constants[["name", "layer_name", "dims", "precision", "bytes", "MiB", "uses"]], hide_index=True,
                     width="stretch")
        record("Largest constants of generated kernels", table=constants)
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

    st.subheader("Diff against the baseline")
    if len(compare) < 2:
        st.caption("Pick a **Baseline** in the sidebar to see which layers changed weight precision and how many "
                   "bytes that moved: the \"calibrated engine is bigger\" question.")
    else:
        (a_name, b_name), diff = data.load_byte_diff(compare[:2])
        if diff.empty:
            st.success(f"No aligned layer changed its weight storage between {a_name} and {b_name}.")
        else:
            moved = diff["delta_bytes"].sum() / 2**20
            st.markdown(f"**{len(diff)}** aligned ONNX groups changed weight storage; net **{moved:+.2f} MiB** "
                        f"({a_name} → {b_name}).")
            plot(make_bytes_diff_figure(diff, a_name, b_name, prov), "Weight bytes moved")
            shown = diff.assign(onnx_nodes=diff["onnx_nodes"].map(" + ".join))
            st.dataframe(head_rows(shown, "groups"), hide_index=True, width="stretch")
            record("Byte diff", table=shown)
