"""LayerLens dashboard: the router. Pages live in app_pages/; caching in data.py; state keys in state.py.

Run: ``streamlit run dashboard/streamlit_app.py [-- --store DIR]`` (or ``make run``).
Errors a user can act on are shown in the page; unexpected ones are logged to
the console and summarised, never shown as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run dashboard/streamlit_app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import data, state  # noqa: E402
from dashboard.components.common import provenance_text, render_export_button, render_report_button  # noqa: E402
from dashboard.components.gate import render_access_gate  # noqa: E402
from dashboard.components.guard import errors_shown  # noqa: E402
from dashboard.components.sidebar import render_sidebar  # noqa: E402
from layerlens import access  # noqa: E402
from engine_core.errors import LayerLensError  # noqa: E402
from engine_core.collector import paused_gc  # noqa: E402


st.set_page_config(page_title="LayerLens", page_icon=":material/layers:", layout="wide")
render_access_gate()  # before anything reads the store: a refused session sees how to get in, nothing else
state.init_from_url()
st.session_state[state.VIEW_ITEMS] = []

PAGES = {
    "Engine": [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("app_pages/layers.py", title="Layers", icon=":material/table_rows:"),
        st.Page("app_pages/precision.py", title="Precision", icon=":material/tune:"),
        st.Page("app_pages/size.py", title="Size", icon=":material/database:"),
        st.Page("app_pages/latency.py", title="Latency", icon=":material/timer:"),
        st.Page("app_pages/graph.py", title="Graph", icon=":material/hub:"),
    ],
    "Across builds": [st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:")],
    "Data": [
        st.Page("app_pages/import_page.py", title="Import", icon=":material/upload:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/folder_managed:"),
        st.Page("app_pages/build.py", title="Build", icon=":material/construction:"),
        st.Page("app_pages/models.py", title="Models", icon=":material/account_tree:"),
    ],
}

runs = data.load_runs()
render_sidebar(runs)
if access.read_only():
    st.sidebar.caption(":material/lock: Read-only: importing, building, renaming, tagging and deleting are off.")
page = st.navigation(PAGES)
# Python's cyclic collector is paused while a page runs (it runs once after): a loaded 100k-layer engine keeps ~2M
# objects alive, and every collection the analyses' allocations set off walks them all. Aligning two such engines
# took 6.4 s with it on and 4.3 s with it paused. The CLI pauses it for the whole command (layerlens/cli/main.py).
with errors_shown(f"page {page.title}"), paused_gc():
    page.run()
run_id = st.session_state.get(state.RUN)
if run_id:
    try:
        with st.sidebar:
            render_report_button(run_id, st.session_state.get(state.BASELINE) or None)
            if st.session_state.get(state.VIEW_ITEMS):
                render_export_button(page.title, provenance_text(data.load_engine_outline(run_id)))
    except LayerLensError:
        pass
state.push_to_url()
