"""The one shape every lint and diagnosis speaks: a :class:`Finding`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

SEVERITY_RANK = {"high": 0, "medium": 1, "info": 2}


@dataclass
class Finding:
    """One thing worth telling a TensorRT engineer, with its cost and its fix.

    ``impact_ms`` is measured time at stake (None when the finding is about
    fairness or bytes, not time); ``impact_pct`` is its share of the engine's
    GPU compute time (or of the per-layer sum when no end-to-end time exists).
    """

    kind: str
    message: str
    fix: str
    impact_ms: float | None = None
    impact_pct: float | None = None
    layers: list[str] = field(default_factory=list)
    severity: str = "medium"
    evidence: str = ""
    estimate: bool = False          # True when impact comes from the roofline model, not a measurement

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: it deep-copies every layer name, a second of a 100k-layer diagnosis.
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["layers"] = list(self.layers)
        for key in ("impact_ms", "impact_pct"):
            if d[key] is not None:
                d[key] = None if math.isnan(d[key]) else round(float(d[key]), 6)
        return d


def share_of_time(engine, ms: float) -> float | None:
    """Share of the per-layer sum (what the profile's percentages use), else of GPU compute time.

    Impacts stay in profiled per-layer milliseconds, so every number traces back
    to the raw profile; the reconciliation finding says how they relate to
    end-to-end time.
    """
    total = engine.per_layer_sum_ms or (engine.gpu_compute.median_ms if engine.gpu_compute else None)
    return 100.0 * ms / total if total else None


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Most costly first; findings without a time impact after, by severity."""
    def key(f: Finding):
        has_time = f.impact_ms is not None and not math.isnan(f.impact_ms)
        return (0 if has_time else 1, -(f.impact_ms or 0.0) if has_time else SEVERITY_RANK.get(f.severity, 3))
    return sorted(findings, key=key)
