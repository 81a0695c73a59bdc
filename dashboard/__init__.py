"""LayerLens dashboard: a thin Streamlit client over engine_core. Never imports tensorrt."""
