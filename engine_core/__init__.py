"""LayerLens engine core: read TensorRT artifacts into one per-layer table and analyse it.

Subpackages: ``importers`` (one module per artifact kind), ``analysis`` (pure
pandas), ``store`` (run folders). Only ``engine_core.build`` may touch TensorRT,
and only inside functions; nothing here imports Streamlit.
"""

__version__ = "0.1.0"
