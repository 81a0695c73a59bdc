"""The Build page's advisor: a target output SQNR, then the fewest layers kept in FP16 to reach it, built for real.

Same search as ``layerlens advise`` (:mod:`engine_core.accuracy.advise`): every probe is a
TensorRT-RTX build run out of process and stored, so the path and the Pareto view on the
Compare page show every step. Its own section of the Build page, keys prefixed ``advise.``.
"""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from dashboard import data, state
from engine_core.accuracy.report import format_sqnr
from engine_core.errors import LayerLensError

RESULT = "advise.result"   # the last advice (its JSON), shown until the next run


def render_advise_panel(model: str) -> None:
    st.subheader("Advise: which layers to keep in FP16")
    st.caption("Quantizes the model, ranks its quantized layers by how much output error keeping each in FP16 "
               "removes, then builds candidates (bisecting over that ranking) until the output SQNR against the "
               "float model meets the target. Every candidate is a real build, stored beside the others.")
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    target = c1.slider("Target output SQNR (dB)", 20.0, 70.0, 40.0, 0.5, key="advise.target",
                       help="Higher is closer to the float model. ~70 dB is what FP16 reaches on the sample models.")
    precision = c2.selectbox("Recipe", ["int8", "fp8"], key="advise.precision")
    placement = c3.selectbox("Q/DQ placement", ["ort", "tensorrt"], key="advise.placement")
    budget = c4.number_input("Budget (s)", 60, 3600, 600, 60, key="advise.budget")
    data_dir = st.text_input("Accuracy data folder (.npz/.npy batches)", key="advise.data",
                             placeholder="empty: synthetic inputs (relative error, not task accuracy)")
    if st.button(f"Advise for {target:g} dB", key="advise.go", disabled=not model):
        _run(model, target, precision, placement, float(budget), data_dir or None)
    advice = st.session_state.get(RESULT)
    if advice:
        _render_result(advice)


def _run(model: str, target: float, precision: str, placement: str, budget: float, data_dir: str | None) -> None:
    from engine_core.accuracy.advise import advise
    from engine_core.models.zoo import resolve_model

    cancel = threading.Event()
    with st.status(f"Advising for {target:g} dB…", expanded=True) as status:
        try:
            path, label = resolve_model(model)
            result = advise(path, target, precision=precision, placement=placement, data_dir=data_dir,
                            targets=("sm89",) if precision == "fp8" else (), store=data.store(), model_label=label,
                            budget_s=budget, on_progress=lambda message: status.write(message.strip()), cancel=cancel)
        except LayerLensError as exc:
            status.update(label="Advice failed", state="error")
            st.error(str(exc))
            return
        finally:
            cancel.set()
        status.update(label=("Met" if result.met else "Not met") + f": {target:g} dB", state="complete" if result.met else "error")
    data.clear_run_list()
    st.session_state[RESULT] = result.to_json()
    first, chosen = result.steps[0].run_id if result.steps else None, result.chosen
    if chosen is not None and first and chosen.run_id != first:
        state.request_selection(run=chosen.run_id, baseline=first, compare=[])
    st.rerun()


def _render_result(advice: dict) -> None:
    steps = pd.DataFrame([{"kept": s["kept_count"], "output SQNR": format_sqnr(s["sqnr_db"] if not s["identical"]
                                                                               else float("inf")),
                           "meets": "yes" if s["met"] else "no", "engine MiB": (s["engine_bytes"] or 0) / 2**20,
                           "latency ms (estimate)": s["latency_estimate_ms"], "run": s["run"],
                           "advice": "◀" if s["run"] == advice["chosen"] else ""} for s in advice["steps"]])
    if advice["met"]:
        st.success(f"Met {advice['target_db']:g} dB keeping {len(advice['kept'])} layer(s) in FP16"
                   + (": " + ", ".join(f"`{n}`" for n in advice["kept"][:8]) + (" …" if len(advice["kept"]) > 8 else "")
                      if advice["kept"] else "."), icon=":material/check_circle:")
    else:
        st.error(f"Not met: {advice['target_db']:g} dB.", icon=":material/block:")
    for note in advice["notes"]:
        st.caption(f":material/info: {note}")
    st.dataframe(steps, hide_index=True, width="stretch",
                 column_config={"engine MiB": st.column_config.NumberColumn(format="%.2f"),
                                "latency ms (estimate)": st.column_config.NumberColumn(format="%.4f")})
    if advice["inputs"].get("source") != "data":
        st.caption("SQNR on synthetic inputs: relative error between the builds and the float model, not task accuracy.")
    if advice["met"] and advice["chosen"] and advice["steps"] and advice["chosen"] != advice["steps"][0]["run"]:
        st.page_link("app_pages/compare.py", label="Compare the advice with the fully quantized build",
                     icon=":material/compare_arrows:")
