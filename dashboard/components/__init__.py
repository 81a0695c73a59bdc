"""Reusable ``render_*`` components: the only place (besides pages) that calls Streamlit."""
