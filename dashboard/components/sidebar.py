"""The sidebar: which engine to explore, which to compare, and where the store is."""

from __future__ import annotations

import streamlit as st

from dashboard import data, state
from engine_core.store import RunManifest
from engine_core.store.baseline import default_baseline


def run_label(run: RunManifest) -> str:
    estimate = " (estimate)" if run.is_estimate else ""
    precision = run.build_precision or run.labels.get("recipe") or "?"
    where = (run.device or ("CPU build" if run.labels.get("builder") else "GPU ?")).replace("NVIDIA ", "")
    tags = "".join(f" #{t}" for t in run.tags)
    return f"{run.name} · {precision} · {where}{estimate}{tags}"


def _default_baseline(runs: list[RunManifest]) -> None:
    """When the engine changes, its most likely baseline (same model, same GPU, next wider precision)."""
    st.session_state[state.BASELINE] = default_baseline(st.session_state[state.RUN], runs) or ""


def render_sidebar(runs: list[RunManifest]) -> None:
    state.apply_pending_selection()
    ids = [r.run_id for r in runs]
    labels = {r.run_id: run_label(r) for r in runs}
    if st.session_state.get(state.RUN) not in ids:
        st.session_state[state.RUN] = ids[0] if ids else None
        st.session_state.pop(state.BASELINE, None)
    run = st.session_state[state.RUN]
    if st.session_state.get(state.BASELINE) not in ["", *ids] or st.session_state.get(state.BASELINE) == run:
        st.session_state.pop(state.BASELINE, None)
    if run and state.BASELINE not in st.session_state:
        _default_baseline(runs)
    st.session_state[state.COMPARE] = [r for r in st.session_state.get(state.COMPARE, [])
                                       if r in ids and r not in (run, st.session_state.get(state.BASELINE))]
    with st.sidebar:
        st.markdown("### :material/layers: LayerLens")
        broken = data.load_broken_runs()
        if broken:
            # Not a page_link: the sidebar is drawn before st.navigation knows the pages.
            st.caption(f":material/warning: {len(broken)} broken run folder{'s' if len(broken) > 1 else ''}: "
                       "see the **Runs** page")
        if not runs:
            st.caption(f"No runs in `{data.store_root()}` yet.")
            return
        st.selectbox("Engine", ids, key=state.RUN, format_func=labels.get, on_change=_default_baseline, args=(runs,),
                     help="The engine the Overview, Layers, Precision, Size and Latency pages show.")
        others = [""] + [r for r in ids if r != run]
        st.selectbox("Baseline", others, key=state.BASELINE, format_func=lambda r: labels.get(r, "none"),
                     help="What the engine is compared against on Overview, Compare and Size. Default: the same "
                          "model on the same GPU at the next wider precision.")
        more = [r for r in ids if r not in (run, st.session_state.get(state.BASELINE))]
        st.multiselect("More engines (N-way compare)", more, key=state.COMPARE, format_func=labels.get,
                       help="Extra engines for the Compare page's table, aligned with the two above.")
        st.caption(f"{len(runs)} runs in `{data.store_root()}`")
