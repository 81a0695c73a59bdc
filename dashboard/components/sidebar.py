"""The sidebar: which engine to explore, which to compare, and where the store is."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from engine_core.store import RunManifest


def run_label(run: RunManifest) -> str:
    estimate = " (estimate)" if run.is_estimate else ""
    precision = run.build_precision or run.labels.get("recipe") or "?"
    where = (run.device or ("CPU build" if run.labels.get("builder") else "GPU ?")).replace("NVIDIA ", "")
    return f"{run.name} · {precision} · {where}{estimate}"


def render_sidebar(runs: list[RunManifest]) -> None:
    state.apply_pending_selection()
    ids = [r.run_id for r in runs]
    labels = {r.run_id: run_label(r) for r in runs}
    if st.session_state.get(state.RUN) not in ids:
        st.session_state[state.RUN] = ids[0] if ids else None
    st.session_state[state.COMPARE] = [r for r in st.session_state.get(state.COMPARE, []) if r in ids]
    with st.sidebar:
        st.markdown("### :material/layers: LayerLens")
        if not runs:
            st.caption(f"No runs in `{data.store_root()}` yet.")
            return
        st.selectbox("Engine", ids, key=state.RUN, format_func=labels.get,
                     help="The engine the Overview, Layers, Precision, Size and Latency pages show.")
        st.multiselect("Compare engines (A first)", ids, key=state.COMPARE, format_func=labels.get,
                       help="Two or more engines for the Compare page and the Size diff, aligned by ONNX origin.")
        st.caption(f"{len(runs)} runs in `{data.store_root()}`")
