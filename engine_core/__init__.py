"""LayerLens engine core: read TensorRT artifacts into one per-layer table and analyse it.

Subpackages: ``importers`` (one module per artifact kind), ``analysis`` (pure
pandas), ``store`` (run folders). Only ``engine_core.build`` may touch TensorRT,
and only inside functions; nothing here imports Streamlit.
"""

def __getattr__(name: str) -> str:
    """``__version__``, read on first use (PEP 562): ``importlib.metadata`` costs 55 ms, a third of
    ``layerlens --help``, which needs no version."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:  # one source: the installed distribution's metadata, which pyproject.toml's version becomes
        found = version("layerlens")
    except PackageNotFoundError:  # a checkout put on sys.path without `pip install`: say so rather than guess
        found = "0+unknown"
    globals()["__version__"] = found
    return found
