"""Align two or more engines by ONNX origin, not by position, and diff them.

Each layer knows the ONNX nodes it came from (``Metadata``, or its fused name
split on `` + ``). Layers of all engines that share a node are joined into one
group (union-find), so a conv+bias+relu fused differently in two builds still
lines up. Before joining, node names are normalized so that a QAT export of
the same network aligns with its float export: Q/DQ nodes and weight reads
carry no identity and are dropped, and the ``quant_`` scope prefix that
TensorFlow's QAT wrappers add is removed (``resnet50/quant_conv2_block1_1_conv``
-> ``resnet50/conv2_block1_1_conv``). A reformat layer belongs to the layer it
feeds ("Reformatting CopyNode for Input Tensor 0 to <layer>").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine_core.engine import Engine
from engine_core.layer_table import REFORMAT_TARGET

_NO_IDENTITY = re.compile(r"quantizelinear|dequantizelinear|quantlinearnode|dequantlinearnode|quantizeanddequantize|"
                          r"readvariableop|lastvaluequant|\.weight$|\.bias$|^onnxtrt_|^\(unnamed layer", re.I)
_QUANT_SCOPE = re.compile(r"(^|/)quant_")
_UNIQUIFIER = re.compile(r"(__\d+|:\d+)$")


def normalize_node(name: str) -> str | None:
    """Normalized ONNX node key, or None for nodes that identify nothing (Q/DQ, weight reads)."""
    if _NO_IDENTITY.search(name):
        return None
    return _UNIQUIFIER.sub("", _QUANT_SCOPE.sub(r"\1", name))


@dataclass
class Comparison:
    names: list[str]
    groups: pd.DataFrame          # one row per aligned group (see compare_engines)
    unmatched: dict[str, list[str]]
    speedup: float | None
    speedup_basis: str
    summaries: list[dict]

    def to_json(self) -> dict:
        groups = []
        for g in self.groups.itertuples(index=False):
            groups.append({
                "onnx_nodes": list(g.onnx_nodes),
                "a": _side(g, "a"), "b": _side(g, "b"),
                "delta_ms": _num(g.delta_ms), "speedup": _num(g.speedup),
                "precision_change": g.precision_change,
                "engines": [{"name": n, "time_ms": _num(t), "precision": p}
                            for n, t, p in zip(self.names, g.times_ms, g.precisions)],
            })
        return {"engines": self.summaries, "speedup": _num(self.speedup), "speedup_basis": self.speedup_basis,
                "groups": groups, "unmatched": self.unmatched}


def _side(g, prefix: str) -> dict:
    return {"layers": list(getattr(g, f"{prefix}_layers")), "time_ms": _num(getattr(g, f"{prefix}_ms")),
            "precision": getattr(g, f"{prefix}_precision"), "output_precision": getattr(g, f"{prefix}_output_precision"),
            "weights_precision": getattr(g, f"{prefix}_weights_precision"), "weights_bytes": int(getattr(g, f"{prefix}_weights_bytes"))}


def _num(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def compare_engines(engines: list[Engine]) -> Comparison:
    """Align ``engines`` (A, B, ...) by ONNX origin.

    ``groups`` columns: onnx_nodes, a_layers, b_layers, a_ms, b_ms, delta_ms (B - A),
    speedup (A/B), a/b_precision, a/b_output_precision, a/b_weights_precision,
    a/b_weights_bytes, precision_change ("FP16->INT8" or None), times_ms and
    precisions (one entry per engine, for 3+ engines).
    """
    if len(engines) < 2:
        raise ValueError("compare needs at least two engines")
    uf = _UnionFind()
    keys_of_layer: dict[tuple[int, int], list[str]] = {}
    for e_idx, engine in enumerate(engines):
        layers = engine.layers
        by_name = dict(zip(layers["name"], layers["order"]))
        for order, name, nodes in zip(layers["order"], layers["name"], layers["onnx_nodes"]):
            keys = [k for k in (normalize_node(n) for n in nodes) if k]
            node = ("layer", e_idx, order)
            uf.find(node)
            for k in keys:
                uf.union(("onnx", k), node)
            keys_of_layer[(e_idx, order)] = keys
            target = REFORMAT_TARGET.match(name)
            if target and target.group(1) in by_name:
                uf.union(("layer", e_idx, by_name[target.group(1)]), node)
    # Number every union-find root once; each layer gets its group id, so all later work is groupby.
    gid_of_root: dict = {}
    gids = [np.array([gid_of_root.setdefault(uf.find(("layer", e_idx, o)), len(gid_of_root))
                      for o in engine.layers["order"]], dtype="int64") for e_idx, engine in enumerate(engines)]
    present: dict[int, set[int]] = {}
    keys: dict[int, set[str]] = {}
    for e_idx, engine in enumerate(engines):
        for gid, order in zip(gids[e_idx], engine.layers["order"]):
            present.setdefault(gid, set()).add(e_idx)
            keys.setdefault(gid, set()).update(keys_of_layer[(e_idx, order)])
    matched = sorted(g for g in present if len(present[g]) >= 2 and keys[g])
    is_matched = [np.isin(g, matched) for g in gids]
    unmatched = {e.name: list(e.layers["name"][~m]) for e, m in zip(engines, is_matched)}
    sides = [_per_group(engine.layers.assign(_gid=g)[m]) for engine, g, m in zip(engines, gids, is_matched)]
    groups = _group_rows(matched, keys, sides)
    basis = "gpu_compute_median" if all(e.gpu_compute is not None for e in engines) else "per_layer_sum"
    a_time, b_time = (_engine_time(e, basis) for e in engines[:2])
    speedup = a_time / b_time if a_time and b_time else None
    summaries = [{"name": e.name, "gpu_compute_median": e.gpu_compute.median_ms if e.gpu_compute else None,
                  "per_layer_sum": e.per_layer_sum_ms, "device": e.device, "build_precision": e.build_precision,
                  "layers": int(len(e.layers))} for e in engines]
    return Comparison([e.name for e in engines], groups, unmatched, speedup, basis, summaries)


def _engine_time(engine: Engine, basis: str) -> float | None:
    return engine.gpu_compute.median_ms if basis == "gpu_compute_median" else engine.per_layer_sum_ms


def _dominant_per_group(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per group, ``column`` on the layer doing the real work.

    Ranking: layers that are not data movement first, then layers with weights
    (a convolution, not the epilogue kernel TensorRT-RTX splits off it), then most
    time (layers without a time last), then most weight bytes, then execution order.
    """
    ranked = frame.assign(_idle=frame["is_data_movement"], _unweighted=frame["weights_bytes"] == 0).sort_values(
        ["_gid", "_idle", "_unweighted", "avg_ms", "weights_bytes", "order"],
        ascending=[True, True, True, False, False, True], na_position="last", kind="stable")
    return ranked.groupby("_gid")[column].first()


def _per_group(frame: pd.DataFrame) -> pd.DataFrame:
    """One engine's side of every matched group: layers, time, precisions, weights."""
    by = frame.groupby("_gid")
    weighted = frame[frame["weights_bytes"] > 0]
    return pd.DataFrame({
        "layers": by["name"].agg(tuple), "ms": by["avg_ms"].sum(min_count=1),
        "precision": _dominant_per_group(frame, "compute_precision"),
        "output_precision": _dominant_per_group(frame, "output_precision"),
        "weights_precision": _dominant_per_group(weighted, "weights_precision"),
        "weights_bytes": by["weights_bytes"].sum(), "first_order": by["order"].min(),
    })


def _group_rows(matched: list[int], keys: dict[int, set[str]], sides: list[pd.DataFrame]) -> pd.DataFrame:
    """The groups table (see :func:`compare_engines`), A's execution order first."""
    if not matched:
        return pd.DataFrame()
    full = [side.reindex(matched) for side in sides]  # a group missing from an engine gets empty values
    for side in full:
        side["layers"] = side["layers"].map(lambda v: v if isinstance(v, tuple) else ())
        side["weights_precision"] = side["weights_precision"].fillna("NONE")
        side["weights_bytes"] = side["weights_bytes"].fillna(0).astype("int64")
        side["precision"] = side["precision"].astype(object).where(side["precision"].notna(), None)
        side["output_precision"] = side["output_precision"].astype(object).where(side["output_precision"].notna(), None)
    a, b = full[0], full[1]
    delta = b["ms"] - a["ms"]
    with np.errstate(divide="ignore", invalid="ignore"):
        speedup = np.where(b["ms"] > 0, a["ms"] / b["ms"], np.nan)
    change = [f"{x}->{y}" if x != y else None for x, y in zip(a["precision"], b["precision"])]
    groups = pd.DataFrame({
        "first_order": a["first_order"].fillna(10**9).to_numpy(),
        "onnx_nodes": [tuple(sorted(keys[g])) for g in matched],
        "a_layers": a["layers"].to_numpy(), "b_layers": b["layers"].to_numpy(),
        "a_ms": a["ms"].to_numpy(), "b_ms": b["ms"].to_numpy(), "delta_ms": delta.to_numpy(), "speedup": speedup,
        "a_precision": a["precision"].to_numpy(), "b_precision": b["precision"].to_numpy(),
        "a_output_precision": a["output_precision"].to_numpy(), "b_output_precision": b["output_precision"].to_numpy(),
        "a_weights_precision": a["weights_precision"].to_numpy(), "b_weights_precision": b["weights_precision"].to_numpy(),
        "a_weights_bytes": a["weights_bytes"].to_numpy(), "b_weights_bytes": b["weights_bytes"].to_numpy(),
        "precision_change": change,
        "times_ms": list(zip(*(side["ms"].to_numpy() for side in full))),
        "precisions": list(zip(*(side["precision"].to_numpy() for side in full))),
    })
    return groups.sort_values("first_order", kind="stable", ignore_index=True).drop(columns="first_order")
