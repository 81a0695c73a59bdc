"""Fold layers into their ONNX scope so big engines stay readable.

A 1,000-layer engine drawn node by node is a hairball on screen and several
seconds of layout in the browser. Folding every layer of ``/layer3/layer3.0/…``
into one node at depth 2 keeps the structure (blocks, residual branches) and the
marks (a group is a fallback when any member is), and the reader expands a
group by searching for it or by lowering the depth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine_core.graph.model import NODE_COLUMNS, EngineGraph

#: Drawn nodes above which the pages fold by scope by default (Plotly's SVG scatter stays interactive below it).
MAX_DRAWN_NODES = 400


def scope_depth(graph: EngineGraph) -> int:
    """Deepest scope below the shared prefix: how far :func:`collapse` can unfold."""
    lengths = [len(s) for s in graph.nodes["scope"] if s]
    return max(lengths) - len(graph.scope_prefix) if lengths else 0


def auto_depth(graph: EngineGraph, limit: int = MAX_DRAWN_NODES) -> int | None:
    """The deepest scope depth drawing at most ``limit`` nodes; None when every layer fits."""
    if len(graph.nodes) <= limit:
        return None
    # Count groups per depth from the distinct scopes (a few thousand in an LLM engine), not per node:
    # the nodes that stay themselves are the same at every depth.
    skip = len(graph.scope_prefix)
    alone, scopes = 0, set()
    for kind, scope in zip(graph.nodes["kind"].tolist(), graph.nodes["scope"].tolist()):
        if kind == "layer" and scope[skip:]:
            scopes.add(scope[skip:])
        else:
            alone += 1
    for depth in range(scope_depth(graph), 0, -1):
        if alone + len({scope[:depth] for scope in scopes}) <= limit:
            return depth
    return 1 if scope_depth(graph) else None


def collapse(graph: EngineGraph, depth: int | None) -> EngineGraph:
    """One node per scope prefix of ``depth`` parts (after the shared prefix); None returns ``graph``."""
    if depth is None or scope_depth(graph) == 0:
        return graph
    keys = _group_keys(graph, depth)
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    folded = _fold(graph, codes, ["/".join(k) if k[:1] != ("#",) else None for k in uniques])
    return EngineGraph(folded.nodes, folded.edges, graph.wired_by, depth, graph.scope_prefix, _compose(graph, codes))


def chunk(graph: EngineGraph, limit: int = MAX_DRAWN_NODES) -> EngineGraph:
    """Fold runs of consecutive nodes (in execution order) until at most ``limit`` remain.

    The last resort when even the top scope level has too many groups (an engine
    of 1,000 sibling blocks): neighbours in execution order are neighbours in
    the graph, so the picture keeps its shape at a coarser grain.
    """
    n = len(graph.nodes)
    if n <= limit:
        return graph
    per = -(-n // limit)
    order = graph.nodes["order"].fillna(-1).to_numpy().argsort(kind="stable")
    codes = np.empty(n, dtype=int)
    codes[order] = np.arange(n) // per
    in_order = graph.nodes["name"].to_numpy()[order]
    names = [run[0] if len(run) == 1 else f"{run[0]} … {run[-1]}" for run in (in_order[i:i + per] for i in range(0, n, per))]
    folded = _fold(graph, codes, names)
    return EngineGraph(folded.nodes, folded.edges, graph.wired_by, graph.depth, graph.scope_prefix, _compose(graph, codes))


def fit_for_drawing(graph: EngineGraph, depth: int | str | None = "auto", limit: int = MAX_DRAWN_NODES) -> EngineGraph:
    """What the pages draw: folded to ``depth`` ("auto": the deepest that fits ``limit``), then chunked to fit."""
    if depth == "auto":
        depth = auto_depth(graph, limit)
    return chunk(collapse(graph, depth), limit)


def _compose(graph: EngineGraph, codes: np.ndarray) -> np.ndarray:
    return codes if graph.group_of is None else codes[graph.group_of]


def _group_keys(graph: EngineGraph, depth: int) -> list:
    skip = len(graph.scope_prefix)
    keys = []
    for node, kind, scope in zip(graph.nodes["node"].tolist(), graph.nodes["kind"].tolist(), graph.nodes["scope"].tolist()):
        key = scope[skip:skip + depth] if kind == "layer" else ()
        keys.append(key if key else ("#", int(node)))  # unscoped layers and network I/O stay themselves
    return keys


def _fold(graph: EngineGraph, codes: np.ndarray, names: list) -> EngineGraph:
    """Merge the nodes sharing a code into one group node (names[code]; None keeps a lone node's record)."""
    nodes = graph.nodes.assign(_g=codes, _w=graph.nodes["ms"].fillna(0) + 1e-12)
    by = nodes.groupby("_g", sort=True)
    grouped = pd.DataFrame({
        "node": np.arange(len(names)), "name": names, "kind": "group",
        "ms": by["ms"].sum(min_count=1).to_numpy(), "bytes": by["bytes"].sum().to_numpy(),
        "order": by["order"].min().to_numpy(), "is_reformat": by["is_reformat"].all().to_numpy(),
        "is_quantize": by["is_quantize"].any().to_numpy(), "members": by["members"].sum().to_numpy(),
        "reformats": by["reformats"].sum().to_numpy(), "precision": _dominant(nodes, "precision"),
        "output_precision": _dominant(nodes, "output_precision"), "scope": None,
        "sqnr_db": by["sqnr_db"].min().to_numpy(),   # a group is as noisy as its noisiest layer
    })
    fallbacks = by["is_fallback"].sum().to_numpy()
    grouped["is_fallback"] = fallbacks > 0
    grouped["reason"] = [f"{f} of {m} layers not in the requested precision" if f else None
                         for f, m in zip(fallbacks, grouped["members"])]
    grouped["layer_type"] = [f"{m} layers" for m in grouped["members"]]
    grouped["mix"] = _mix(nodes)
    grouped["change"] = _main_change(nodes, len(names))
    lone = [i for i, name in enumerate(names) if name is None]
    if lone:  # a node standing alone keeps its own record
        first = nodes.drop_duplicates("_g").set_index("_g")
        grouped.loc[lone, list(NODE_COLUMNS[1:])] = first.loc[lone, list(NODE_COLUMNS[1:])].to_numpy()
    edges = pd.DataFrame({"src": codes[graph.edges["src"].to_numpy()], "dst": codes[graph.edges["dst"].to_numpy()],
                          "tensor": graph.edges["tensor"].to_numpy()})
    edges = edges[edges["src"] != edges["dst"]].drop_duplicates(["src", "dst"], ignore_index=True)
    return EngineGraph(grouped[list(NODE_COLUMNS)], edges)


def _dominant(nodes: pd.DataFrame, column: str) -> np.ndarray:
    """Per group, the precision carrying most time (most layers when untimed); NONE only when nothing else."""
    weights = nodes.groupby(["_g", column])["_w"].sum().unstack(fill_value=0.0)
    if "NONE" in weights.columns and len(weights.columns) > 1:
        weights["NONE"] *= 1e-9
    return weights.idxmax(axis=1).to_numpy()


def _mix(nodes: pd.DataFrame) -> list[str]:
    counts = nodes.groupby(["_g", "precision"]).size()
    out: dict[int, list] = {}
    for (group, precision), count in counts.sort_values(ascending=False).items():
        out.setdefault(group, []).append(f"{precision} {count}")
    return [" · ".join(out.get(g, [])) for g in range(nodes["_g"].max() + 1)]


def _main_change(nodes: pd.DataFrame, groups: int) -> list:
    """Per group, its most common precision change (``FP16->INT8``), else the most common of same/only here."""
    changed = nodes[nodes["change"].notna()]
    if changed.empty:
        return [None] * groups
    counts = changed.groupby(["_g", "change"]).size().reset_index(name="n")
    counts["real"] = counts["change"].str.contains("->", regex=False)
    best = counts.sort_values(["real", "n"], ascending=False, kind="stable").drop_duplicates("_g")
    found = dict(zip(best["_g"], best["change"]))
    return [found.get(g) for g in range(groups)]
