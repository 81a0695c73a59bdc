"""Self-contained HTML export of a dashboard view: figures, tables and text, plotly.js inlined.

Pure (no Streamlit): a page records what it drew as :class:`ViewItem`s and the
share button turns them into one HTML file a teammate can open offline.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs


@dataclass
class ViewItem:
    title: str
    figure: go.Figure | None = None
    table: pd.DataFrame | Callable[[], pd.DataFrame] | None = None  # a callable: made when exported
    text: str = ""


def build_html_report(title: str, provenance: str, items: list[ViewItem], generated: str) -> str:
    """One HTML document holding every item in order, with plotly.js inlined (works offline)."""
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p class='prov'>{html.escape(provenance)}</p>"]
    for item in items:
        parts.append(f"<h2>{html.escape(item.title)}</h2>")
        if item.text:
            parts.append(f"<p>{html.escape(item.text)}</p>")
        if item.figure is not None:
            parts.append(item.figure.to_html(full_html=False, include_plotlyjs=False))
        if item.table is not None:
            table = item.table() if callable(item.table) else item.table
            parts.append(table.to_html(index=False, border=0, classes="tbl", float_format=lambda v: f"{v:.4g}"))
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script type="text/javascript">{get_plotlyjs()}</script>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#1f2328}} .prov{{color:#57606a}}
.tbl{{border-collapse:collapse;font-size:12px}} .tbl td,.tbl th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}}
footer{{color:#57606a;font-size:12px;margin-top:3em}}</style></head>
<body>{body}<footer>Exported from LayerLens on {html.escape(generated)}. Estimated times are labelled with the model and its error band; roofline values are estimates too.</footer></body></html>"""
