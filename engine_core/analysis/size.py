"""Engine byte accounting: where the bytes of an engine file go.

The layer records itemise ``Weights`` and ``Bias`` (count x element size, with
INT4/FP4 at half a byte). What they do not itemise is reconciled against the
sizes the build log gives:

* ``Total Weights Memory`` larger than the itemised weights: constants held
  inside Myelin/ForeignNode/kgen layers, which the inspector does not list;
* the rest of ``Created engine with size``: kernels (cubins), tactic and
  persistent data (edge masks, #2090), per-profile metadata.

The *ideal* size is the same weights stored at the requested precision: the
number a user expects when they say "INT8 should be a quarter of FP32".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine_core.analysis.requested import requested_precision
from engine_core.engine import Engine
from engine_core.precision import ELEMENT_BYTES

MIB = 2**20


@dataclass
class ByteAccount:
    requested_precision: str | None
    by_precision: pd.DataFrame        # precision, layers, weights_bytes, bias_bytes, share_pct
    by_type: pd.DataFrame             # layer_type, layers, weights_bytes, bias_bytes, share_pct
    top_layers: pd.DataFrame          # name, layer_type, weights_precision, weights_bytes, bias_bytes
    weights_bytes: int
    bias_bytes: int
    ideal_weights_bytes: int | None   # the itemised weights at the requested precision
    engine_size_bytes: int | None
    weights_memory_bytes: int | None  # "Total Weights Memory" from the build log
    unitemised_weights_bytes: int | None
    remainder_bytes: int | None       # kernels, tactic data and metadata
    statement: str

    def components(self) -> pd.DataFrame:
        """The engine file as parts (for a stacked bar or treemap); bytes, label."""
        parts = [("itemised weights", self.weights_bytes), ("bias", self.bias_bytes)]
        if self.unitemised_weights_bytes:
            parts.append(("weights inside Myelin/kgen layers (not itemised)", self.unitemised_weights_bytes))
        if self.remainder_bytes is not None:
            parts.append(("kernels, tactic data and metadata", self.remainder_bytes))
        return pd.DataFrame(parts, columns=["component", "bytes"])


def _share(frame: pd.DataFrame) -> pd.DataFrame:
    total = (frame["weights_bytes"] + frame["bias_bytes"]).sum()
    frame["share_pct"] = 100.0 * (frame["weights_bytes"] + frame["bias_bytes"]) / total if total else 0.0
    return frame


def account_bytes(engine: Engine, top: int = 15) -> ByteAccount:
    """Build the :class:`ByteAccount` of one engine."""
    layers = engine.layers
    requested, _ = requested_precision(engine)
    weighted = layers[(layers["weights_bytes"] > 0) | (layers["bias_bytes"] > 0)]
    by_precision = _share(weighted.groupby("weights_precision").agg(
        layers=("name", "size"), weights_bytes=("weights_bytes", "sum"), bias_bytes=("bias_bytes", "sum"))
        .reset_index().rename(columns={"weights_precision": "precision"}))
    by_type = _share(weighted.groupby("layer_type").agg(
        layers=("name", "size"), weights_bytes=("weights_bytes", "sum"), bias_bytes=("bias_bytes", "sum")).reset_index())
    top_layers = weighted.assign(total=weighted["weights_bytes"] + weighted["bias_bytes"]).nlargest(top, "total")[
        ["order", "name", "layer_type", "weights_precision", "weights_bytes", "bias_bytes"]]
    weights = int(layers["weights_bytes"].sum())
    bias = int(layers["bias_bytes"].sum())
    ideal = None
    if requested in ELEMENT_BYTES:
        ideal = int(-(-layers["weights_count"].sum() * ELEMENT_BYTES[requested] // 1))
    size = engine.engine_size_bytes
    memory = engine.sizes.get("weights_memory_bytes")
    memory = int(memory) if memory is not None else None
    unitemised = max(0, memory - weights - bias) if memory is not None else None
    remainder = None
    if size is not None:
        remainder = size - weights - bias - (unitemised or 0)
    account = ByteAccount(requested, by_precision.sort_values("weights_bytes", ascending=False, ignore_index=True),
                          by_type.sort_values("weights_bytes", ascending=False, ignore_index=True), top_layers,
                          weights, bias, ideal, size, memory, unitemised, remainder, "")
    account.statement = _statement(account)
    return account


def _mib(n: float) -> str:
    return f"{n / MIB:.2f} MiB"


def _statement(a: ByteAccount) -> str:
    parts = []
    mix = ", ".join(f"{_mib(r.weights_bytes)} {r.precision}" for r in a.by_precision.itertuples() if r.weights_bytes)
    parts.append(f"The layers itemise {_mib(a.weights_bytes)} of weights ({mix or 'none'}) and {_mib(a.bias_bytes)} of bias.")
    if a.ideal_weights_bytes is not None and a.requested_precision:
        if a.ideal_weights_bytes >= a.weights_bytes:
            parts.append(f"Stored at {a.requested_precision} they would take {_mib(a.ideal_weights_bytes)}: "
                         f"every weighted layer already stores {a.requested_precision} or narrower.")
        else:
            extra = a.weights_bytes - a.ideal_weights_bytes
            parts.append(f"At {a.requested_precision} the same weights would take {_mib(a.ideal_weights_bytes)}; "
                         f"{_mib(extra)} is spent on weights kept wider than {a.requested_precision}.")
    if a.engine_size_bytes is None:
        parts.append("The engine file size is unknown: import the trtexec build log ('Created engine with size') to reconcile it.")
        return " ".join(parts)
    pieces = [f"{_mib(a.weights_bytes + a.bias_bytes)} itemised weights and bias"]
    if a.unitemised_weights_bytes:
        pieces.append(f"{_mib(a.unitemised_weights_bytes)} of weights inside Myelin/kgen layers that the inspector "
                      f"does not itemise (the log's Total Weights Memory is {_mib(a.weights_memory_bytes)})")
    pieces.append(f"{_mib(a.remainder_bytes)} of kernels, tactic data and metadata")
    parts.append(f"The {_mib(a.engine_size_bytes)} engine = " + " + ".join(pieces) + ".")
    if a.remainder_bytes is not None and a.remainder_bytes < 0:
        parts.append("(The remainder is negative: the log's size is rounded or the engine holds refit/stripped weights.)")
    return " ".join(parts)


def diff_bytes(groups: pd.DataFrame) -> pd.DataFrame:
    """From :func:`engine_core.analysis.compare.compare_engines` groups: the groups whose weights changed.

    Columns: onnx_nodes, a_weights_precision, b_weights_precision, a_weights_bytes,
    b_weights_bytes, delta_bytes; largest moves first.
    """
    changed = groups[(groups["a_weights_bytes"] != groups["b_weights_bytes"])
                     | (groups["a_weights_precision"] != groups["b_weights_precision"])]
    out = changed[["onnx_nodes", "a_weights_precision", "b_weights_precision", "a_weights_bytes", "b_weights_bytes"]].copy()
    out["delta_bytes"] = out["b_weights_bytes"] - out["a_weights_bytes"]
    return out.reindex(out["delta_bytes"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def size_ratio_statement(a: ByteAccount, b: ByteAccount, a_name: str, b_name: str,
                         a_layers: int = 0, b_layers: int = 0) -> str:
    """Why B's engine is (not) the size its precision promises, against baseline A, in plain numbers.

    The expectation users bring: weights shrink with the element size (INT8 is a quarter of
    FP32), so the engine should too. The answer splits both engines into weights and the rest.
    """
    if not a.engine_size_bytes or not b.engine_size_bytes:
        return "Engine file sizes are unknown for one of the two builds: import their build logs to compare sizes."
    ratio = b.engine_size_bytes / a.engine_size_bytes
    wa, wb = a.weights_bytes + a.bias_bytes, b.weights_bytes + b.bias_bytes
    rest_a, rest_b = a.engine_size_bytes - wa, b.engine_size_bytes - wb
    parts = [f"{b_name} is {_mib(b.engine_size_bytes)}, {ratio:.0%} of {a_name}'s {_mib(a.engine_size_bytes)}."]
    if wa:
        parts.append(f"Its weights and constants shrank to {wb / wa:.0%} ({_mib(wa)} -> {_mib(wb)})")
        mix = ", ".join(f"{_mib(r.weights_bytes)} {r.precision}" for r in b.by_precision.itertuples() if r.weights_bytes)
        parts[-1] += f": {mix}." if mix else "."
    trend = "grew" if rest_b > rest_a * 1.05 else "shrank" if rest_b < rest_a * 0.95 else "stayed"
    share = rest_b / b.engine_size_bytes
    parts.append(f"The rest of the plan (kernels, tactic data, metadata) {trend} from {_mib(rest_a)} to {_mib(rest_b)} "
                 f"({share:.0%} of {b_name}"
                 + (f"; it has {b_layers} layers to {a_layers}" if b_layers != a_layers else "") + "): "
                 "that part does not scale with the element size, which is why the engine is not "
                 f"{_mib(a.engine_size_bytes * wb / wa) if wa else '?'} (the weights' ratio applied to the whole file).")
    return " ".join(parts)
