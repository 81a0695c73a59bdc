"""LayerLens's product layer, on top of the :mod:`engine_core` library.

* :mod:`layerlens.cli`: the ``layerlens`` command line (``python -m layerlens``);
* :mod:`layerlens.views`: what the CLI and the dashboard both show: Plotly figures,
  the key numbers, provenance stamps, the offline HTML report and static images;
* :mod:`layerlens.access`: who may see the dashboard and what it may touch (token,
  read-only, path fences), which the CLI sets up and the dashboard enforces.

Imports run one way: ``engine_core`` never imports this package; ``views`` never
imports ``cli``, ``dashboard`` or Streamlit; ``dashboard`` imports ``views`` and
``engine_core``, never ``cli``. ``tests/test_layering.py`` keeps it so.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is :mod:`engine_core`'s, read on first use (see there)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import engine_core

    return engine_core.__version__
