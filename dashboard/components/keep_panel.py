"""Keep picked layers out of the build's precision: FP16 or FP32, build for real, land on Compare.

The Layers page (and the Graph page's group table) hand over the selected engine layers;
their ONNX origin (the source model's nodes they came from) is added to the build's keep
list and the recorded request is built again out of process, exactly as
``layerlens build --keep`` would. The new run opens on Compare against the run it came from.
"""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from dashboard import data, state
from engine_core.build.rebuild import build_with_kept, nodes_of_layers, rebuild_of, with_kept
from engine_core.build.rtx import rtx_available
from engine_core.engine import Engine
from engine_core.errors import LayerLensError

STAGES = {"recipe": "applying the recipe with the kept nodes", "parse": "parsing the ONNX model",
          "build": "building the engine", "accuracy": "measuring the output error", "import": "reading the build log",
          "done": "done", "failed": "failed"}


def render_keep_panel(engine: Engine, run_id: str, selected: pd.DataFrame) -> None:
    """For the ``selected`` layers of ``engine``: which ONNX nodes they are, and a button to keep them."""
    rebuild = rebuild_of(engine)
    if rebuild is None:  # not a LayerLens build (or one from before builds recorded their request)
        return
    with st.container(border=True):
        st.markdown(f"**Keep {len(selected)} selected layer{'s' if len(selected) != 1 else ''} out of "
                    f"{engine.recipe or 'this build'}**")
        if rebuild.problems:
            st.caption("Cannot rebuild here: " + "; ".join(rebuild.problems) + ".")
            return
        if not rtx_available():
            st.caption("TensorRT-RTX is not installed here, so nothing can be built.")
            return
        nodes = nodes_of_layers(selected, data.load_model_node_names(rebuild.model))
        already = {n for n, _ in rebuild.keep}
        st.caption(f"ONNX nodes: {', '.join(f'`{n}`' for n in nodes[:12]) or 'none'}"
                   + (" …" if len(nodes) > 12 else "")
                   + (f" · {len(already)} node(s) already kept in this build" if already else ""))
        left, right = st.columns([2, 1])
        kind = left.radio("Keep in", [t.upper() for t in rebuild.keep_types], horizontal=True, key="keep.kind",
                          help="FP16: no Q/DQ, the node runs in FP16 (INT8/FP8 builds). FP32: it stays in FP32.")
        go = right.button(f"Build with {len(nodes)} node(s) kept", type="primary", key="keep.build", disabled=not nodes)
    if not go:
        return
    cancel = threading.Event()
    with st.status("Building with the kept nodes…", expanded=True) as status:
        try:
            keep = with_kept(rebuild, nodes, kind.lower())
            result = build_with_kept(rebuild, keep, data.store(), cancel=cancel, on_progress=lambda stem, stage, detail:
                                     status.write(f"**{stem}**: {STAGES.get(stage, stage)}"
                                                  + (f" ({detail})" if stage == "failed" else "")))
        except LayerLensError as exc:
            status.update(label="Build failed", state="error")
            st.error(str(exc))
            return
        finally:
            cancel.set()  # a rerun or Stop interrupts the script: take the worker down with it
        built = [r.run_id for r in result.results if r.run_id]
        if not built:
            status.update(label="Build failed", state="error")
            for failure in result.failures:
                st.error(f"{failure.stem}: {failure.error}")
            return
        status.update(label=f"Built {built[0]}", state="complete")
    data.clear_run_list()
    state.request_selection(run=built[0], baseline=run_id, compare=[])
    st.switch_page("app_pages/compare.py")
