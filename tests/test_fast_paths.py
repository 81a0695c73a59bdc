"""The column-wise fast paths of the 100k-layer work read exactly what the per-layer code they replaced read.

Each test holds the plain per-layer version as its oracle (the code as it was before the fast path) and checks
the fast one against it: on generated inputs built from the characters and shapes that make the shortcuts
subtle, and on every real fixture engine, so that new fixtures join automatically.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_core.analysis import align
from engine_core.analysis.align import _group_keys, _spanning_groups, name_key, normalize_node
from engine_core.layer_table import (FUSED_SPLIT, PROFILE_SUFFIX, WRAPPER, _FOREIGN, _onnx_nodes, _profile_indices,
                                     tensor_rows)
from engine_core.precision import (precision_from_datatype, precisions_from_datatypes, precisions_from_tactics,
                                   tactic_token_series, wide_outputs)
from golden import golden_engines, golden_keys


def _normalize_node_by_regex(name: str) -> str | None:
    """:func:`normalize_node` as it was: every check by its regex."""
    if name[:1] == "[":
        torch_trt = align._TORCH_TRT.match(name)
        if torch_trt:
            name = torch_trt["node"]
    if align._NO_IDENTITY.search(name):
        return None
    name = align._QUANT_SCOPE.sub(r"\1", name)
    stripped = align._UNIQUIFIER.sub("", name)
    return stripped if "/" in stripped else name


def _name_key_by_regex(name: str) -> str | None:
    """:func:`name_key` as it was: always split, sort and join."""
    if name.startswith("Reformatting CopyNode") or name.startswith("__my"):
        return None
    base = align._MYELIN_SUFFIX.sub("", PROFILE_SUFFIX.sub("", name))
    parts = sorted(p for p in (_normalize_node_by_regex(_unwrapped_by_regex(part)) for part in FUSED_SPLIT.split(base))
                   if p)
    return " + ".join(parts) or None


def _unwrapped_by_regex(part: str) -> str:
    m = WRAPPER.match(part)
    return m.group(1) if m else part


def _onnx_nodes_of_name_by_regex(name: str) -> tuple[str, ...]:
    """The ONNX nodes read off a layer name (no ``Metadata``) as they were: every regex on every name."""
    if name.startswith("Reformatting CopyNode") or name.startswith("__my"):
        return ()
    base = PROFILE_SUFFIX.sub("", name)
    foreign = _FOREIGN.match(base)
    if foreign:
        return tuple(p for p in foreign.group(1).split("...") if p)
    return tuple(p for p in (_unwrapped_by_regex(part) for part in FUSED_SPLIT.split(base)) if p)


# Pieces of real node and layer names plus the characters each shortcut must not misread: Q/DQ words in any case,
# uniquifier suffixes, a trailing newline (regex "$" matches before it), non-ASCII letters (re.I folds them).
_PIECES = ["/model/layers.0/", "MatMul", "Conv", "_myl3_12", "__12", ":0", "7", "quant_", "QuantizeLinear",
           "dequantizelinear", "ReadVariableOp", ".weight", ".bias", "onnxtrt_", "(Unnamed Layer", " + ", " || ",
           "PWN(", ")", "[profile 1]", " [profile 2]", "\n", "K", "\u212a", "ı", "[CONVOLUTION]-[aten]-[", "]", "/",
           "Reformat(", "{ForeignNode[", "...", "}", "__myl_", "_myl", "[profile ", " ", "12", "_"]
_NAMES = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(name=_NAMES)
def test_node_and_name_keys_agree_with_the_regexes(name):
    assert normalize_node(name) == _normalize_node_by_regex(name)
    assert name_key(name) == _name_key_by_regex(name)
    assert _onnx_nodes(name, None) == _onnx_nodes_of_name_by_regex(name)
    profile = PROFILE_SUFFIX.search(name) if name.endswith("]") else None
    assert _profile_indices([name]).tolist() == [int(profile.group(1)) if profile else 0]


def _group_keys_by_loop(group_ids, onnx_keys, names):
    """The per-layer loop :func:`_group_keys` replaced."""
    keys, key_engines = {}, {}
    for e, gids in enumerate(group_ids):
        for i, gid in enumerate(gids.tolist()):
            if onnx_keys[e][i]:
                keys.setdefault(gid, set()).update(onnx_keys[e][i])
                for key in onnx_keys[e][i]:
                    key_engines.setdefault((gid, key), set()).add(e)
            elif names[e][i]:
                keys.setdefault(gid, set()).add(names[e][i])
    return keys, {gid for (gid, _), es in key_engines.items() if len(es) >= 2}


_LAYER = st.tuples(st.integers(0, 6), st.lists(st.sampled_from("abcd"), max_size=3), st.sampled_from([None, "", "x", "y"]))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(engines=st.lists(st.lists(_LAYER, max_size=12), min_size=2, max_size=3))
def test_group_keys_agree_with_the_per_layer_loop(engines):
    group_ids = [np.array([gid for gid, _, _ in layers], dtype="int64") for layers in engines]
    onnx_keys = [[keys for _, keys, _ in layers] for layers in engines]
    names = [[name for _, _, name in layers] for layers in engines]
    assert _group_keys(group_ids, onnx_keys, names) == _group_keys_by_loop(group_ids, onnx_keys, names)
    present = [set(g.tolist()) for g in group_ids]
    spanning = _spanning_groups(group_ids)
    assert set(spanning) == {g for g in set().union(*present) if sum(g in p for p in present) >= 2}
    order = [g for p in present for g in sorted(p) if g in spanning]
    assert spanning == list(dict.fromkeys(order))  # engine A's groups in id order, then each next engine's new ones


_DATATYPES = st.lists(st.one_of(st.none(), st.just(float("nan")), st.sampled_from(
    ["Half", "Int8", "Float", "Row major linear FP32", "FP8", "BFloat16", "Int32", "Bool", "odd"])), max_size=30)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=_DATATYPES)
def test_precision_per_distinct_value_agrees_with_per_value(values):
    series = pd.Series(values, dtype=object)
    expected = [precision_from_datatype(None if v is None or v != v else v) for v in values]
    assert precisions_from_datatypes(series).tolist() == expected


@pytest.mark.parametrize("key", golden_keys())
def test_tensor_rows_and_tactic_tokens_on_every_fixture_engine(key):
    layers = golden_engines()[key].layers
    for column in ("inputs", "outputs"):
        tensors = layers[column].tolist()
        expected = [(t.get("Name"), i) for i, ts in enumerate(tensors) for t in ts or ()]
        names, rows = tensor_rows(tensors)
        assert list(zip(names, rows)) == expected
    tactics = layers["tactic_name"]
    tokens = tactic_token_series(tactics)
    assert precisions_from_tactics(tactics, tokens).tolist() == precisions_from_tactics(tactics).tolist()
    args = (layers["compute_precision"], layers["output_precision"], tactics)
    assert wide_outputs(*args, tokens).tolist() == wide_outputs(*args).tolist() == layers["wide_output"].tolist()


def test_generated_strategy_reaches_every_shortcut():
    """The generated names above do exercise the fast paths (not only the regex fallback)."""
    assert normalize_node("/a/QuantizeLinear") is None and normalize_node("ı/QuantizeLinear") is None
    assert normalize_node("/a/MatMul__12") == "/a/MatMul" and normalize_node("/a/MatMul_12") == "/a/MatMul_12"
    assert name_key("/a/MatMul_myl3_12") == "/a/MatMul" and name_key("/b/X + /a/Y") == "/a/Y + /b/X"
    assert re.fullmatch(r"/a/MatMul\n?", normalize_node("/a/MatMul__3\n"))
