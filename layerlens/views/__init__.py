"""Presentation shared by the CLI and the dashboard: pure figure builders, key numbers, provenance,
the offline HTML report and static images. Never imports Streamlit, the CLI or the dashboard."""
