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


def _engine_time(engine: Engine) -> tuple[float | None, str]:
    if engine.gpu_compute is not None:
        return engine.gpu_compute.median_ms, "gpu_compute_median"
    return engine.per_layer_sum_ms, "per_layer_sum"


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
    members: dict = {}
    for e_idx, engine in enumerate(engines):
        for order in engine.layers["order"]:
            members.setdefault(uf.find(("layer", e_idx, order)), []).append((e_idx, order))
    rows, unmatched = [], {e.name: [] for e in engines}
    for group in members.values():
        present = {e for e, _ in group}
        keys = sorted({k for e, o in group for k in keys_of_layer[(e, o)]})
        if len(present) < 2 or not keys:
            for e_idx, order in group:
                unmatched[engines[e_idx].name].append(engines[e_idx].layers.loc[engines[e_idx].layers["order"] == order, "name"].iloc[0])
            continue
        rows.append(_group_row(engines, group, keys))
    groups = pd.DataFrame(rows)
    if not groups.empty:
        groups = groups.sort_values("first_order", ignore_index=True).drop(columns="first_order")
    times = [_engine_time(e) for e in engines]
    basis = "gpu_compute_median" if all(b == "gpu_compute_median" for _, b in times) else "per_layer_sum"
    a_time = engines[0].gpu_compute.median_ms if basis == "gpu_compute_median" else engines[0].per_layer_sum_ms
    b_time = engines[1].gpu_compute.median_ms if basis == "gpu_compute_median" else engines[1].per_layer_sum_ms
    speedup = a_time / b_time if a_time and b_time else None
    summaries = [{"name": e.name, "gpu_compute_median": e.gpu_compute.median_ms if e.gpu_compute else None,
                  "per_layer_sum": e.per_layer_sum_ms, "device": e.device, "build_precision": e.build_precision,
                  "layers": int(len(e.layers))} for e in engines]
    return Comparison([e.name for e in engines], groups, unmatched, speedup, basis, summaries)


def _dominant(frame: pd.DataFrame, column: str) -> str | None:
    """The value of ``column`` on the layer doing the real work: most time, else most weights, else first."""
    if frame.empty:
        return None
    work = frame[~frame["is_data_movement"]] if (~frame["is_data_movement"]).any() else frame
    if work["avg_ms"].notna().any():
        return work.loc[work["avg_ms"].idxmax(), column]
    if work["weights_bytes"].any():
        return work.loc[work["weights_bytes"].idxmax(), column]
    return work[column].iloc[0]


def _group_row(engines: list[Engine], group, keys) -> dict:
    per_engine = []
    for e_idx, engine in enumerate(engines):
        orders = [o for e, o in group if e == e_idx]
        per_engine.append(engine.layers[engine.layers["order"].isin(orders)])
    a, b = per_engine[0], per_engine[1]
    a_ms = a["avg_ms"].sum(min_count=1)
    b_ms = b["avg_ms"].sum(min_count=1)
    a_prec, b_prec = _dominant(a, "compute_precision"), _dominant(b, "compute_precision")
    return {
        "first_order": int(a["order"].min()) if not a.empty else 10**9,
        "onnx_nodes": tuple(keys),
        "a_layers": tuple(a["name"]), "b_layers": tuple(b["name"]),
        "a_ms": a_ms, "b_ms": b_ms, "delta_ms": b_ms - a_ms,
        "speedup": a_ms / b_ms if b_ms and not np.isnan(b_ms) and b_ms > 0 else np.nan,
        "a_precision": a_prec, "b_precision": b_prec,
        "a_output_precision": _dominant(a, "output_precision"), "b_output_precision": _dominant(b, "output_precision"),
        "a_weights_precision": _dominant(a[a["weights_bytes"] > 0], "weights_precision") or "NONE",
        "b_weights_precision": _dominant(b[b["weights_bytes"] > 0], "weights_precision") or "NONE",
        "a_weights_bytes": int(a["weights_bytes"].sum()), "b_weights_bytes": int(b["weights_bytes"].sum()),
        "precision_change": f"{a_prec}->{b_prec}" if a_prec != b_prec else None,
        "times_ms": tuple(p["avg_ms"].sum(min_count=1) for p in per_engine),
        "precisions": tuple(_dominant(p, "compute_precision") for p in per_engine),
    }
