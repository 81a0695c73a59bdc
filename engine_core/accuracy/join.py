"""Accuracy joined to an engine: which engine layers each ONNX node became, and each layer's SQNR.

An engine layer lists the ONNX nodes it came from (``onnx_nodes`` in the layer table:
Metadata, else the fused name), Q/DQ and weight reads included; an ONNX node may
land in several layers (a TensorRT-RTX convolution and its epilogue kernel). A layer's
SQNR is the worst SQNR of the measured nodes it holds. One explode and one group-by:
linear in layers and nodes, never a search per layer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine_core.accuracy.report import AccuracyReport


def _pairs(layers: pd.DataFrame) -> pd.DataFrame:
    """(layer position, layer name, onnx node) for every node every layer lists."""
    nodes = layers["onnx_nodes"].map(lambda n: list(n) if isinstance(n, (list, tuple)) and n else [None])
    exploded = pd.DataFrame({"position": np.arange(len(layers)), "name": layers["name"].to_numpy(),
                             "onnx_node": nodes.to_numpy()}).explode("onnx_node")
    return exploded.dropna(subset=["onnx_node"])


def engine_layers_by_node(layers: pd.DataFrame) -> dict[str, list[str]]:
    """ONNX node name -> the engine layers (in execution order) that hold it."""
    if layers.empty:
        return {}
    pairs = _pairs(layers)
    return pairs.groupby("onnx_node", sort=False)["name"].agg(list).to_dict()


def layer_sqnr(layers: pd.DataFrame, report: AccuracyReport | None) -> pd.DataFrame:
    """Per engine layer (same index as ``layers``): ``sqnr_db`` (worst measured node; ``inf`` identical, NaN
    not measured), ``sqnr_node`` (that node) and ``sqnr_precision`` (its precision in the candidate ONNX)."""
    out = pd.DataFrame({"sqnr_db": np.full(len(layers), np.nan), "sqnr_node": None, "sqnr_precision": None},
                       index=layers.index)
    if report is None or report.nodes.empty or layers.empty:
        return out
    measured = report.nodes.drop_duplicates("onnx_node").set_index("onnx_node")
    pairs = _pairs(layers)
    pairs = pairs.assign(sqnr_db=pairs["onnx_node"].map(measured["sqnr_db"]),
                         precision=pairs["onnx_node"].map(measured["precision"])).dropna(subset=["sqnr_db"])
    worst = pairs.sort_values("sqnr_db", kind="stable").drop_duplicates("position")
    rows = layers.index[worst["position"].to_numpy()]
    out.loc[rows, "sqnr_db"] = worst["sqnr_db"].to_numpy()
    out.loc[rows, "sqnr_node"] = worst["onnx_node"].to_numpy()
    out.loc[rows, "sqnr_precision"] = worst["precision"].to_numpy()
    return out


def with_layer_accuracy(table: pd.DataFrame, layers: pd.DataFrame, report: AccuracyReport | None) -> pd.DataFrame:
    """``table`` (rows of ``layers``) plus CSV-safe accuracy columns: ``sqnr_db`` (empty when identical or not
    measured), ``sqnr_identical`` and ``sqnr_inputs`` (``synthetic inputs`` or ``data: N batches``)."""
    if report is None:
        return table
    sqnr = layer_sqnr(layers, report)["sqnr_db"].reindex(table.index)
    return table.assign(sqnr_db=sqnr.where(np.isfinite(sqnr)), sqnr_identical=sqnr == math.inf,
                        sqnr_inputs=report.inputs_label)


def group_sqnr(layer_names: pd.Series, layers: pd.DataFrame, report: AccuracyReport | None) -> pd.Series:
    """Per aligned group (a Series of layer-name lists): the worst SQNR of its layers (NaN when none measured)."""
    if report is None or layer_names.empty:
        return pd.Series(np.nan, index=layer_names.index)
    per_layer = pd.Series(layer_sqnr(layers, report)["sqnr_db"].to_numpy(), index=layers["name"].to_numpy())
    per_layer = per_layer[~per_layer.index.duplicated()]
    exploded = layer_names.map(lambda n: list(n) if isinstance(n, (list, tuple)) and n else [None]).explode()
    return exploded.map(per_layer).groupby(level=0).min().reindex(layer_names.index)
