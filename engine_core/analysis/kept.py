"""Did the builder honour ``--keep``? Each kept ONNX node against the precision its engine layers compute in.

A recipe can only ask: TensorRT-RTX 1.7 was seen folding a ``Cast -> Conv (FP32) -> Cast`` island
of an FP16 network back into one FP16 convolution (``/conv2/Conv`` of the tiny CNN, kept in FP32),
so the kept node's layers are checked, not assumed. One explode over the layer table: linear in
layers. Pure pandas; no TensorRT.
"""

from __future__ import annotations

import pandas as pd

from engine_core.engine import Engine
from engine_core.recipes.keep import kept_nodes

KEPT_COLUMNS = ("onnx_node", "asked", "built", "layers", "honoured")


def kept_precision(engine: Engine) -> pd.DataFrame:
    """One row per node the build kept: ``asked`` (FP16/FP32), the compute precisions ``built`` by the layers
    holding it, those ``layers``, and ``honoured``: a layer computes in the asked precision, or no layer holds
    the node (a Flatten or Reshape the builder removed has no precision to honour)."""
    kept = kept_nodes(engine.build_facts)
    if not kept or engine.layers.empty:
        return pd.DataFrame(columns=list(KEPT_COLUMNS))
    pairs = pd.DataFrame({"name": engine.layers["name"], "precision": engine.layers["compute_precision"],
                          "onnx_node": engine.layers["onnx_nodes"].map(list)}).explode("onnx_node")
    pairs = pairs[pairs["onnx_node"].isin(kept)]
    grouped = pairs.groupby("onnx_node", sort=False).agg(layers=("name", list), built=("precision", lambda p: sorted(set(p))))
    rows = pd.DataFrame({"onnx_node": list(kept), "asked": list(kept.values())}).merge(
        grouped, left_on="onnx_node", right_index=True, how="left")
    rows["layers"] = rows["layers"].map(lambda v: v if isinstance(v, list) else [])
    rows["built"] = rows["built"].map(lambda v: v if isinstance(v, list) else [])
    rows["honoured"] = [not built or asked in built for asked, built in zip(rows["asked"], rows["built"])]
    return rows[list(KEPT_COLUMNS)].reset_index(drop=True)
