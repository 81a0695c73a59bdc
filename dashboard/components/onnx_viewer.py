"""Open the ONNX model an engine was built from in Netron, served on a local port.

LayerLens draws the *engine* (what TensorRT made); the *network* it came from is
Netron's job, and re-implementing an ONNX viewer would be worse than using the
maintained one (https://github.com/lutzroeder/netron, the ``netron`` package).
Netron is an optional extra: without it the page says how to get it.
"""

from __future__ import annotations

import socket
from pathlib import Path

import streamlit as st

from layerlens import access


def _shared() -> bool:
    """The dashboard is reachable from other machines: ``layerlens dashboard --host`` (which sets an access
    token) or a Streamlit server bound to a non-loopback address."""
    address = st.get_option("server.address")
    return access.required_token() is not None or (bool(address) and not access.is_loopback(address))


@st.cache_resource(max_entries=8, show_spinner="Starting Netron…")
def _serve(path: str, mtime: float) -> str:
    import netron

    with socket.socket() as probe:  # a free port; Netron's own default (8080) is often taken
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    host, port = netron.serve(path, address=("localhost", port), browse=False)
    return f"http://{host}:{port}"


def render_netron_button(onnx: Path) -> None:
    if _shared():
        # Netron listens on this machine's loopback (serving it on every interface would bypass the access
        # token): a link to it would point at the viewer's own machine.
        st.caption(f"The ONNX model is `{onnx.name}` on the dashboard's machine. This dashboard is shared, and "
                   f"Netron only serves that machine: open it there with `netron {onnx}`, or in "
                   "https://netron.app with a copy of the file.")
        return
    try:
        import netron  # noqa: F401
    except ImportError:
        st.caption(f"The ONNX model is at `{onnx}`. `pip install netron` to open it here.")
        return
    if st.button(":material/account_tree: Open the ONNX graph (Netron)", key="graph.netron",
                 help=f"Serves {onnx.name} with Netron on a local port and links to it"):
        url = _serve(str(onnx), onnx.stat().st_mtime)
        st.link_button(f"Netron: {onnx.name}", url)
        st.caption(f"Netron serves `{onnx}` at {url} (this machine only).")
