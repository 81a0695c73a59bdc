"""LayerLens dashboard entry point (placeholder until the dashboard issue lands).

Lists the runs found in the run store so `make run` shows something real.
"""

from __future__ import annotations

import streamlit as st

from engine_core.store import RunStore

st.set_page_config(page_title="LayerLens", layout="wide")
st.title("LayerLens")
store = RunStore()
runs = store.list_runs()
if not runs:
    st.info(f"No runs in `{store.root}` yet. Import artifacts with `layerlens import PATH`.")
else:
    st.dataframe([{"run": r.run_id, "layers": r.layer_count, "precision": r.build_precision, "GPU": r.device} for r in runs])
