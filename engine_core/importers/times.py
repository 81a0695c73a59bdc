"""Per-iteration timing JSON (``trtexec --exportTimes``).

``exportJSONTrace`` writes one object per timed iteration (warm-up excluded)
with ``startEnqMs ... computeMs, d2hMs, latencyMs``. We keep only the summary
statistics trtexec itself would print, computed with numpy.
https://github.com/NVIDIA/TensorRT/blob/release/10.16/samples/common/sampleReporting.cpp
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents


@dataclass(frozen=True)
class TimingStats:
    """Summary of one timed quantity, in milliseconds."""

    min_ms: float
    max_ms: float
    mean_ms: float
    median_ms: float
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> "TimingStats":
        p90, p95, p99 = np.percentile(samples, [90, 95, 99])
        return cls(float(samples.min()), float(samples.max()), float(samples.mean()),
                   float(np.median(samples)), float(p90), float(p95), float(p99))

    @classmethod
    def from_trtexec_list(cls, values: list[float]) -> "TimingStats":
        """From TREx's ``[min, max, mean, median, p...]`` list (5 or 7 values).

        Older trtexec printed one percentile (99% by default); newer prints
        90/95/99, so a 5-value list carries p99 only.
        """
        v = [float(x) for x in values]
        if len(v) < 4:
            raise ValueError("need at least min, max, mean, median")
        p90 = v[4] if len(v) >= 7 else None
        p95 = v[5] if len(v) >= 7 else None
        p99 = v[-1] if len(v) >= 5 else None
        return cls(v[0], v[1], v[2], v[3], p90, p95, p99)


@dataclass(frozen=True)
class InferenceTimes:
    iterations: int
    gpu_compute: TimingStats
    latency: TimingStats


def read_times_json(path: str | Path, part: int | None = None) -> InferenceTimes:
    """Read an ``--exportTimes`` file into summary statistics; ``part`` picks one trace of a file holding
    one per run (TensorRT 7's fields ``inMs``/``outMs``/``endToEndMs`` included).

    Raises:
        ArtifactFormatError: not a times trace, or an empty one.
    """
    docs = read_json_documents(path)
    arrays = [d for d in docs if isinstance(d, list)]
    if part is not None:
        if part >= len(arrays):
            raise ArtifactFormatError(str(path), f"holds {len(arrays)} timing traces, not a trace {part + 1}.",
                                      "Keep one trace per run of the log it goes with.")
        arrays = [arrays[part]]
    records = [r for d in arrays for r in d]
    if not records or not all(isinstance(r, dict) and "computeMs" in r for r in records):
        raise ArtifactFormatError(str(path), "is not a trtexec timing trace (no computeMs records).",
                                  "Pass the file written by `trtexec --exportTimes=<file>`.")
    try:
        compute = np.fromiter((r["computeMs"] for r in records), dtype=float, count=len(records))
        latency = np.fromiter((r.get("latencyMs", r["computeMs"]) for r in records), dtype=float, count=len(records))
    except (TypeError, ValueError):
        raise ArtifactFormatError(str(path), "has a computeMs or latencyMs that is not a number.",
                                  "Re-export it with `trtexec --exportTimes=<file>`.") from None
    if not np.isfinite(compute).all():
        raise ArtifactFormatError(str(path), "has a computeMs that is NaN or infinite.",
                                  "Re-export it with `trtexec --exportTimes=<file>`.")
    return InferenceTimes(len(records), TimingStats.from_samples(compute), TimingStats.from_samples(latency))
