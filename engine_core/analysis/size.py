"""Engine byte accounting: where the bytes of an engine file go, each constant counted once.

The layer records itemise three kinds of constant (see :mod:`engine_core.layer_table`, each counted
once per engine by name): weights, bias (with a weighted layer's folded scales), and the constants of
generated kernels (TensorRT-RTX ``kgen`` quantize and epilogue kernels carry Int8 constants the size of
an activation: they are why an INT8 engine can be bigger than its FP32 build, and they are not bias).
The builder stores each named constant on a 128-byte boundary: that padding is a part of its own
(:data:`engine_core.constants.ALIGNMENT`). What the records do not itemise is reconciled against the
builder's own numbers:

* ``Total Weights Memory`` above the itemised bytes: constants inside Myelin/ForeignNode layers
  that the inspector does not list (TensorRT 10's gemm layers);
* the rest of the engine file (``Created engine with size``, a LayerLens build's plan): kernels
  (cubins), tactic and persistent data (edge masks, #2090), per-profile metadata.

The *ideal* size is the same weights stored at the requested precision: the number a user expects
when they say "INT8 should be a quarter of FP32". :func:`explain_growth` answers the question that
follows when it is not: why is this quantized engine bigger than its float baseline?
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from engine_core.engine import Engine
from engine_core.precision import ELEMENT_BYTES, PRECISION_RANK

MIB = 2**20
KERNEL_CONSTANTS = "constants of generated kernels"
PADDING = "alignment padding of the constants"
UNITEMISED = "weights memory the layers do not itemise"
REST = "kernels, tactic data and metadata"
_PARTS = ("weights_bytes", "bias_bytes", "kernel_constants_bytes")
#: Beyond this share of Total Weights Memory, constants the layers do not list are worth naming.
_NOTABLE = 0.05


@dataclass
class ByteAccount:
    requested_precision: str | None
    by_precision: pd.DataFrame        # precision, layers, weights_bytes, bias_bytes, kernel_constants_bytes, share_pct
    by_type: pd.DataFrame             # layer_type, layers, weights_bytes, bias_bytes, kernel_constants_bytes, share_pct
    top_layers: pd.DataFrame          # order, name, layer_type, weights_precision, weights_bytes, bias_bytes, kernel_constants_bytes
    weights_bytes: int
    bias_bytes: int
    kernel_constants_bytes: int
    ideal_weights_bytes: int | None   # the itemised weights at the requested precision
    engine_size_bytes: int | None
    weights_memory_bytes: int | None  # "Total Weights Memory" from the build log
    unitemised_weights_bytes: int | None   # Total Weights Memory beyond the stored constants
    remainder_bytes: int | None       # kernels, tactic data and metadata
    padding_bytes: int = 0            # the builder's alignment of each stored named constant
    statement: str = ""
    #: The largest constants of generated kernels: name, layer_name, dims, precision, bytes, uses.
    largest_kernel_constants: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Layers that reuse a weight tensor another layer holds, and the bytes counting every use would add.
    shared_weight_layers: int = 0
    shared_weight_bytes: int = 0

    @property
    def itemised_bytes(self) -> int:
        return self.weights_bytes + self.bias_bytes + self.kernel_constants_bytes

    @property
    def stored_bytes(self) -> int:
        """The itemised constants as the plan stores them: with their alignment padding."""
        return self.itemised_bytes + self.padding_bytes

    def components(self, weights_by_precision: bool = False) -> pd.DataFrame:
        """The engine file as parts, in bytes (columns component, bytes); they add up to the engine when its size is known.

        Args:
            weights_by_precision: one ``weights FP16``-style part per weight precision instead of one ``weights``.
        """
        if weights_by_precision:
            parts = [(f"weights {r.precision}", int(r.weights_bytes)) for r in self.by_precision.itertuples() if r.weights_bytes]
        else:
            parts = [("weights", self.weights_bytes)]
        parts += [("bias", self.bias_bytes), (KERNEL_CONSTANTS, self.kernel_constants_bytes), (PADDING, self.padding_bytes)]
        if self.unitemised_weights_bytes:
            parts.append((UNITEMISED, self.unitemised_weights_bytes))
        if self.remainder_bytes is not None:
            parts.append((REST, self.remainder_bytes))
        return pd.DataFrame([p for p in parts if p[1]], columns=["component", "bytes"])


def _grouped(weighted: pd.DataFrame, by: str) -> pd.DataFrame:
    frame = weighted.groupby(by).agg(layers=("name", "size"), **{p: (p, "sum") for p in _PARTS}).reset_index()
    total = frame[list(_PARTS)].sum(axis=1)
    frame["share_pct"] = 100.0 * total / total.sum() if total.sum() else 0.0
    return frame.assign(_total=total).sort_values("_total", ascending=False, ignore_index=True).drop(columns="_total")


def account_bytes(engine: Engine, top: int = 15) -> ByteAccount:
    """Build the :class:`ByteAccount` of one engine."""
    layers = engine.layers
    requested, _ = engine.analysis.requested_precision
    total = layers[list(_PARTS)].sum(axis=1)
    weighted = layers[total > 0]
    # A layer's bytes sit at the precision of what it holds: weights, else its generated-kernel constants.
    holder_precision = weighted["weights_precision"].where(weighted["weights_precision"] != "NONE",
                                                           weighted["kernel_constants_precision"])
    by_precision = _grouped(weighted.assign(precision=holder_precision.where(holder_precision != "NONE",
                                                                             weighted["bias_precision"])), "precision")
    by_type = _grouped(weighted, "layer_type")
    top_layers = weighted.assign(_total=total[total > 0]).nlargest(top, "_total")[
        ["order", "name", "layer_type", "weights_precision", *_PARTS]]
    weights, bias, constants = (int(layers[p].sum()) for p in _PARTS)
    ideal = None
    if requested in ELEMENT_BYTES:
        ideal = int(-(-layers["weights_count"].sum() * ELEMENT_BYTES[requested] // 1))
    size = engine.engine_size_bytes
    memory = engine.sizes.get("weights_memory_bytes")
    memory = int(memory) if memory is not None else None
    padding = int(layers["constants_padding_bytes"].sum())
    stored = weights + bias + constants + padding
    unitemised = max(0, memory - stored) if memory is not None else None
    remainder = size - stored - (unitemised or 0) if size is not None else None
    uses = engine.constants
    reused = uses[~uses["first_use"] & (uses["role"] == "weights")]
    account = ByteAccount(requested, by_precision, by_type, top_layers, weights, bias, constants, ideal, size, memory,
                          unitemised, remainder, padding, largest_kernel_constants=_largest_kernel_constants(uses),
                          shared_weight_layers=int(layers["weights_shared_from"].notna().sum()),
                          shared_weight_bytes=int(reused["bytes"].sum()))
    account.statement = _statement(account)
    return account


def _largest_kernel_constants(constants: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The largest constants of generated kernels, where they are first held."""
    kernel = constants[(constants["role"] == "kernel") & constants["first_use"]]
    return kernel.nlargest(top, "bytes")[["name", "layer_name", "dims", "precision", "bytes", "uses"]].reset_index(drop=True)


def _mib(n: float) -> str:
    return f"{n / MIB:.2f} MiB"


def _dims(dims) -> str:
    return "[" + ",".join(str(d) for d in dims) + "]"


def _statement(a: ByteAccount) -> str:
    parts = []
    mix = ", ".join(f"{_mib(r.weights_bytes)} {r.precision}" for r in a.by_precision.itertuples() if r.weights_bytes)
    parts.append(f"The layers itemise {_mib(a.weights_bytes)} of weights ({mix or 'none'}) and {_mib(a.bias_bytes)} of bias"
                 + (f", and their generated kernels hold {_mib(a.kernel_constants_bytes)} of constants"
                    if a.kernel_constants_bytes else "") + ".")
    if a.shared_weight_layers:
        parts.append(f"{a.shared_weight_layers} layers reuse weights another layer holds (shared initializers): they "
                     f"count once, not {_mib(a.weights_bytes + a.shared_weight_bytes)}.")
    if not a.largest_kernel_constants.empty:
        biggest = a.largest_kernel_constants.iloc[0]
        parts.append(f"The largest generated-kernel constant is {_dims(biggest['dims'])} {biggest['precision']} "
                     f"({_mib(biggest['bytes'])}) in {biggest['layer_name']}.")
    if a.ideal_weights_bytes is not None and a.requested_precision:
        if a.ideal_weights_bytes >= a.weights_bytes:
            parts.append(f"Stored at {a.requested_precision} they would take {_mib(a.ideal_weights_bytes)}: "
                         f"every weighted layer already stores {a.requested_precision} or narrower.")
        else:
            extra = a.weights_bytes - a.ideal_weights_bytes
            parts.append(f"At {a.requested_precision} the same weights would take {_mib(a.ideal_weights_bytes)}; "
                         f"{_mib(extra)} is spent on weights kept wider than {a.requested_precision}.")
    if a.weights_memory_bytes is not None:
        gap = a.stored_bytes - a.weights_memory_bytes
        padded = f" (with {_mib(a.padding_bytes)} of alignment padding)" if a.padding_bytes else ""
        if abs(gap) <= _NOTABLE * a.weights_memory_bytes:
            parts.append(f"Stored, they take {_mib(a.stored_bytes)}{padded}: the builder's Total Weights Memory is "
                         f"{_mib(a.weights_memory_bytes)} ({gap / a.weights_memory_bytes:+.1%}).")
        elif gap > 0:
            parts.append(f"Stored, they would take {_mib(a.stored_bytes)}{padded}, {_mib(gap)} more than the builder's "
                         f"Total Weights Memory ({_mib(a.weights_memory_bytes)}): the builder stores identical constants "
                         "once, and the layers do not say which ones are identical.")
    if a.engine_size_bytes is None:
        parts.append("The engine file size is unknown: import the build log (trtexec's 'Created engine with size', or a "
                     "LayerLens build's plan) to reconcile it.")
        return " ".join(parts)
    pieces = [f"{_mib(a.stored_bytes)} of constants"]
    if a.unitemised_weights_bytes:
        where = (" inside Myelin/ForeignNode layers, which the inspector does not itemise"
                 if a.unitemised_weights_bytes > _NOTABLE * a.weights_memory_bytes else " the layers do not itemise")
        pieces.append(f"{_mib(a.unitemised_weights_bytes)} of weights memory{where} (Total Weights Memory "
                      f"{_mib(a.weights_memory_bytes)})")
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


@dataclass
class SizeGrowth:
    """Why a reduced-precision engine is bigger than its wider baseline: the parts that grew, and what to try."""

    statement: str
    fix: str
    components: pd.DataFrame          # component, baseline_bytes, bytes, delta_bytes (largest growth first)
    layers: list[str]                 # the layers holding what grew most (largest first)


def explain_growth(baseline: Engine, engine: Engine, a: ByteAccount | None = None,
                   b: ByteAccount | None = None) -> SizeGrowth | None:
    """Why ``engine`` (asked for a narrower precision) is bigger than ``baseline``; None when it is not.

    Both engine sizes must be known and ``engine``'s requested precision narrower than the baseline's
    (INT8 against FP32/FP16, FP16 against FP32). The parts are :meth:`ByteAccount.components`.
    """
    a = a or baseline.analysis.byte_account
    b = b or engine.analysis.byte_account
    if not a.engine_size_bytes or not b.engine_size_bytes or b.engine_size_bytes <= a.engine_size_bytes:
        return None
    if PRECISION_RANK.get(b.requested_precision or "", 99) >= PRECISION_RANK.get(a.requested_precision or "", -1):
        return None
    parts = a.components().set_index("component")["bytes"].rename("baseline_bytes").to_frame().join(
        b.components().set_index("component")["bytes"], how="outer").fillna(0).astype("int64")
    parts["delta_bytes"] = parts["bytes"] - parts["baseline_bytes"]
    parts = parts.sort_values("delta_bytes", ascending=False).reset_index()
    grew = parts[parts["delta_bytes"] > 0]
    growth = b.engine_size_bytes - a.engine_size_bytes
    said = [f"{engine.name} ({b.requested_precision}) is {_mib(b.engine_size_bytes)}, {_mib(growth)} bigger than its "
            f"{a.requested_precision} baseline {baseline.name} ({_mib(a.engine_size_bytes)})."]
    said.append("What grew: " + "; ".join(f"{r.component} {_mib(r.baseline_bytes)} -> {_mib(r.bytes)} (+{_mib(r.delta_bytes)})"
                                           for r in grew.itertuples()) + ".")
    shrank = parts[parts["delta_bytes"] < 0]
    if not shrank.empty:
        said.append("What shrank: " + "; ".join(f"{r.component} -{_mib(-r.delta_bytes)}" for r in shrank.itertuples()) + ".")
    grown = set(grew["component"])
    layers: list[str] = []
    kernels = engine.layers.loc[engine.layers["kernel_constants_bytes"] > 0]
    if KERNEL_CONSTANTS in grown and not b.largest_kernel_constants.empty:
        layers = list(kernels.nlargest(10, "kernel_constants_bytes")["name"])
        said.append(f"{len(kernels)} generated kernels carry {_mib(b.kernel_constants_bytes)} of constants; the largest: "
                    + ", ".join(f"{_dims(r.dims)} {r.precision} ({_mib(r.bytes)}) in {r.layer_name}"
                                for r in b.largest_kernel_constants.head(3).itertuples()) + ".")
    if REST in grown:
        generated = engine.layers.loc[engine.layers["layer_type"] == "kgen", "name"]
        layers = layers or list(generated.head(10))
        said.append(f"The plan's kernels and metadata grew with its layer count ({len(baseline.layers)} -> "
                    f"{len(engine.layers)} layers, {len(generated)} of them generated kernels): each quantize step and "
                    "split epilogue is a kernel of its own.")
    return SizeGrowth(" ".join(said), _growth_fix(engine, grown), parts, layers)


def _growth_fix(engine: Engine, grown: set[str]) -> str:
    advice = []
    if "-ort" in (engine.recipe or ""):
        advice.append("build with the `tensorrt` Q/DQ placement (`--placement tensorrt`: Q/DQ only on the inputs of "
                      "convolutions, GEMMs and residual Adds), which leaves fewer quantize epilogues to generate")
    if KERNEL_CONSTANTS in grown:
        advice.append("keep the blocks that carry these constants in FP16 (quantize only the large convolutions and "
                      "GEMMs: depthwise convolutions gain little from INT8, and TensorRT-RTX pads their INT8 input to 4 "
                      "channels with a generated constant)")
    if REST in grown:
        # Not the target set: EfficientNet-B0's INT8 plan is 27,782,996 bytes for SM89 alone and for SM86+SM89+SM120.
        advice.append("quantize fewer, larger layers: every quantized island adds quantize and epilogue kernels")
    text = "; or ".join(advice)
    return text[:1].upper() + text[1:] + ". Then compare the sizes again (`layerlens compare`)."


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
    rest_a, rest_b = a.engine_size_bytes - wa - a.kernel_constants_bytes, b.engine_size_bytes - wb - b.kernel_constants_bytes
    parts = [f"{b_name} is {_mib(b.engine_size_bytes)}, {ratio:.0%} of {a_name}'s {_mib(a.engine_size_bytes)}."]
    if wa:
        parts.append(f"Its weights and bias shrank to {wb / wa:.0%} ({_mib(wa)} -> {_mib(wb)})")
        mix = ", ".join(f"{_mib(r.weights_bytes)} {r.precision}" for r in b.by_precision.itertuples() if r.weights_bytes)
        parts[-1] += f": {mix}." if mix else "."
    if b.kernel_constants_bytes != a.kernel_constants_bytes:
        parts.append(f"The constants of its generated kernels went from {_mib(a.kernel_constants_bytes)} to "
                     f"{_mib(b.kernel_constants_bytes)}.")
    trend = "grew" if rest_b > rest_a * 1.05 else "shrank" if rest_b < rest_a * 0.95 else "stayed"
    share = rest_b / b.engine_size_bytes
    parts.append(f"The rest of the plan (kernels, tactic data, metadata) {trend} from {_mib(rest_a)} to {_mib(rest_b)} "
                 f"({share:.0%} of {b_name}"
                 + (f"; it has {b_layers} layers to {a_layers}" if b_layers != a_layers else "") + "): "
                 "that part does not scale with the element size, which is why the engine is not "
                 f"{_mib(a.engine_size_bytes * wb / wa) if wa else '?'} (the weights' ratio applied to the whole file).")
    return " ".join(parts)
