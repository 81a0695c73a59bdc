"""Session-state keys ("page.thing") and their mirror in the URL (``st.query_params``).

The selection lives in the URL so a teammate who opens a shared link sees the
same engine, comparison and GPU. Only this module reads or writes query params.
"""

from __future__ import annotations

import streamlit as st

RUN = "nav.run"                  # run id of the engine being explored
BASELINE = "nav.baseline"        # run id it is compared against ("" = none); Compare, Overview, Size diff
COMPARE = "nav.compare"          # more run ids for N-way views on the Compare page
GPU = "latency.gpu"              # GPU catalog name for estimates and the roofline ("" = the engine's own)
LAYER_SEARCH = "layers.search"
LAYER_TYPES = "layers.types"
LAYER_PRECISIONS = "layers.precisions"
LAYER_SORT = "layers.sort"
LAYER_DESCENDING = "layers.descending"
LAYER_PAGE = "layers.page"
WATERFALL_RANGE = "latency.range"
IMPORT_RESULTS = "import.results"
VIEW_ITEMS = "share.items"       # what the current page drew, for the HTML export
PENDING = "nav.pending"          # selection to apply before the sidebar widgets exist (after an import)
ACCESS = "access.granted"        # digest of the token this session brought (see dashboard/access.py)

_URL_KEYS = {RUN: "run", BASELINE: "baseline", COMPARE: "compare", GPU: "gpu"}


def init_from_url() -> None:
    """Seed session state from the URL once per session (a shared link)."""
    if st.session_state.get("_url_loaded"):
        return
    params = st.query_params
    if "run" in params:
        st.session_state[RUN] = params["run"]
    if "baseline" in params:
        st.session_state[BASELINE] = params["baseline"]
    if "compare" in params:
        st.session_state[COMPARE] = [r for r in params["compare"].split(",") if r]
    if "gpu" in params:
        st.session_state[GPU] = params["gpu"]
    st.session_state["_url_loaded"] = True


def take_url_token(param: str) -> str | None:
    """The access token in the URL, removed from it so it is not left in the address bar or a copied link."""
    token = st.query_params.get(param)
    if param in st.query_params:
        del st.query_params[param]
    return token


def push_to_url() -> None:
    """Write the current selection to the URL (called after the page ran)."""
    for key, param in _URL_KEYS.items():
        value = st.session_state.get(key)
        if isinstance(value, list):
            value = ",".join(value)
        if value:
            if st.query_params.get(param) != value:
                st.query_params[param] = value
        elif param in st.query_params:
            del st.query_params[param]


def request_selection(run: str | None = None, baseline: str | None = None, compare: list[str] | None = None) -> None:
    """Ask for a new selection; applied at the start of the next run (widget keys are locked once drawn)."""
    st.session_state[PENDING] = {"run": run, "baseline": baseline, "compare": compare}


def apply_pending_selection() -> None:
    pending = st.session_state.pop(PENDING, None)
    if not pending:
        return
    if pending.get("run"):
        st.session_state[RUN] = pending["run"]
        st.session_state.pop(BASELINE, None)  # re-default for the new engine unless one is given
    if pending.get("baseline"):
        st.session_state[BASELINE] = pending["baseline"]
    if pending.get("compare") is not None:
        st.session_state[COMPARE] = pending["compare"]


def comparison_ids() -> list[str]:
    """``[baseline, engine, *more]`` for the Compare page, or ``[]`` without a baseline."""
    run, baseline = st.session_state.get(RUN), st.session_state.get(BASELINE)
    if not run or not baseline or baseline == run:
        return []
    more = [r for r in st.session_state.get(COMPARE) or [] if r not in (run, baseline)]
    return [baseline, run, *more]
