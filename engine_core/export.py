"""Flat exports of the layer table (CSV) for spreadsheets and teammates.

Tuple columns (ONNX nodes, tensors) become readable strings; everything else is
written as is, with the schema's column names. No Streamlit, no TensorRT.
"""

from __future__ import annotations

import pandas as pd

from engine_core.precision import tensor_format


def _tensors_text(tensors) -> str:
    parts = []
    for t in tensors or ():
        dims = "x".join(str(d) for d in t.get("Dimensions") or [])
        parts.append(f"{t.get('Name', '')} [{tensor_format(t) or ''}] ({dims})")
    return "; ".join(parts)


def flatten_layer_table(table: pd.DataFrame) -> pd.DataFrame:
    """The layer table with its tuple columns rendered as text."""
    flat = table.copy()
    flat["onnx_nodes"] = [" | ".join(nodes) for nodes in flat["onnx_nodes"]]
    flat["inputs"] = [_tensors_text(t) for t in flat["inputs"]]
    flat["outputs"] = [_tensors_text(t) for t in flat["outputs"]]
    return flat


def layer_table_csv(table: pd.DataFrame) -> str:
    """CSV text of :func:`flatten_layer_table`."""
    return flatten_layer_table(table).to_csv(index=False)
