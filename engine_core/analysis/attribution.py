"""The verdict on engine B against baseline A, and where the difference comes from, in parts that add up.

The per-layer-sum delta (B - A) splits into four parts that sum to it exactly:

* aligned groups that got faster (negative),
* aligned groups that got slower (positive),
* layers only in B (reformats, quantize kernels, unfused epilogues: positive),
* layers only in A (negative).

A layer without a measured time counts as 0 in both the sum and its part, so the identity holds for
any pair. The verdict then reconciles the per-layer delta with the end-to-end delta (GPU compute
median): per-layer profiling synchronizes after every layer, so each engine's per-layer sum carries
its own overhead, and the difference between the two deltas is how far the attribution can be trusted.
An engine never timed (a TensorRT-RTX CPU build) is compared on the calibrated latency model's estimates,
and every number says so; when the two estimates differ by less than the model's measured error, the
verdict says so instead of naming a winner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine_core.analysis.compare import Comparison
from engine_core.analysis.latency_model import default_latency_model
from engine_core.engine import Engine

PARTS = (("faster", "aligned groups that got faster"), ("slower", "aligned groups that got slower"),
         ("only_new", "layers only in {b}"), ("only_baseline", "layers only in {a}"))


@dataclass
class Part:
    kind: str
    label: str
    ms: float
    layers: list[str] = field(default_factory=list)
    groups: int = 0

    def __post_init__(self) -> None:
        self.ms = self.ms + 0.0  # no "-0.0000 ms" for an empty part


@dataclass
class Attribution:
    baseline: str
    engine: str
    verdict: str
    parts: list[Part]
    a_sum_ms: float
    b_sum_ms: float
    time_basis: str                     # "measured" or "estimate on <GPU> (<model>, <error band>)"
    reconciliation: str
    e2e_delta_ms: float | None = None
    different_networks: bool = False

    @property
    def delta_ms(self) -> float:
        return self.b_sum_ms - self.a_sum_ms

    @property
    def estimate(self) -> bool:
        return self.time_basis != "measured"

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "baseline": self.baseline, "engine": self.engine,
                "per_layer_sum_ms": {"a": round(self.a_sum_ms, 9), "b": round(self.b_sum_ms, 9),
                                     "delta": round(self.delta_ms, 9)},
                "parts": [{"kind": p.kind, "label": p.label, "ms": round(p.ms, 9), "groups": p.groups,
                           "layers": p.layers} for p in self.parts],
                "end_to_end_delta_ms": None if self.e2e_delta_ms is None else round(self.e2e_delta_ms, 9),
                "reconciliation": self.reconciliation, "time_basis": self.time_basis, "estimate": self.estimate,
                "different_networks": self.different_networks}


def _times(layers: pd.DataFrame, names) -> float:
    chosen = layers[layers["name"].isin(set(names))]
    return float(chosen["avg_ms"].fillna(0.0).sum())


def attribute(cmp: Comparison, a: Engine, b: Engine) -> Attribution:
    """Verdict and attribution of B (``cmp`` engine 1) against baseline A (engine 0)."""
    groups = cmp.groups
    a_ms = groups["a_ms"].astype(float).fillna(0.0).to_numpy() if not groups.empty else np.zeros(0)
    b_ms = groups["b_ms"].astype(float).fillna(0.0).to_numpy() if not groups.empty else np.zeros(0)
    delta = b_ms - a_ms
    a_name, b_name = cmp.names[0], cmp.names[1]
    only_b, only_a = cmp.unmatched.get(b_name, []), cmp.unmatched.get(a_name, [])
    labels = {k: t.format(a=a_name, b=b_name) for k, t in PARTS}
    faster, slower = delta < 0, delta > 0
    parts = [
        Part("faster", labels["faster"], float(delta[faster].sum()),
             [n for ls in groups["b_layers"][faster] for n in ls] if len(groups) else [], int(faster.sum())),
        Part("slower", labels["slower"], float(delta[slower].sum()),
             [n for ls in groups["b_layers"][slower] for n in ls] if len(groups) else [], int(slower.sum())),
        Part("only_new", labels["only_new"], _times(b.layers, only_b), list(only_b)),
        Part("only_baseline", labels["only_baseline"], -_times(a.layers, only_a), list(only_a)),
    ]
    # The sums are the parts' own numbers, so the parts add up to the delta by construction.
    a_sum = float(a_ms.sum()) + _times(a.layers, only_a)
    b_sum = float(b_ms.sum()) + _times(b.layers, only_b)
    e2e = (b.gpu_compute.median_ms - a.gpu_compute.median_ms) if a.gpu_compute and b.gpu_compute else None
    attribution = Attribution(a_name, b_name, "", parts, a_sum, b_sum, cmp.time_basis, "", e2e, cmp.different_networks)
    attribution.verdict = _verdict(cmp, a, b, attribution)
    attribution.reconciliation = _reconcile(a, b, attribution)
    return attribution


def _verdict(cmp: Comparison, a: Engine, b: Engine, att: Attribution) -> str:
    precision, _ = a.analysis.requested_precision
    label = f"{att.baseline} ({precision})" if precision and precision not in att.baseline else att.baseline
    if a.gpu_compute and b.gpu_compute:
        ta, tb, basis = a.gpu_compute.median_ms, b.gpu_compute.median_ms, "GPU compute median"
    else:
        ta, tb, basis = att.a_sum_ms, att.b_sum_ms, "per-layer sum"
        if att.estimate:
            basis = f"per-layer {att.time_basis}"
    prefix = ""
    if cmp.different_networks:
        prefix = (f"These engines are different networks: {cmp.aligned_share:.0%} of compute layers align, so only "
                  "their totals compare. ")
    if not ta or not tb:
        return prefix + f"{att.engine} vs {label}: no time to compare (neither a profile nor end-to-end times)."
    if att.estimate:
        model = default_latency_model()
        if model.within_error(ta, tb):
            # Naming a winner inside the model's own error would be a guess presented as a finding.
            return prefix + (f"{att.engine} vs {label}: within the estimate's error. {tb:.4f} vs {ta:.4f} ms {basis} "
                             f"differ by {abs(tb - ta) / max(ta, tb):.0%}, inside the model's ±{model.error.total_pct:.0f}%; "
                             "only a measurement on the GPU can tell which is faster.")
    ratio = ta / tb
    word = "faster" if tb < ta else "slower" if tb > ta else "no faster and no slower"
    by = f" by {abs(tb - ta):.3f} ms {basis}" if tb != ta else f" ({basis})"
    return prefix + f"{att.engine} is {ratio:.2f}× {label}: {word}{by}."


def _reconcile(a: Engine, b: Engine, att: Attribution) -> str:
    delta = att.delta_ms
    if att.estimate:
        return (f"The per-layer totals ({att.time_basis}) differ by {delta:+.4f} ms; nothing was measured, so there is no "
                "end-to-end time to reconcile with. Read the parts as where the estimate moves, not as latency.")
    if att.e2e_delta_ms is None:
        return (f"Per-layer sums differ by {delta:+.4f} ms; without end-to-end times (--exportTimes) the profiler's "
                "overhead cannot be separated from the layers' own change.")
    overheads = []
    for engine, name, total in ((a, att.baseline, att.a_sum_ms), (b, att.engine, att.b_sum_ms)):
        e2e = engine.gpu_compute.median_ms
        overheads.append(f"{name} {100 * (total - e2e) / e2e:+.1f}%" if e2e else f"{name} ?")
    gap = delta - att.e2e_delta_ms
    return (f"Per-layer sums differ by {delta:+.4f} ms, end-to-end GPU compute medians by {att.e2e_delta_ms:+.4f} ms. "
            f"Per-layer profiling adds its own overhead ({', '.join(overheads)} over end to end), so the parts "
            f"above explain the end-to-end change to within {abs(gap):.4f} ms; smaller group deltas are within "
            "profiling noise.")


def compare_pair(baseline: Engine, engine: Engine) -> tuple[Comparison, Attribution]:
    """Compare ``engine`` with ``baseline``: measured when both were timed, else both on the model's estimates.

    See :func:`engine_core.analysis.estimate.on_one_footing`.
    """
    from engine_core.analysis.compare import compare_engines
    from engine_core.analysis.estimate import on_one_footing

    a, b = on_one_footing([baseline, engine])
    cmp = compare_engines([a, b])
    return cmp, attribute(cmp, a, b)
