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
    alignment = align_engines([e.layers for e in engines], [e.analysis.glue for e in engines])
    names = unique_names(engines)
    matched = sorted(alignment.match)
    is_matched = [np.isin(g, matched) for g in alignment.group_ids]
    unmatched = {name: list(e.layers["name"][~m]) for name, e, m in zip(names, engines, is_matched)}
    sides = [_per_group(engine.layers[list(_SIDE_INPUTS)].assign(_gid=g)[m])
             for engine, g, m in zip(engines, alignment.group_ids, is_matched)]
    groups = _group_rows(matched, alignment, sides) if matched else empty_groups()
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


#: The layer columns a group's side is made of.
_SIDE_INPUTS = ("name", "order", "avg_ms", "compute_precision", "output_precision", "weights_precision",
                "weights_bytes", "is_data_movement")


def _dominant_per_group(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per group, ``columns`` on the layer doing the real work (one sort for all of them).

    Ranking: layers that are not data movement first, then layers with weights
    (a convolution, not the epilogue kernel TensorRT-RTX splits off it), then most
    time (layers without a time last), then most weight bytes, then execution order.
    """
    ranked = frame.assign(_idle=frame["is_data_movement"], _unweighted=frame["weights_bytes"] == 0).sort_values(
        ["_gid", "_idle", "_unweighted", "avg_ms", "weights_bytes", "order"],
        ascending=[True, True, True, False, False, True], na_position="last", kind="stable")
    return ranked.groupby("_gid")[columns].first()


def _per_group(frame: pd.DataFrame) -> pd.DataFrame:
    """One engine's side of every matched group: layers, time, precisions, weights."""
    by = frame.groupby("_gid")
    dominant = _dominant_per_group(frame, ["compute_precision", "output_precision"])
    return pd.DataFrame({
        "layers": _names_per_group(frame), "ms": by["avg_ms"].sum(min_count=1),
        "precision": dominant["compute_precision"], "output_precision": dominant["output_precision"],
        "weights_precision": _dominant_per_group(frame[frame["weights_bytes"] > 0], ["weights_precision"])["weights_precision"],
        "weights_bytes": by["weights_bytes"].sum(), "first_order": by["order"].min(),
    })


def _names_per_group(frame: pd.DataFrame) -> pd.Series:
    """Per group (sorted ids), its layer names in execution order, as a tuple.

    ``groupby(...).agg(tuple)`` calls Python once per group through pandas (3 s for 66k groups); one stable
    sort and a slice per group is the same answer.
    """
    gids = frame["_gid"].to_numpy()
    if not len(gids):
        return pd.Series([], index=pd.Index(gids, name="_gid"), dtype=object)
    order = np.argsort(gids, kind="stable")
    sorted_ids, names = gids[order], frame["name"].to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    ends = np.r_[starts[1:], len(sorted_ids)]
    return pd.Series([tuple(names[a:b]) for a, b in zip(starts, ends)], index=pd.Index(sorted_ids[starts], name="_gid"),
                     dtype=object)


def _group_rows(matched: list[int], alignment, sides: list[pd.DataFrame]) -> pd.DataFrame:
    """The groups table (see :func:`compare_engines`), A's execution order first."""
    full = [side.reindex(matched) for side in sides]  # a group missing from an engine gets empty values
    for side in full:
        side["layers"] = side["layers"].map(lambda v: v if isinstance(v, tuple) else ())
        side["weights_precision"] = side["weights_precision"].fillna("NONE")
        side["weights_bytes"] = side["weights_bytes"].fillna(0).astype("int64")
        side["precision"] = _objects(side["precision"])
        side["output_precision"] = _objects(side["output_precision"])
    a, b = full[0], full[1]
    delta = b["ms"] - a["ms"]
    with np.errstate(divide="ignore", invalid="ignore"):
        speedup = np.where(b["ms"] > 0, a["ms"] / b["ms"], np.nan)
    change = [f"{x}->{y}" if x and y and x != y else None for x, y in zip(a["precision"], b["precision"])]
    order = a["first_order"].fillna(b["first_order"] + 10**9).fillna(2 * 10**9).to_numpy()
    groups = pd.DataFrame({
        "first_order": order,
        "onnx_nodes": _objects([tuple(sorted(alignment.keys.get(g, ()))) for g in matched]),
        "match": _objects([alignment.match[g] for g in matched]), "confidence": [alignment.confidence[g] for g in matched],
        "a_layers": _objects(a["layers"].to_numpy()), "b_layers": _objects(b["layers"].to_numpy()),
        "a_ms": a["ms"].to_numpy(), "b_ms": b["ms"].to_numpy(),
        "a_precision": _objects(a["precision"].to_numpy()), "b_precision": _objects(b["precision"].to_numpy()),
        "a_output_precision": _objects(a["output_precision"].to_numpy()), "b_output_precision": _objects(b["output_precision"].to_numpy()),
        "a_weights_precision": _objects(a["weights_precision"].to_numpy()), "b_weights_precision": _objects(b["weights_precision"].to_numpy()),
        "a_weights_bytes": a["weights_bytes"].to_numpy(), "b_weights_bytes": b["weights_bytes"].to_numpy(),
        "delta_ms": delta.to_numpy(), "speedup": speedup, "precision_change": _objects(change),
        "times_ms": _objects(list(zip(*(side["ms"].to_numpy() for side in full)))),
        "precisions": _objects(list(zip(*(side["precision"].to_numpy() for side in full)))),
    })
    groups = groups.sort_values("first_order", kind="stable", ignore_index=True).drop(columns="first_order")
    return groups[list(GROUP_COLUMNS)]


def _objects(values) -> pd.Series:
    """An object column whose missing values are None, as :data:`GROUP_COLUMNS` promise.

    pandas 3 stores strings in its own string dtype, where a missing value is NaN: ``"precision_change":
    NaN`` in ``compare --json`` (not JSON) and ``g.precision_change or "same"`` reading "nan".
    """
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series([None if v is None or v != v else v for v in values], index=index, dtype=object)
