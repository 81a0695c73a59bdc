"""The access gate the router runs before any page, and the notice read-only pages show instead of controls.

A session that brings the right token (``?token=`` in the link ``layerlens
dashboard`` printed) is remembered for the rest of the session, and the token is
taken out of the URL; every other session gets one page that says how to get in
and nothing else. The policy itself lives in :mod:`layerlens.access`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import state
from layerlens import access


def render_access_gate() -> None:
    """Return when this session may see the dashboard; otherwise draw the way in and stop the script."""
    expected = access.required_token()
    if expected is None:
        address = st.get_option("server.address")
        if address and not access.is_loopback(address):  # `streamlit run --server.address 0.0.0.0` without a token
            _refuse(f"This dashboard listens on `{address}`, where other machines can reach it, but has no access "
                    "token, so it shows nothing.",
                    f"Start it with `layerlens dashboard --host {address}`, which prints a link with a token, or set "
                    "`LAYERLENS_TOKEN` before `streamlit run`.")
        return
    given = state.take_url_token(access.TOKEN_PARAM)
    if access.token_matches(given, expected):
        st.session_state[state.ACCESS] = access.token_digest(expected)
    if access.token_matches(st.session_state.get(state.ACCESS), access.token_digest(expected)):
        return
    wrong = "The token in this link is not this dashboard's. " if given else ""
    _refuse(f"{wrong}This dashboard is shared with an access token, and this browser tab has not brought it.",
            "Open the link `layerlens dashboard` printed when it started: it ends in `?token=…`. Reloading the page "
            "without it brings you back here. If you did not start the dashboard, ask whoever did for the link.")


def _refuse(what: str, how: str) -> None:
    st.title(":material/lock: LayerLens")
    st.markdown(what)
    st.info(how, icon=":material/key:")
    st.stop()


def render_read_only_notice(what: str) -> None:
    """Say why a page's controls are missing: ``what`` ("Importing runs") is off on a read-only dashboard."""
    st.info(f"{what} is turned off: this dashboard shares its run store read-only (`layerlens dashboard "
            "--read-only`). Everything else works; to change runs, bundle them on the **Runs** page and import "
            "them into your own LayerLens.", icon=":material/lock:")
