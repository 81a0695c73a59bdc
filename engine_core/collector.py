"""Python's cyclic garbage collector, paused around work that builds or walks millions of live objects.

Parsing a 50k-layer JSON creates ~2M dicts, lists and strings, and aligning two 100k-layer engines walks them again;
every allocation burst sets off generational collections that find nothing to free (the objects are all alive) and
triple the load time. Importers, the engine cache and the dashboard's page router all pause it here; the CLI turns it
off for its whole command (``layerlens.cli.main``).
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic collector for the block; it is switched back on after only if it was on before (re-entrant)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
