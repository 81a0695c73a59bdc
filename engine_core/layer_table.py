"""Build the canonical layer table from inspector-shaped records and a profile.

This is the hot path for large engines, so it works column by column: one list
comprehension per raw field, then vectorised pandas/regex passes. No Python
object is created per layer beyond what ``json`` already made; the tensor
lists in ``inputs``/``outputs`` are TensorRT's own dicts (``Name``,
``Dimensions``, ``Format/Datatype``, or TensorRT 11's split ``Format`` and
``DataType``), shared, not copied.

Constants are counted once per engine: TensorRT-RTX lists every constant a
layer holds (``Constants: [{Name, Dimensions, Datatype}]``), one entry per use,
and :func:`engine_core.constants.constants_table` decides which uses are the
same tensor; its bytes count at the first.
"""

from __future__ import annotations

import math
import re
from itertools import chain

import numpy as np
import pandas as pd

from engine_core import precision as prec
from engine_core.constants import constants_table, empty_constants_table
from engine_core.importers.onnx_graph_log import OnnxGraphLog
from engine_core.importers.profile import LayerProfile
from engine_core.schema import conform, empty_layer_table

PROFILE_SUFFIX = re.compile(r" ?\[profile (\d+)\]$")
# TensorRT >= 8.6 writes "[ONNX Layer: a]\x1e[ONNX Layer: b]"; the one-line text
# dump may print the separator raw or drop it (issue #2779, TREx fix_metadata).
_ONNX_LAYER = re.compile(r"\[ONNX Layer: (.*?)\](?=[\x1e\x1f]|\[ONNX Layer: |$)")
FUSED_SPLIT = re.compile(r" \+ | \|\| ")
#: TensorRT names inserted copies after the layer they feed: group 1 is that layer's name.
REFORMAT_TARGET = re.compile(r"^Reformatting CopyNode for (?:Input|Output) Tensor \d+ to (.+)$")
_FOREIGN = re.compile(r"^\{ForeignNode\[(.*)\]\}$")
#: Pointwise and reformat layers wrap the fused names: "PWN(Sigmoid_5 + Mul_6)".
WRAPPER = re.compile(r"^(?:PWN|Reformat)\((.*)\)$")

_DATA_MOVEMENT_TYPES = {"Reformat", "Shuffle", "Slice", "Padding", "NoOp", "Concatenation", "Gather",
                        "Copy", "Identity", "shape_call", "reshape", "TrainStation", "signal", "wait"}
_MYELIN_TYPES = {"Myelin", "kgen", "gemm", "shape_call", "reshape", "MyelinGraph"}


def layer_table_from_records(records: list[dict], profile: LayerProfile | None = None,
                             graph: OnnxGraphLog | None = None) -> pd.DataFrame:
    """Canonical layer table (see :mod:`engine_core.schema`) from raw records.

    Args:
        records: inspector-style dicts (from JSON or parsed text).
        profile: per-layer times to join by layer name, or None.
        graph: the build log's ONNX parser lines, which trace shared weights to one initializer.
    """
    return layer_table_and_constants(records, profile, graph)[0]


def layer_table_and_constants(records: list[dict], profile: LayerProfile | None = None,
                              graph: OnnxGraphLog | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`layer_table_from_records` and the :func:`~engine_core.constants.constants_table` it counted bytes from."""
    if not records:
        return empty_layer_table(), empty_constants_table()
    n = len(records)
    get = _getter(records)
    names = [str(r.get("Name", "")) for r in records]
    inputs = [r.get("Inputs") or () for r in records]
    outputs = [r.get("Outputs") or () for r in records]
    tactic_name = pd.Series([t or None for t in get("TacticName")], dtype=object)
    input_format = pd.Series([prec.tensor_format(t[0]) if t else None for t in inputs], dtype=object)
    output_format = pd.Series([prec.tensor_format(t[0]) if t else None for t in outputs], dtype=object)

    frame = pd.DataFrame({"order": np.arange(n, dtype="int64"), "name": pd.Series(names, dtype=object),
                          "layer_type": pd.Series(get("LayerType"), dtype=object),
                          "parameter_type": pd.Series([p or _IMPLIED_PARAMETER_TYPE.get(t) for p, t in
                                                       zip(get("ParameterType"), get("LayerType"))], dtype=object),
                          "inputs": inputs, "outputs": outputs,
                          "input_format": input_format, "output_format": output_format,
                          "tactic_name": tactic_name,
                          "tactic_value": pd.Series(get("TacticValue"), dtype=object),
                          "origin": pd.Series(get("Origin"), dtype=object),
                          "stream_id": pd.array(_ints_or_none(get("StreamId")), dtype="Int64"),
                          "record": records})
    frame["input_precision"] = prec.precisions_from_datatypes(
        pd.Series([prec.tensor_datatype(t[0]) if t else None for t in inputs], dtype=object))
    frame["output_precision"] = prec.precisions_from_datatypes(
        pd.Series([prec.tensor_datatype(t[0]) if t else None for t in outputs], dtype=object))
    frame["onnx_nodes"] = [_onnx_nodes(name, meta) for name, meta in zip(names, get("Metadata"))]
    constants = _add_weights(frame, records, graph)
    tactic_tokens = prec.tactic_token_series(tactic_name)  # ~70k distinct Myelin names at 100k layers: once
    tactic_precision = prec.precisions_from_tactics(tactic_name, tactic_tokens)
    frame["compute_precision"], frame["compute_precision_source"] = prec.compute_precision(
        tactic_precision, frame["weights_precision"], frame["input_precision"])
    frame["wide_output"] = prec.wide_outputs(frame["compute_precision"], frame["output_precision"], tactic_name,
                                           tactic_tokens)
    frame["profile_index"] = _profile_indices(names)
    _add_flags(frame)
    join_profile(frame, profile)
    return conform(frame), constants


_NO_BLOB: dict = {}
# TensorRT-RTX (and Myelin) layer types have no ParameterType; these are the logical ops they implement.
_IMPLIED_PARAMETER_TYPE = {"correlation": "Convolution", "gemm": "MatrixMultiply", "maxpool": "Pooling",
                           "avgpool": "Pooling", "runtime_fusion": "MatrixMultiply"}


_PREFIXED = re.compile(r"^(?P<prefix>[A-Z][A-Za-z0-9]*?)(?P<key>Weights|Bias|Kernel|Stride|Groups|OutMaps|Dilation|"
                       r"PrePadding|PostPadding|WindowSize)$")


def record_param(record: dict, key: str):
    """A layer parameter, plain (``Kernel``) or prefixed as fused layers write it (``ConvKernel``).

    Fused layers such as ``ConvActPool`` carry one parameter set per fused op under prefixed keys
    (``ConvWeights``, ``ConvBias``, ``ConvKernel``, ``PoolWindowSize``), in the JSON and in the
    ``--dumpLayerInfo`` text alike; the first prefixed one stands for the layer.
    """
    if not isinstance(record, dict):
        return None
    if key in record:
        return record[key]
    for k, v in record.items():
        # The suffix test first: most layers hold no such key, and the regex on every key of every layer
        # was a second of a 100k-layer comparison.
        if k.endswith(key) and (m := _PREFIXED.match(k)) and m["key"] == key:
            return v
    return None


def has_prefixed_params(records: list[dict]) -> bool:
    """Whether any record holds a fused layer's prefixed parameter (``ConvKernel``); when none does,
    ``record.get(key)`` is :func:`record_param`. One C-level union of the keys, then a regex per distinct key."""
    return any(_PREFIXED.match(k) for k in set().union(*records))


def _prefixed_blob(record: dict, key: str) -> dict | None:
    """All ``<Prefix>Weights`` (or Bias) blobs of a fused layer, summed into one (type of the first)."""
    # The hot path for big engines: a cheap suffix test before the regex, on dict values only.
    blobs = [v for k, v in record.items()
             if type(v) is dict and k.endswith(key) and k != key and (m := _PREFIXED.match(k)) and m["key"] == key]
    if not blobs:
        return None
    counts = [b.get("Count") for b in blobs]
    return {"Type": blobs[0].get("Type"), "Count": sum(c for c in counts if isinstance(c, int))}


def _weight_blobs(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """``(Weights, Bias)`` blobs per record (``{Type, Count}``): the record's own, or a fused layer's prefixed ones."""
    # Hot path for big engines: one C-level union of every record's keys decides whether any record
    # needs the per-key work below; a plain TensorRT 8-10 export never does.
    keys = set().union(*records)
    fused = any(k.endswith(("Weights", "Bias")) and k not in ("Weights", "Bias") and _PREFIXED.match(k) for k in keys)
    if not fused:
        return ([w if isinstance(w := r.get("Weights"), dict) else _NO_BLOB for r in records],
                [b if isinstance(b := r.get("Bias"), dict) else _NO_BLOB for r in records])
    weights, bias = [], []
    for r in records:
        w, b = r.get("Weights"), r.get("Bias")
        if not isinstance(w, dict) and not isinstance(b, dict):
            w, b = _prefixed_blob(r, "Weights"), _prefixed_blob(r, "Bias")
        weights.append(w if isinstance(w, dict) else _NO_BLOB)
        bias.append(b if isinstance(b, dict) else _NO_BLOB)
    return weights, bias


def tensor_rows(tensor_lists: list) -> tuple[list, list[int]]:
    """``(names, rows)``: every tensor's ``Name`` in a column of tensor lists (``inputs`` or ``outputs``) and the row
    holding it, flattened in order. One pass for a whole column: indexes by tensor name are built from it in C
    (``dict(zip(names, rows))``), not with a Python loop per layer."""
    tensor_lists = [tensors or () for tensors in tensor_lists]
    counts = np.fromiter(map(len, tensor_lists), dtype="int64", count=len(tensor_lists))
    names = [t.get("Name") for t in chain.from_iterable(tensor_lists)]
    return names, np.repeat(np.arange(len(tensor_lists)), counts).tolist()


def _profile_indices(names: list[str]) -> np.ndarray:
    """``[profile N]`` suffixes (TREx ``filter_profiles``); 0 for the first profile, which has none."""
    out = np.zeros(len(names), dtype="int64")
    for i, name in enumerate(names):
        if name.endswith("]") and (suffix := profile_suffix(name)):
            out[i] = int(suffix.group(1))
    return out


def _getter(records: list[dict]):
    def get(key: str) -> list:
        return [r.get(key) for r in records]
    return get


def _ints_or_none(values: list) -> list:
    return [v if isinstance(v, int) and not isinstance(v, bool) else None for v in values]


def _add_weights(frame: pd.DataFrame, records: list[dict], graph: OnnxGraphLog | None) -> pd.DataFrame:
    """``weights_*``, ``bias_*``, ``kernel_constants_*`` and padding columns, each constant counted once per engine;
    returns the constants table they were counted from."""
    weights, bias = _weight_blobs(records)
    parts = {"weights": _blob_columns(weights), "bias": _blob_columns(bias),
             "kernel_constants": _no_blobs(len(records))}
    shared_from = np.full(len(records), None, dtype=object)
    padding = np.zeros(len(records), dtype="int64")
    constants = constants_table(records, graph, frame["onnx_nodes"].tolist())
    if not constants.empty:
        stored = constants[constants["first_use"]]
        extra = (stored["stored_bytes"] - stored["bytes"]).groupby(stored["layer"]).sum()
        padding[extra.index.to_numpy()] = extra.to_numpy()
        for role, prefix in (("weights", "weights"), ("bias", "bias"), ("kernel", "kernel_constants")):
            rows = constants[constants["role"] == role]
            if rows.empty:
                continue
            counted = rows[rows["first_use"]].groupby("layer").agg(count=("count", "sum"), bytes=("bytes", "sum"))
            # The precision of a layer's part is its largest constant's, shared or not (a layer that reuses an
            # earlier layer's Float weights still runs on Float weights).
            widest = rows.sort_values("count", ascending=False, kind="stable").drop_duplicates("layer").set_index("layer")
            types, counts, sizes = parts[prefix]
            layer_index = widest.index.to_numpy()
            types[layer_index] = widest["datatype"].to_numpy()
            counts[layer_index] = 0
            sizes[layer_index] = 0
            counts[counted.index.to_numpy()] = counted["count"].to_numpy()
            sizes[counted.index.to_numpy()] = counted["bytes"].to_numpy()
            if role == "weights":
                shared = widest[~widest["first_use"]]
                shared_from[shared.index.to_numpy()] = shared["held_by"].to_numpy()
    for prefix, (types, counts, sizes) in parts.items():
        precision = prec.precisions_from_datatypes(pd.Series(types, dtype=object))
        held = counts > 0
        if prefix == "weights":  # weights an earlier layer holds are still this layer's weights
            held = held | pd.notna(shared_from)
        frame[f"{prefix}_precision"] = precision.where(held, "NONE").to_numpy()
        frame[f"{prefix}_count"] = counts
        frame[f"{prefix}_bytes"] = sizes
    frame["weights_shared_from"] = shared_from
    frame["constants_padding_bytes"] = padding
    return constants


def _blob_columns(blobs: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(types, counts, bytes)`` arrays of ``{Type, Count}`` blobs; bytes at the type's element size."""
    if all(b is _NO_BLOB for b in blobs):  # no layer has this blob (an LLM engine's Myelin layers hold none)
        return _no_blobs(len(blobs))
    types = pd.Series([b.get("Type") for b in blobs], dtype=object).to_numpy(copy=True)  # 1-D, whatever Type holds
    counts = np.fromiter((c if isinstance(c := b.get("Count", 0), int) and not isinstance(c, bool) and c > 0 else 0
                          for b in blobs), dtype="int64", count=len(blobs))
    sizes = prec.element_bytes_of_datatypes(pd.Series(types, dtype=object))
    # INT4/FP4 pack two elements per byte; round a trailing half byte up.
    return types, counts, np.ceil(counts * sizes).astype("int64")


def _no_blobs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_blob_columns` of ``n`` empty blobs, without looking at them."""
    return np.full(n, None, dtype=object), np.zeros(n, dtype="int64"), np.zeros(n, dtype="int64")


def profile_suffix(name: str) -> re.Match | None:
    """The `` [profile N]`` suffix TensorRT gives layers of profiles after the first: ``PROFILE_SUFFIX.search(name)``.

    Only the last ``[profile `` of a name can start the suffix, so the regex is tried there alone. ``re.search``
    tries a pattern that opens with an optional character at every position of the name (there is no literal
    prefix to scan for): a few percent of any command on a 100k-layer engine.
    """
    at = name.rfind("[profile ")
    if at < 0 or not name.endswith(("]", "]\n")):  # "$" also matches before a final newline
        return None
    # The optional space is part of the match where there is one, as the leftmost match of re.search.
    return PROFILE_SUFFIX.match(name, at - 1 if at and name[at - 1] == " " else at)


def without_profile_suffix(name: str) -> str:
    """``name`` without its :func:`profile_suffix`."""
    suffix = profile_suffix(name)
    return name[:suffix.start()] + name[suffix.end():] if suffix else name


def unwrapped(part: str) -> str:
    """One fused part without its ``PWN(...)``/``Reformat(...)`` wrapper; the regex only where one can match."""
    if not part.startswith(("PWN(", "Reformat(")):
        return part
    m = WRAPPER.match(part)
    return m.group(1) if m else part


def _onnx_nodes(name: str, metadata) -> tuple[str, ...]:
    """ONNX nodes from ``Metadata`` when present, else from the fused layer name."""
    if metadata:
        found = _split_onnx_layers(metadata) or _ONNX_LAYER.findall(str(metadata))
        if found:
            return tuple(found)
    if name.startswith("Reformatting CopyNode") or name.startswith("__my"):
        return ()
    base = without_profile_suffix(name)
    if base.startswith("{"):
        foreign = _FOREIGN.match(base)
        if foreign:
            # "{ForeignNode[first...last]}" names only the two ends of the fused span.
            return tuple(p for p in foreign.group(1).split("...") if p)
    if " + " not in base and " || " not in base:  # one part: most layers
        part = unwrapped(base)
        return (part,) if part else ()
    parts = (unwrapped(part) for part in FUSED_SPLIT.split(base))
    return tuple(p for p in parts if p)


def _split_onnx_layers(metadata) -> list[str] | None:
    """:data:`_ONNX_LAYER`'s matches by splitting, for the plain form ``[ONNX Layer: a]\\x1e[ONNX Layer: b]``
    (every separator between two entries, one marker per entry); None for anything else, which the regex reads."""
    if (type(metadata) is not str or not metadata.startswith("[ONNX Layer: ") or not metadata.endswith("]")
            or "\x1f" in metadata or "\n" in metadata):  # the regex's "." stops at a newline
        return None
    parts = metadata[13:-1].split("]\x1e[ONNX Layer: ")
    if metadata.count("\x1e") != len(parts) - 1 or metadata.count("[ONNX Layer: ") != len(parts):
        return None
    return parts


def _add_flags(frame: pd.DataFrame) -> None:
    lt = frame["layer_type"].fillna("")
    pt = frame["parameter_type"].fillna("")
    names = frame["name"].tolist()  # str, always: a comprehension is 3x faster than .str.startswith

    def starts(prefix: str) -> np.ndarray:
        return np.fromiter((n.startswith(prefix) for n in names), dtype=bool, count=len(names))

    frame["is_reformat"] = (lt == "Reformat") | (pt == "Reformat") | starts("Reformatting CopyNode")
    frame["is_noop"] = lt == "NoOp"
    frame["is_data_movement"] = lt.isin(_DATA_MOVEMENT_TYPES) | pt.isin(_DATA_MOVEMENT_TYPES)
    frame["is_myelin"] = lt.isin(_MYELIN_TYPES) | starts("{ForeignNode[")
    # A kernel that turns float data into the quantized format: a Q/DQ reformat (TensorRT <= 10)
    # or a TensorRT-RTX kgen (``__myl_MulMinMaxRounCast``: scale, clamp, round, cast).
    quantized_out = frame["output_precision"].isin(["INT8", "FP8", "INT4", "FP4"])
    float_in = frame["input_precision"].isin(["FP32", "TF32", "FP16", "BF16"])
    frame["is_quantize"] = quantized_out & float_in & (frame["weights_count"] == 0)


def join_profile(frame: pd.DataFrame, profile: LayerProfile | None) -> None:
    """Join per-layer times by name; repeated names match in order of appearance."""
    if profile is None or profile.frame.empty:
        for col in ("avg_ms", "median_ms", "total_ms", "latency_share_pct"):
            frame[col] = math.nan
        return
    if frame["name"].is_unique and profile.frame["name"].is_unique:
        # The common case, and a hash lookup: numbering repeats with groupby().cumcount() was most of
        # this join's second on a 100k-layer engine.
        at = pd.Index(profile.frame["name"]).get_indexer(frame["name"])
        for col in ("avg_ms", "median_ms", "total_ms", "latency_share_pct"):
            values = profile.frame[col].to_numpy(dtype=float)
            frame[col] = np.where(at >= 0, values[at], math.nan)
        return
    left = pd.DataFrame({"name": frame["name"], "_k": frame.groupby("name").cumcount()})
    right = profile.frame.assign(_k=profile.frame.groupby("name").cumcount())
    joined = left.merge(right, on=["name", "_k"], how="left")
    for col in ("avg_ms", "median_ms", "total_ms", "latency_share_pct"):
        frame[col] = joined[col].to_numpy()


def layer_table_from_profile(profile: LayerProfile) -> pd.DataFrame:
    """A table with names and times only, for engines known only by their profile."""
    records = [{"Name": n} for n in profile.frame["name"]]
    return layer_table_from_records(records, profile)


def unmatched_profile_names(frame: pd.DataFrame, profile: LayerProfile) -> list[str]:
    """Profile rows that matched no layer (a sign the profile is from another engine)."""
    known = set(frame["name"].tolist())  # lists, not the Series: iterating an Arrow string column is per element
    return [n for n in profile.frame["name"].tolist() if n not in known]
