"""Which layers of two or more engines are the same piece of the network, even when nothing shares a name.

Layers are joined in three passes; each join records how it was made:

1. ``onnx``: the ONNX nodes a layer came from (``Metadata``, else its fused name), normalized so a QAT
   export aligns with its float twin: Q/DQ nodes and weight reads carry no identity, TensorFlow's
   ``quant_`` scope prefix is dropped, Torch-TensorRT's ``[CONVOLUTION]-[aten_ops...]-[/conv1/conv]``
   names keep their node part.
2. ``name``: normalized layer names unique in both engines (``/conv1/Conv_myl0_1`` and ``/conv1/Conv``).
3. ``structure``: the remaining compute layers of engine A and of each other engine, in execution order,
   aligned as sequences (``difflib.SequenceMatcher``, a longest-matching-block alignment, not a position
   zip) on signatures that do not depend on names: layer class, output channels and spatial size.
   Each pair gets a confidence: the share of finer features that agree (weight count, kernel, stride,
   groups). Names-only layer info has no features, so it aligns on class (from the name) and order, with
   confidence :data:`NAMES_ONLY_CONFIDENCE`. SequenceMatcher's cost grows with the square of a sequence
   whose signatures repeat (an LLM's decoder blocks are all alike), so above :data:`EXACT_MATCH_LIMIT`
   layers the sequences are walked side by side instead, in linear time (see :func:`_matching_blocks`).

Glue that TensorRT inserted (reformats, quantize kernels, NoOps, stream sync) has no ONNX identity of
its own: it joins the compute layer it feeds (a TensorRT-RTX epilogue joins the convolution it finishes).

Pure Python over the canonical tables; no pandas state is mutated.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Callable

import numpy as np
import pandas as pd

from engine_core.analysis.kernels import are_generated_kernels
from engine_core.layer_table import (FUSED_SPLIT, REFORMAT_TARGET, has_prefixed_params, record_param,
                                     unwrapped, without_profile_suffix)
from engine_core.tensor_index import TensorIndex

NAMES_ONLY_CONFIDENCE = 0.3
#: Longest pending sequence the structure pass aligns in one SequenceMatcher (exact longest-block matching).
EXACT_MATCH_LIMIT = 2000
#: Below this share of compute layers aligned, two engines are reported as different networks.
SAME_NETWORK_SHARE = 0.5

_NO_IDENTITY = re.compile(r"quantizelinear|dequantizelinear|quantlinearnode|dequantlinearnode|quantizeanddequantize|"
                          r"readvariableop|lastvaluequant|\.weight$|\.bias$|^onnxtrt_|^\(unnamed layer", re.I)
_QUANT_SCOPE = re.compile(r"(^|/)quant_")
_UNIQUIFIER = re.compile(r"(__\d+|:\d+)$")
# Torch-TensorRT / fx2trt: "[TensorRT layer type]-[original op]-[node name]" (pytorch/pytorch#67200).
_TORCH_TRT = re.compile(r"^\[(?P<kind>[A-Z0-9_]+)\]-\[(?P<op>[^\]]*)\]-\[(?P<node>.+)\]$")
_MYELIN_SUFFIX = re.compile(r"_myl\d+_\d+$")

# Layer class from implementation type, logical type, or (names only) the name itself.
_CLASSES = (
    ("deconv", re.compile(r"deconv|transpose_?conv|convtranspose", re.I)),
    ("conv", re.compile(r"conv|correlation|corr\b", re.I)),
    ("gemm", re.compile(r"gemm|matmul|matrix_?multiply|fully_?connected|\bfc\b|linear|cublas", re.I)),
    ("pool", re.compile(r"pool", re.I)),
    ("attention", re.compile(r"attention|mha|fmha|\bsdpa\b", re.I)),
    ("softmax", re.compile(r"softmax", re.I)),
    ("norm", re.compile(r"norm", re.I)),
    ("myelin", re.compile(r"myelin|foreignnode", re.I)),
    ("pointwise", re.compile(r"pointwise|elementwise|activation|relu|gelu|silu|sigmoid|add|mul|scale|kgen|\bpwn\b", re.I)),
)


def _may_lack_identity(lower: str) -> bool:
    """Whether a lower-cased ASCII node name holds a substring without which _NO_IDENTITY cannot match: most
    nodes skip the regex (a 100k-layer engine has ~200k). An ``or`` chain, 5x faster than ``any()`` over a tuple."""
    return ("quant" in lower or "readvariableop" in lower or ".weight" in lower or ".bias" in lower
            or "onnxtrt_" in lower or "(unnamed layer" in lower)


def normalize_node(name: str) -> str | None:
    """Normalized ONNX node key, or None for nodes that identify nothing (Q/DQ, weight reads)."""
    if name[:1] == "[":
        torch_trt = _TORCH_TRT.match(name)
        if torch_trt:
            name = torch_trt["node"]
    if name.isascii():
        lower = name.lower()
        # Q/DQ nodes are half of a quantized network's nodes: a substring _NO_IDENTITY would find, without the regex.
        if "quantizelinear" in lower or (_may_lack_identity(lower) and _NO_IDENTITY.search(name)):
            return None
    elif _NO_IDENTITY.search(name):
        return None
    if "quant_" in name:
        name = _QUANT_SCOPE.sub(r"\1", name)
    # "scope/BiasAdd__1121" and "scope/BiasAdd" are one node exported twice; but a bare "Conv__435"
    # (tf2onnx's name for an unscoped node) would become "Conv", shared by every such node: keep it whole.
    uniquified = (name[-1:].isdigit() or name[-1:] == "\n") and ("__" in name or ":" in name)
    stripped = _UNIQUIFIER.sub("", name) if uniquified else name
    return stripped if "/" in stripped else name


def layer_class(layer_type, parameter_type, name: str) -> str:
    """conv, deconv, gemm, pool, attention, softmax, norm, myelin, pointwise or other."""
    # The types decide for almost every layer, and they take a few dozen values: cached per text.
    found = (parameter_type and _class_of(str(parameter_type))) or (layer_type and _class_of(str(layer_type)))
    if found:
        return found
    bare = unwrapped(name)
    torch_trt = _TORCH_TRT.match(bare) if bare[:1] == "[" else None
    if torch_trt and (found := _class_of(torch_trt["kind"])):
        return found
    return (name and _first_class(str(name))) or "other"  # names are unique: not cached


def _first_class(text: str) -> str | None:
    """The first class whose pattern ``text`` matches, or None."""
    return next((cls for cls, pattern in _CLASSES if pattern.search(text)), None)


_class_of = lru_cache(maxsize=1024)(_first_class)


def name_key(name: str) -> str | None:
    """A layer name with builder decorations removed (Myelin suffixes, profile suffix, PWN wrappers)."""
    if name.startswith("Reformatting CopyNode") or name.startswith("__my"):
        return None
    # Each regex runs only on names that can match it: this runs once per layer of every engine compared.
    base = without_profile_suffix(name)
    if "_myl" in base:
        base = _MYELIN_SUFFIX.sub("", base)
    if " + " not in base and " || " not in base:  # one part: most layers
        return normalize_node(unwrapped(base)) or None
    parts = sorted(p for p in (normalize_node(unwrapped(part)) for part in FUSED_SPLIT.split(base)) if p)
    return " + ".join(parts) or None


@dataclass
class Alignment:
    """Group id per layer of each engine, and how each group was joined."""

    group_ids: list[np.ndarray]                  # per engine: group id of every layer (execution order)
    match: dict[int, str]                         # group id -> "onnx" | "name" | "structure" (groups spanning engines)
    confidence: dict[int, float]                  # group id -> 0..1 (1 for onnx/name)
    keys: dict[int, set[str]]                     # group id -> normalized ONNX keys (or the name key)
    compute_aligned_share: float                  # share of compute layers (all engines) in a cross-engine group
    names_only: bool                              # an engine had no layer details: order and class only
    notes: list[str] = field(default_factory=list)


class _UnionFind:
    """Disjoint sets over the ids 0..n-1 (path halving); ids are added by extending ``parent``."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def union_pairs(self, a: list[int], b: list[int]) -> None:
        """:meth:`union` of each pair ``(a[k], b[k])`` in turn, building the same trees, with the finds inlined:
        a 100k-layer comparison joins ~300k pairs, and three calls per pair were most of the pass."""
        parent = self.parent
        for x, y in zip(a, b):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            while parent[y] != y:
                parent[y] = parent[parent[y]]
                y = parent[y]
            if x != y:
                parent[y] = x

    def roots(self) -> np.ndarray:
        """The root of every id at once: pointer jumping in numpy, a handful of passes over the trees
        (each pass halves every path), instead of one Python ``find`` per id."""
        parent = np.asarray(self.parent, dtype="int64")
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent
            parent = grand


def is_glue(layers: pd.DataFrame) -> pd.Series:
    """Layers TensorRT inserted around the real work: reformats, quantize kernels, NoOps, stream sync,
    and generated kernels without weights (TensorRT-RTX epilogues and casts)."""
    generated = pd.Series(are_generated_kernels(layers["name"].tolist(), layers["weights_count"].tolist()),
                          index=layers.index, dtype=bool)
    sync = layers["layer_type"].isin(["signal", "wait"])
    return layers["is_reformat"] | layers["is_quantize"] | layers["is_noop"] | sync | generated


def _signatures(layers: pd.DataFrame, rows: list[int]) -> dict[int, dict]:
    """Name-free signatures of the layers at positions ``rows`` (only the ones still unaligned)."""
    records = [r if isinstance(r, dict) else {} for r in layers["record"].take(rows).tolist()]
    # Without a fused layer's prefixed keys (``ConvKernel``) anywhere, a parameter is a plain key.
    param = record_param if has_prefixed_params(records) else dict.get
    columns = zip(rows, records, *(layers[c].take(rows).tolist()
                                   for c in ("outputs", "layer_type", "parameter_type", "name", "weights_count")))
    out = {}
    for i, record, outputs, layer_type, parameter_type, name, weights_count in columns:
        dims = (outputs[0].get("Dimensions") if outputs else None) or []
        constants = record.get("Constants") or []
        weight_dims = max((c.get("Dimensions") or [] for c in constants if isinstance(c, dict)), key=len, default=[])
        out[i] = {
            "class": layer_class(layer_type, parameter_type, name),
            "channels": dims[1] if len(dims) >= 2 else None,
            "spatial": tuple(dims[2:]) if len(dims) > 2 else None,
            "weights": int(weights_count) or None,
            "kernel": tuple(param(record, "Kernel") or param(record, "WindowSize") or weight_dims[2:] or ()) or None,
            "stride": tuple(param(record, "Stride") or ()) or None,
            "groups": param(record, "Groups"),
            "detailed": bool(outputs) or bool(layer_type),
        }
    return out


def _coarse(sig: dict) -> tuple:
    return (sig["class"], sig["channels"], sig["spatial"])


def _pair_confidence(a: dict, b: dict) -> float:
    if not (a["detailed"] and b["detailed"]):
        return NAMES_ONLY_CONFIDENCE
    checks = []
    for key in ("channels", "spatial", "kernel", "stride", "groups"):
        if a[key] is not None and b[key] is not None:
            checks.append(a[key] == b[key])
    if a["weights"] and b["weights"]:
        # Precision recipes pad channels (a 3-channel stem stores 4 in INT8): within 5% is the same tensor.
        checks.append(abs(a["weights"] - b["weights"]) <= 0.05 * max(a["weights"], b["weights"]))
    return round(sum(checks) / len(checks), 3) if checks else 0.5


def align_engines(tables: list[pd.DataFrame], glue: list[np.ndarray] | None = None,
                  tensors: list[Callable[[], TensorIndex]] | None = None) -> Alignment:
    """Align the layer tables of several engines (the first is the reference for structure).

    Layer ``i`` of engine ``e`` is node ``base[e] + i`` of one union-find over every engine; ONNX keys are
    nodes after them. Everything is indexed once (tensor name -> writer and first reader, node key ->
    normalized key), so alignment stays linear in layers apart from the structure pass's sequence match.
    ``glue``: :func:`is_glue` of each table when the caller has it already (an engine's analysis keeps it);
    ``tensors``: per table, a function returning its :class:`~engine_core.tensor_index.TensorIndex`, likewise (called
    only for a table with glue to attach: the index costs a quarter second at 100k layers)."""
    sizes = [len(t) for t in tables]
    base = [sum(sizes[:e]) for e in range(len(tables))]
    uf = _UnionFind(sum(sizes))
    links: dict[tuple, list[tuple[str, float]]] = {}   # (root,) -> [(method, confidence)]
    glue = [is_glue(t).to_numpy() for t in tables] if glue is None else glue
    # Each distinct ONNX node is normalized once (the same node recurs in every engine and optimization
    # profile); the set union and the lookups through a bound method run in C.
    node_lists = [t["onnx_nodes"].tolist() for t in tables]
    normalized = {node: normalize_node(node) for node in set().union(*(n for nodes in node_lists for n in nodes))}
    key_of = normalized.__getitem__
    onnx_keys = [[[k for k in map(key_of, nodes) if k] for nodes in column] for column in node_lists]

    # 1. shared ONNX nodes: each key is a node after the layers (numbered in order of first appearance), joined to
    # every layer holding it, pair by pair in layer order.
    flat_keys: list[str] = []
    key_layers: list[int] = []
    for e in range(len(tables)):
        counts = np.fromiter(map(len, onnx_keys[e]), dtype="int64", count=sizes[e])
        flat_keys += chain.from_iterable(onnx_keys[e])
        key_layers += (np.repeat(np.arange(sizes[e]), counts) + base[e]).tolist()
    first_key = len(uf.parent)
    key_ids = dict(zip(dict.fromkeys(flat_keys), range(first_key, first_key + len(flat_keys))))
    uf.parent.extend(range(first_key, first_key + len(key_ids)))
    uf.union_pairs(list(map(key_ids.__getitem__, flat_keys)), key_layers)
    _attach_glue(uf, base, tables, glue, onnx_keys, tensors)
    joined = _cross_engine(uf.roots(), base, sizes)

    # 2. normalized names, unique within each engine
    layer_names = [t["name"].tolist() for t in tables]
    keyed = {name: name_key(name) for name in set().union(*layer_names)}  # builds of one model share most names
    names = [list(map(keyed.__getitem__, column)) for column in layer_names]  # lists: pandas would turn None into NaN
    for e in range(1, len(tables)):
        _link_unique(uf, links, base, names[0], names[e], 0, e, joined, glue, "name")
    roots = uf.roots()
    joined = _cross_engine(roots, base, sizes)

    # 3. structure: remaining compute layers in execution order
    spanning = np.fromiter(joined, dtype="int64", count=len(joined))
    pending = [np.flatnonzero(~glue[e] & ~np.isin(roots[base[e]:base[e] + sizes[e]], spanning)).tolist()
               for e in range(len(tables))]
    signatures = [_signatures(t, rows) for t, rows in zip(tables, pending)]
    names_only = any(t["layer_type"].isna().all() and not any(t["outputs"]) for t in tables if len(t))
    for e in range(1, len(tables)):
        _link_structure(uf, links, base, signatures, pending, joined, 0, e)

    return _finish(uf, links, base, sizes, glue, onnx_keys, names, names_only)


def _attach_glue(uf, base, tables, glue, onnx_keys, tensors) -> None:
    """Glue without ONNX identity joins the compute layer it feeds (an epilogue joins the layer it finishes)."""
    for e, table in enumerate(tables):
        lone = [i for i in np.flatnonzero(glue[e]).tolist() if not onnx_keys[e][i]]
        if not lone:  # the tensor indexes below cost more than the rest of this pass: only when needed
            continue
        inputs, outputs, layer_names = table["inputs"].tolist(), table["outputs"].tolist(), table["name"].tolist()
        index = tensors[e]() if tensors is not None else TensorIndex(table)
        producers, first_reader = index.last_writer, index.first_reader
        by_name = dict(zip(layer_names, range(len(layer_names))))
        weighted = (table["weights_count"] > 0).to_numpy()
        for i in lone:
            name = layer_names[i]
            target = REFORMAT_TARGET.match(name) if name.startswith("Reformatting CopyNode") else None
            ins = inputs[i] or ()
            source = producers.get(ins[0].get("Name")) if ins else None
            feeds = next((first_reader[n] for n in (t.get("Name") for t in outputs[i] or ()) if n in first_reader), None)
            if target and target.group(1) in by_name:
                partner = by_name[target.group(1)]
            elif source is not None and weighted[source]:
                partner = source              # an epilogue kernel finishing a convolution/GEMM
            elif feeds is not None:
                partner = feeds
            else:
                partner = source
            if partner is not None:
                uf.union(base[e] + partner, base[e] + i)


def _cross_engine(roots: np.ndarray, base, sizes) -> set:
    """Roots (of :meth:`_UnionFind.roots`) of groups that already span two or more engines."""
    per_engine = np.concatenate([np.unique(roots[start:start + size]) for start, size in zip(base, sizes)])
    found, engines = np.unique(per_engine, return_counts=True)
    return set(found[engines >= 2].tolist())


def _link_unique(uf, links, base, a_keys, b_keys, ea, eb, joined, glue, method) -> None:
    def unique(keys, e):
        counts = Counter(keys)
        out = {}
        for i, key in enumerate(keys):
            if key and counts[key] == 1 and not glue[e][i] and uf.find(base[e] + i) not in joined:
                out[key] = i
        return out

    a, b = unique(a_keys, ea), unique(b_keys, eb)
    for key in a.keys() & b.keys():
        na, nb = base[ea] + a[key], base[eb] + b[key]
        uf.union(na, nb)
        links.setdefault((uf.find(na),), []).append((method, 1.0))


def _link_structure(uf, links, base, signatures, pending, joined, ea, eb) -> None:
    def candidates(e):
        return [i for i in pending[e] if signatures[e][i]["class"] != "other" and uf.find(base[e] + i) not in joined]

    ia, ib = candidates(ea), candidates(eb)
    a_seq = [_coarse(signatures[ea][i]) for i in ia]
    b_seq = [_coarse(signatures[eb][i]) for i in ib]
    for block_a, block_b, size in _matching_blocks(a_seq, b_seq):
        for k in range(size):
            i, j = ia[block_a + k], ib[block_b + k]
            na, nb = base[ea] + i, base[eb] + j
            if uf.find(nb) in joined or uf.find(na) in joined:
                continue
            uf.union(na, nb)
            links.setdefault((uf.find(na),), []).append(
                ("structure", _pair_confidence(signatures[ea][i], signatures[eb][j])))


def _matching_blocks(a: list, b: list, limit: int = EXACT_MATCH_LIMIT) -> list[tuple[int, int, int]]:
    """``(i, j, size)`` runs where ``a[i:i+size] == b[j:j+size]``, increasing in both sequences.

    Up to ``limit`` elements: SequenceMatcher's longest-matching-block alignment, exactly. Longer
    sequences are walked once, side by side (:func:`_walk_blocks`): linear, and on repeated blocks
    better than the longest-block alignment, which pairs a decoder block with its neighbour as soon
    as one layer is missing on one side.
    """
    if max(len(a), len(b)) <= limit:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        return [(m.a, m.b, m.size) for m in matcher.get_matching_blocks() if m.size]
    return _walk_blocks(a, b)


def _walk_blocks(a: list, b: list, lookahead: int = 64) -> list[tuple[int, int, int]]:
    """Match ``a`` and ``b`` walking both in order: equal elements pair up; on a difference, whichever side
    reaches the other's element in fewer steps (at most ``lookahead``) skips ahead, else both step on.
    O((len(a) + len(b)) x lookahead)."""
    blocks: list[list[int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            if blocks and blocks[-1][0] + blocks[-1][2] == i and blocks[-1][1] + blocks[-1][2] == j:
                blocks[-1][2] += 1
            else:
                blocks.append([i, j, 1])
            i, j = i + 1, j + 1
            continue
        skip_b = next((d for d in range(1, min(lookahead, len(b) - j)) if b[j + d] == a[i]), None)
        skip_a = next((d for d in range(1, min(lookahead, len(a) - i)) if a[i + d] == b[j]), None)
        if skip_a is None and skip_b is None:
            i, j = i + 1, j + 1
        elif skip_a is None or (skip_b is not None and skip_b <= skip_a):
            j += skip_b
        else:
            i += skip_a
    return [tuple(block) for block in blocks]


def _finish(uf, links, base, sizes, glue, onnx_keys, names, names_only) -> Alignment:
    codes, uniques = pd.factorize(uf.roots(), sort=False)  # group ids in order of first appearance
    group_ids = [codes[start:start + size].astype("int64") for start, size in zip(base, sizes)]
    keys, onnx_groups = _group_keys(group_ids, onnx_keys, names)
    method_of_root: dict = {}
    for (root,), found in links.items():
        method_of_root.setdefault(uf.find(root), []).extend(found)
    match, confidence = {}, {}
    root_of_gid = uniques.tolist()
    for gid in _spanning_groups(group_ids):
        found = method_of_root.get(root_of_gid[gid], [])
        if gid in onnx_groups:
            match[gid], confidence[gid] = "onnx", 1.0
        elif any(m == "name" for m, _ in found):
            match[gid], confidence[gid] = "name", 1.0
        else:
            match[gid] = "structure"
            scores = [c for m, c in found if m == "structure"]
            confidence[gid] = round(float(np.mean(scores)), 3) if scores else NAMES_ONLY_CONFIDENCE
    compute_total = compute_aligned = 0
    spanning = np.fromiter(match, dtype="int64", count=len(match))
    for e, gids in enumerate(group_ids):
        compute = ~glue[e]
        compute_total += int(compute.sum())
        compute_aligned += int((compute & np.isin(gids, spanning)).sum())
    share = compute_aligned / compute_total if compute_total else 0.0
    notes = []
    if names_only:
        notes.append("names-only layer info: layers were aligned on their type (read from the name) and execution "
                     "order only, with low confidence; re-export with --profilingVerbosity=detailed")
    return Alignment(group_ids, match, confidence, keys, share, names_only, notes)


def _spanning_groups(group_ids: list[np.ndarray]) -> list[int]:
    """Ids of the groups present in two or more engines: engine A's in id order, then each next engine's new ones."""
    present = [np.unique(gids) for gids in group_ids]
    found, engines = np.unique(np.concatenate(present), return_counts=True)
    spanning = found[engines >= 2]
    out: list[np.ndarray] = []
    seen = np.empty(0, dtype="int64")
    for gids in present:
        new = gids[np.isin(gids, spanning) & ~np.isin(gids, seen)]
        out.append(new)
        seen = np.concatenate([seen, new])
    return np.concatenate(out).tolist() if out else []


def _group_keys(group_ids: list[np.ndarray], onnx_keys: list[list[list[str]]],
                names: list[list[str | None]]) -> tuple[dict[int, set[str]], set[int]]:
    """Per group, its normalized ONNX keys (a layer without any adds its name key); and the groups where one ONNX
    key is really shared by two or more engines, not merely present on both sides.

    Vectorised: flat ``(group, key)`` arrays, sorted once by group, one set per group's slice.
    """
    onnx_gids, onnx_flat, named_gids, named_keys = [], [], [], []
    for e, gids in enumerate(group_ids):
        counts = np.fromiter(map(len, onnx_keys[e]), dtype="int64", count=len(gids))
        onnx_gids.append(np.repeat(gids, counts))
        onnx_flat.append(np.fromiter(chain.from_iterable(onnx_keys[e]), dtype=object, count=int(counts.sum())))
        named = [i for i in np.flatnonzero(counts == 0).tolist() if names[e][i]]
        named_gids.append(gids[named])
        named_keys.append(np.array([names[e][i] for i in named], dtype=object))
    codes, distinct = pd.factorize(np.concatenate(onnx_flat))
    width = max(len(distinct), 1)
    bounds = np.cumsum([0] + [len(g) for g in onnx_gids])
    pairs = np.concatenate([np.unique(g * width + codes[a:b]) for g, a, b in zip(onnx_gids, bounds, bounds[1:])])
    found, engines = np.unique(pairs, return_counts=True)
    onnx_groups = set((found[engines >= 2] // width).tolist())
    gids = np.concatenate(onnx_gids + named_gids)
    flat_keys = np.concatenate(onnx_flat + named_keys)
    order = np.argsort(gids, kind="stable")
    gids, flat_keys = gids[order], flat_keys[order]
    starts = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]]) if len(gids) else np.empty(0, dtype="int64")
    ends = np.r_[starts[1:], len(gids)]
    keys = {gid: set(flat_keys[a:b].tolist()) for gid, a, b in zip(gids[starts].tolist(), starts.tolist(), ends.tolist())}
    return keys, onnx_groups
