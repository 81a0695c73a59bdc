"""Per-layer profile JSON (``trtexec --exportProfile``) and its text twin.

``Profiler::exportJSONProfile`` writes ``[{"count": N}, {"name", "timeMs",
"averageMs", "medianMs", "percentage"}, ...]``; TensorRT before 8.4 omits
``medianMs``. A file that holds several such arrays back to back (runs appended
to one file) holds one profile per run: discovery makes each its own engine and
reads it with ``part``. ``percentage`` is relative to the *sum of layer times*,
not to end-to-end latency.
https://github.com/NVIDIA/TensorRT/blob/release/10.16/samples/common/sampleReporting.cpp
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents

PROFILE_COLUMNS = ("name", "total_ms", "avg_ms", "median_ms", "latency_share_pct")


@dataclass
class LayerProfile:
    """Per-layer times of one engine, in profile order."""

    frame: pd.DataFrame  # PROFILE_COLUMNS
    iterations: int | None


def read_profile_json(path: str | Path, part: int | None = None) -> LayerProfile:
    """Read an ``--exportProfile`` file; ``part`` picks one array of a file holding one per run.

    Raises:
        ArtifactFormatError: not a profile (wrong keys) or malformed JSON.
    """
    docs = read_json_documents(path)
    arrays = [d for d in docs if isinstance(d, list)]
    if not arrays or len(arrays) != len(docs):
        raise ArtifactFormatError(str(path), "is not a trtexec profile (expected a JSON list).",
                                  "Pass the file written by `trtexec --exportProfile=<file>`.")
    if part is not None and part >= len(arrays):
        raise ArtifactFormatError(str(path), f"holds {len(arrays)} profiles, not a profile {part + 1}.",
                                  "Keep one profile per run of the log it goes with.")
    profiles = [_profile_from_records(a, path) for a in (arrays if part is None else [arrays[part]])]
    if len(profiles) > 1:  # every document was valid, but which run is this engine?
        raise ArtifactFormatError(str(path), f"holds {len(arrays)} profiles (one per run) and nothing says which run "
                                  "this engine is.", "Keep each run's log beside the file, or import the profile on its "
                                  "own: every document becomes a run.")
    return profiles[0]


def _profile_from_records(records: list, path: str | Path) -> LayerProfile:
    iterations = None
    rows = []
    for rec in records:
        if not isinstance(rec, dict):
            raise ArtifactFormatError(str(path), "holds a non-object profile record.",
                                      "Pass the file written by `trtexec --exportProfile=<file>`.")
        if "count" in rec and "name" not in rec:
            count = rec["count"]
            if not isinstance(count, (int, float)) or isinstance(count, bool) or not 0 < count < 2**53:
                raise ArtifactFormatError(str(path), f"has an iteration count {str(count)[:20]!r} that is not a "
                                          "positive number.", "Re-export it with `trtexec --exportProfile=<file>`.")
            iterations = int(count)
        elif "name" in rec and ("averageMs" in rec or "timeMs" in rec):
            rows.append(rec)
        else:
            keys = ", ".join(sorted(rec)[:5])
            raise ArtifactFormatError(str(path), f"has a record with unexpected keys ({keys}); not a layer profile.",
                                      "Pass the file written by `trtexec --exportProfile=<file>`.")
    frame = pd.DataFrame({
        "name": [r["name"] for r in rows],
        "total_ms": [r.get("timeMs", np.nan) for r in rows],
        "avg_ms": [r.get("averageMs", np.nan) for r in rows],
        "median_ms": [r.get("medianMs", np.nan) for r in rows],
        "latency_share_pct": [r.get("percentage", np.nan) for r in rows],
    }, columns=list(PROFILE_COLUMNS))
    for col in PROFILE_COLUMNS[1:]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    if frame["avg_ms"].isna().all() and iterations:
        frame["avg_ms"] = frame["total_ms"] / iterations
    return LayerProfile(frame=frame, iterations=iterations)
