"""Diff two or more engines group by group, after :mod:`engine_core.analysis.align` says which layers correspond.

A group is the set of layers (in each engine) that implement the same piece of the network. Each row
of :attr:`Comparison.groups` carries both sides' layers, time, precisions and weight bytes, how the group
was matched (``onnx``/``name``/``structure``) and with what confidence. An empty comparison still has
every column, so no caller ever meets a missing key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine_core.analysis.align import SAME_NETWORK_SHARE, align_engines, normalize_node  # noqa: F401 (re-export)
from engine_core.engine import Engine

SIDE_COLUMNS = ("layers", "ms", "precision", "output_precision", "weights_precision", "weights_bytes")
GROUP_COLUMNS = ("onnx_nodes", "match", "confidence",
                 *[f"{s}_{c}" for s in ("a", "b") for c in SIDE_COLUMNS],
                 "delta_ms", "speedup", "precision_change", "times_ms", "precisions")


def empty_groups() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in GROUP_COLUMNS})


@dataclass
class Comparison:
    names: list[str]
    groups: pd.DataFrame          # GROUP_COLUMNS, one row per group present in two or more engines
    unmatched: dict[str, list[str]]
    speedup: float | None
    speedup_basis: str
    summaries: list[dict]
    aligned_share: float = 0.0    # share of compute layers in a cross-engine group
    notes: list[str] = field(default_factory=list)
    time_basis: str = "measured"  # or "estimate on <GPU> (<model>, <error band>)" when an engine was never timed

    @property
    def different_networks(self) -> bool:
        return self.aligned_share < SAME_NETWORK_SHARE

    def match_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.groups["match"].value_counts().items()}

    def to_json(self) -> dict:
        # Column by column, not row by row: itertuples and a getattr per field were seconds at 100k layers.
        column = {c: self.groups[c].tolist() for c in GROUP_COLUMNS}
        groups = [{"onnx_nodes": list(nodes), "match": match, "confidence": _num(confidence), "a": a, "b": b,
                   "delta_ms": _num(delta), "speedup": _num(speedup), "precision_change": change,
                   "engines": [{"name": n, "time_ms": _num(t), "precision": p} for n, t, p in zip(self.names, times, precisions)]}
                  for nodes, match, confidence, a, b, delta, speedup, change, times, precisions in zip(
                      column["onnx_nodes"], column["match"], column["confidence"], _sides(column, "a"), _sides(column, "b"),
                      column["delta_ms"], column["speedup"], column["precision_change"], column["times_ms"],
                      column["precisions"])]
        return {"engines": self.summaries, "speedup": _num(self.speedup), "speedup_basis": self.speedup_basis,
                "time_basis": self.time_basis, "aligned_share": round(self.aligned_share, 4),
                "different_networks": self.different_networks, "match_counts": self.match_counts(),
                "notes": self.notes, "groups": groups, "unmatched": self.unmatched}


def _sides(column: dict[str, list], prefix: str) -> list[dict]:
    """One side (``a`` or ``b``) of every group, as ``compare --json`` writes it."""
    return [{"layers": list(layers), "time_ms": _num(ms), "precision": precision, "output_precision": output,
             "weights_precision": weights_precision, "weights_bytes": int(weights_bytes)}
            for layers, ms, precision, output, weights_precision, weights_bytes in zip(
                *(column[f"{prefix}_{c}"] for c in SIDE_COLUMNS))]


def _num(x):
    return None if x is None or x != x else float(x)  # x != x: NaN, Python's or numpy's


def compare_engines(engines: list[Engine]) -> Comparison:
    """Align ``engines`` (A, B, ...) and diff them group by group.

    ``groups`` columns: :data:`GROUP_COLUMNS`; ``delta_ms`` is B - A, ``speedup`` A/B,
    ``precision_change`` like ``"FP16->INT8"`` (None when equal); ``times_ms`` and ``precisions`` hold
    one entry per engine, for 3+ engines.

    Raises:
        ValueError: fewer than two engines.
    """
    if len(engines) < 2:
        raise ValueError("compare needs at least two engines")
    alignment = align_engines([e.layers for e in engines], [e.analysis.glue for e in engines],
                               [lambda e=e: e.analysis.tensors for e in engines])
    names = unique_names(engines)
    matched = np.array(sorted(alignment.match), dtype="int64")
    is_matched = [np.isin(g, matched) for g in alignment.group_ids]
    unmatched = {name: list(e.layers["name"][~m]) for name, e, m in zip(names, engines, is_matched)}
    sides = [_side(engine.layers, gids, m, matched) for engine, gids, m in zip(engines, alignment.group_ids, is_matched)]
    groups = _group_rows(matched, alignment, sides) if len(matched) else empty_groups()
    basis = "gpu_compute_median" if all(e.gpu_compute is not None for e in engines) else "per_layer_sum"
    a_time, b_time = (_engine_time(e, basis) for e in engines[:2])
    speedup = a_time / b_time if a_time and b_time else None
    summaries = [{"name": name, "gpu_compute_median": e.gpu_compute.median_ms if e.gpu_compute else None,
                  "per_layer_sum": e.per_layer_sum_ms, "device": e.device, "build_precision": e.build_precision,
                  "recipe": e.recipe, "time_basis": e.time_basis, "layers": int(len(e.layers))}
                 for name, e in zip(names, engines)]
    estimated = sorted({e.time_basis for e in engines if e.is_estimate})
    return Comparison(names, groups, unmatched, speedup, basis, summaries,
                      alignment.compute_aligned_share, list(alignment.notes),
                      estimated[0] if estimated else "measured")


def unique_names(engines: list[Engine]) -> list[str]:
    """Engine names, made unique for display and keys (TREx calls both the FP32 and the FP16 build "resnet")."""
    names = [e.name for e in engines]
    if len(set(names)) == len(names):
        return names
    out = []
    for e in engines:
        label = f"{e.name} ({e.precision_label})" if e.precision_label else e.name
        out.append(label if names.count(e.name) > 1 else e.name)
    return [n if out.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(out)]


def _engine_time(engine: Engine, basis: str) -> float | None:
    return engine.gpu_compute.median_ms if basis == "gpu_compute_median" else engine.per_layer_sum_ms


def _side(layers: pd.DataFrame, gids: np.ndarray, is_matched: np.ndarray, matched: np.ndarray) -> dict[str, np.ndarray]:
    """One engine's side of every matched group (``matched``, sorted ids), one entry per group: its layer names in
    execution order (``()`` when the engine has none of the group), summed time (NaN when none is timed), the
    precisions of the layer doing the real work (:func:`_ranked`), summed weight bytes and first layer's order.

    Plain numpy over the matched layers: pandas' fixed cost per call (a groupby, a six-key sort, a ``first`` over
    string columns, reindexing) was three quarters of a small engine's comparison, paid per engine and pair.
    """
    rows = np.flatnonzero(is_matched)
    # Each matched layer's group as a position in ``matched``; layers in group order, execution order within one.
    slot = np.searchsorted(matched, gids[rows])
    by_group = rows[np.argsort(slot, kind="stable")]
    sizes = np.bincount(slot, minlength=len(matched))
    starts = np.cumsum(sizes) - sizes
    present = sizes > 0
    names = layers["name"].to_numpy(dtype=object)[by_group]
    names_per_group = np.empty(len(matched), dtype=object)
    names_per_group[:] = [tuple(names[a:a + n]) for a, n in zip(starts.tolist(), sizes.tolist())]

    weights = layers["weights_bytes"].to_numpy(dtype="int64")
    order = layers["order"].to_numpy(dtype="float64")
    first_order = np.full(len(matched), np.nan)
    first_order[present] = np.minimum.reduceat(order[by_group], starts[present]) if present.any() else []
    weights_bytes = np.zeros(len(matched), dtype="int64")
    weights_bytes[present] = np.add.reduceat(weights[by_group], starts[present]) if present.any() else []
    # pandas' group sum, for its Kahan-compensated total: the same last digit as every earlier release of compare.
    ms = np.full(len(matched), np.nan)
    timed = pd.Series(layers["avg_ms"].to_numpy(dtype="float64", na_value=np.nan)[rows]).groupby(slot).sum(min_count=1)
    ms[timed.index.to_numpy()] = timed.to_numpy()

    ranked = _ranked(layers, rows, slot, weights)
    precision, output_precision = (_first_known(layers[c], rows[ranked], slot[ranked], len(matched))
                                   for c in ("compute_precision", "output_precision"))
    weighted = ranked[weights[rows[ranked]] > 0]  # only a layer with weights holds a weights precision
    weights_precision = _first_known(layers["weights_precision"], rows[weighted], slot[weighted], len(matched))
    weights_precision[[v is None for v in weights_precision]] = "NONE"
    return {"layers": names_per_group, "ms": ms, "precision": precision, "output_precision": output_precision,
            "weights_precision": weights_precision, "weights_bytes": weights_bytes, "first_order": first_order}


def _ranked(layers: pd.DataFrame, rows: np.ndarray, slot: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Positions in ``rows`` (layers, with their group ``slot``), by group and, within one, the layer doing the real
    work first: layers that are not data movement, then layers with weights (a convolution, not the epilogue kernel
    TensorRT-RTX splits off it), then most time (layers without a time last), then most weight bytes, then
    execution order. The order of any subset of the rows is this order filtered (the sort is stable)."""
    weights = weights[rows]
    ms = layers["avg_ms"].to_numpy(dtype="float64", na_value=np.nan)[rows]
    idle = layers["is_data_movement"].to_numpy(dtype=bool)[rows]
    # np.lexsort is stable and sorts by its last key first.
    return np.lexsort((layers["order"].to_numpy()[rows], -weights, np.where(np.isnan(ms), np.inf, -ms), weights == 0,
                       idle, slot))


def _first_known(column: pd.Series, rows: np.ndarray, slots: np.ndarray, groups: int) -> np.ndarray:
    """Per group, the first value of ``column`` that is not missing among ``rows`` (ranked, with their group
    ``slots``); None where a group has none."""
    values = column.to_numpy(dtype=object)[rows]
    known = ~pd.isna(values)
    slots, values = slots[known], values[known]
    first = np.r_[True, slots[1:] != slots[:-1]] if len(slots) else np.zeros(0, dtype=bool)
    found = np.full(groups, None, dtype=object)
    found[slots[first]] = values[first]
    return found


def _group_rows(matched: np.ndarray, alignment, sides: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The groups table (see :func:`compare_engines`), A's execution order first."""
    a, b = sides[0], sides[1]
    delta = b["ms"] - a["ms"]
    with np.errstate(divide="ignore", invalid="ignore"):
        speedup = np.where(b["ms"] > 0, a["ms"] / b["ms"], np.nan)
    change = [f"{x}->{y}" if x and y and x != y else None for x, y in zip(a["precision"], b["precision"])]
    first_order = np.where(np.isnan(a["first_order"]), b["first_order"] + 10**9, a["first_order"])
    order = np.argsort(np.where(np.isnan(first_order), 2 * 10**9, first_order), kind="stable")
    ids = matched.tolist()
    columns = {
        "onnx_nodes": [tuple(sorted(alignment.keys.get(g, ()))) for g in ids],
        "match": [alignment.match[g] for g in ids],
        "confidence": np.array([alignment.confidence[g] for g in ids], dtype="float64"),
        **{f"{prefix}_{c}": side[c] for prefix, side in (("a", a), ("b", b)) for c in SIDE_COLUMNS},
        "delta_ms": delta, "speedup": speedup, "precision_change": change,
        "times_ms": list(zip(*(side["ms"] for side in sides))),
        "precisions": list(zip(*(side["precision"] for side in sides))),
    }
    numeric = {c for c, values in columns.items() if isinstance(values, np.ndarray) and values.dtype != object}
    return pd.DataFrame({c: columns[c][order] if c in numeric else _objects(columns[c], order) for c in GROUP_COLUMNS})


def _objects(values, order: np.ndarray) -> pd.Series:
    """``values`` in ``order`` as an object column whose missing values are None, as :data:`GROUP_COLUMNS` promise.

    pandas 3 stores strings in its own string dtype, where a missing value is NaN: ``"precision_change":
    NaN`` in ``compare --json`` (not JSON) and ``g.precision_change or "same"`` reading "nan".
    """
    values = list(values)
    return pd.Series([None if v is None or v != v else v for v in map(values.__getitem__, order.tolist())],
                     dtype=object)
