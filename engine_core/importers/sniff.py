"""Decide what kind of TensorRT artifact a file is, from its content.

File names lie: trtexec writes whatever ``--exportLayerInfo=x.log`` says, users
rename things, and pasted text has no name at all. So the kind comes from the
first bytes of content; the name is only a tie-breaker. Reads at most
:data:`SNIFF_BYTES`; never parses the whole file.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

SNIFF_BYTES = 256 * 1024


class ArtifactKind(str, Enum):
    LAYER_INFO = "layer_info_json"            # --exportLayerInfo / IEngineInspector JSON
    PROFILE = "profile_json"                  # --exportProfile
    TIMES = "times_json"                      # --exportTimes
    BUILD_METADATA = "build_metadata_json"    # TREx <engine>.build.metadata.json
    PROFILE_METADATA = "profile_metadata_json"  # TREx <engine>.profile.metadata.json
    TRTEXEC_LOG = "trtexec_log"               # trtexec console output, or a pasted part of it
    POLYGRAPHY_INSPECT = "polygraphy_inspect"  # `polygraphy inspect model <engine>` output
    CALIBRATION_CACHE = "calibration_cache"   # INT8 calibrator cache: TRT-<version>-<Calibrator>, tensor: hex
    ACCURACY = "layerlens_accuracy_json"      # <stem>.accuracy.json: a LayerLens build's output error vs its float model
    UNKNOWN = "unknown"


_TRTEXEC_MARKERS = re.compile(
    r"&&&& (?:RUNNING|PASSED|FAILED) TensorRT|=== (?:Model|Build|System|Inference|Reporting) Options ===|"
    r"=== Performance summary ===|=== Profile \(\d+ iterations \) ===|=== Device Information ===|"
    r"^\s*(?:\[[^\]]*\]\s*)*Layer\([^)]*\): .*Tactic|\[TRT\]|TensorRT\] (?:VERBOSE|INFO|WARNING)|"
    r"^Name: .*, LayerType: |Time\(ms\)\s+Avg\.\(ms\)|Time \(ms\)\s+Avg\. Time \(ms\)",
    re.MULTILINE)


_CALIB_HEAD = re.compile(r"^(?:TRT-\d{4,6}-[A-Za-z0-9]+|1)\r?\n(?:\r?\n)*[^\n]+: [0-9a-fA-F]{1,8}\r?$", re.MULTILINE)
# Labels written between concatenated JSON documents (a script printing "--- Layer 3 ---" before each
# IEngineInspector::getLayerInformation(i, kJSON) block): skipped when deciding the kind.
SEPARATOR_LINE = re.compile(r"^[ \t]*(?:-{2,}.*-{2,}|={2,}.*={2,}|#[^\n]*|//[^\n]*|\[?Layer \d+\]?:?|\x1e)[ \t]*$")


def sniff_text(head: str, name: str = "") -> ArtifactKind:
    """Classify an artifact from the start of its text (and, weakly, its name)."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if _CALIB_HEAD.match(stripped):
        return ArtifactKind.CALIBRATION_CACHE
    lines = stripped.split("\n", 20)
    while len(lines) > 1 and SEPARATOR_LINE.match(lines[0]):
        lines = lines[1:]
        stripped = "\n".join(lines).lstrip()
    # "[I] ..." and "[07/07/2026-...]" start like a JSON array: require real JSON openers.
    if re.match(r'\{\s*["}]|\[\s*[{\["\]]', stripped):
        return _sniff_json(stripped)
    if "==== TensorRT Engine ====" in head:
        return ArtifactKind.POLYGRAPHY_INSPECT
    if _TRTEXEC_MARKERS.search(head):
        return ArtifactKind.TRTEXEC_LOG
    return ArtifactKind.UNKNOWN


def _sniff_json(text: str) -> ArtifactKind:
    if text.startswith("{"):
        if re.match(r'\{\s*"layerlens_accuracy"\s*:', text):
            return ArtifactKind.ACCURACY
        if re.search(r'"Layers"\s*:', text):
            return ArtifactKind.LAYER_INFO
        if '"performance_summary"' in text:
            return ArtifactKind.PROFILE_METADATA
        if '"build_options"' in text or '"model_options"' in text:
            return ArtifactKind.BUILD_METADATA
        if re.search(r'"Name"\s*:', text) and re.search(r'"LayerType"\s*:', text):
            return ArtifactKind.LAYER_INFO  # per-layer inspector blocks written back to back
        return ArtifactKind.UNKNOWN
    if re.search(r'"(?:startEnqMs|computeMs|latencyMs)"\s*:', text):
        return ArtifactKind.TIMES
    if re.search(r'"count"\s*:', text) or re.search(r'"averageMs"\s*:', text):
        return ArtifactKind.PROFILE
    if re.search(r'"LayerType"\s*:', text):
        return ArtifactKind.LAYER_INFO
    return ArtifactKind.UNKNOWN


def sniff_file(path: str | Path) -> ArtifactKind:
    """Classify a file on disk by reading at most :data:`SNIFF_BYTES`."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if b"\x00" in head[:4096]:
        return ArtifactKind.UNKNOWN
    return sniff_text(head.decode("utf-8", errors="replace"), path.name)
