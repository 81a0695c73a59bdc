"""LayerLens engine core: read TensorRT artifacts into one per-layer table and analyse it.

Subpackages: ``importers`` (one module per artifact kind), ``analysis`` (pure
pandas), ``store`` (run folders). Only ``engine_core.build`` may touch TensorRT,
and only inside functions; nothing here imports Streamlit.
"""

from importlib.metadata import PackageNotFoundError, version

try:  # one source: the installed distribution's metadata, which pyproject.toml's version becomes
    __version__ = version("layerlens")
except PackageNotFoundError:  # a checkout put on sys.path without `pip install`: say so rather than guess
    __version__ = "0+unknown"
del PackageNotFoundError, version
