"""Runs: rename, tag (e.g. "baseline"), delete (after asking), and bundle runs for a teammate; broken folders too."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.gate import render_read_only_notice
from engine_core.errors import LayerLensError
from engine_core.store.baseline import BASELINE_TAG
from engine_core.store.bundle import write_bundle

st.title("Runs")
store = data.store()
runs, broken = store.scan()
st.caption(f"{len(runs)} runs in `{store.root}`. A run's id never changes (links and bundles keep working); its name "
           f"and tags do. A run tagged **{BASELINE_TAG}** becomes the default baseline for its model.")
if store.read_only:  # the store refuses these writes too; the controls are not drawn
    render_read_only_notice("Renaming, tagging and deleting runs")


@st.dialog("Delete runs?")
def _confirm_delete(targets: list[tuple[str, str]]) -> None:
    st.write("These runs and their artifact files will be removed from the store. This cannot be undone "
             "(bundle them first to keep a copy).")
    for _, label in targets:
        st.markdown(f"- {label}")
    c1, c2 = st.columns(2)
    if c1.button("Delete", type="primary", key="runs.delete.yes"):
        for run_id, _ in targets:
            try:
                store.delete(run_id)
            except LayerLensError as exc:
                st.error(str(exc))
                return
        data.clear_run_list()
        st.session_state.pop("runs.chosen", None)
        st.session_state["runs.flash"] = f"Deleted {len(targets)} run(s)."
        st.rerun()
    if c2.button("Cancel", key="runs.delete.no"):
        st.rerun()


if flash := st.session_state.pop("runs.flash", None):
    st.success(flash)

if runs:
    table = pd.DataFrame([{"name": r.name, "tags": " ".join(f"#{t}" for t in r.tags), "layers": r.layer_count,
                           "precision": r.build_precision or r.labels.get("recipe") or "", "GPU": r.device or "",
                           "created (UTC)": r.created_utc, "id": r.run_id} for r in runs])
    st.dataframe(table, hide_index=True, width="stretch")
    by_id = {r.run_id: r for r in runs}
    if "runs.chosen" in st.session_state:  # a run another session deleted is no longer an option
        st.session_state["runs.chosen"] = [i for i in st.session_state["runs.chosen"] if i in by_id]
    picked = st.multiselect("Runs to work on", list(by_id), key="runs.chosen", placeholder="Pick runs by name",
                            format_func=lambda i: f"{by_id[i].name} · {i}")
    chosen = [by_id[i] for i in picked]
    if not chosen:
        verbs = "bundle or explore" if store.read_only else "rename, tag, delete or bundle"
        st.info(f"Pick runs above to {verbs} them.", icon=":material/touch_app:")
    else:
        if len(chosen) == 1 and not store.read_only:
            run = chosen[0]
            with st.form("runs.edit", border=True):
                st.markdown(f"**{run.run_id}**")
                name = st.text_input("Name", value=run.name)
                tags = st.text_input("Tags (space-separated)", value=" ".join(run.tags), help=f"e.g. `{BASELINE_TAG}`")
                if st.form_submit_button("Save", type="primary"):
                    try:
                        if name.strip() != run.name:
                            store.rename(run.run_id, name)
                        wanted = tags.split()
                        store.set_tags(run.run_id, add=wanted, remove=[t for t in run.tags if t not in wanted])
                    except LayerLensError as exc:
                        st.error(str(exc))
                    else:
                        data.clear_run_list()
                        st.session_state["runs.flash"] = f"Saved {run.run_id}."
                        st.rerun()
        c1, c2, c3 = st.columns(3)
        if not store.read_only and c1.button(f":material/delete: Delete {len(chosen)} run(s)…", key="runs.delete"):
            _confirm_delete([(r.run_id, f"**{r.name}** (`{r.run_id}`, {r.layer_count} layers)") for r in chosen])

        def _bundle() -> bytes:
            with tempfile.TemporaryDirectory() as tmp:
                return write_bundle(store, [r.run_id for r in chosen], Path(tmp) / "runs.lens.zip").read_bytes()

        c2.download_button(f":material/package_2: Bundle {len(chosen)} run(s)", data=_bundle, file_name="runs.lens.zip",
                           mime="application/zip", on_click="ignore", key="runs.bundle",
                           help="One zip with these runs (artifacts, names, tags); a teammate imports it on the Import "
                                "page or with `layerlens import runs.lens.zip`.")
        if len(chosen) == 1:
            c3.button(":material/visibility: Explore it", key="runs.open",
                      on_click=lambda: state.request_selection(run=chosen[0].run_id))
else:
    st.info("No runs yet: import artifacts or a bundle on the **Import** page.", icon=":material/upload_file:")

if broken:
    st.subheader("Broken run folders")
    st.caption("These folders in the store are not readable runs. Nothing reads them; delete them to tidy up.")
    for b in broken:
        c1, c2 = st.columns([5, 1])
        c1.warning(f"`{b.folder}`: {b.reason}", icon=":material/broken_image:")
        if not store.read_only and c2.button("Delete…", key=f"runs.broken.{b.folder}"):
            _confirm_delete([(b.folder, f"broken folder `{b.folder}`")])
