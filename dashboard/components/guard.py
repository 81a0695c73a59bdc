"""The last guard before a traceback would reach the browser, for a page and for a fragment alike.

A fragment's rerun (the Layers table's search or click) runs the fragment alone, outside the router's
``page.run()``, so both need the same guard: errors a user can act on are shown as they are; anything else
is logged with its traceback and shown as one line that says where the details are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from engine_core.errors import LayerLensError

log = logging.getLogger("layerlens.dashboard")


@contextmanager
def errors_shown(where: str) -> Iterator[None]:
    """Run the body; a :class:`LayerLensError` becomes its message, any other error a logged one-liner.

    Args:
        where: what was running, for the log ("page Layers", "the Layers table").
    """
    try:
        yield
    except LayerLensError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the last guard before a traceback would reach the browser
        if type(exc).__module__.startswith("streamlit"):
            raise  # st.rerun / st.stop / page switches are control flow, not errors
        log.exception("%s failed", where)
        st.error(f"Something went wrong on this page ({type(exc).__name__}). The details are in the server log; "
                 "please report it with the artifacts you imported.", icon=":material/bug_report:")
